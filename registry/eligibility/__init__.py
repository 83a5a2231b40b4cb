"""Eligibility: versioned rule sets, scoring, and the candidate finder (候选企业).

`evaluate_firm(firm, stage, tier, on)` judges one firm; `find_candidates(...)` ranks a region.
"""

from dataclasses import dataclass

from django.utils import timezone


@dataclass
class FirmEvaluation:
    firm_id: int
    stage: str
    tier: str | None
    rule_set: str | None
    year: int
    outcome: str  # eligible | not_eligible | missing_data
    eligible: bool
    score: float | None
    unmet: list


def evaluate_firm(firm, stage, tier=None, on=None):
    """Is this firm eligible for the target on `on` (default today)? With score and unmet criteria."""
    import math

    from registry.eligibility.candidates import evaluate_frame
    from registry.eligibility.engine import columns_needed, evaluation_year
    from registry.eligibility.facts import load_facts, tiers_needed
    from registry.eligibility.rules import resolve_target, rule_set_for_region, rule_sets_for
    from registry.models import Firm
    from registry.services.errors import field_error

    on = on or timezone.localdate()
    stage, tier = resolve_target(stage, tier)
    year = evaluation_year(on)
    rule_sets = rule_sets_for(stage, tier, on)
    firm = Firm.objects.select_related("region").get(pk=firm.pk)
    rule = rule_set_for_region(rule_sets, firm.region.path)
    if rule is None:
        raise field_error("stage", f"No eligibility rules for {tier.code if tier else stage.code} in force on {on}.",
                          code="no_rules")
    columns, history = columns_needed(rule.thresholds)
    frame = load_facts(Firm.objects.filter(pk=firm.pk), on, year, tiers_needed(rule.thresholds), columns=columns,
                       history=history)
    table, evaluations = evaluate_frame(frame, [rule], on, year)
    row = table.iloc[0]
    ev = evaluations[0]
    score = row["score"]
    return FirmEvaluation(
        firm_id=firm.pk, stage=stage.code, tier=tier.code if tier else None, rule_set=rule.code, year=year,
        outcome=row["outcome"], eligible=bool(row["eligible"]),
        score=None if score is None or math.isnan(score) else float(score), unmet=ev.unmet(0),
    )


def find_candidates(*args, **kwargs):
    from registry.eligibility.candidates import find_candidates as find

    return find(*args, **kwargs)


__all__ = ["FirmEvaluation", "evaluate_firm", "find_candidates"]
