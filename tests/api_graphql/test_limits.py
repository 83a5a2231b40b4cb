"""Depth, alias, page-size and cost limits: refused with a message naming the limit and setting."""

from graphql import get_introspection_query

from tests.factories import FirmFactory


def error_of(gql, user, query, variables=None):
    status, body = gql(query, variables, user=user)
    assert "errors" in body, body
    return status, body["errors"][0]["message"], body.get("data")


def test_depth_limit(gql, analyst, settings, db):
    settings.GRAPHQL_MAX_DEPTH = 5
    ok = "{ firms { edges { node { region { code } } } } }"  # depth 5
    assert gql.data(ok, user=analyst)
    deep = "{ firms { edges { node { region { parent { code } } } } } }"  # depth 6
    status, message, data = error_of(gql, analyst, deep)
    assert status == 400 and data is None
    assert message == "Query depth 6 exceeds the limit of 5 (GRAPHQL_MAX_DEPTH)."


def test_depth_counts_fragments(gql, analyst, settings, db):
    settings.GRAPHQL_MAX_DEPTH = 5
    query = """{ firms { edges { node { ...F } } } } fragment F on FirmType { region { parent { parent { code } } } }"""
    assert "Query depth 7 exceeds" in error_of(gql, analyst, query)[1]


def test_alias_limit(gql, analyst, settings, db):
    settings.GRAPHQL_MAX_ALIASES = 3
    assert gql.data("{ a: ladder { code } b: ladder { code } c: ladder { code } }", user=analyst)
    status, message, _ = error_of(gql, analyst, "{ a: ladder { code } b: ladder { code } c: ladder { code } "
                                               "d: ladder { code } }")
    assert status == 400 and message == "Query uses 4 aliases, more than the limit of 3 (GRAPHQL_MAX_ALIASES)."


def test_page_size_refused_not_cut_literal_and_variable(gql, analyst, settings, db):
    settings.GRAPHQL_MAX_PAGE_SIZE = 50
    status, message, _ = error_of(gql, analyst, "{ firms(first: 51) { totalCount } }")
    assert status == 400 and message == "'first' 51 on 'firms' exceeds the limit of 50 (GRAPHQL_MAX_PAGE_SIZE)."
    status, message, _ = error_of(gql, analyst, "query($n: Int) { firms(first: $n) { totalCount } }", {"n": 500})
    assert message == "'first' 500 on 'firms' exceeds the limit of 50 (GRAPHQL_MAX_PAGE_SIZE)."
    status, message, _ = error_of(gql, analyst, '{ expiringCertificates(before: "2030-01-01", first: 51) { id } }')
    assert "exceeds the limit of 50 (GRAPHQL_MAX_PAGE_SIZE)" in message
    assert gql.data("{ firms(first: 50) { totalCount } }", user=analyst)


def test_missing_first_defaults_to_20(gql, analyst, db):
    FirmFactory.create_batch(25)
    data = gql.data("{ firms { totalCount edges { cursor } pageInfo { hasNextPage } } }", user=analyst)["firms"]
    assert data["totalCount"] == 25 and len(data["edges"]) == 20 and data["pageInfo"]["hasNextPage"]


def test_cost_limit(gql, analyst, settings, db):
    settings.GRAPHQL_MAX_COST = 1000
    cheap = "{ firms(first: 10) { edges { node { uscc name } } } }"
    assert gql.data(cheap, user=analyst)
    costly = "{ firms(first: 100) { edges { node { uscc name certifications { tier { code } } } } } }"
    status, message, _ = error_of(gql, analyst, costly)
    # firms 1 + edges 100 + node 100 + uscc/name 200 + certifications 100 + tier 500 (5 per firm) + code 500
    assert status == 400 and message == "Query cost 1501 exceeds the limit of 1000 (GRAPHQL_MAX_COST)."


def test_standard_introspection_query_passes_the_limits(gql, analyst, settings, db):
    settings.GRAPHQL_MAX_DEPTH = 3
    settings.GRAPHQL_MAX_ALIASES = 0
    data = gql.data(get_introspection_query(descriptions=True), user=analyst)
    names = {t["name"] for t in data["__schema"]["types"]}
    assert {"FirmType", "CertificationType", "Query", "Mutation"} <= names
