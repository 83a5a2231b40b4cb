"""Celery tasks keeping the search index in step with the registry (queue "search")."""

from __future__ import annotations

import logging

from celery import shared_task

from search.backends import get_backend
from search.backends.base import SearchUnavailable

log = logging.getLogger(__name__)


@shared_task(autoretry_for=(SearchUnavailable,), retry_backoff=True, retry_backoff_max=600,
             retry_jitter=True, max_retries=8)
def index_firms(firm_ids):
    """(Re)index these firms from the registry; ids whose firm no longer exists are deleted."""
    from search.indexing import firm_documents

    ids = {int(i) for i in firm_ids}
    docs = list(firm_documents(ids))
    backend = get_backend()
    written = backend.index(docs) if docs else 0
    gone = sorted(ids - {doc["id"] for doc in docs})
    if gone:
        backend.delete(gone)
    return {"indexed": written, "deleted": len(gone)}


@shared_task(autoretry_for=(SearchUnavailable,), retry_backoff=True, retry_backoff_max=600,
             retry_jitter=True, max_retries=8)
def delete_firms(firm_ids):
    ids = sorted({int(i) for i in firm_ids})
    return get_backend().delete(ids) if ids else 0
