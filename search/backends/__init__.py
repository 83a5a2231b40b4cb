"""Pick the configured search backend (settings.SEARCH_BACKEND), once per process.

"embedded" (default): tantivy under settings.SEARCH_EMBEDDED_PATH. "elasticsearch": the cluster
at settings.ELASTICSEARCH_URL, indices named after settings.SEARCH_INDEX_PREFIX. The cache is
dropped when a test overrides one of these settings.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from search.backends.base import SearchBackend

_SETTINGS = {"SEARCH_BACKEND", "SEARCH_EMBEDDED_PATH", "ELASTICSEARCH_URL", "SEARCH_INDEX_PREFIX",
             "SEARCH_ELASTICSEARCH_REPLICAS", "SEARCH_ELASTICSEARCH_WORD_ANALYZER"}


def _registry_vocabulary():
    # The registry's own codes (regional rungs included), cached briefly (see indexing).
    from search.indexing import cached_registry_vocabulary

    return cached_registry_vocabulary()


@functools.lru_cache(maxsize=1)
def get_backend() -> SearchBackend:
    kind = getattr(settings, "SEARCH_BACKEND", "embedded")
    if kind == "embedded":
        from search.backends.embedded import EmbeddedBackend

        return EmbeddedBackend(settings.SEARCH_EMBEDDED_PATH, vocabulary=_registry_vocabulary)
    if kind == "elasticsearch":
        from search.backends.elasticsearch import ElasticsearchBackend

        return ElasticsearchBackend(
            url=settings.ELASTICSEARCH_URL,
            prefix=settings.SEARCH_INDEX_PREFIX,
            # Optional; not in settings.py yet: a single-node cluster wants 0 replicas, a cluster
            # with the IK or smartcn plugin may name it to add word-level ranking.
            replicas=getattr(settings, "SEARCH_ELASTICSEARCH_REPLICAS", 1),
            word_analyzer=getattr(settings, "SEARCH_ELASTICSEARCH_WORD_ANALYZER", None),
            vocabulary=_registry_vocabulary,
        )
    raise ImproperlyConfigured(f"SEARCH_BACKEND must be 'embedded' or 'elasticsearch', not {kind!r}")


@receiver(setting_changed)
def _forget_backend(setting, **kwargs):
    if setting in _SETTINGS:
        get_backend.cache_clear()
