"""Signal receivers of the registry app, connected in RegistryConfig.ready() by importing this module.

Only edits of reference models made outside the services (admin, fixtures) are caught here: they
mark the precomputed tables stale. What follows a registry write (pool closing, precomputed rows,
candidates ranking, search) is called by the writing service itself: registry.services.effects.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver


@receiver(post_save, sender="registry.Stage", dispatch_uid="registry.receivers.stage_rank_changed")
def stage_rank_changed(sender, instance, created=False, raw=False, **kwargs):
    """The tables store ranks: an edited stage may have moved, so they wait for a rebuild (live meanwhile)."""
    from registry.analytics.precomputed import is_complete, mark_stale

    if not created and not raw and is_complete():
        mark_stale(f"stage {instance.code} edited; run manage.py analytics_rebuild")
    rules_changed(sender, instance, created, raw)


def rules_changed(sender, instance, created=False, raw=False, **kwargs):
    from registry.eligibility.precomputed import mark_stale

    if not raw:
        mark_stale(f"{sender.__name__} {instance} changed; run manage.py analytics_rebuild")


for _model in ("EligibilityRuleSet", "Tier", "Region"):
    post_save.connect(rules_changed, sender=f"registry.{_model}", dispatch_uid=f"registry.receivers.{_model}_stale")
    post_delete.connect(rules_changed, sender=f"registry.{_model}", dispatch_uid=f"registry.receivers.{_model}_gone")
