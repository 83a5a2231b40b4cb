"""Record the firms whose index update failed, and replay them when search is back (search/models.py).

`sync_firms` is the one way firms reach the index (the index task and the replay both call it):
index the firms that exist, delete the documents of those that do not.
"""

from __future__ import annotations

import logging
from typing import Iterable

from django.db import DatabaseError
from django.db.models import F
from django.utils import timezone

from search.backends import get_backend
from search.backends.base import SearchUnavailable

log = logging.getLogger(__name__)
CHUNK = 5000


def sync_firms(ids: Iterable[int]) -> dict:
    """(Re)index these firms from the registry; ids whose firm no longer exists are deleted."""
    from search.indexing import firm_documents

    ids = {int(i) for i in ids}
    docs = list(firm_documents(ids))
    backend = get_backend()
    written = backend.index(docs) if docs else 0
    gone = sorted(ids - {doc["id"] for doc in docs})
    if gone:
        backend.delete(gone)
    return {"indexed": written, "deleted": len(gone)}


def sync_and_note(ids: Iterable[int]) -> dict:
    """`sync_firms`, keeping the outbox true: if search fails, the firms are recorded for a replay
    (and the error raised); once synced, any earlier failure of theirs is forgotten."""
    ids = sorted({int(i) for i in ids})
    started = timezone.now()
    try:
        result = sync_firms(ids)
    except SearchUnavailable as error:
        record_pending(ids, error)
        raise
    clear_pending(ids, before=started)  # a failure recorded while this ran is kept
    return result


def record_pending(ids: Iterable[int], reason: str) -> None:
    """Remember these firms for a replay (one row per firm; a repeat counts another failure)."""
    from search.models import PendingIndex

    ids = sorted({int(i) for i in ids})
    now = timezone.now()
    reason = str(reason)[:1000]
    try:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            known = set(PendingIndex.objects.filter(firm_id__in=chunk).values_list("firm_id", flat=True))
            PendingIndex.objects.filter(firm_id__in=known).update(
                reason=reason, last_failed_at=now, attempts=F("attempts") + 1)
            PendingIndex.objects.bulk_create(
                [PendingIndex(firm_id=i, reason=reason, last_failed_at=now) for i in chunk if i not in known],
                ignore_conflicts=True)
    except DatabaseError:  # the database is down too: nothing to record into; the log keeps the ids
        log.exception("search outbox: could not record %d firm(s) (first ids %s)", len(ids), ids[:20])


def clear_pending(ids: Iterable[int], *, before=None) -> int:
    """Forget these firms (indexed again); with `before`, only failures recorded before that time."""
    from search.models import PendingIndex

    ids = sorted({int(i) for i in ids})
    removed = 0
    for start in range(0, len(ids), CHUNK):
        query = PendingIndex.objects.filter(firm_id__in=ids[start:start + CHUNK])
        if before is not None:
            query = query.filter(last_failed_at__lte=before)
        removed += query.delete()[0]
    return removed


def replay(chunk: int = CHUNK, max_chunks: int | None = None) -> dict:
    """Index the pending firms again, a chunk at a time, until none are left or search fails again.

    A firm that fails again while it is being replayed keeps its row (only failures recorded before
    the replay started are cleared), so a write racing the replay is never forgotten.
    """
    from search.models import PendingIndex

    replayed, chunks, last_id, error = 0, 0, -1, None
    while max_chunks is None or chunks < max_chunks:
        started = timezone.now()
        ids = list(PendingIndex.objects.filter(firm_id__gt=last_id).order_by("firm_id")
                   .values_list("firm_id", flat=True)[:chunk])
        if not ids:
            break
        try:
            sync_firms(ids)
        except SearchUnavailable as failure:
            error = str(failure)
            record_pending(ids, f"replay: {failure}")
            break
        replayed += clear_pending(ids, before=started)
        last_id, chunks = ids[-1], chunks + 1
    return {"replayed": replayed, "pending": PendingIndex.objects.count(), "error": error}


def status() -> dict:
    from django.db.models import Max, Min

    from search.models import PendingIndex

    summary = PendingIndex.objects.aggregate(oldest=Min("first_failed_at"), latest=Max("last_failed_at"))
    latest = PendingIndex.objects.order_by("-last_failed_at").values_list("reason", flat=True).first()
    return {"pending": PendingIndex.objects.count(), **summary, "reason": latest}
