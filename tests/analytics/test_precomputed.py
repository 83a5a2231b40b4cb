"""The precomputed tables give exactly the live numbers: registry.analytics.precomputed (funnel,
cohorts, transitions) and registry.eligibility.precomputed (the candidates ranking).

Hand-computed expectations run over both paths in test_pipeline.py and test_graphql.py; here
random generated registries are compared path against path for every year, region, stage pair and
target, before and after random writes through the services (which must keep the tables
current), and staleness is shown.
"""

import datetime
import random
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from registry.analytics import cohort_table, funnel, precomputed, stage_transitions
from registry.analytics.cohorts import cohort_firms
from registry.eligibility import find_candidates
from registry.eligibility import precomputed as candidate_ranks
from registry.models import (
    CandidateRank, Certification, CertificationStatus, EligibilityRuleSet, Firm, FirmStageReach, FirmYearTransition,
    Stage,
)
from registry.services import record_certification, revoke_certification, upsert_firm, upsert_indicators
from registry.services.effects import REBUILD_QUEUED, RECOGNITIONS, after_write

TODAY = datetime.date(2026, 11, 23)
pytestmark = pytest.mark.django_db
STAGES = ["tech_sme", "hnte", "gazelle", "srdi"]
REGIONS = [None, "320500", "320583"]


def assert_same_as_live():
    years = range(2015, 2032)
    for region in REGIONS:
        for year in years:
            assert stage_transitions(year, region) == stage_transitions(year, region, live=True), (year, region)
            assert funnel(STAGES, year, region) == funnel(STAGES, year, region, live=True), (year, region)
            assert funnel(STAGES[1:], year, region, window_years=2) == funnel(
                STAGES[1:], year, region, window_years=2, live=True), (year, region)
        for stage, following in (("tech_sme", None), ("hnte", "srdi")):
            table = cohort_table(stage, following, region, as_of=TODAY)
            assert table == cohort_table(stage, following, region, as_of=TODAY, live=True)
    firms = cohort_firms("tech_sme", 2022, years_since_entry=2, reached=True)
    assert [r["firm"].pk for r in firms] == [r["firm"].pk for r in cohort_firms(
        "tech_sme", 2022, years_since_entry=2, reached=True, live=True)]


@pytest.mark.parametrize("seed", [11])
def test_generated_registry_same_numbers_both_ways_and_after_writes(seed):
    call_command("seed_demo", firms=300, seed=seed, today=TODAY, no_index=True, chunk_size=120)
    assert precomputed.is_complete()  # the generator rebuilt the tables after its COPY
    assert FirmYearTransition.objects.count() > 300 and FirmStageReach.objects.count() > 300
    # Something to compare: the national 2024 matrix has entries, upgrades and lapses.
    kinds = {r["kind"] for r in stage_transitions(2024)}
    assert {"entry", "upgrade", "lapse", "stay"} <= kinds
    assert_same_as_live()

    rng = random.Random(seed)
    firm_ids = list(Firm.objects.values_list("id", flat=True))
    active = list(Certification.objects.exclude(status=CertificationStatus.REVOKED).values_list("id", flat=True))
    for cert in Certification.objects.filter(id__in=rng.sample(active, 25)):
        revoke_certification(cert, "抽查不合格", revoked_on=max(cert.valid_from, min(cert.valid_until, TODAY)),
                             today=TODAY)
    for firm in Firm.objects.filter(id__in=rng.sample(firm_ids, 25)):
        tier = rng.choice(["tech_sme", "hnte", "gazelle_municipal"])
        record_certification(firm, tier, datetime.date(rng.randint(2018, 2026), rng.randint(1, 12), 1), today=TODAY)
    for firm in Firm.objects.filter(id__in=rng.sample(firm_ids, 10)):  # rows carry the firm's region
        upsert_firm(firm.uscc, region=rng.choice(["320583", "320506", "320214"]))
    assert precomputed.is_complete()
    assert_same_as_live()


def test_counts_from_the_tables_not_live(db):
    """The tables really are what the analytics read: a row edited behind the registry's back shows."""
    call_command("seed_demo", firms=60, seed=5, today=TODAY, no_index=True)
    before = {(r["from_stage"], r["to_stage"], r["kind"]): r["count"] for r in stage_transitions(2024)}
    row = FirmYearTransition.objects.filter(year=2024, from_rank__isnull=True).first()
    FirmYearTransition.objects.filter(pk=row.pk).delete()
    after = {(r["from_stage"], r["to_stage"], r["kind"]): r["count"] for r in stage_transitions(2024)}
    assert sum(after.values()) == sum(before.values()) - 1
    call_command("analytics_rebuild", verbosity=0)
    assert {(r["from_stage"], r["to_stage"], r["kind"]): r["count"] for r in stage_transitions(2024)} == before


def test_stage_edit_marks_tables_stale_and_analytics_go_live(db, capsys):
    call_command("seed_demo", firms=150, seed=5, today=TODAY, no_index=True)
    assert funnel(STAGES, 2022)["steps"][0]["count"] > 0
    FirmStageReach.objects.all().delete()  # would make the funnel empty if it were still read
    stage = Stage.objects.get(code="srdi")
    stage.name_en = "Specialised SME"
    stage.save()
    assert not precomputed.is_complete()
    assert funnel(STAGES, 2022) == funnel(STAGES, 2022, live=True)
    assert funnel(STAGES, 2022)["steps"][0]["count"] > 0
    call_command("analytics_rebuild", status=True)
    assert "Pipeline tables: STALE" in capsys.readouterr().out
    call_command("analytics_rebuild")
    assert precomputed.is_complete() and "Pipeline tables: complete" in capsys.readouterr().out


def candidate_pages(stage, tier, region, live):
    out = []
    for offset in (0, 100):
        page = find_candidates(stage, tier, region, on=TODAY, first=100, offset=offset, live=live)
        out.append((page.total, page.year, [(c.firm.pk, c.outcome, c.score, c.gap, c.unmet, c.rule_set)
                                             for c in page.items]))
    return out


def assert_candidates_same_as_live():
    assert candidate_ranks.ready_for(TODAY)
    compared = 0
    for stage, tier, _ in candidate_ranks.targets(TODAY):
        for region in REGIONS:
            ranked = candidate_pages(stage.code, tier and tier.code, region, live=False)
            assert ranked == candidate_pages(stage.code, tier and tier.code, region, live=True), (stage, tier, region)
            compared += ranked[0][0]
    assert compared > 300  # the comparison saw real rankings


@pytest.mark.parametrize("seed", [21])
def test_candidate_ranking_same_as_live_and_after_writes(seed):
    call_command("seed_demo", firms=300, seed=seed, today=TODAY, no_index=True, chunk_size=120)
    assert_candidates_same_as_live()

    rng = random.Random(seed)
    firms = list(Firm.objects.order_by("id"))
    for firm in rng.sample(firms, 12):  # facts change: a ranked firm moves
        upsert_indicators(firm, TODAY.year - 1, {"revenue": Decimal(rng.randint(500, 30000)),
                                                 "rd_expense": Decimal(rng.randint(0, 2000)), "employees": 80,
                                                 "rd_staff": rng.randint(0, 30), "ip_class1": rng.randint(0, 3),
                                                 "hightech_revenue": Decimal(rng.randint(100, 20000))})
    for firm in rng.sample(firms, 12):  # a new recognition: the firm leaves one target's rung for another
        record_certification(firm, rng.choice(["tech_sme", "hnte"]), datetime.date(2026, rng.randint(1, 10), 1),
                             today=TODAY)
    for firm in rng.sample(firms, 6):  # a move to another region: other rule sets, other region filters
        upsert_firm(firm.uscc, region=rng.choice(["320583", "320506", "320214"]))
    assert_candidates_same_as_live()


def test_single_write_rejudges_the_firm_for_its_own_targets_only(db, monkeypatch):
    """The refresh is incremental: a firm without a stage is a candidate of the bottom rung only, so
    recording its first recognition judges it for the targets of (at most) two rungs, not all of them,
    and the ranking still equals a full rebuild's."""
    call_command("seed_demo", firms=60, seed=5, today=TODAY, no_index=True)
    firm = Firm.objects.filter(current_stage__isnull=True).order_by("id").first()
    judged = []
    real_judge, real_rank_rows = candidate_ranks.judge, candidate_ranks.rank_rows
    monkeypatch.setattr(candidate_ranks, "judge", lambda stage, tier, *a, **k: judged.append(
        (stage.code, tier and tier.code)) or real_judge(stage, tier, *a, **k))
    # A batch of one is ranked row by row (registry.eligibility.single): count those rule sets too.
    monkeypatch.setattr(candidate_ranks, "rank_rows", lambda rows, rule_sets, *a, **k: judged.append(
        tuple(r.code for r in rule_sets)) or real_rank_rows(rows, rule_sets, *a, **k))
    record_certification(firm, "tech_sme", datetime.date(2026, 3, 1), today=TODAY)
    all_targets = list(candidate_ranks.targets(TODAY))
    assert 0 < len(judged) <= 2 < len(all_targets)
    after_write_rows = sorted(CandidateRank.objects.values_list("target", "firm_id", "outcome_rank", "gap"))
    candidate_ranks.rebuild(TODAY)
    assert after_write_rows == sorted(CandidateRank.objects.values_list("target", "firm_id", "outcome_rank", "gap"))


def test_rule_change_makes_ranking_stale(db):
    call_command("seed_demo", firms=60, seed=5, today=TODAY, no_index=True)
    assert candidate_ranks.ready_for(TODAY) and not candidate_ranks.ready_for(TODAY + datetime.timedelta(days=1))
    rule = EligibilityRuleSet.objects.filter(stage__code="hnte").first()
    rule.name = rule.name + " (corrected)"
    rule.save()
    assert not candidate_ranks.ready_for(TODAY)
    CandidateRank.objects.all().delete()  # would empty the ranking if it were still read
    assert find_candidates("hnte", on=TODAY).total == find_candidates("hnte", on=TODAY, live=True).total > 0


def test_large_change_keeps_tables_answering_until_the_rebuild(db, settings, client, django_capture_on_commit_callbacks):
    """A write over ANALYTICS_INLINE_REFRESH_MAX_FIRMS is not refreshed inline: both groups stay usable
    but behind (the pre-write answers from the tables, no raw-table query, and a note), single writes
    still refresh their firms, and the one rebuild queued on commit makes them current and clears the note."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from registry.analytics.scope import NOT_REVOKED
    from registry.models import PipelineState, Role
    from tests.web.conftest import make_user

    call_command("seed_demo", firms=60, seed=5, today=TODAY, no_index=True)
    call_command("analytics_rebuild", on=TODAY, verbosity=0)
    funnel_before = funnel(STAGES, 2024)
    candidates_before = [(c.firm.pk, c.gap) for c in find_candidates("hnte", on=TODAY, first=100).items]
    assert funnel_before["steps"][0]["count"] and candidates_before
    settings.ANALYTICS_INLINE_REFRESH_MAX_FIRMS = 10
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        firm = Firm.objects.filter(current_stage__code="tech_sme").first()
        Certification.objects.filter(status=CertificationStatus.ACTIVE).exclude(firm=firm).update(
            status=CertificationStatus.REVOKED, revoked_on=TODAY)  # a bulk change of many firms
        after_write(Firm.objects.exclude(pk=firm.pk).values_list("id", flat=True), changed=RECOGNITIONS)
        after_write(Firm.objects.exclude(pk=firm.pk).values_list("id", flat=True), changed=RECOGNITIONS)
    rebuilds = [callback for callback in callbacks if getattr(callback, "once_per_commit", None) == REBUILD_QUEUED]
    assert len(rebuilds) == 1  # one rebuild, however many batches the write had; not run yet (pending)
    assert precomputed.is_complete() and candidate_ranks.ready_for(TODAY)
    assert all(s.behind_since is not None for s in PipelineState.objects.all())
    assert funnel(STAGES, 2024) != funnel(STAGES, 2024, live=True)  # the tables lag the registry ...
    with CaptureQueriesContext(connection) as queries:
        assert funnel(STAGES, 2024) == funnel_before  # ... and still answer, from the tables
        assert [(c.firm.pk, c.gap) for c in find_candidates("hnte", on=TODAY, first=100).items] == candidates_before
    read = " ".join(q["sql"] for q in queries.captured_queries)
    assert "registry_firmstagereach" in read and "registry_candidaterank" in read
    assert "registry_certification" not in read

    client.force_login(make_user("lag-analyst", Role.ANALYST))
    assert "分析数据正在更新" in client.get("/analytics/").content.decode()

    # A single write while behind refreshes its firm (the rebuild catches the rest).
    revoke_certification(Certification.objects.filter(firm=firm, status=CertificationStatus.ACTIVE).first(), "test",
                         revoked_on=TODAY)
    assert set(FirmStageReach.objects.filter(firm=firm).values_list("stage_id", flat=True)) == set(
        Certification.objects.filter(NOT_REVOKED, firm=firm).values_list("stage_id", flat=True))

    rebuilds[0]()  # the rebuild runs
    assert precomputed.is_complete() and candidate_ranks.ready_for(timezone.localdate())
    assert not PipelineState.objects.filter(behind_since__isnull=False).exists()
    assert funnel(STAGES, 2024) == funnel(STAGES, 2024, live=True) != funnel_before
    assert_same_as_live()
    assert "分析数据正在更新" not in client.get("/analytics/").content.decode()


def test_never_built_tables_answer_live_and_queue_no_rebuild(db, settings, django_capture_on_commit_callbacks):
    from registry.models import PipelineState

    call_command("seed_demo", firms=30, seed=5, today=TODAY, no_index=True)
    PipelineState.objects.all().delete()  # never built
    FirmStageReach.objects.all().delete()
    settings.ANALYTICS_INLINE_REFRESH_MAX_FIRMS = 5
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        after_write(Firm.objects.values_list("id", flat=True), changed=RECOGNITIONS)
    assert not [c for c in callbacks if getattr(c, "once_per_commit", None) == REBUILD_QUEUED]
    assert funnel(STAGES, 2024) == funnel(STAGES, 2024, live=True) and funnel(STAGES, 2024)["steps"][0]["count"] > 0


def test_write_during_a_running_rebuild_queues_another(db, monkeypatch, django_capture_on_commit_callbacks):
    """PostgreSQL: a single write while a rebuild holds the tables neither waits for it nor refreshes;
    it marks them behind and queues one more rebuild once committed."""
    from django.core.cache import cache

    from registry.models import PipelineState

    call_command("seed_demo", firms=30, seed=5, today=TODAY, no_index=True)
    monkeypatch.setattr(precomputed, "rebuild_running", lambda group: True)
    cache.delete(REBUILD_QUEUED)
    firm = Firm.objects.filter(current_stage__code="tech_sme").first()
    reach_before = sorted(FirmStageReach.objects.filter(firm=firm).values_list("stage_id", flat=True))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        revoke_certification(Certification.objects.filter(firm=firm, status=CertificationStatus.ACTIVE).first(), "test",
                             revoked_on=TODAY)
    assert reach_before and sorted(FirmStageReach.objects.filter(firm=firm).values_list("stage_id", flat=True)) == (
        reach_before)  # not refreshed: the queued rebuild will
    queued = [c for c in callbacks if getattr(c, "once_per_commit", None) == REBUILD_QUEUED]
    assert len(queued) == 1 and not PipelineState.objects.filter(behind_since__isnull=False).exists()
    monkeypatch.setattr("registry.tasks.rebuild_precomputed_tables.delay", lambda: calls.append(1))
    calls = []
    queued[0]()
    queued[0]()  # a second write before the queued rebuild starts queues nothing more
    assert calls == [1] and PipelineState.objects.filter(behind_since__isnull=False).count() == 2
    cache.delete(REBUILD_QUEUED)


def test_writers_see_a_running_rebuild_on_postgresql(db):
    """The advisory lock itself: while another connection rebuilds a group, writers find it taken
    (and do not wait); the other group, and the group once released, are free."""
    from django.db import DEFAULT_DB_ALIAS, connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("advisory locks: PostgreSQL only (SQLite serialises writers)")
    rebuilder = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        rebuilder.set_autocommit(False)
        with rebuilder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [precomputed._lock_key(precomputed.STATE)])
        assert precomputed.rebuild_running(precomputed.STATE)
        assert not precomputed.rebuild_running(candidate_ranks.STATE)
        rebuilder.rollback()
        assert not precomputed.rebuild_running(precomputed.STATE)
    finally:
        rebuilder.close()
