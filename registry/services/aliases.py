"""A firm's other names: former names (曾用名, on Firm.former_names) and aliases (registry.FirmAlias:
brand, English, short names). Both are matched by importers and searched."""

from django.db import transaction
from django.utils import timezone

from registry.models import AliasKind, Firm, FirmAlias
from registry.names import normalize_name
from registry.services import audit
from registry.signals import firms_changed


@transaction.atomic
def add_firm_names(firm, *, aliases=(), former_names=(), kind=AliasKind.OTHER, source="", actor=None, via=""):
    """Add the names the firm does not have yet; returns how many were added. Never removes one."""
    from registry.services.firms import upsert_firm

    known = {normalize_name(firm.name)} | {normalize_name(n) for n in firm.former_names or ()}
    known |= set(FirmAlias.objects.filter(firm=firm).values_list("name_normalized", flat=True))
    added = 0
    former = [n for n in dict.fromkeys(n.strip() for n in former_names) if n and normalize_name(n) not in known]
    if former:
        upsert_firm(firm.uscc, actor=actor, via=via, former_names=list(firm.former_names or []) + former)
        known |= {normalize_name(n) for n in former}
        added += len(former)
    new = []
    for name in dict.fromkeys(n.strip()[:200] for n in aliases):
        key = normalize_name(name)[:200]
        if name and key and key not in known:
            known.add(key)
            new.append(FirmAlias(firm=firm, name=name, name_normalized=key, kind=kind, source=source[:255]))
    if new:
        FirmAlias.objects.bulk_create(new)
        # a new search document version: the index keeps the newest version of each firm
        Firm.objects.filter(pk=firm.pk).update(updated_at=timezone.now())
        audit.record("aliases", firm, actor=actor, via=via, firm_id=firm.pk,
                     changes={"aliases": [None, [a.name for a in new]]})
        firms_changed.send(sender=FirmAlias, firm_ids=[firm.pk])
        added += len(new)
    return added
