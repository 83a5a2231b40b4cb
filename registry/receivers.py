"""Signal receivers of the registry app, connected in RegistryConfig.ready() by importing this module.

Only edits of reference models made outside the services (admin, fixtures) are caught here: they
mark the precomputed tables stale. The data version of the remembered analytics answers
(registry.cache) changes on every write: `firms_changed` from the services, plus saves and deletes
of what the answers read. What follows a registry write (pool closing, precomputed rows,
candidates ranking, search) is called by the writing service itself: registry.services.effects.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
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


@receiver(pre_delete, sender="registry.Firm", dispatch_uid="registry.receivers.firm_leaves_counts")
def firm_leaves_counts(sender, instance, **kwargs):
    """A deleted firm's ranking rows go by cascade: take them out of the candidate counts first."""
    from registry.eligibility.precomputed import forget_firms

    forget_firms([instance.pk])


def user_deleted(sender, instance, **kwargs):
    """A deleted user's audit entries keep their id as actor (AuditEvent.actor, DO_NOTHING): one entry of
    the deletion itself keeps the name that id stood for."""
    from registry.services import audit

    audit.record("delete", instance, via="user deleted", changes={"username": [instance.get_username(), None]})


def _connect_user_deleted():
    from django.conf import settings

    post_delete.connect(user_deleted, sender=settings.AUTH_USER_MODEL, dispatch_uid="registry.receivers.user_deleted")


_connect_user_deleted()


def data_changed(sender, raw=False, **kwargs):
    """What the remembered analytics answers read changed (registry.cache): a new data version on commit.
    Service writes announce themselves with `firms_changed`; these catch admin and reference edits."""
    from registry import cache

    if not raw:
        cache.changed()


def _connect_data_changed():
    from registry.models import Firm
    from registry.signals import firms_changed

    firms_changed.connect(data_changed, dispatch_uid="registry.receivers.firms_changed_version")
    for _model in ("Firm", "Certification", "Stage", "Tier", "Region", "IndustryChain", "PolicyTarget",
                   "EligibilityRuleSet"):
        post_save.connect(data_changed, sender=f"registry.{_model}", dispatch_uid=f"registry.receivers.{_model}_version")
        post_delete.connect(data_changed, sender=f"registry.{_model}",
                            dispatch_uid=f"registry.receivers.{_model}_version_gone")
    m2m_changed.connect(data_changed, sender=Firm.chains.through, dispatch_uid="registry.receivers.firm_chains_version")


_connect_data_changed()
