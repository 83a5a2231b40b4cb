"""The firms page completed from `values()` rows (core/rows.py) answers exactly what the ordinary path does.

Each query runs twice through the endpoint: as served, and with the row path switched off; the JSON
bodies (data and errors) must be identical, and the row path must have been taken only when the
selection is plain columns that the caller's role may read.
"""

import re

import pytest

from api_graphql.core import rows as rows_module
from api_graphql.registry import schema as registry_schema
from tests.factories import make_uscc

PLAIN = {
    "the benchmark's": """{ firms(first: 10) { edges { node { uscc name foundedOn currentStage { code }
        region { code } latestIndicators { year rdIntensity } } } } }""",
    "aliases, __typename, nulls, joined columns": """{ firms(first: 10, orderBy: NAME) { totalCount
        pageInfo { hasNextPage endCursor } __typename edges { __typename node { __typename n: name
        registeredCapital listingStatus industryCode updatedAt currentTier { code name rank __typename }
        region { name level } currentStage { nameEn } latestIndicators { year employees valuationUsd } } } } }""",
    "filters and paging after a cursor": """{ firms(first: 1, after: "%(after)s", orderBy: FOUNDED_ON_DESC,
        region: "320000") { pageInfo { hasNextPage endCursor } edges { node { uscc foundedOn } } } }""",
    "an indicator column investors may not read": """{ firms { edges { node { uscc latestIndicators {
        year revenue } } } } }""",
    "global ids and cursors, by name": """{ firms(first: 2, orderBy: NAME) { pageInfo { hasNextPage endCursor }
        edges { cursor node { id uscc currentTier { code } } } } }""",
    "global ids and cursors after a cursor": """{ firms(first: 1, after: "%(after)s", orderBy: FOUNDED_ON_DESC,
        region: "320000") { edges { c: cursor node { id name } } } }""",
    "a region's parent (a relation of a relation)": """{ firms { edges { node { uscc region { code name level
        parent { code name parent { code } } } } } } }""",
    "recognitions with their tier, stage and status": """{ firms(orderBy: NAME) { edges { node { uscc
        certifications { id __typename tier { code name stage { code } } stage { code region { code } } issuedOn
        validUntil status certificateNo batch level } } } } }""",
    "indicator years (an empty list too)": """{ firms(region: "320000") { edges { node { name
        indicators { year employees inventionPatents } latestIndicators { year } } } } }""",
    "indicator years with a figure investors may not read": """{ firms { edges { node { name
        indicators { year revenue } } } } }""",
}
NOT_PLAIN = {
    "global id and a to-many relation without a row plan": "{ firms { edges { node { id uscc chains { code } } } } }",
    "a list under a to-one relation": "{ firms { edges { node { uscc currentStage { code tiers { code } } } } } }",
    "a computed list": "{ firms { edges { node { uscc timeline { kind date } } } } }",
    "a relation not planned from rows": "{ firms { edges { node { certifications { firm { uscc } } } } } }",
    "fragment": "{ firms { edges { node { ...F } } } } fragment F on FirmType { uscc name }",
    "directive": "{ firms { edges { node { uscc name @include(if: false) } } } }",
    "edges twice": "{ firms { a: edges { node { uscc } } b: edges { node { name } } } }",
    "node twice": "{ firms { edges { a: node { uscc } b: node { name } } } }",
}


@pytest.fixture
def row_path_spy(monkeypatch):
    """Counts the edges the row path completed."""
    calls = []
    edge = rows_module.RowPage.edge
    monkeypatch.setattr(rows_module.RowPage, "edge", lambda self, row, *rest: calls.append(1) or edge(self, row, *rest))
    return calls


def both_ways(gql, monkeypatch, query, user):
    status, served = gql(query, user=user)
    with monkeypatch.context() as m:
        m.setattr(registry_schema, "row_page", lambda *args, **kwargs: None)
        ordinary_status, ordinary = gql(query, user=user)
    assert (status, served) == (ordinary_status, ordinary)
    return served


def after_cursor(gql, user):
    data = gql.data('{ firms(first: 1, orderBy: FOUNDED_ON_DESC, region: "320000") { pageInfo { endCursor } } }',
                    user=user)
    return data["firms"]["pageInfo"]["endCursor"]


@pytest.mark.parametrize("role", ["analyst", "city_officer", "investor"])
@pytest.mark.parametrize("case", sorted(PLAIN))
def test_plain_selections_answer_the_same_from_rows(case, role, request, gql, monkeypatch, more_firms, row_path_spy):
    user = request.getfixturevalue(role)
    query = PLAIN[case] % {"after": after_cursor(gql, user)} if "%(after)s" in PLAIN[case] else PLAIN[case]
    body = both_ways(gql, monkeypatch, query, user)
    edges = body["data"]["firms"]["edges"]
    refused = [f for f in ("revenue", "rdIntensity") if re.search(rf"\b{f}\b", query)] if role == "investor" else []
    assert edges and (len(row_path_spy) == 0 if refused else len(row_path_spy) == len(edges))
    if refused:  # field scope holds: the field is null with an error, on the ordinary path
        assert body["errors"][0]["message"] == \
            f"Field '{refused[0]}' of IndicatorYearType is not available to the investor role."
        assert all(all(year[refused[0]] is None for year in e["node"]["indicators"]) if "indicators" in e["node"]
                   else e["node"]["latestIndicators"] is None or e["node"]["latestIndicators"][refused[0]] is None
                   for e in edges)


def test_row_page_values_hand_checked(gql, analyst, more_firms):
    body = gql.data(PLAIN["aliases, __typename, nulls, joined columns"], user=analyst)
    nodes = [e["node"] for e in body["firms"]["edges"]]
    assert [n["n"] for n in nodes] == ["无锡滨湖智造有限公司", "昆山芯微电子科技有限公司", "苏州无级企业"]
    assert body["firms"]["__typename"] == "FirmConnection" and body["firms"]["edges"][0]["__typename"] == "FirmEdge"
    ks = nodes[1]
    assert ks["__typename"] == "FirmType" and ks["registeredCapital"] == "500.00"
    assert ks["currentStage"] == {"nameEn": "Specialised, refined, distinctive, innovative (SRDI)"}  # srdi_sme outranks hnte
    assert ks["latestIndicators"] == {"year": 2025, "employees": 150, "valuationUsd": "50000000"}
    assert ks["region"]["level"] == "district"
    assert nodes[2]["currentTier"] is None and nodes[2]["latestIndicators"] is None and nodes[2]["currentStage"] is None


@pytest.mark.parametrize("case", sorted(NOT_PLAIN))
def test_other_selections_take_the_ordinary_path(case, gql, monkeypatch, analyst, more_firms, row_path_spy):
    both_ways(gql, monkeypatch, NOT_PLAIN[case], analyst)
    assert row_path_spy == []


def test_row_page_ids_cursors_and_lists_hand_checked(gql, city_officer, more_firms, row_path_spy):
    """The officer of 苏州 sees only 苏州's firms; ids, cursors and lists are the firm's own, from rows."""
    from graphql_relay import from_global_id

    from api_graphql.core.pagination import decode_cursor

    body = gql.data("""{ firms(first: 1, orderBy: NAME) { edges { cursor node { id uscc
        region { name parent { code name } } certifications { tier { code } status certificateNo }
        indicators { year employees } } } } }""", user=city_officer)
    (edge,) = body["firms"]["edges"]
    ks = more_firms["ks"]
    ks.refresh_from_db()
    assert len(row_path_spy) == 1
    assert from_global_id(edge["node"]["id"]) == ("FirmType", str(ks.id))
    assert decode_cursor("firmsname_normalized", edge["cursor"]) == (ks.name_normalized, ks.id)
    assert edge["node"]["region"] == {"name": "昆山市", "parent": {"code": "320500", "name": "苏州市"}}
    assert edge["node"]["certifications"] == [
        {"tier": {"code": "srdi_sme"}, "status": "ACTIVE", "certificateNo": "ZJTX2024-0001"},
        {"tier": {"code": "hnte"}, "status": "ACTIVE", "certificateNo": "GR202532001234"},
    ]
    assert edge["node"]["indicators"] == [{"year": 2024, "employees": 120}, {"year": 2025, "employees": 150}]
    # The next page is the other 苏州 firm; 无锡's firm never appears.
    after = gql.data('query($a: String) { firms(first: 5, orderBy: NAME, after: $a) { edges { node { uscc } } } }',
                     {"a": edge["cursor"]}, user=city_officer)
    assert [e["node"]["uscc"] for e in after["firms"]["edges"]] == [make_uscc("320505", serial=900003)]
