"""Which rule set applies: the target stage/tier, the evaluation date, and the firm's region.

National rule sets (no jurisdiction) are the default. A region's own rule set overrides them for
firms in that region and every region under it; the deepest jurisdiction wins. Among rule sets of
the same jurisdiction, the one in force on the evaluation date (effective_from ≤ day ≤
effective_to) with the latest effective_from is used — so on 2026-04-01 the 2026 专精特新 rules
replace the 2022 ones.
"""

from django.db.models import Q

from registry.models import EligibilityRuleSet
from registry.services.errors import field_error
from registry.services.ladder import get_stage, get_tier


def resolve_target(stage, tier=None):
    """(Stage, Tier) for a target; with no tier, the stage's lowest tier whose rules are used."""
    stage = get_stage(stage)
    if tier not in (None, ""):
        tier = get_tier(tier)
        if tier.stage_id != stage.id:
            raise field_error("tier", f"Tier “{tier.code}” is not a tier of stage “{stage.code}”.", code="tier_stage")
        return stage, tier
    return stage, None


def in_force(on):
    return Q(effective_from__lte=on) & (Q(effective_to__isnull=True) | Q(effective_to__gte=on))


def rules_in_force(on, stages):
    """Every rule set in force on `on` for these stages, read in one query: `in_force` of rule_sets_for
    when one firm is judged for several targets (registry.eligibility.evaluate_firm_targets)."""
    return list(EligibilityRuleSet.objects.filter(in_force(on), stage__in=stages).select_related("jurisdiction", "tier"))


def rule_sets_for(stage, tier, on, rules=None):
    """All rule sets in force on `on` for the target, national first, then by jurisdiction depth.

    A tier-specific rule set is preferred; a stage-wide one (tier null) applies when the tier has
    none. With no tier given, the stage-wide rule set, else the lowest tier's. `rules`: the rule sets
    in force on `on` already read (rules_in_force), of this stage or others.
    """
    candidates = (EligibilityRuleSet.objects.filter(in_force(on), stage=stage).select_related("jurisdiction", "tier")
                  if rules is None else [r for r in rules if r.stage_id == stage.id])
    candidates = [r for r in candidates if not is_scheme(r)]  # local schemes are asked for by name
    if tier is not None:
        chosen = [r for r in candidates if r.tier_id == tier.id] or [r for r in candidates if r.tier_id is None]
    else:
        chosen = [r for r in candidates if r.tier_id is None]
        if not chosen:
            # The stage's tiers, from the page's prefetch (services.ladder_for) when it has one.
            tiers = sorted(stage.tiers.all(), key=lambda t: (t.rank, t.pk))
            for t in tiers:
                chosen = [r for r in candidates if r.tier_id == t.id]
                if chosen:
                    break
    by_jurisdiction = {}
    for rule in sorted(chosen, key=lambda r: r.effective_from):
        by_jurisdiction[rule.jurisdiction.path if rule.jurisdiction_id else ""] = rule  # latest wins
    return [by_jurisdiction[path] for path in sorted(by_jurisdiction, key=len)]


def is_scheme(rule):
    """A local scheme (registry/data/local_schemes.json): its thresholds carry a `scheme` block."""
    return "scheme" in (rule.thresholds or {})


def schemes_in_force(region_path, on):
    """Local schemes in force on `on` whose jurisdiction holds `region_path` (the region or one above it),
    ordered by stage, jurisdiction depth and code. An empty path (the whole country) lists every scheme."""
    rows = EligibilityRuleSet.objects.filter(in_force(on), jurisdiction__isnull=False).select_related(
        "jurisdiction", "stage", "tier")
    out = [r for r in rows if is_scheme(r) and (not region_path or region_path.startswith(r.jurisdiction.path))]
    return sorted(out, key=lambda r: (r.stage.rank, len(r.jurisdiction.path), r.code))


def scheme(code, on):
    """The local scheme with this code, in force on `on`; a field error naming `scheme` otherwise."""
    rule = EligibilityRuleSet.objects.select_related("jurisdiction", "stage", "tier").filter(code=code).first()
    if rule is None or not is_scheme(rule):
        raise field_error("scheme", f"Unknown local scheme “{code}”.", code="unknown_scheme")
    if rule.effective_from > on or (rule.effective_to is not None and rule.effective_to < on):
        raise field_error("scheme", f"Scheme “{code}” is not in force on {on}.", code="not_in_force")
    return rule


def rule_set_for_region(rule_sets, region_path):
    """The deepest jurisdiction whose subtree holds `region_path` (national = "")."""
    best = None
    for rule in rule_sets:
        path = rule.jurisdiction.path if rule.jurisdiction_id else ""
        if (region_path or "").startswith(path):
            best = rule
    return best


def assign_rule_sets(rule_sets, region_paths):
    """A Series of rule-set index (into rule_sets) per row; -1 where none applies."""
    import pandas as pd

    out = pd.Series(-1, index=region_paths.index)
    for position, rule in enumerate(rule_sets):  # national first, deeper jurisdictions later override
        path = rule.jurisdiction.path if rule.jurisdiction_id else ""
        mask = region_paths.fillna("").str.startswith(path) if path else pd.Series(True, index=region_paths.index)
        out = out.where(~mask, position)
    return out
