"""Signal receivers of the registry app, connected in RegistryConfig.ready() by importing this module.

certification_recorded → close the matching open cultivation-pool entries as 已认定
(registry.services.cultivation.close_entries_for). It runs inside record_certification's
transaction, so a rolled-back import never closes an entry.
"""

from django.dispatch import receiver

from registry.signals import certification_recorded


@receiver(certification_recorded, dispatch_uid="registry.receivers.close_cultivation_entries")
def close_cultivation_entries(sender, certification, created=False, **kwargs):
    from registry.services.cultivation import close_entries_for

    close_entries_for(certification)
