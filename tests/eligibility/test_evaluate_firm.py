"""evaluate_firm / evaluate_firm_targets judge one firm in plain Python (registry.eligibility.single):
the result must be the pandas engine's — outcome, eligible, score, rule set and every unmet item in
both languages — for every firm of the demo registry and every target, and the facts are read once
for all the targets asked."""

import datetime
import json
import math

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.eligibility import FirmEvaluation, evaluate_firm, evaluate_firm_targets
from registry.eligibility.candidates import evaluate_frame
from registry.eligibility.engine import columns_needed, evaluation_year
from registry.eligibility.facts import load_facts, tiers_needed
from registry.eligibility.rules import (
    resolve_target,
    rule_set_for_region,
    rule_sets_for,
)
from registry.models import Firm, Stage
from tests.eligibility.edge_firms import make_edge_firms

TODAY = datetime.date(2026, 11, 23)


def every_target():
    """Each stage alone and with each of its tiers, national and regional rungs."""
    out = []
    for stage in Stage.objects.prefetch_related("tiers").order_by("rank", "code"):
        out.append((stage.code, None))
        out.extend((stage.code, tier.code) for tier in stage.tiers.order_by("rank"))
    return out


def pandas_evaluations(firms, stage, tier, on):
    """{firm id: FirmEvaluation or None (no rules for its region)} by the vectorised engine over the
    whole registry at once — the engine evaluate_firm ran on one firm before."""
    stage, tier = resolve_target(stage, tier)
    year = evaluation_year(on)
    rule_sets = rule_sets_for(stage, tier, on)
    if not rule_sets:
        return {firm.pk: None for firm in firms}
    wanted = [columns_needed(r.thresholds) for r in rule_sets]
    frame = load_facts(firms, on, year, set().union(*(tiers_needed(r.thresholds) for r in rule_sets)),
                       columns=set().union(*(c for c, _ in wanted)), history=max(h for _, h in wanted))
    table, evaluations = evaluate_frame(frame, rule_sets, on, year)
    out = {firm.pk: None for firm in firms}
    for (_, row), firm_id in zip(table.iterrows(), frame.loc[table.index, "firm_id"]):
        rule = rule_sets[row["rule_index"]]
        out[firm_id] = FirmEvaluation(
            firm_id=firm_id, stage=stage.code, tier=tier.code if tier else None, rule_set=rule.code, year=year,
            outcome=row["outcome"], eligible=bool(row["eligible"]),
            score=None if math.isnan(row["score"]) else float(row["score"]),
            unmet=evaluations[row["rule_index"]].unmet(row["row"]))
    return out


def pandas_evaluate_firm(firm, stage, tier, on):
    """evaluate_firm as it was: load_facts + evaluate_frame on the one firm, with its rule set's columns."""
    stage, tier = resolve_target(stage, tier)
    year = evaluation_year(on)
    firm = Firm.objects.select_related("region").get(pk=firm.pk)
    rule = rule_set_for_region(rule_sets_for(stage, tier, on), firm.region.path)
    if rule is None:
        return None
    columns, history = columns_needed(rule.thresholds)
    frame = load_facts(Firm.objects.filter(pk=firm.pk), on, year, tiers_needed(rule.thresholds), columns=columns,
                       history=history)
    table, evaluations = evaluate_frame(frame, [rule], on, year)
    row = table.iloc[0]
    return FirmEvaluation(
        firm_id=firm.pk, stage=stage.code, tier=tier.code if tier else None, rule_set=rule.code, year=year,
        outcome=row["outcome"], eligible=bool(row["eligible"]),
        score=None if math.isnan(row["score"]) else float(row["score"]), unmet=evaluations[0].unmet(0))


def codes(error):
    return [e.code for errors in error.error_dict.values() for e in errors]


def exact(result):
    """Every field, floats by their shortest repr (NaN compares equal to NaN here)."""
    if result is None or isinstance(result, ValidationError):
        return None
    return json.dumps(result.__dict__, ensure_ascii=False, sort_keys=True, default=str)


@pytest.mark.django_db
def test_every_firm_and_target_equals_the_pandas_engine():
    call_command("seed_demo", firms=300, seed=11, today=TODAY, no_index=True)
    edges = make_edge_firms(TODAY)
    targets = every_target()
    firms = Firm.objects.all()
    reference = {target: pandas_evaluations(firms, *target, TODAY) for target in targets}
    outcomes, explained, judged = set(), 0, 0
    for firm in firms.order_by("id"):
        results = evaluate_firm_targets(firm, targets, on=TODAY)
        assert len(results) == len(targets)
        for target, result in zip(targets, results):
            expected = reference[target][firm.pk]
            if expected is None:
                assert isinstance(result, ValidationError) and codes(result) == ["no_rules"], (firm.uscc, target)
                continue
            assert exact(result) == exact(expected), (firm.uscc, target)
            outcomes.add(result.outcome)
            explained += bool(result.unmet)
            judged += 1
    # The comparison covered every outcome and explanations in both languages.
    assert outcomes == {"eligible", "not_eligible", "missing_data"}
    assert explained > 100 and judged > 300 * 3
    some = next(r for r in evaluate_firm_targets(edges[0], targets, on=TODAY)
                if isinstance(r, FirmEvaluation) and r.unmet)
    assert all(item["text_zh"] and item["text_en"] for item in some.unmet)
    # The edge firms against evaluate_firm as it was (one firm, its rule set's columns only).
    for firm in edges:
        for target in targets:
            expected = pandas_evaluate_firm(firm, *target, TODAY)
            if expected is None:
                with pytest.raises(ValidationError):
                    evaluate_firm(firm, *target, on=TODAY)
            else:
                assert exact(evaluate_firm(firm, *target, on=TODAY)) == exact(expected), (firm.uscc, target)


@pytest.mark.django_db
def test_targets_share_one_read_of_the_facts_and_errors_stay_per_target():
    call_command("seed_demo", firms=40, seed=3, today=TODAY, no_index=True)
    firm = Firm.objects.order_by("id").first()
    targets = [("tech_sme", None), ("hnte", None), ("no_such_stage", None), ("gazelle", None), ("srdi", None)]
    with CaptureQueriesContext(connection) as queries:
        results = evaluate_firm_targets(firm, targets, on=TODAY)
    indicator_reads = [q["sql"] for q in queries.captured_queries if "registry_indicatoryear" in q["sql"]]
    assert len(indicator_reads) == 1
    assert isinstance(results[2], ValidationError) and codes(results[2]) == ["unknown_stage"]
    judged = [r for r in results if isinstance(r, FirmEvaluation)]
    assert [r.stage for r in judged] == ["tech_sme", "hnte", "gazelle", "srdi"]
    for (stage, _), result in zip(targets, results):
        if isinstance(result, FirmEvaluation):
            assert exact(evaluate_firm(firm, stage, on=TODAY)) == exact(result)
    with pytest.raises(ValidationError):
        evaluate_firm(firm, "no_such_stage", on=TODAY)
