"""Celery tasks keeping the search index in step with the registry (queue "search").

A failed attempt records its firms in the search outbox (search/outbox.py) before Celery retries, so
the gap is visible at once and survives a task that finally gives up; `replay_outbox` (beat, every
minute) indexes them again once search is back.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from search import outbox
from search.backends.base import SearchUnavailable

log = logging.getLogger(__name__)


@shared_task(autoretry_for=(SearchUnavailable,), retry_backoff=True, retry_backoff_max=600,
             retry_jitter=True, max_retries=8)
def index_firms(firm_ids):
    """(Re)index these firms from the registry; ids whose firm no longer exists are deleted."""
    started = timezone.now()
    try:
        result = outbox.sync_firms(firm_ids)
    except SearchUnavailable as error:
        outbox.record_pending(firm_ids, error)
        raise
    outbox.clear_pending(firm_ids, before=started)  # an earlier failure for these firms is mended too
    return result


@shared_task(autoretry_for=(SearchUnavailable,), retry_backoff=True, retry_backoff_max=600,
             retry_jitter=True, max_retries=8)
def delete_firms(firm_ids):
    from search.backends import get_backend

    ids = sorted({int(i) for i in firm_ids})
    try:
        return get_backend().delete(ids) if ids else 0
    except SearchUnavailable as error:
        outbox.record_pending(ids, error)  # the replay finds them gone from the registry and deletes them
        raise


@shared_task
def replay_outbox():
    """Beat, every minute: index the outbox's firms again (a no-op query when it is empty)."""
    result = outbox.replay()
    if result["replayed"] or result["error"]:
        log.info("search outbox: replayed %(replayed)d, %(pending)d pending, error: %(error)s", result)
    return result
