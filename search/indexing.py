"""Phase 2: search documents built from the registry, and live indexing on commit.

``firm_documents`` turns Firm rows into the dicts ``search.source.prepare_firm`` takes, a chunk at
a time (one firm query + one chain prefetch + one region-name query per chunk, never per firm).
``schedule_index`` defers indexing to after the writing transaction commits; the receiver on
``registry.signals.firms_changed`` calls it, so every registry service keeps the index current.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Iterable, Iterator, Sequence

import numpy as np
from django.db import transaction

from search.backends.base import Vocabulary

log = logging.getLogger(__name__)
_state = threading.local()
INDEX_TASK_SIZE = 5000


def _split_path(path: str) -> list[str]:
    return [part for part in (path or "").split("/") if part]


def _chunks(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


_FIRM_COLUMNS = (
    "id", "uscc", "name", "former_names", "description", "main_products", "technologies", "region_id",
    "region__path", "current_stage__code", "current_stage__rank", "current_tier__code", "founded_on", "updated_at",
    "latest_indicators__revenue", "latest_indicators__rd_intensity", "latest_indicators__revenue_growth",
)


def firm_documents(firm_ids: Iterable[int] | None = None, chunk_size: int = 2000) -> Iterator[dict]:
    """Yield one search dict per firm (all firms, or those of ``firm_ids`` that exist), by id.

    Plain ``values()`` rows, three queries per chunk (firms with region, stage, tier and latest
    indicators joined; chains; aliases) plus the names of regions not seen yet: building model
    instances cost 0.27 ms of CPU a firm, most of a 1,000,000-firm reindex's reading."""
    from registry.models import Firm, FirmAlias, Region

    base = Firm.objects.all()
    if firm_ids is not None:
        base = base.filter(id__in=list({int(i) for i in firm_ids}))
    region_names: dict[str, str] = {}
    last_id = 0
    while True:
        rows = list(base.filter(id__gt=last_id).order_by("id").values_list(*_FIRM_COLUMNS)[:chunk_size])
        if not rows:
            return
        first_id, last_id = rows[0][0], rows[-1][0]
        # Every firm: the chunk is every id in [first_id, last_id], a range (a 2,000-id IN list
        # costs more to build than the rows); some firms: their ids.
        of_chunk = ({"firm_id__gte": first_id, "firm_id__lte": last_id} if firm_ids is None
                    else {"firm_id__in": [row[0] for row in rows]})
        chains: dict[int, list[str]] = {}
        for firm_id, path, code in (Firm.chains.through.objects.filter(**of_chunk)
                                    .order_by("firm_id", "industrychain__code")
                                    .values_list("firm_id", "industrychain__path", "industrychain__code")):
            chains.setdefault(firm_id, []).extend(_split_path(path) or [code])
        aliases: dict[int, list[str]] = {}
        for firm_id, name in (FirmAlias.objects.filter(**of_chunk)
                              .order_by("firm_id", "id").values_list("firm_id", "name")):
            aliases.setdefault(firm_id, []).append(name)
        missing = {code for row in rows for code in _split_path(row[8])} - region_names.keys()
        if missing:
            region_names.update(Region.objects.filter(code__in=missing).values_list("code", "name"))
        for row in rows:
            yield firm_document(row, chains.get(row[0], []), aliases.get(row[0], []), region_names)
        if len(rows) < chunk_size:
            return


def firm_document(row: tuple, chains: list[str], aliases: list[str], region_names: dict[str, str]) -> dict:
    """The search dict of one firm from its ``_FIRM_COLUMNS`` row, its chains' path codes (in
    chain-code order) and its alias names (in the order they were added)."""
    (firm_id, uscc, name, former_names, description, main_products, technologies, region_id, region_path,
     stage, stage_rank, tier, founded_on, updated_at, revenue, rd_intensity, revenue_growth) = row
    path = _split_path(region_path) or [region_id]
    doc = {
        "id": firm_id,
        "uscc": uscc,
        "name": name,
        "former_names": list(former_names or []),
        "aliases": aliases,
        "description": description,
        "main_products": main_products,
        "technologies": technologies,
        "stage": stage or "",
        "tier": tier or "",
        "region_code": region_id,
        "region_path": path,
        "region_names": [region_names[c] for c in path if c in region_names],
        "chains": list(dict.fromkeys(chains)),
        "founded_year": founded_on.year if founded_on else None,
        "revenue": revenue,
        "rd_intensity": rd_intensity,
        "revenue_growth": revenue_growth,
        "version": int(updated_at.timestamp() * 1_000_000) if updated_at else None,
    }
    if stage is not None:
        doc["stage_rank"] = stage_rank
    return doc


VOCABULARY_KEY = ("search-vocabulary",)


def cached_registry_vocabulary() -> Vocabulary:
    """``registry_vocabulary()`` through the registry's reference-code cache (``registry.filtersets.codes``,
    re-read after ``CodeCache.ttl`` per process): it is four queries, and every search validates its
    filters against it. A Stage/Tier/Region/IndustryChain saved or deleted in this process drops the
    copy at once (``forget_vocabulary``)."""
    from registry.filtersets import codes

    return codes.get(VOCABULARY_KEY, registry_vocabulary)


def forget_vocabulary(**kwargs) -> None:
    from registry.filtersets import codes

    codes.forget(VOCABULARY_KEY)


def registry_vocabulary() -> Vocabulary:
    """Codes the registry knows: every stage and tier (regional rungs too), region and chain."""
    from registry.models import IndustryChain, Region, Stage, Tier

    return Vocabulary(
        stage=frozenset(Stage.objects.values_list("code", flat=True)),
        tier=frozenset(Tier.objects.values_list("code", flat=True)),
        region=frozenset(Region.objects.values_list("code", flat=True)),
        chain=frozenset(IndustryChain.objects.values_list("code", flat=True)),
    )


# --- live indexing -------------------------------------------------------------------------------

def indexing_suspended() -> bool:
    return getattr(_state, "suspended", 0) > 0


@contextlib.contextmanager
def suspend_indexing():
    """Skip live indexing inside the block (bulk imports); run ``search_reindex`` afterwards."""
    _state.suspended = getattr(_state, "suspended", 0) + 1
    try:
        yield
    finally:
        _state.suspended -= 1


def _enqueue(ids: Sequence[int]) -> None:
    from search import tasks

    try:
        for chunk in _chunks(ids, INDEX_TASK_SIZE):  # a 1,000,000-firm import: many small tasks, bounded memory
            tasks.index_firms.delay([int(i) for i in chunk])
    except Exception as error:  # the engine or the broker is down: the registry write already committed
        from search.backends.base import SearchUnavailable
        from search.outbox import record_pending

        log.exception("search: could not index %d firm(s) %s; recorded in the search outbox", len(ids), ids[:20])
        if not isinstance(error, SearchUnavailable):  # an eager task that reached the engine recorded it already
            record_pending(ids, f"{type(error).__name__}: {error}")


def schedule_index(firm_ids: Iterable[int]) -> None:
    """Index these firms once the current transaction commits (at once outside a transaction)."""
    if indexing_suspended():
        return
    ids = np.unique(np.fromiter(firm_ids if firm_ids is not None else (), dtype=np.int64))  # sorted, once each; compact
    if len(ids):
        transaction.on_commit(lambda: _enqueue(ids))


def on_firms_changed(sender, firm_ids=(), **kwargs) -> None:
    schedule_index(firm_ids)
