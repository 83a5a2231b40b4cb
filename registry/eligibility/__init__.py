"""Eligibility: versioned rule sets, scoring, and the candidate finder (候选企业).

`evaluate_firm(firm, stage, tier, on)` judges one firm, `evaluate_firm_targets(firm, targets, on)` one firm
for several targets; `find_candidates(...)` ranks a region.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
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
    """Is this firm eligible for the target on `on` (default today)? With score and unmet criteria.

    Raises the target's ValidationError (unknown stage or tier, no rules in force for the firm's region)."""
    (result,) = evaluate_firm_targets(firm, [(stage, tier)], on)
    if isinstance(result, ValidationError):
        raise result
    return result


def evaluate_firm_targets(firm, targets, on=None):
    """evaluate_firm for several targets ([(stage, tier or None)], codes or objects) of one firm, its
    facts read once for all of them: [FirmEvaluation, or the ValidationError that target raises], in order.

    One firm is judged in plain Python (registry.eligibility.single, equal to the pandas engine to the
    last bit, with the same explanations): the vectorised engine's fixed cost, ~40 ms a rule set,
    was most of a profile page. Facts come from fact_rows_of, whose statement is compiled once per shape.
    """
    import math

    from registry.eligibility.engine import MET, OUTCOME, columns_needed, evaluation_year
    from registry.eligibility.facts import fact_rows_of, tiers_needed
    from registry.eligibility.rules import resolve_target, rule_sets_for, rules_in_force
    from registry.eligibility.single import judge_row, rule_for
    from registry.models import Firm
    from registry.services.errors import field_error

    on = on or timezone.localdate()
    year = evaluation_year(on)
    asked = []  # (stage, tier) or the ValidationError, per target
    for stage, tier in targets:
        try:
            asked.append(resolve_target(stage, tier))
        except ValidationError as error:
            asked.append(error)
    resolved = [target for target in asked if not isinstance(target, ValidationError)]
    rules = rules_in_force(on, {stage.pk for stage, _ in resolved}) if resolved else []  # one query for all
    asked = [target if isinstance(target, ValidationError) else (*target, rule_sets_for(*target, on, rules))
             for target in asked]
    rule_sets = [rule for target in asked if not isinstance(target, ValidationError) for rule in target[2]]
    wanted = [columns_needed(rule.thresholds) for rule in rule_sets]
    # Every rule set any target may apply, whatever the firm's region: a column more changes no result.
    rows = fact_rows_of([firm.pk], {}, on, year, set().union(*(tiers_needed(r.thresholds) for r in rule_sets)),
                        set().union(*(c for c, _ in wanted)), max((h for _, h in wanted), default=0))
    if not rows:
        raise Firm.DoesNotExist(f"No firm with id {firm.pk}.")
    row = rows[0]
    out = []
    for target in asked:
        if isinstance(target, ValidationError):
            out.append(target)
            continue
        stage, tier, candidates = target
        rule = rule_for(candidates, row["region_path"])
        if rule is None:
            out.append(field_error("stage", f"No eligibility rules for {tier.code if tier else stage.code} in force on {on}.",
                                   code="no_rules"))
            continue
        judged = judge_row(rule, row, on, year)
        score = judged.score.actual if judged.score is not None else None
        out.append(FirmEvaluation(
            firm_id=firm.pk, stage=stage.code, tier=tier.code if tier else None, rule_set=rule.code, year=year,
            outcome=OUTCOME[judged.overall], eligible=judged.overall == MET,
            score=None if score is None or math.isnan(score) else float(score), unmet=judged.unmet(),
        ))
    return out


def find_candidates(*args, **kwargs):
    from registry.eligibility.candidates import find_candidates as find

    return find(*args, **kwargs)


__all__ = ["FirmEvaluation", "evaluate_firm", "evaluate_firm_targets", "find_candidates"]
