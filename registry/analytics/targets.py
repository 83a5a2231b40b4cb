"""Target progress: the plans' targets (PolicyTarget) against what the registry holds.

Definitions (docs/analytics.md):
- Targets shown for (region, year): the region's targets for that year, plus its FLOW targets
  whose window [start_year, year] is still running (start_year ≤ year < target year), counted so
  far (interim progress).
- STOCK: distinct firms in the region and every region under it holding, on 31 December of the
  year, a recognition at the target's stage (and tier, when set; blank = any tier of the stage);
  a firm holding several counts once.
- FLOW: distinct firms whose FIRST non-revoked recognition at that stage (or tier) was issued in
  [start_year (or the target year when blank), year]; a renewal is therefore never new.
- ratio = actual / target (null when the target is 0).
"""

import datetime

from django.db.models import Min, Q

from registry.analytics.scope import NOT_REVOKED, firm_scope, held_on
from registry.models import Certification, PolicyTarget, TargetKind
from registry.services.firms import resolve_region


def stock_actual(region, stage_id, tier_id, year, user=None):
    day = datetime.date(year, 12, 31)
    certs = Certification.objects.filter(held_on(day), firm_scope(region, None, user), stage_id=stage_id)
    if tier_id:
        certs = certs.filter(tier_id=tier_id)
    return certs.values("firm_id").distinct().count()


def flow_actual(region, stage_id, tier_id, first_year, last_year, user=None):
    certs = Certification.objects.filter(NOT_REVOKED, firm_scope(region, None, user), stage_id=stage_id)
    if tier_id:
        certs = certs.filter(tier_id=tier_id)
    return (
        certs.values("firm_id").annotate(first=Min("issued_on"))
        .filter(first__gte=datetime.date(first_year, 1, 1), first__lte=datetime.date(last_year, 12, 31))
        .order_by().count()
    )


def target_progress(region, year, user=None):
    """List of {stage, tier, kind, start_year, year, target, actual, ratio, source, note}."""
    region = resolve_region(region)
    year = int(year)
    targets = (
        PolicyTarget.objects.filter(region=region)
        .filter(Q(year=year) | Q(kind=TargetKind.FLOW, start_year__lte=year, year__gt=year))
        .select_related("stage", "tier")
        .order_by("stage__rank", "tier__rank", "kind", "year")
    )
    out = []
    for target in targets:
        if target.kind == TargetKind.STOCK:
            actual = stock_actual(region, target.stage_id, target.tier_id, year, user)
        else:
            start = target.start_year or target.year
            actual = flow_actual(region, target.stage_id, target.tier_id, start, min(year, target.year), user)
        out.append({
            "stage": target.stage.code, "tier": target.tier.code if target.tier_id else None,
            "kind": target.kind.upper(), "start_year": target.start_year if target.kind == TargetKind.FLOW else None,
            "year": target.year, "target": target.target, "actual": actual,
            "ratio": (actual / target.target) if target.target else None,
            "source": target.source, "note": target.note,
        })
    return out
