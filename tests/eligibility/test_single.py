"""The row-by-row ranking (registry.eligibility.single, used when a write changes a few firms) gives
exactly the numbers of the vectorised judge, and a single write through the services leaves the
candidates ranking equal to a full rebuild."""

import datetime
import random
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import BooleanField, ExpressionWrapper, Q

from registry.demo.names import uscc
from registry.eligibility import precomputed as candidate_ranks
from registry.eligibility.candidates import judge
from registry.eligibility.engine import evaluation_year
from registry.eligibility.facts import fact_rows, fact_rows_of
from registry.eligibility.single import rank_rows
from registry.models import CandidateRank, Firm
from registry.services import record_certification, upsert_firm, upsert_indicators
from tests.eligibility.edge_firms import make_edge_firms

TODAY = datetime.date(2026, 11, 23)
COLUMNS = ["firm_id", "outcome_rank", "score_key", "gap", "region_path"]


def as_rows(table):
    return sorted(tuple(row) for row in table[COLUMNS].astype(object).itertuples(index=False))


def ranking():
    return sorted(CandidateRank.objects.values_list(*candidate_ranks.COLUMNS))


@pytest.mark.django_db
def test_row_by_row_equals_the_vectorised_judge_for_every_target():
    call_command("seed_demo", firms=300, seed=11, today=TODAY, no_index=True)
    firms = make_edge_firms(TODAY)
    plan = candidate_ranks._plan(TODAY)
    wanted = candidate_ranks.facts_wanted(plan, TODAY)
    facts = {row["firm_id"]: row for row in fact_rows(Firm.objects.all(), TODAY, *wanted)}
    compared = 0
    for stage, tier, rule_sets, scope in plan:
        reference = judge(stage, tier, TODAY, None, rule_sets)[0]
        ids = Firm.objects.filter(scope).values_list("id", flat=True)
        fast = rank_rows([facts[i] for i in ids], rule_sets, TODAY, evaluation_year(TODAY))
        assert as_rows(fast) == as_rows(reference), (stage.code, tier and tier.code)
        compared += len(reference)
    assert compared > 300 and len(facts) == Firm.objects.count()
    # The compiled statement a refresh keeps is reused for other firms of the same number.
    flags = {"in_bottom_rung": ExpressionWrapper(Q(current_stage__isnull=True), output_field=BooleanField())}
    for ids in ([firms[0].id, firms[5].id], [firms[1].id, firms[7].id]):
        rows = fact_rows_of(ids, flags, TODAY, *wanted)
        assert [{k: v for k, v in row.items() if k != "in_bottom_rung"} for row in rows] == [facts[i] for i in ids]
        assert [row["in_bottom_rung"] for row in rows] == [
            Firm.objects.get(pk=i).current_stage_id is None for i in ids]


@pytest.mark.django_db
def test_a_single_write_leaves_the_ranking_equal_to_a_full_rebuild(monkeypatch):
    """Create, move, new figures, first recognition: each write is ranked row by row (never through
    the vectorised judge) and the stored rows equal a full rebuild's, scores and region paths included."""
    call_command("seed_demo", firms=120, seed=4, today=TODAY, no_index=True)
    assert candidate_ranks.ready_for(TODAY)
    vectorised = []
    real_judge = candidate_ranks.judge
    monkeypatch.setattr(candidate_ranks, "judge", lambda *a, **k: vectorised.append(a) or real_judge(*a, **k))

    def same_as_rebuild():
        after_write = ranking()
        with monkeypatch.context() as m:
            m.setattr(candidate_ranks, "judge", real_judge)
            candidate_ranks.rebuild(TODAY)
        assert after_write == ranking()

    firm, outcome = upsert_firm(uscc(random.Random(3), "320583"), name="行列科技有限公司", region="320583",
                                founded_on=datetime.date(2019, 5, 1))
    assert outcome == "created" and CandidateRank.objects.filter(firm=firm).exists()
    same_as_rebuild()
    upsert_firm(firm.uscc, region="320506")  # other region path in its rows
    same_as_rebuild()
    upsert_indicators(firm, TODAY.year - 1, {"revenue": Decimal("3000"), "rd_expense": Decimal("240"),
                                             "employees": 40, "rd_staff": 9, "ip_class1": 1})
    same_as_rebuild()
    record_certification(firm, "tech_sme", datetime.date(2026, 10, 1), today=TODAY)  # to the next rung's targets
    assert CandidateRank.objects.filter(firm=firm).exclude(target__startswith="tech_sme").exists()
    same_as_rebuild()
    assert vectorised == []
