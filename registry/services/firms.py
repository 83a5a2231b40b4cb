"""Creating and changing firms."""

from django.core.exceptions import ValidationError
from django.db import transaction

from registry import uscc as uscc_codes
from registry.models import Firm, IndustryChain, Region
from registry.names import normalize_name
from registry.permissions import is_admin
from registry.services import audit
from registry.services.errors import field_error
from registry.signals import firms_changed

FIRM_FIELDS = (
    "name", "former_names", "founded_on", "region", "industry_code", "registered_capital", "registered_capital_currency",
    "description", "main_products", "technologies", "listing_status",
)


def resolve_region(region):
    if region is None or isinstance(region, Region):
        return region
    code = str(region).strip()
    try:
        return Region.objects.get(code=code)
    except Region.DoesNotExist:
        raise field_error("region", f"Unknown region code “{code}”.", code="unknown_region") from None


def resolve_chains(codes):
    codes = [str(c).strip() for c in codes]
    chains = list(IndustryChain.objects.filter(code__in=codes))
    unknown = sorted(set(codes) - {c.code for c in chains})
    if unknown:
        raise field_error("chains", f"Unknown industry chain code(s): {', '.join(unknown)}.", code="unknown_chain")
    return chains


def checked_uscc(raw, *, actor=None, override_reason=""):
    """Normalise and check a USCC. A bad check digit passes only with an administrator's override."""
    try:
        return uscc_codes.validate(raw), ""
    except uscc_codes.USCCError as error:
        if not error.checksum:
            raise field_error("uscc", str(error), code="invalid_uscc") from None
        if override_reason.strip() and is_admin(actor):
            return uscc_codes.normalize(raw), override_reason.strip()
        raise field_error(
            "uscc",
            f"{error} An administrator may accept it with a recorded override.",
            code="uscc_checksum",
        ) from None


def typed(model, values, skip=()):
    """Convert incoming values to the fields' Python types, so '100' and Decimal('100.00') compare equal."""
    converted = {}
    for field, value in values.items():
        if field in skip or value is None:
            converted[field] = value
            continue
        try:
            converted[field] = model._meta.get_field(field).to_python(value)
        except ValidationError as error:
            raise field_error(field, f"“{value}”: {' '.join(error.messages)}", code="invalid") from None
    return converted


@transaction.atomic
def upsert_firm(uscc, *, actor=None, via="", override_reason="", chains=None, **values):
    """Create or update the firm with this USCC. Returns (firm, "created" | "updated" | "unchanged").

    Only the fields passed are changed. A new name pushes the old one onto former_names.
    """
    unknown = set(values) - set(FIRM_FIELDS)
    if unknown:
        raise field_error(sorted(unknown)[0], "Not a firm field.")
    code, override = checked_uscc(uscc, actor=actor, override_reason=override_reason)
    values = typed(Firm, values, skip=("region",))
    if "region" in values:
        values["region"] = resolve_region(values["region"])
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"]:
            raise field_error("name", "A firm needs a name.", code="required")
    chain_objects = resolve_chains(chains) if chains is not None else None

    firm = Firm.objects.select_for_update().filter(uscc=code).first()
    created = firm is None
    if created:
        if values.get("region") is None:
            raise field_error("region", "A new firm needs a region.", code="required")
        if not values.get("name"):
            raise field_error("name", "A new firm needs a name.", code="required")
        firm = Firm(uscc=code)
    elif values.get("name") and values["name"] != firm.name:
        former = list(values.get("former_names", firm.former_names))
        if firm.name not in former:
            former.append(firm.name)
        values["former_names"] = former

    changes = audit.diff(firm, values)
    if override and firm.uscc_override_reason != override:
        changes["uscc_override_reason"] = [firm.uscc_override_reason, override]
        firm.uscc_override_reason, firm.uscc_override_by = override, audit.actor_or_none(actor)
    firm.name_normalized = normalize_name(firm.name)
    if created or changes:
        firm.full_clean(exclude=["current_stage", "current_tier", "latest_indicators", "chains"])
        firm.save()
    if chain_objects is not None:
        before = set(firm.chains.values_list("code", flat=True)) if not created else set()
        after = {c.code for c in chain_objects}
        if before != after:
            firm.chains.set(chain_objects)
            changes["chains"] = [sorted(before), sorted(after)]

    if not created and not changes:
        return firm, "unchanged"
    audit.record("create" if created else "update", firm, actor=actor, via=via, firm_id=firm.id, changes=changes)
    firms_changed.send(sender=Firm, firm_ids=[firm.id])
    return firm, "created" if created else "updated"
