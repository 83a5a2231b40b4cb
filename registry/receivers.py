"""Signal receivers of the registry app, connected in RegistryConfig.ready() by importing this module.

certification_recorded → close the matching open cultivation-pool entries as 已认定
(registry.services.cultivation.close_entries_for). It runs inside record_certification's
transaction, so a rolled-back import never closes an entry.

firms_changed from a certification write → refresh the precomputed pipeline tables of those firms
(registry.analytics.precomputed), also inside the writing transaction.
"""

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from registry.signals import certification_recorded, certifications_recorded, firms_changed


@receiver(certification_recorded, dispatch_uid="registry.receivers.close_cultivation_entries")
def close_cultivation_entries(sender, certification, created=False, **kwargs):
    from registry.services.cultivation import close_entries_for

    close_entries_for(certification)


@receiver(certifications_recorded, dispatch_uid="registry.receivers.close_cultivation_entries_bulk")
def close_cultivation_entries_bulk(sender, certification_ids, **kwargs):
    """Bulk imports: one query finds the few recognitions whose firm has an open pool entry."""
    from registry.models import Certification, CultivationEntry, OPEN_POOL_STATUSES
    from registry.services.cultivation import close_entries_for

    pooled = CultivationEntry.objects.filter(status__in=OPEN_POOL_STATUSES).values("firm_id")
    if len(certification_ids) <= 5000:
        found = Certification.objects.filter(id__in=set(certification_ids), firm_id__in=pooled).select_related("tier")
    else:  # a whole list at once (importers.fastpath): the pooled firms' few recognitions, kept if just recorded
        pooled_records = list(Certification.objects.filter(firm_id__in=pooled).select_related("tier").order_by("id"))
        recorded = np.isin([c.id for c in pooled_records], np.asarray(certification_ids, dtype=np.int64))
        found = [c for c, just_recorded in zip(pooled_records, recorded) if just_recorded]
    for certification in found:
        close_entries_for(certification)


@receiver(firms_changed, dispatch_uid="registry.receivers.refresh_pipeline_tables")
def refresh_pipeline_tables(sender, firm_ids=(), **kwargs):
    """Recognitions changed (every certification write path sends sender=Certification) or a firm
    (its region is copied into the rows): re-derive those firms' precomputed funnel/transition rows
    inside the same transaction. Indicator edits do not touch them."""
    from registry.analytics.precomputed import refresh_firms
    from registry.models import Certification, Firm

    if sender in (Certification, Firm) and not rebuild_instead(firm_ids):
        refresh_firms(firm_ids)


@receiver(post_save, sender="registry.Stage", dispatch_uid="registry.receivers.stage_rank_changed")
def stage_rank_changed(sender, instance, created=False, raw=False, **kwargs):
    """The tables store ranks: an edited stage may have moved, so they wait for a rebuild (live meanwhile)."""
    from registry.analytics.precomputed import is_complete, mark_stale

    if not created and not raw and is_complete():
        mark_stale(f"stage {instance.code} edited; run manage.py analytics_rebuild")
    rules_changed(sender, instance, created, raw)


@receiver(firms_changed, dispatch_uid="registry.receivers.refresh_candidate_ranks")
def refresh_candidate_ranks(sender, firm_ids=(), **kwargs):
    """Any firm change (recognitions, indicators, firm facts) can move it in a candidates ranking."""
    from registry.eligibility.precomputed import refresh_firms

    if not rebuild_instead(firm_ids):
        refresh_firms(firm_ids)


def rebuild_instead(firm_ids):
    """A change to more firms than ANALYTICS_INLINE_REFRESH_MAX_FIRMS (a large import) would spend
    minutes re-deriving rows inside the writer's transaction: mark both groups of tables stale instead
    (the analytics answer live meanwhile) and rebuild them once the write has committed."""
    if len(firm_ids) <= settings.ANALYTICS_INLINE_REFRESH_MAX_FIRMS:
        return False
    from registry.analytics import precomputed as pipeline
    from registry.eligibility import precomputed as candidates
    from registry.tasks import rebuild_precomputed_tables

    if pipeline.is_complete() or candidates.is_complete():  # once stale, later signals in this write add nothing
        note = f"{len(firm_ids):,} firms changed at once; rebuilding after commit"
        pipeline.mark_stale(note)
        candidates.mark_stale(note)
        transaction.on_commit(rebuild_precomputed_tables.delay)
    return True


def rules_changed(sender, instance, created=False, raw=False, **kwargs):
    from registry.eligibility.precomputed import mark_stale

    if not raw:
        mark_stale(f"{sender.__name__} {instance} changed; run manage.py analytics_rebuild")


for _model in ("EligibilityRuleSet", "Tier", "Region"):
    post_save.connect(rules_changed, sender=f"registry.{_model}", dispatch_uid=f"registry.receivers.{_model}_stale")
    post_delete.connect(rules_changed, sender=f"registry.{_model}", dispatch_uid=f"registry.receivers.{_model}_gone")
