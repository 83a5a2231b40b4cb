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
from django.db.models import Prefetch

from search.backends.base import Vocabulary

log = logging.getLogger(__name__)
_state = threading.local()
INDEX_TASK_SIZE = 5000


def _split_path(path: str) -> list[str]:
    return [part for part in (path or "").split("/") if part]


def _chunks(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def firm_documents(firm_ids: Iterable[int] | None = None, chunk_size: int = 2000) -> Iterator[dict]:
    """Yield one search dict per firm (all firms, or those of ``firm_ids`` that exist), by id."""
    from registry.models import Firm, FirmAlias, IndustryChain, Region

    base = Firm.objects.all()
    if firm_ids is not None:
        base = base.filter(id__in=list({int(i) for i in firm_ids}))
    last_id = 0
    while True:
        rows = list(
            base.filter(id__gt=last_id).order_by("id")
            .select_related("region", "current_stage", "current_tier", "latest_indicators")
            .prefetch_related(Prefetch("chains", queryset=IndustryChain.objects.only("id", "code", "path")),
                              Prefetch("aliases", queryset=FirmAlias.objects.only("id", "firm_id", "name")))
            [:chunk_size]
        )
        if not rows:
            return
        last_id = rows[-1].id
        codes = {code for firm in rows for code in _split_path(firm.region.path)}
        names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
        for firm in rows:
            yield firm_document(firm, names)
        if len(rows) < chunk_size:
            return


def firm_document(firm, region_names: dict[str, str]) -> dict:
    """The search dict of one Firm whose region, stage, tier, indicators and chains are loaded."""
    path = _split_path(firm.region.path) or [firm.region_id]
    chains: list[str] = []
    for chain in firm.chains.all():
        chains.extend(_split_path(chain.path) or [chain.code])
    indicators = firm.latest_indicators
    stage = firm.current_stage
    doc = {
        "id": firm.id,
        "uscc": firm.uscc,
        "name": firm.name,
        "former_names": list(firm.former_names or []),
        "aliases": [alias.name for alias in firm.aliases.all()],
        "description": firm.description,
        "main_products": firm.main_products,
        "technologies": firm.technologies,
        "stage": stage.code if stage else "",
        "tier": firm.current_tier.code if firm.current_tier_id else "",
        "region_code": firm.region_id,
        "region_path": path,
        "region_names": [region_names[c] for c in path if c in region_names],
        "chains": list(dict.fromkeys(chains)),
        "founded_year": firm.founded_on.year if firm.founded_on else None,
        "revenue": indicators.revenue if indicators else None,
        "rd_intensity": indicators.rd_intensity if indicators else None,
        "revenue_growth": indicators.revenue_growth if indicators else None,
        "version": int(firm.updated_at.timestamp() * 1_000_000) if firm.updated_at else None,
    }
    if stage is not None:
        doc["stage_rank"] = stage.rank
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
