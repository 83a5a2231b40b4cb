"""The parsed-document cache (api_graphql/views.py): keyed by the document's text, so filters with new
values re-use the parse and validation; limits that read variables (page sizes) and the caller's
scope and field rules still decide per request."""

import pytest

from api_graphql import views
from tests.api_graphql.conftest import BH_USCC, KS_USCC

FIRMS = """query($region: String, $first: Int, $rd: Decimal) {
  firms(first: $first, region: $region, rdIntensityMin: $rd) { edges { node { uscc } } } }"""


@pytest.fixture(autouse=True)
def empty_cache():
    views._documents.clear()
    yield
    views._documents.clear()


@pytest.fixture
def parses(monkeypatch):
    """Counts parses and standard validations."""
    counts = {"parse": 0, "validate": 0}
    parse, validate = views.parse_limited, views.validate

    def counting_parse(query):
        counts["parse"] += 1
        return parse(query)

    def counting_validate(*args, **kwargs):
        counts["validate"] += 1
        return validate(*args, **kwargs)

    monkeypatch.setattr(views, "parse_limited", counting_parse)
    monkeypatch.setattr(views, "validate", counting_validate)
    return counts


def usccs(data):
    return sorted(e["node"]["uscc"] for e in data["firms"]["edges"])


def test_new_filter_values_reuse_the_parsed_and_validated_document(gql, analyst, registry_data, parses):
    assert usccs(gql.data(FIRMS, {"region": "320583"}, user=analyst)) == [KS_USCC]
    assert usccs(gql.data(FIRMS, {"region": "320211"}, user=analyst)) == [BH_USCC]
    assert usccs(gql.data(FIRMS, {"region": "320000", "rd": "0.01"}, user=analyst)) == sorted([KS_USCC, BH_USCC])
    assert parses == {"parse": 1, "validate": 1}


def test_page_size_variables_are_checked_for_each_value(gql, analyst, registry_data, parses, settings):
    settings.GRAPHQL_MAX_PAGE_SIZE = 10
    assert usccs(gql.data(FIRMS, {"first": 10}, user=analyst)) == sorted([KS_USCC, BH_USCC])
    status, body = gql(FIRMS, {"first": 11}, user=analyst)
    assert status == 400 and body["errors"][0]["message"] == \
        "'first' 11 on 'firms' exceeds the limit of 10 (GRAPHQL_MAX_PAGE_SIZE)."
    assert usccs(gql.data(FIRMS, {"first": 1}, user=analyst)) == [KS_USCC]
    assert parses["parse"] == 1


def test_the_cost_limit_follows_the_page_size_variable(gql, analyst, registry_data, settings):
    query = "query($first: Int) { firms(first: $first) { edges { node { uscc certifications { status } } } } }"
    assert gql.data(query, {"first": 2}, user=analyst)
    settings.GRAPHQL_MAX_COST = 40  # page of 2 costs far less; a page of 20 more than 40
    assert gql.data(query, {"first": 2}, user=analyst)
    status, body = gql(query, {"first": 20}, user=analyst)
    assert status == 400 and "(GRAPHQL_MAX_COST)" in body["errors"][0]["message"]


def test_an_officer_keeps_their_scope_whatever_the_cached_document(gql, officer, registry_data, parses):
    assert usccs(gql.data(FIRMS, {"region": "320583"}, user=officer)) == [KS_USCC]
    assert usccs(gql.data(FIRMS, {"region": "320211"}, user=officer)) == []  # 无锡 is outside 昆山's scope
    assert usccs(gql.data(FIRMS, {}, user=officer)) == [KS_USCC]
    assert parses["parse"] == 1


def test_an_investor_is_refused_a_restricted_argument_once_it_has_a_value(gql, investor, registry_data, parses):
    assert usccs(gql.data(FIRMS, {"region": "320000"}, user=investor)) == sorted([KS_USCC, BH_USCC])
    status, body = gql(FIRMS, {"region": "320000", "rd": "0.01"}, user=investor)
    assert body["data"]["firms"] is None
    assert body["errors"][0]["message"] == "Argument 'rdIntensityMin' of firms is not available to the investor role."
    assert parses["parse"] == 1
