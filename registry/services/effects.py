"""What follows a registry write, run once per batch and called by the writing service itself.

Every service that changes firms, recognitions or indicators ends with ONE call to `after_write`
for the whole batch it wrote (a single write is a batch of one), inside its transaction:

1. cultivation pool — open entries matching a just-recorded recognition close as 已认定
   (registry.services.cultivation);
2. the precomputed pipeline tables (registry.analytics.precomputed) — only when recognitions or
   firm facts changed (indicators are not in them);
3. the candidates ranking (registry.eligibility.precomputed), re-judged for these firms only;
4. `firms_changed` for listeners outside the registry: the search index (queued on commit) and an
   import job collecting the firms it wrote.

Current stage is not here: it is part of the write (the recognitions decide it) and the writers
refresh it before calling this. A batch over ANALYTICS_INLINE_REFRESH_MAX_FIRMS (a large import)
would spend minutes re-deriving tables inside the writer's transaction: both groups of tables are
marked behind instead (they keep answering as of their last rebuild, with a note) and rebuilt
once the write commits.
"""

import numpy as np
from django.conf import settings

from registry.oncommit import on_commit_once, queued
from registry.signals import firms_changed
from registry.statements import rows_for_ids

# What a batch changed: which side effects it needs.
RECOGNITIONS, FIRMS, INDICATORS = "recognitions", "firms", "indicators"
# The firm fields the derived tables read (a rename or new products change neither): the pipeline rows
# copy the region's path; the candidates ranking reads what registry.eligibility.facts.FIRM_COLUMNS
# loads (tests/registry/test_effects.py keeps the two lists in step).
PIPELINE_FIRM_FIELDS = frozenset({"region"})
RANKED_FIRM_FIELDS = frozenset({"region", "founded_on", "listing_status"})


def after_write(firm_ids, *, changed, recorded=(), sender=None, fields=None):
    """The side effects of a write of these firms, once. `changed`: RECOGNITIONS, FIRMS or INDICATORS;
    `recorded`: ids (or Certification objects) of recognitions created or changed, for the pool;
    `fields`: for FIRMS, the firm fields the batch changed (None: any, e.g. new firms)."""
    firm_ids = np.unique(np.fromiter(firm_ids, dtype=np.int64))  # sorted, once each; compact at any size
    if len(recorded):
        close_pool_entries(recorded)
    if not len(firm_ids):
        return
    ids = firm_ids.tolist()
    pipeline_rows = changed == RECOGNITIONS or (changed == FIRMS and (fields is None or fields & PIPELINE_FIRM_FIELDS))
    ranking = changed != FIRMS or fields is None or bool(fields & RANKED_FIRM_FIELDS)
    if (pipeline_rows or ranking) and not rebuild_instead(len(ids)):
        if pipeline_rows:
            from registry.analytics.precomputed import refresh_firms as refresh_pipeline

            refresh_pipeline(ids)
        if ranking:
            from registry.eligibility.precomputed import refresh_firms as refresh_candidates

            refresh_candidates(ids)
    firms_changed.send(sender=sender, firm_ids=firm_ids, changed=changed)


def close_pool_entries(recorded):
    """Close the open pool entries the recorded recognitions satisfy: one query finds the few
    recognitions whose firm has an open entry, however many were recorded."""
    from registry.models import OPEN_POOL_STATUSES, Certification, CultivationEntry
    from registry.services.cultivation import close_entries_for

    ids = np.fromiter((getattr(r, "pk", r) for r in recorded), dtype=np.int64)
    pooled = CultivationEntry.objects.filter(status__in=OPEN_POOL_STATUSES).values("firm_id")
    if len(ids) <= 5000:
        # Most recognitions are of firms not in the pool: one plain statement says which are.
        in_pool = rows_for_ids(("recorded in pool",), ids.tolist(), lambda stand_ins: Certification.objects.filter(
            id__in=stand_ins, firm_id__in=pooled).values_list("id"))
        found = Certification.objects.filter(id__in=[i for i, in in_pool]).select_related("tier") if in_pool else []
    else:  # a whole list at once: the pooled firms' few recognitions, kept if just recorded
        pooled_records = list(Certification.objects.filter(firm_id__in=pooled).select_related("tier").order_by("id"))
        just_recorded = np.isin([c.id for c in pooled_records], ids)
        found = [c for c, keep in zip(pooled_records, just_recorded) if keep]
    for certification in found:
        close_entries_for(certification)


def rebuild_instead(n_firms):
    """True (and the tables marked behind, one rebuild queued on commit) when a batch is too large to
    refresh inline. Behind, not stale: the tables keep answering as of their last rebuild meanwhile."""
    if n_firms <= settings.ANALYTICS_INLINE_REFRESH_MAX_FIRMS:
        return False
    queue_rebuild(f"{n_firms:,} firms changed at once; rebuilding after commit")
    return True


REBUILD_QUEUED = "registry:precomputed-rebuild-queued"  # cache key: a rebuild is queued, not yet started


def queue_rebuild(note, after_commit=False):
    """Mark the complete groups behind (with `note`) and queue one rebuild of both on commit, once per
    transaction (never-built groups wait for analytics_rebuild). `after_commit`: mark only once
    committed, and queue nothing if a queued rebuild has not started yet (it will see this write) —
    for writes during a rebuild, which must not touch the state row it is about to clear."""
    from django.core.cache import cache

    from registry.analytics import precomputed as pipeline
    from registry.eligibility import precomputed as candidates
    from registry.tasks import rebuild_precomputed_tables

    def mark():
        pipeline.mark_behind(note)
        candidates.mark_behind(note)

    def queue():
        if after_commit:
            mark()
            if not cache.add(REBUILD_QUEUED, True, timeout=3600):
                return
        try:
            rebuild_precomputed_tables.delay()
        except Exception:
            cache.delete(REBUILD_QUEUED)  # nothing queued: the next write must try again
            raise

    if queued(REBUILD_QUEUED):
        return  # this transaction queued it already: later batches of the same write add nothing
    if not (pipeline.is_complete() or candidates.is_complete()):
        return
    if not after_commit:
        mark()
    on_commit_once(queue, REBUILD_QUEUED)
