"""No N+1: a page of firms with stage, region, chains and certifications costs a constant number of queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import IndustryChain
from registry.services import record_certification, upsert_indicators
from registry.filtersets import codes
from tests.factories import FirmFactory

PAGE = """query($n: Int) { firms(first: $n, region: "320500") { totalCount edges { node {
  uscc name region { code name parent { code } } chains { code } currentStage { code name } currentTier { code }
  certifications { certificateNo status stage { code } tier { code } } timeline { kind }
  latestIndicators { year revenue } indicators { year rdIntensity } } } } }"""

# Auth: session, user, role (+ the officer's regions) = 3 (4); the `region` filter: the codes under it
# = 1 (0 once cached); the page — stage, tier and latest indicators joined in (the prefetch plan) —
# and its count = 2; regions and their parents: their province's regions = 1 (0 once cached, see
# loaders.region); one loader batch per to-many relation: chains, certifications (stage and tier
# joined), indicators = 3; an officer's scope adds 1 more: the codes of their regions, written into
# the page's statement as a list (registry.permissions.region_codes_in_scope: as a subquery it made
# PostgreSQL plan the page badly). Total 10 for an analyst, 12 for an officer, whatever the page
# size (timeline reuses the certifications batch); 8 and 10 with the reference caches warm. Exact,
# not bounds: a statement saved must show here as much as one added.
EXPECTED_QUERIES = 10
OFFICER_QUERIES = EXPECTED_QUERIES + 2


@pytest.fixture
def many_firms(db):
    chain = IndustryChain.objects.get(code="ic.design")
    firms = FirmFactory.create_batch(100)
    for index, firm in enumerate(firms):
        firm.chains.add(chain)
        record_certification(firm, "hnte", datetime.date(2025, 1, 1) + datetime.timedelta(days=index),
                             certificate_no=f"GR2025320{index:05d}")
        upsert_indicators(firm, 2025, {"revenue": 1000 + index, "rd_expense": 60})
    return firms


def run(gql, user, n):
    codes.clear()  # count the reference-code lookups too (worst case)
    gql.client.force_login(user)  # the login itself is not part of the request's cost
    with CaptureQueriesContext(connection) as queries:
        data = gql.data(PAGE, {"n": n})
    assert len(data["firms"]["edges"]) == n
    return len(queries)


@pytest.mark.parametrize("role", ["analyst", "city_officer"])
def test_page_of_10_and_100_cost_the_same_small_number_of_queries(gql, many_firms, request, role):
    user = request.getfixturevalue(role)
    small, large = run(gql, user, 10), run(gql, user, 100)
    assert small == large, (small, large)
    assert large == (OFFICER_QUERIES if role == "city_officer" else EXPECTED_QUERIES), large


def test_query_count_pinned(gql, many_firms, analyst, django_assert_num_queries):
    codes.clear()
    gql.client.force_login(analyst)
    with django_assert_num_queries(EXPECTED_QUERIES):
        gql.data(PAGE, {"n": 100})


def test_total_count_only_when_selected_and_pages_are_keyset_not_offset(gql, analyst, db):
    FirmFactory.create_batch(5)
    gql.client.force_login(analyst)
    with CaptureQueriesContext(connection) as queries:
        first = gql.data("{ firms(first: 2) { pageInfo { endCursor } edges { node { uscc } } } }")
    assert not any("COUNT(" in q["sql"] for q in queries.captured_queries)
    with CaptureQueriesContext(connection) as queries:
        gql.data("query($a: String) { firms(first: 2, after: $a) { totalCount edges { node { uscc } } } }",
                 {"a": first["firms"]["pageInfo"]["endCursor"]})
    sql = [q["sql"] for q in queries.captured_queries if "registry_firm" in q["sql"]]
    assert sum("COUNT(" in s for s in sql) == 1
    page = next(s for s in sql if "LIMIT 3" in s)
    assert '"registry_firm"."id" >' in page and "OFFSET" not in page


def test_regions_come_from_the_cached_region_table_and_a_new_region_still_resolves(gql, analyst, db):
    from registry.models import Region
    from registry.models.region import build_path

    FirmFactory()
    query = "{ firms(first: 5) { edges { node { uscc region { code name parent { code } } } } } }"
    gql.client.force_login(analyst)
    gql.data(query)  # reads the region table once
    with CaptureQueriesContext(connection) as queries:
        data = gql.data(query)
    assert not any("registry_region" in q["sql"] for q in queries.captured_queries)
    assert data["firms"]["edges"][0]["node"]["region"] == {"code": "320583", "name": "昆山市", "parent": {"code": "320500"}}

    suzhou = Region.objects.get(code="320500")
    new = Region.objects.create(code="320599", name="测试新区", level="park", parent=suzhou,
                                path=build_path(suzhou.path, "320599"))
    firm = FirmFactory(region=new)
    node = gql.data("query($u: String!) { firm(uscc: $u) { region { code name parent { code } } } }",
                    {"u": firm.uscc})["firm"]
    assert node["region"] == {"code": "320599", "name": "测试新区", "parent": {"code": "320500"}}


def test_one_copy_of_the_regions_serves_the_pages_and_the_api(gql, analyst, db):
    """The pages' national table (registry.filtersets.region_table) fills the API's province copies with the
    same Region objects; a cold API call without it reads only its province."""
    from api_graphql.registry.dataloaders import region_rows
    from registry.filtersets import cached_province, codes, region_table

    FirmFactory()
    query = "{ firms(first: 5) { edges { node { uscc region { code name } } } } }"
    gql.client.force_login(analyst)
    with CaptureQueriesContext(connection) as cold:
        gql.data(query)
    region_reads = [q["sql"] for q in cold.captured_queries if "registry_region" in q["sql"]]
    assert len(region_reads) == 1 and "LIKE" in region_reads[0]  # its province only (code LIKE '32%')
    assert cached_province("11") is None

    codes.clear()
    table = region_table()
    assert cached_province("32")["320583"] is table["320583"] and cached_province("11")["110000"] is table["110000"]
    with CaptureQueriesContext(connection) as after_pages:
        data = gql.data(query)
    assert not any("registry_region" in q["sql"] for q in after_pages.captured_queries)
    assert data["firms"]["edges"][0]["node"]["region"] == {"code": "320583", "name": "昆山市"}
    assert region_rows.get("320583")["name"] == "昆山市"
