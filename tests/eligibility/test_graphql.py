"""GraphQL: writes of qualifications and indicator details (scoped, audited), local schemes by region,
scheme eligibility and what-if (never stored, refused to investors)."""

import datetime

import pytest

from registry.models import AuditEvent, IndicatorDetail, Qualification
from tests.api_graphql.conftest import BH_USCC, KS_USCC

D = datetime.date
pytestmark = pytest.mark.django_db

RECORD = """mutation($uscc: String!, $kind: String!, $level: String!, $name: String!, $on: String!, $rank: Int) {
  recordQualification(uscc: $uscc, kind: $kind, level: $level, name: $name, awardedOn: $on, rank: $rank) {
    outcome qualification { id kind level name awardedOn rank } errors { field message code } } }"""
DETAILS = """mutation($uscc: String!, $year: Int!, $main: Decimal, $ip: Int) {
  upsertIndicatorDetails(uscc: $uscc, year: $year, mainBusinessRevenue: $main, innovationIp: $ip) {
    outcome indicatorDetails { year mainBusinessRevenue innovationIp innovationScore } errors { field message code } } }"""


def test_officer_records_a_qualification_in_scope_only(gql, officer, registry_data):
    data = gql.data(RECORD, {"uscc": KS_USCC, "kind": "science_award", "level": "provincial",
                             "name": "江苏省科学技术奖一等奖", "on": "2024-12-01", "rank": 1}, user=officer)
    out = data["recordQualification"]
    assert out["errors"] == [] and out["outcome"] == "created"
    assert out["qualification"]["kind"] == "science_award" and out["qualification"]["rank"] == 1
    assert AuditEvent.objects.filter(model="qualification", via="api", actor=officer).count() == 1
    refused = gql.data(RECORD, {"uscc": BH_USCC, "kind": "science_award", "level": "provincial", "name": "x",
                                "on": "2024-12-01"}, user=officer)["recordQualification"]
    assert refused["errors"] == [{"field": "uscc", "message": "No firm with this USCC in your regions.", "code": "not_found"}]
    bad = gql.data(RECORD, {"uscc": KS_USCC, "kind": "prize", "level": "provincial", "name": "x", "on": "2024-12-01"},
                   user=officer)["recordQualification"]
    assert [e["field"] for e in bad["errors"]] == ["kind"]
    assert Qualification.objects.count() == 1


def test_investor_and_analyst_cannot_write(gql, investor, analyst, registry_data):
    for user in (investor, analyst):
        out = gql.data(DETAILS, {"uscc": KS_USCC, "year": 2025, "main": "9000"}, user=user)["upsertIndicatorDetails"]
        assert out["errors"][0]["code"] == "forbidden"
    assert not IndicatorDetail.objects.exists()


def test_indicator_details_write_and_read(gql, officer, investor, registry_data):
    out = gql.data(DETAILS, {"uscc": KS_USCC, "year": 2025, "main": "9000", "ip": 31}, user=officer)["upsertIndicatorDetails"]
    assert [e["field"] for e in out["errors"]] == ["innovationIp"]
    out = gql.data(DETAILS, {"uscc": KS_USCC, "year": 2025, "main": "9000", "ip": 30}, user=officer)["upsertIndicatorDetails"]
    assert out["indicatorDetails"] == {"year": 2025, "mainBusinessRevenue": "9000.00", "innovationIp": 30,
                                       "innovationScore": None}
    status, body = gql('{ indicatorDetails(uscc: "%s") { year mainBusinessRevenue } }' % KS_USCC, user=investor)
    assert body["data"] is None or body["data"].get("indicatorDetails") is None
    assert "9000" not in str(body)


SCHEMES = """query($region: String, $on: Date) { eligibilitySchemes(region: $region, on: $on) {
  code name stage tier jurisdiction version effectiveFrom sourceNote criteria { criterion labelZh clause } } }"""


def test_an_officer_sees_the_schemes_in_force_in_their_region(gql, officer, wuxi_officer):
    codes = [s["code"] for s in gql.data(SCHEMES, {"on": "2026-06-30"}, user=officer)["eligibilitySchemes"]]
    assert codes == ["suzhou-gazelle-2020", "suzhou-unicorn-cultivation-2024"]  # Kunshan: the city's schemes
    codes = [s["code"] for s in gql.data(SCHEMES, {"on": "2026-06-30"}, user=wuxi_officer)["eligibilitySchemes"]]
    assert codes == ["wuxi-eaglet-pool-2020", "wuxi-gazelle-pool-2020", "wuxi-quasi-unicorn-2024"]
    sip = gql.data(SCHEMES, {"region": "320571", "on": "2026-06-30"}, user=officer)["eligibilitySchemes"]
    gazelle = next(s for s in sip if s["code"] == "sip-gazelle")
    assert gazelle["jurisdiction"] == "320571" and "net-profit" in gazelle["sourceNote"]
    assert gazelle["criteria"][0] == {"criterion": "founded_from", "labelZh": "成立日期", "clause": "瞪羚 条件1"}
    old = [s["code"] for s in gql.data(SCHEMES, {"region": "320500", "on": "2023-06-30"}, user=officer)["eligibilitySchemes"]]
    assert "suzhou-unicorn-cultivation-2023" in old and "suzhou-unicorn-cultivation-2024" not in old


WHAT_IF = """query($uscc: String!, $figures: [FigureInput!]) {
  whatIf(uscc: $uscc, stage: "hnte", on: "2026-06-30", figures: $figures) {
    evaluation { eligible outcome ruleSet unmet { criterion text textZh ruleSet clause gaps { year figure } } }
    changes { criterion figure figureChange figureUnit }
    figures { figure year value } } }"""


def test_what_if_over_graphql_is_never_stored(gql, officer, investor, registry_data):
    # 昆山芯微, founded 2016: 2023 figures and every indicator detail are missing.
    out = gql.data(WHAT_IF, {"uscc": KS_USCC}, user=officer)["whatIf"]
    assert out["evaluation"]["outcome"] == "missing_data"
    gaps = {(g["year"], g["figure"]) for u in out["evaluation"]["unmet"] for g in u["gaps"]}
    assert (2023, "revenue") in gaps and (2025, "innovation_ip") in gaps
    typed = [{"figure": "revenue", "year": 2023, "value": "6000"}, {"figure": "rd_expense", "year": 2023, "value": "360"},
             {"figure": "hightech_revenue", "year": 2025, "value": "6000"}]
    typed += [{"figure": f, "year": y, "value": v} for f, y, v in (
        ("rd_expense_domestic", 2023, "360"), ("rd_expense_domestic", 2024, "480"), ("rd_expense_domestic", 2025, "700"),
        ("innovation_ip", 2025, "24"), ("innovation_conversion", 2025, "24"), ("innovation_rd_management", 2025, "13"),
        ("innovation_growth", 2025, "10"))]
    out = gql.data(WHAT_IF, {"uscc": KS_USCC, "figures": typed}, user=officer)["whatIf"]
    assert out["evaluation"]["eligible"], out  # R&D 1,540 / 24,000 = 6.4 % ≥ 4 % (revenue 1亿: 5,000万–2亿 band)
    assert len(out["figures"]) == len(typed)
    assert not IndicatorDetail.objects.exists()
    status, body = gql(WHAT_IF, {"uscc": KS_USCC}, user=investor)
    assert body["data"]["whatIf"] is None
    assert body["errors"][0]["message"] == "Field 'whatIf' is not available to the investor role."
    bad = gql(WHAT_IF, {"uscc": KS_USCC, "figures": [{"figure": "profit", "value": "1"}]}, user=officer)[1]
    assert bad["errors"][0]["message"] == ("Invalid argument 'figures': figures[1]: “profit” is not a figure the "
                                           "rules read.")


def test_scheme_eligibility_names_the_gap(gql, city_officer, registry_data):
    query = """{ schemeEligibility(uscc: "%s", scheme: "suzhou-gazelle-2020", on: "2026-06-30") {
      outcome ruleSet unmet { criterion missing gaps { year figure } } } }""" % KS_USCC
    out = gql.data(query, user=city_officer)["schemeEligibility"]
    assert out["ruleSet"] == "suzhou-gazelle-2020" and out["outcome"] == "missing_data"
    assert {(g["year"], g["figure"]) for u in out["unmet"] for g in u["gaps"]} == {
        (2025, "main_business_revenue"), (2024, "main_business_revenue")}
