"""The `search` query over POST /graphql: region scope on hits and facets, argument errors."""

import pytest

from search.backends import get_backend
from tests.api_graphql.conftest import make_user
from registry.models import Role
from registry.services import upsert_firm
from tests.factories import make_uscc

SEARCH = """
query($q: String!, $stage: [String!], $region: [String!], $first: Int, $after: String) {
  search(query: $q, stage: $stage, region: $region, first: $first, after: $after) {
    total
    hits { firm { name region { code } } score highlights { field fragments } }
    facets { field buckets { key label count } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@pytest.fixture
def indexed(settings, tmp_path, registry_data, django_capture_on_commit_callbacks):
    settings.SEARCH_BACKEND = "embedded"
    settings.SEARCH_EMBEDDED_PATH = tmp_path / "search"
    get_backend.cache_clear()
    with django_capture_on_commit_callbacks(execute=True):
        upsert_firm(make_uscc("320211", serial=900101), name="无锡芯微半导体有限公司", region="320211")
    from django.core.management import call_command

    call_command("search_reindex", stdout=open("/dev/null", "w"))
    yield registry_data
    get_backend.cache_clear()


def facet(body, name):
    (found,) = [f for f in body["search"]["facets"] if f["field"] == name]
    return {b["key"]: (b["label"], b["count"]) for b in found["buckets"]}


def test_officer_sees_only_kunshan_hits_and_counts(gql, indexed, officer, analyst):
    everyone = gql.data(SEARCH, {"q": "芯微"}, user=analyst)
    assert everyone["search"]["total"] == 2
    assert set(facet(everyone, "region")) == {"320500", "320200"}

    data = gql.data(SEARCH, {"q": "芯微"}, user=officer)
    result = data["search"]
    assert result["total"] == 1
    assert [h["firm"]["region"]["code"] for h in result["hits"]] == ["320583"]
    assert result["hits"][0]["firm"]["name"] == "昆山芯微电子科技有限公司"
    assert any("<em>" in f for h in result["hits"][0]["highlights"] for f in h["fragments"])
    assert set(facet(data, "region")) == {"320500"}
    assert sum(count for _, count in facet(data, "stage").values()) == 1
    from registry.models import Stage

    stage = indexed["ks"].__class__.objects.get(pk=indexed["ks"].pk).current_stage
    assert facet(data, "stage") == {stage.code: (Stage.objects.get(code=stage.code).name, 1)}
    assert result["pageInfo"] == {"hasNextPage": False, "endCursor": None}


def test_browse_paging(gql, indexed, analyst):
    first = gql.data(SEARCH, {"q": "", "first": 1}, user=analyst)["search"]
    assert first["total"] == 3 and first["pageInfo"]["hasNextPage"]
    second = gql.data(SEARCH, {"q": "", "first": 1, "after": first["pageInfo"]["endCursor"]}, user=analyst)
    assert second["search"]["hits"][0]["firm"]["name"] != first["hits"][0]["firm"]["name"]


def test_unknown_stage_is_a_clear_error(gql, indexed, analyst):
    status, body = gql(SEARCH, {"q": "芯微", "stage": ["no_such_stage"]}, user=analyst)
    assert status == 200 and body.get("data") is None or body["data"].get("search") is None
    message = body["errors"][0]["message"]
    assert "stage" in message and "no_such_stage" in message


def test_engine_down_gives_a_neutral_message(gql, indexed, analyst, monkeypatch):
    from search.backends.base import SearchUnavailable

    def down(request):
        raise SearchUnavailable()

    monkeypatch.setattr(get_backend(), "search", down)
    _, body = gql(SEARCH, {"q": "芯微"}, user=analyst)
    assert body["errors"][0]["message"] == "Search is temporarily unavailable; please try again later."


def test_anonymous_gets_no_data(gql, indexed):
    _, body = gql(SEARCH, {"q": "芯微"})
    assert body.get("errors")


def test_user_without_role_sees_nothing(gql, indexed, db):
    nobody = make_user("nobody", None)
    _, body = gql(SEARCH, {"q": "芯微"}, user=nobody)
    assert body.get("errors")


del Role


SUGGEST = """
query($prefix: String!, $first: Int) { searchSuggest(prefix: $prefix, first: $first) { name region { code } } }
"""


def test_suggest_completes_names_and_pinyin_within_scope(gql, indexed, officer, analyst):
    everyone = gql.data(SUGGEST, {"prefix": "无锡芯"}, user=analyst)["searchSuggest"]
    assert [f["name"] for f in everyone][0] == "无锡芯微半导体有限公司"
    assert [f["name"] for f in gql.data(SUGGEST, {"prefix": "wxxw"}, user=analyst)["searchSuggest"]] == [
        "无锡芯微半导体有限公司"]
    assert gql.data(SUGGEST, {"prefix": "wxxw"}, user=officer)["searchSuggest"] == []  # Kunshan only
    assert [f["region"]["code"] for f in gql.data(SUGGEST, {"prefix": "芯微"}, user=officer)["searchSuggest"]] == [
        "320583"]


def test_suggest_arguments_are_checked(gql, indexed, analyst):
    _, body = gql(SUGGEST, {"prefix": "芯", "first": 5000}, user=analyst)
    assert "first" in body["errors"][0]["message"]


def test_suggest_needs_a_role(gql, indexed):
    _, body = gql(SUGGEST, {"prefix": "芯"})
    assert body.get("errors") and not (body.get("data") or {}).get("searchSuggest")


def test_facets_are_counted_only_when_selected(gql, indexed, analyst, monkeypatch):
    asked = []
    backend = get_backend()
    original = backend.search
    monkeypatch.setattr(backend, "search", lambda request: asked.append(request.facets) or original(request))
    hits_only = gql.data("query($q: String!) { search(query: $q) { total hits { firm { name } } } }",
                         {"q": "芯微"}, user=analyst)
    assert hits_only["search"]["total"] == 2
    with_facets = gql.data(SEARCH, {"q": "芯微"}, user=analyst)
    assert set(facet(with_facets, "region")) == {"320500", "320200"}
    through_fragment = gql.data("query($q: String!) { search(query: $q) { ...F } } "
                                "fragment F on SearchResults { facets { field } }", {"q": "芯微"}, user=analyst)
    assert {f["field"] for f in through_fragment["search"]["facets"]} == {"stage", "tier", "region", "chain"}
    assert asked == [(), ("stage", "tier", "region", "chain"), ("stage", "tier", "region", "chain")]
