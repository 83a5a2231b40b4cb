"""Signal receivers of the registry app, connected in RegistryConfig.ready() by importing this module.

certification_recorded → close the matching open cultivation-pool entries as 已认定
(registry.services.cultivation.close_entries_for). It runs inside record_certification's
transaction, so a rolled-back import never closes an entry.
"""

from django.dispatch import receiver

from registry.signals import certification_recorded, certifications_recorded


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
        found = Certification.objects.filter(id__in=certification_ids, firm_id__in=pooled)
    else:  # a whole list at once (importers.fastpath): the pooled firms' recognitions, kept if just recorded
        ids = set(certification_ids)
        found = (c for c in Certification.objects.filter(firm_id__in=pooled).select_related("tier").order_by("id")
                 if c.id in ids)
        return [close_entries_for(c) for c in found]
    for certification in found.select_related("tier"):
        close_entries_for(certification)
