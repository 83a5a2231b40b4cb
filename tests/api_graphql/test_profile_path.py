"""`firm(uscc)` reads through the column plan (FirmType.plan): stage and tier joined, three queries for a
profile with timeline and indicators, and the same scope and field rules as everywhere."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api_graphql.conftest import BH_USCC, KS_USCC

PROFILE = """query($u: String!) { firm(uscc: $u) { uscc name region { code name } currentStage { code name }
  currentTier { code } timeline { date kind stage { code } tier { code } certification { certificateNo } }
  indicators { year employees rdExpense } } }"""


def test_a_profile_is_three_queries_with_stage_and_tier_joined(gql, analyst, registry_data):
    gql.data(PROFILE, {"u": KS_USCC}, user=analyst)  # session, role and the province's regions read once
    with CaptureQueriesContext(connection) as queries:
        firm = gql.data(PROFILE, {"u": KS_USCC}, user=analyst)["firm"]
    profile_queries = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")
                       and "django_session" not in q["sql"] and "auth_user" not in q["sql"]
                       and "roleassignment" not in q["sql"]]
    assert len(profile_queries) == 3, profile_queries
    assert "registry_stage" in profile_queries[0] and "registry_tier" in profile_queries[0]
    assert firm["currentStage"]["code"] == "srdi" and firm["currentTier"] == {"code": "srdi_sme"} and firm["region"] == {"code": "320583", "name": "昆山市"}
    assert [(e["kind"], e["tier"]["code"]) for e in firm["timeline"]] == [("entered", "srdi_sme"), ("recognized", "hnte")]
    assert [y["year"] for y in firm["indicators"]] == [2024, 2025]


def test_an_officer_reads_a_profile_in_scope_only(gql, officer, registry_data):
    assert gql.data(PROFILE, {"u": KS_USCC}, user=officer)["firm"]["uscc"] == KS_USCC
    assert gql.data(PROFILE, {"u": BH_USCC}, user=officer) == {"firm": None}


def test_an_investor_gets_the_profile_without_hidden_figures(gql, investor, registry_data):
    status, body = gql(PROFILE, {"u": KS_USCC}, user=investor)
    firm = body["data"]["firm"]
    assert firm["timeline"] and [y["employees"] for y in firm["indicators"]] == [120, 150]
    assert all(y["rdExpense"] is None for y in firm["indicators"])
    assert body["errors"][0]["message"] == "Field 'rdExpense' of IndicatorYearType is not available to the investor role."
