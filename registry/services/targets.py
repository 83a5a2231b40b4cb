"""Policy targets (目标任务): one function creates or updates them, with the audit trail."""

from django.db import transaction

from registry.models import PolicyTarget, Region, TargetKind
from registry.services import audit
from registry.services.errors import field_error
from registry.services.ladder import get_stage, get_tier

KINDS = {k.value: k for k in TargetKind} | {k.name: k for k in TargetKind}


def _year(value, field):
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise field_error(field, f"“{value}” is not a year.") from None
    if not 2000 <= year <= 2100:
        raise field_error(field, f"{year} is not a plausible plan year.")
    return year


@transaction.atomic
def upsert_policy_target(region, stage, tier, kind, year, target, *, start_year=None, source="", note="",
                         actor=None, via=""):
    """Create or update the target for (region, stage, tier or any tier, kind, year).

    `kind` is STOCK (held at year end) or FLOW (newly gained in [start_year, year]); a blank tier
    means any tier of the stage. Returns (target, "created" | "updated" | "unchanged").
    """
    if not isinstance(region, Region):
        region = Region.objects.filter(code=str(region).strip()).first()
        if region is None:
            raise field_error("region", "Unknown region code.", code="unknown_region")
    stage = get_stage(stage)
    tier = get_tier(tier) if tier not in (None, "") else None
    if tier is not None and tier.stage_id != stage.id:
        raise field_error("tier", f"Tier “{tier.code}” is not a tier of stage “{stage.code}”.", code="tier_stage")
    kind_value = KINDS.get(str(kind or "").strip()) or KINDS.get(str(kind or "").strip().upper())
    if kind_value is None:
        raise field_error("kind", f"“{kind}” is not a target kind (STOCK or FLOW).", code="invalid")
    year = _year(year, "year")
    start_year = _year(start_year, "start_year") if start_year not in (None, "") else None
    if start_year is not None and kind_value != TargetKind.FLOW:
        raise field_error("start_year", "Only FLOW targets have a start year.")
    if start_year is not None and start_year > year:
        raise field_error("start_year", f"Start year {start_year} is after the target year {year}.")
    try:
        target = int(target)
    except (TypeError, ValueError):
        raise field_error("target", f"“{target}” is not a whole number.") from None
    if target < 0:
        raise field_error("target", "A target cannot be negative.")

    existing = PolicyTarget.objects.select_for_update().filter(
        region=region, stage=stage, tier=tier, kind=kind_value, year=year)
    obj = existing.first()
    values = {"target": target, "start_year": start_year, "source": (source or "").strip(), "note": (note or "").strip()}
    created = obj is None
    if created:
        obj = PolicyTarget(region=region, stage=stage, tier=tier, kind=kind_value, year=year, **values)
        changes = {"region": region.code, "stage": stage.code, "tier": tier.code if tier else None,
                   "kind": kind_value.value, "year": year, **values}
    else:
        changes = audit.diff(obj, values)
        if not changes:
            return obj, "unchanged"
    obj.full_clean()
    obj.save()
    audit.record("create" if created else "update", obj, actor=actor, via=via, changes=changes)
    return obj, "created" if created else "updated"
