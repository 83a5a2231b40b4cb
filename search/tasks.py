"""Celery tasks keeping the search index in step with the registry (queue "search").

A failed attempt records its firms in the search outbox (search/outbox.py) before Celery retries, so
the gap is visible at once and survives a task that finally gives up; `replay_outbox` (beat, every
minute) indexes them again once search is back. `check_index` (beat, nightly) finds and mends what no
failure reported: firms without a document and documents without a firm (search/consistency.py).
"""

from __future__ import annotations

import logging

from celery import shared_task

from search import consistency, outbox
from search.backends.base import SearchUnavailable

log = logging.getLogger(__name__)


@shared_task(autoretry_for=(SearchUnavailable,), retry_backoff=True, retry_backoff_max=600,
             retry_jitter=True, max_retries=8)
def index_firms(firm_ids):
    """(Re)index these firms from the registry; ids whose firm no longer exists are deleted."""
    return outbox.sync_and_note(firm_ids)


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


@shared_task
def check_index():
    """Beat, nightly: compare the index with the registry and mend what differs (search.consistency)."""
    report = consistency.check_index(repair=True)
    if report.differences:
        log.warning("search check: %d firm(s) without a document (first ids %s), %d document(s) without a firm "
                    "(first ids %s); repaired", report.missing, report.missing_sample, report.left_behind,
                    report.left_behind_sample)
    return {"firms": report.firms, "documents": report.documents, "missing": report.missing,
            "left_behind": report.left_behind}
