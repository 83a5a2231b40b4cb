"""A page answered without graphql-core's executor (core/fastpath.py) answers what the executor does.

Each document runs twice through the endpoint, as served and with the fast path off (the view's
`root_field` says no document qualifies); status and JSON body must be identical for every role,
and the fast path must have answered exactly when the role may read everything selected.
"""

import pytest

from api_graphql import views
from api_graphql.core import fastpath

FAST = {
    "the benchmark's plain page": """query($stage: String, $region: String, $rd: Decimal) {
        firms(first: 100, stage: $stage, region: $region, rdIntensityMin: $rd) { edges { node { uscc name foundedOn
        currentStage { code } region { code } latestIndicators { year rdIntensity } } } } }""",
    "ids, cursors, pageInfo, totalCount, __typename and an alias": """query($first: Int, $after: String) {
        page: firms(first: $first, after: $after, orderBy: NAME) { __typename totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }
        edges { cursor node { id uscc name currentTier { code } } } } }""",
    "recognitions and the region's parent": """{ firms(region: "320000") { edges { node { uscc
        region { code name level parent { code name } } certifications { tier { code name } issuedOn status } } } } }""",
}
ORDINARY = {
    "an indicator column investors may not read": "{ firms { edges { node { uscc latestIndicators { revenue } } } } }",
    "a computed list": "{ firms { edges { node { uscc timeline { kind } } } } }",
    "two root fields": "{ a: firms(first: 1) { edges { node { uscc } } } b: firms(first: 1) { totalCount } }",
    "a root directive": "{ firms @include(if: true) { edges { node { uscc } } } }",
    "a fragment": "{ firms { ...F } } fragment F on FirmConnection { edges { node { uscc } } }",
    "an unknown region": '{ firms(region: "999999") { edges { node { uscc } } } }',
    "a bad variable": ("query($first: Int) { firms(first: $first) { edges { node { uscc } } } }", {"first": "x"}),
    "a filter investors may not use": "{ firms(revenueMin: 1) { edges { node { uscc } } } }",
    "a mutation": """mutation { upsertFirm(input: {uscc: "x", name: "y", region: "320583"}) { ok } }""",
}


@pytest.fixture
def fast_answers(monkeypatch):
    """The requests the fast path answered itself (not handed to the executor)."""
    answered = []
    run = fastpath.FastPage.run

    def spy(self):
        data = run(self)
        if data is not None:
            answered.append(data)
        return data

    monkeypatch.setattr(fastpath.FastPage, "run", spy)
    return answered


def both_ways(gql, monkeypatch, query, variables, user):
    served = gql(query, variables, user=user)
    with monkeypatch.context() as m:
        m.setattr(views, "root_field", lambda document, operation: None)
        ordinary = gql(query, variables, user=user)
    assert served == ordinary
    return served


def variables_for(case, gql, user):
    if case == "the benchmark's plain page":
        return {"stage": None, "region": "320000", "rd": None}
    if case.startswith("ids"):
        first = gql.data("{ firms(first: 1, orderBy: NAME) { pageInfo { endCursor } } }", user=user)
        return {"first": 1, "after": first["firms"]["pageInfo"]["endCursor"]}
    return {}


@pytest.mark.parametrize("role", ["analyst", "officer", "city_officer", "investor"])
@pytest.mark.parametrize("case", sorted(FAST))
def test_fast_path_answers_as_the_executor(case, role, request, gql, monkeypatch, more_firms, fast_answers):
    user = request.getfixturevalue(role)
    variables = variables_for(case, gql, user)
    fast_answers.clear()
    status, body = both_ways(gql, monkeypatch, FAST[case], variables, user)
    refused = role == "investor" and "rdIntensity" in FAST[case]
    assert status == 200 and ("errors" in body) == refused
    assert len(fast_answers) == (0 if refused else 1)
    firms = body["data"].get("firms") or body["data"].get("page")
    if not refused:
        assert fast_answers[0] == body["data"]
    if role == "officer":  # 昆山 only: the scope holds on the fast path
        assert {e["node"]["uscc"][2:8] for e in firms["edges"]} <= {"320583"}
    if role in ("analyst", "city_officer") and not case.startswith("ids"):
        assert len(firms["edges"]) >= 2


def test_fast_path_plain_page_hand_checked(gql, analyst, more_firms, fast_answers):
    body = gql.data(FAST["ids, cursors, pageInfo, totalCount, __typename and an alias"], {"first": 2}, user=analyst)
    page = body["page"]
    assert len(fast_answers) == 1
    assert page["__typename"] == "FirmConnection" and page["totalCount"] == 3
    assert page["pageInfo"]["hasNextPage"] is True and page["pageInfo"]["hasPreviousPage"] is False
    assert page["pageInfo"]["__typename"] == "PageInfo"
    assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
    assert page["pageInfo"]["endCursor"] == page["edges"][1]["cursor"]
    assert [e["node"]["name"] for e in page["edges"]] == ["无锡滨湖智造有限公司", "昆山芯微电子科技有限公司"]


@pytest.mark.parametrize("role", ["analyst", "investor"])
@pytest.mark.parametrize("case", sorted(ORDINARY))
def test_other_documents_take_the_executor(case, role, request, gql, monkeypatch, more_firms, fast_answers):
    query, variables = ORDINARY[case] if isinstance(ORDINARY[case], tuple) else (ORDINARY[case], {})
    status, body = both_ways(gql, monkeypatch, query, variables, request.getfixturevalue(role))
    if "investors may not" in case and role == "analyst":  # analysts may: the fast path answers
        assert len(fast_answers) == 1 and status == 200 and "errors" not in body
    else:
        assert fast_answers == [] and ("errors" in body or case in ("a computed list", "two root fields",
                                                                    "a root directive", "a fragment"))


def test_a_resolver_without_rows_is_not_run_twice(gql, monkeypatch, analyst, more_firms, django_assert_num_queries):
    """`timeline` has no row plan: the resolver raises NotFast before its page query, so the executor's run is
    the only one (the same query count as with the fast path off)."""
    query = "{ firms(first: 5) { edges { node { uscc timeline { kind } } } } }"
    gql.data(query, user=analyst)  # codes and session warm
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as served:
        gql.data(query, user=analyst)
    with monkeypatch.context() as m:
        m.setattr(views, "root_field", lambda document, operation: None)
        with CaptureQueriesContext(connection) as ordinary:
            gql.data(query, user=analyst)
    assert len(served) == len(ordinary)


def test_a_root_field_not_declared_is_never_resolved_on_the_fast_path(gql, analyst, more_firms, monkeypatch,
                                                                      fast_answers):
    """`firm` (the profile) returns an object, not rows: its resolver runs once, in the executor."""
    from api_graphql.registry.schema import RegistryQuery

    from api_graphql.schema import schema

    calls = []
    resolve = RegistryQuery.resolve_firm
    monkeypatch.setattr(schema.graphql_schema.query_type.fields["firm"], "resolve",
                        lambda root, info, **kw: calls.append(1) or resolve(root, info, **kw))
    data = gql.data("query($u: String!) { firm(uscc: $u) { uscc name timeline { kind } } }",
                    {"u": more_firms["ks"].uscc}, user=analyst)
    assert data["firm"]["uscc"] == more_firms["ks"].uscc and fast_answers == [] and len(calls) == 1


def test_token_requests_get_no_csrf_cookie_and_sessions_keep_it(gql, analyst, more_firms):
    from registry.models import ApiToken

    _, key = ApiToken.issue(analyst, name="cookie test")
    query = "{ firms(first: 1) { edges { node { uscc } } } }"
    token_response = gql.client.post("/graphql", data={"query": query}, content_type="application/json",
                                     HTTP_AUTHORIZATION=f"Token {key}")
    assert token_response.status_code == 200 and "csrftoken" not in token_response.cookies
    gql.client.force_login(analyst)
    session_response = gql.client.get("/graphql", {"query": query}, HTTP_ACCEPT="application/json")
    assert session_response.status_code == 200 and "csrftoken" in session_response.cookies
