"""get_backend(): the configured backend, once per process."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from search.backends import get_backend
from search.backends.elasticsearch import ElasticsearchBackend
from search.backends.embedded import EmbeddedBackend


def test_embedded_by_default_and_cached(tmp_path):
    with override_settings(SEARCH_BACKEND="embedded", SEARCH_EMBEDDED_PATH=tmp_path):
        backend = get_backend()
        assert isinstance(backend, EmbeddedBackend)
        assert backend.path.parent == tmp_path
        assert get_backend() is backend
    get_backend.cache_clear()


def test_elasticsearch_from_settings():
    with override_settings(SEARCH_BACKEND="elasticsearch", ELASTICSEARCH_URL="http://search.invalid:9200",
                           SEARCH_INDEX_PREFIX="district"):
        backend = get_backend()
        assert isinstance(backend, ElasticsearchBackend)
        assert (backend.read_alias, backend.write_alias) == ("district-firms", "district-firms-write")
        assert (backend.replicas, backend.word_analyzer) == (1, None)
        with override_settings(SEARCH_ELASTICSEARCH_REPLICAS=0, SEARCH_ELASTICSEARCH_WORD_ANALYZER="ik"):
            assert (get_backend().replicas, get_backend().word_analyzer) == (0, "ik")
    get_backend.cache_clear()


def test_unknown_backend_is_a_configuration_error():
    with override_settings(SEARCH_BACKEND="solr"):
        with pytest.raises(ImproperlyConfigured, match="SEARCH_BACKEND"):
            get_backend()
    get_backend.cache_clear()
