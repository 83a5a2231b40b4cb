"""The analytics fields and pool mutations through POST /graphql, with role scope."""

import datetime
from decimal import Decimal

import pytest
from graphql_relay import to_global_id

import registry.receivers  # noqa: F401
from registry.models import CultivationEntry, PolicyTarget, Stage
from registry.services import record_certification, upsert_indicators
from tests.analytics.test_pipeline import registry_firms  # noqa: F401  (the hand-computed registry)
from tests.factories import FirmFactory

D = datetime.date
pytestmark = pytest.mark.django_db

FUNNEL = """query($stages: [String!]!, $year: Int, $region: String, $window: Int) {
  funnel(stages: $stages, cohortYear: $year, region: $region, windowYears: $window) {
    steps { stage count conversionFromPrevious conversionFromFirst medianYearsFromPrevious } } }"""
TRANSITIONS = """query($year: Int!, $region: String) { stageTransitions(year: $year, region: $region) {
  fromStage toStage kind count } }"""
TARGETS = """query($region: String!, $year: Int!) { targetProgress(region: $region, year: $year) {
  stage tier kind target actual ratio } }"""
COHORTS = """query { cohortTable(stage: "tech_sme", region: "320500", firstYear: 2022, lastYear: 2022) {
  nextStage rows { entryYear size cells { yearsSinceEntry reached share } } } }"""
DRILL = """query { cohortFirms(stage: "tech_sme", entryYear: 2022, yearsSinceEntry: 2, reached: true, region: "320500") {
  total csv firms { firm { uscc } enteredOn reachedOn } } }"""
CANDIDATES = """query($stage: String!, $tier: String, $region: String, $first: Int, $after: String, $on: Date) {
  candidates(stage: $stage, tier: $tier, region: $region, first: $first, after: $after, on: $on) {
    totalCount eligibleCount evaluationYear pageInfo { hasNextPage endCursor }
    edges { node { firm { uscc } eligible outcome score ruleSet
                   unmet { criterion required actual gap missing text } } } } }"""
ADD = """mutation($uscc: String!, $stage: String!, $tier: String, $year: Int!, $owner: String, $note: String) {
  addToCultivationPool(uscc: $uscc, targetStage: $stage, targetTier: $tier, targetYear: $year, owner: $owner,
                       note: $note) {
    errors { field message } entry { id status targetYear owner targetStage { code } notes { status text } } } }"""
UPDATE = """mutation($id: ID!, $status: String, $note: String) {
  updateCultivationEntry(id: $id, status: $status, note: $note) {
    errors { field message } entry { status closedOn notes { status text } } } }"""


def test_funnel_transitions_targets_cohorts(gql, analyst, registry_firms):
    data = gql.data(FUNNEL, {"stages": ["tech_sme", "hnte", "gazelle"], "year": 2022, "region": "320500"}, user=analyst)
    assert data["funnel"]["steps"] == [
        {"stage": "tech_sme", "count": 5, "conversionFromPrevious": None, "conversionFromFirst": 1.0,
         "medianYearsFromPrevious": None},
        {"stage": "hnte", "count": 3, "conversionFromPrevious": 0.6, "conversionFromFirst": 0.6,
         "medianYearsFromPrevious": 2.0},
        {"stage": "gazelle", "count": 2, "conversionFromPrevious": pytest.approx(2 / 3), "conversionFromFirst": 0.4,
         "medianYearsFromPrevious": 1.0},
    ]
    rows = gql.data(TRANSITIONS, {"year": 2024, "region": "320500"}, user=analyst)["stageTransitions"]
    assert {"fromStage": "hnte", "toStage": None, "kind": "revocation", "count": 1} in rows
    assert sum(r["count"] for r in rows) == 7
    PolicyTarget.objects.create(region_id="320500", stage=Stage.objects.get(code="hnte"), kind="stock", year=2024,
                                target=8)
    assert gql.data(TARGETS, {"region": "320500", "year": 2024}, user=analyst)["targetProgress"] == [
        {"stage": "hnte", "tier": None, "kind": "STOCK", "target": 8, "actual": 4, "ratio": 0.5}]
    table = gql.data(COHORTS, user=analyst)["cohortTable"]
    assert table["nextStage"] == "hnte"
    assert [(c["yearsSinceEntry"], c["reached"]) for c in table["rows"][0]["cells"]][:3] == [(0, 0), (1, 1), (2, 3)]
    drill = gql.data(DRILL, user=analyst)["cohortFirms"]
    assert drill["total"] == 3 and len(drill["csv"].splitlines()) == 4
    assert [f["firm"]["uscc"] for f in drill["firms"]] == [registry_firms[n].uscc for n in (1, 2, 3)]


def test_officer_sees_only_their_regions_in_the_numbers(gql, officer, registry_firms):
    # The 昆山 officer asking for all of 苏州 gets 昆山's numbers (F6 in 吴中 is out of scope).
    data = gql.data(FUNNEL, {"stages": ["tech_sme", "hnte"], "year": 2022, "region": "320500"}, user=officer)
    assert [s["count"] for s in data["funnel"]["steps"]] == [4, 3]


def test_bad_arguments_are_errors_not_500(gql, analyst, db):
    status, body = gql(FUNNEL, {"stages": ["hnte", "tech_sme"], "year": 2022}, user=analyst)
    assert status == 200 and "lowest rung first" in body["errors"][0]["message"]
    status, body = gql(TARGETS, {"region": "999999", "year": 2024}, user=analyst)
    assert "Unknown region code" in body["errors"][0]["message"]


@pytest.fixture(params=["live", "refreshed", "rebuilt"])
def tech_candidates(request, db):
    """Three firms with no stage in 昆山 and one in 吴中, judged for 科小 on 2026-06-30 (2025 indicators).

    Three ways, same expectations: judged live; ranked in CandidateRank built for 2026-06-30 before
    the firms got their facts (kept current by firms_changed); ranked by a rebuild afterwards."""
    from registry.eligibility import precomputed

    if request.param == "refreshed":
        precomputed.rebuild(D(2026, 6, 30))
    firms = _tech_candidates()
    if request.param == "rebuilt":
        precomputed.rebuild(D(2026, 6, 30))
    assert precomputed.ready_for(D(2026, 6, 30)) == (request.param != "live")
    return firms


def _tech_candidates():
    good = FirmFactory(name="甲")    # 20 + 50 + 30 = 100
    near = FirmFactory(name="乙")    # 12 + 30 + 12 = 54: 6 points short
    unknown = FirmFactory(name="丙")  # no 2025 indicators
    other = FirmFactory(name="丁", region_id="320506")
    upsert_indicators(good, 2025, {"revenue": Decimal(1000), "rd_expense": Decimal(60), "employees": 100,
                                   "rd_staff": 30, "ip_class1": 1, "total_assets": Decimal(3000)})
    upsert_indicators(near, 2025, {"revenue": Decimal(1000), "rd_expense": Decimal(40), "employees": 100,
                                   "rd_staff": 20, "ip_class1": 0, "ip_class2": 2, "total_cost": Decimal(900),
                                   "total_assets": Decimal(3000)})
    upsert_indicators(unknown, 2024, {"revenue": Decimal(1000)})
    upsert_indicators(other, 2025, {"revenue": Decimal(1000), "rd_expense": Decimal(60), "employees": 100,
                                    "rd_staff": 30, "ip_class1": 1, "total_assets": Decimal(3000)})
    hnte_firm = FirmFactory(name="戊")  # already 高企: not a 科小 candidate (one rung below = no stage)
    record_certification(hnte_firm, "hnte", D(2025, 3, 1))
    return good, near, unknown, other


def test_candidates_ranked_and_explained(gql, officer, tech_candidates):
    good, near, unknown, _ = tech_candidates
    variables = {"stage": "tech_sme", "region": "320583", "on": "2026-06-30", "first": 2}
    page = gql.data(CANDIDATES, variables, user=officer)["candidates"]
    assert page["totalCount"] == 3 and page["evaluationYear"] == 2025 and page["pageInfo"]["hasNextPage"]
    assert page["eligibleCount"] == 1  # good only: near misses the score, unknown lacks the year
    nodes = [e["node"] for e in page["edges"]]
    assert [(n["firm"]["uscc"], n["outcome"], n["score"]) for n in nodes] == [
        (good.uscc, "eligible", 100.0), (near.uscc, "not_eligible", 54.0)]
    assert nodes[0]["unmet"] == [] and nodes[0]["ruleSet"] == "national-tech_sme-2017"
    assert nodes[1]["unmet"][0]["criterion"] == "score" and nodes[1]["unmet"][0]["gap"] == 6.0
    rest = gql.data(CANDIDATES, {**variables, "after": page["pageInfo"]["endCursor"]}, user=officer)["candidates"]
    [last] = [e["node"] for e in rest["edges"]]
    assert last["firm"]["uscc"] == unknown.uscc and last["outcome"] == "missing_data"
    assert last["unmet"][0]["text"] == "no 2025 indicators" and last["unmet"][0]["missing"]
    assert not rest["pageInfo"]["hasNextPage"]


def test_candidates_scope_and_investors(gql, officer, investor, analyst, tech_candidates):
    # the 昆山 officer asking for every region still sees 昆山 only; an analyst sees 吴中 too
    assert gql.data(CANDIDATES, {"stage": "tech_sme", "on": "2026-06-30"}, user=officer)["candidates"]["totalCount"] == 3
    assert gql.data(CANDIDATES, {"stage": "tech_sme", "on": "2026-06-30"}, user=analyst)["candidates"]["totalCount"] == 4
    status, body = gql(CANDIDATES, {"stage": "tech_sme"}, user=investor)
    assert "not available to the investor role" in body["errors"][0]["message"]
    status, body = gql(CANDIDATES, {"stage": "tech_sme", "first": 101}, user=analyst)
    assert "exceeds the limit" in body["errors"][0]["message"]


def test_pool_mutations_scope_and_errors(gql, officer, wuxi_officer, analyst, investor, firm):
    variables = {"uscc": firm.uscc, "stage": "hnte", "year": 2026, "owner": "ks_officer", "note": "园区推荐"}
    result = gql.data(ADD, variables, user=officer)["addToCultivationPool"]
    assert result["errors"] == [] and result["entry"]["status"] == "pooled" and result["entry"]["owner"] == "ks_officer"
    entry_id = result["entry"]["id"]
    again = gql.data(ADD, variables, user=officer)["addToCultivationPool"]
    assert again["entry"] is None and again["errors"][0]["field"] == "targetYear"
    # out of region / wrong role: errors, nothing written
    for user in (wuxi_officer, analyst):
        denied = gql.data(ADD, {**variables, "year": 2027}, user=user)["addToCultivationPool"]
        assert denied["entry"] is None and denied["errors"]
    assert CultivationEntry.objects.count() == 1
    bad = gql.data(UPDATE, {"id": entry_id, "status": "recognized"}, user=officer)["updateCultivationEntry"]
    assert bad["errors"][0]["field"] == "status" and "Cannot move from" in bad["errors"][0]["message"]
    ok = gql.data(UPDATE, {"id": entry_id, "status": "coaching", "note": "辅导"}, user=officer)["updateCultivationEntry"]
    assert ok["errors"] == [] and ok["entry"]["status"] == "coaching"
    assert [n["text"] for n in ok["entry"]["notes"]] == ["园区推荐", "辅导"]
    foreign = gql.data(UPDATE, {"id": entry_id, "note": "x"}, user=wuxi_officer)["updateCultivationEntry"]
    assert foreign["errors"][0]["field"] == "id"
    # investors never see pool entries or notes
    status, body = gql(UPDATE, {"id": entry_id, "note": "x"}, user=investor)
    assert body["data"]["updateCultivationEntry"]["entry"] is None


def test_recorded_recognition_closes_entry_seen_through_the_api(gql, officer, firm):
    entry_id = gql.data(ADD, {"uscc": firm.uscc, "stage": "hnte", "year": 2026}, user=officer)[
        "addToCultivationPool"]["entry"]["id"]
    record_certification(firm, "hnte", D(2026, 11, 1), certificate_no="GR202632009999")
    entry = CultivationEntry.objects.get()
    assert entry.status == "recognized"
    assert to_global_id("CultivationEntryType", entry.pk) == entry_id


def test_candidates_page_costs_constant_queries(gql, analyst, tech_candidates):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(6):
        extra = FirmFactory(name=f"己{n}")
        upsert_indicators(extra, 2025, {"revenue": Decimal(1000), "rd_expense": Decimal(60), "employees": 100,
                                        "rd_staff": 30, "ip_class1": 1, "total_assets": Decimal(3000)})
    query = """query($first: Int) { candidates(stage: "tech_sme", on: "2026-06-30", first: $first) {
      edges { node { firm { uscc name region { code } currentStage { code } } score } } } }"""
    gql.data(query, {"first": 1}, user=analyst)  # session warm-up
    with CaptureQueriesContext(connection) as cold:
        gql.data(query, {"first": 10})
    with CaptureQueriesContext(connection) as small:
        gql.data(query, {"first": 2})
    with CaptureQueriesContext(connection) as large:
        page = gql.data(query, {"first": 10})
    assert len(page["candidates"]["edges"]) == 10
    assert len(large.captured_queries) == len(small.captured_queries) <= 16
    # The stored ranking's first pages also read the regions, stages and tiers not yet kept for it
    # (precomputed.page_rows): at most three statements, whatever the page size.
    assert len(cold.captured_queries) <= len(large.captured_queries) + 3


ELIGIBILITY = """query($uscc: String!, $stage: String!, $tier: String, $on: Date) {
  eligibility(uscc: $uscc, stage: $stage, tier: $tier, on: $on) {
    firm { uscc } eligible outcome score ruleSet evaluationYear unmet { criterion text } } }"""
POOL = """query($region: String, $status: String) { cultivationPool(region: $region, status: $status) {
  status targetYear firm { uscc } notes { text } } }"""


def test_eligibility_of_one_firm(gql, officer, wuxi_officer, tech_candidates):
    good, near, _, _ = tech_candidates
    result = gql.data(ELIGIBILITY, {"uscc": near.uscc, "stage": "tech_sme", "on": "2026-06-30"}, user=officer)
    assert result["eligibility"] == {
        "firm": {"uscc": near.uscc}, "eligible": False, "outcome": "not_eligible", "score": 54.0,
        "ruleSet": "national-tech_sme-2017", "evaluationYear": 2025,
        "unmet": [{"criterion": "score", "text": "score 54 < 60 (科技人员 share of employees 12/20, "
                                                 "研发投入 R&D 30/50, 科技成果 IP 12/30)"}]}
    # out of scope: null, as if absent
    assert gql.data(ELIGIBILITY, {"uscc": good.uscc, "stage": "tech_sme"}, user=wuxi_officer)["eligibility"] is None


def test_pool_list_scope_and_investors(gql, officer, city_officer, investor, firm):
    gql.data(ADD, {"uscc": firm.uscc, "stage": "hnte", "year": 2026, "note": "园区推荐"}, user=officer)
    assert gql.data(POOL, {"region": "320500"}, user=city_officer)["cultivationPool"] == [
        {"status": "pooled", "targetYear": 2026, "firm": {"uscc": firm.uscc}, "notes": [{"text": "园区推荐"}]}]
    assert gql.data(POOL, {"status": "applied"}, user=officer)["cultivationPool"] == []
    status, body = gql(POOL, {}, user=investor)
    assert "not available to the investor role" in body["errors"][0]["message"]
