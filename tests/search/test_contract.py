"""What every search backend must do, checked on the same 30 hand-written profiles.

The embedded backend always runs; Elasticsearch runs when ELASTICSEARCH_URL points at a cluster.
Expected values are hand-counted from tests/search/profiles.py (its docstring has the tallies).
"""

import os
import re
import uuid

import pytest

from search.backends.base import SearchError, SearchRequest
from search.backends.embedded import EmbeddedBackend
from tests.search.profiles import FIRM_1_DESCRIPTION, profiles

BROWSE_ORDER = [  # stage rank desc (unicorn first), then id
    19, 21,  # unicorn
    2, 5, 10, 15, 22, 25,  # srdi
    4, 11, 14, 20, 27,  # gazelle
    1, 6, 8, 13, 16, 18, 24, 26, 28, 30,  # hnte
    3, 7, 9, 12, 17, 23, 29,  # tech_sme
]


def _embedded(tmp_path):
    return EmbeddedBackend(tmp_path / "index")


def _elasticsearch(tmp_path):
    url = os.environ.get("ELASTICSEARCH_URL")
    if not url:
        pytest.skip("ELASTICSEARCH_URL is not set: no Elasticsearch cluster to run the contract against")
    from contextlib import nullcontext

    from search.backends.elasticsearch import ElasticsearchBackend

    return ElasticsearchBackend(url=url, prefix=f"cultivar-test-{uuid.uuid4().hex[:8]}", replicas=0,
                                lock=nullcontext)


FACTORIES = {"embedded": _embedded, "elasticsearch": _elasticsearch}


def _drop(backend):
    if backend.name == "elasticsearch":
        backend.client.indices.delete(index=f"{backend.read_alias}-v*", ignore_unavailable=True)


@pytest.fixture(scope="module", params=sorted(FACTORIES))
def loaded(request, tmp_path_factory):
    """A backend holding the 30 profiles, shared by the read-only tests of this module."""
    backend = FACTORIES[request.param](tmp_path_factory.mktemp(request.param))
    assert backend.rebuild(profiles(), chunk_size=7) == 30
    backend.refresh()
    yield backend
    _drop(backend)


@pytest.fixture(params=sorted(FACTORIES))
def empty(request, tmp_path):
    backend = FACTORIES[request.param](tmp_path)
    backend.rebuild([])
    yield backend
    _drop(backend)


def search(backend, **kwargs):
    return backend.search(SearchRequest(**kwargs))


def ids(result):
    return [hit.id for hit in result.hits]


# Finding firms -------------------------------------------------------------------------------

@pytest.mark.parametrize("low, high, expected", [
    (0, None, list(range(1, 31))), (5, 9, [5, 6, 7, 8, 9]), (29, 1000, [29, 30]), (31, None, []), (7, 7, [7]),
])
def test_ids_between_is_the_documents_ids_in_the_range_ascending(loaded, low, high, expected):
    assert loaded.ids_between(low, high) == expected


def test_ids_between_leaves_out_deleted_documents(empty):
    empty.index(profiles()[:5])
    empty.delete([2, 4])
    empty.refresh()
    assert empty.ids_between(0, None) == [1, 3, 5]


def test_exact_name_ranks_first_ahead_of_a_description_that_quotes_it(loaded):
    result = search(loaded, query="无锡芯动生物科技有限公司")
    assert ids(result) == [1, 14]  # firm 14's description names firm 1 in full


def test_fingerprint_match_finds_a_name_written_with_other_form_and_place(loaded):
    # 江苏 + 股份有限公司: not every bigram is in firm 1, but the fingerprint (芯动生物科技) is.
    result = search(loaded, query="江苏无锡芯动生物科技股份有限公司")
    assert ids(result) == [1]


def test_former_name_is_found(loaded):
    assert ids(search(loaded, query="无锡芯动科技有限公司")) == [1]


@pytest.mark.parametrize("query", ["LED显", "Micro LED 显", "显", "LED 显示"])
def test_an_isolated_character_matches_inside_a_word(loaded, query):
    # 显 with no Han neighbour in the query is in 显示模组 as part of 显示 (the display line's three firms)
    assert ids(search(loaded, query=query)) == [7, 25, 30]


@pytest.mark.parametrize("query", ["LED灯", "灯"])
def test_an_isolated_character_no_text_holds_matches_nothing(loaded, query):
    assert search(loaded, query=query).total == 0


@pytest.mark.parametrize("query, expected", [
    ("wxxd", [1]),  # initials of the full name
    ("WXXD", [1]),
    ("wuxixindong", [1]),  # full pinyin
    ("wuxi xindong", [1]),
    ("xdsw", [1]),  # initials of the fingerprint core 芯动生物
    ("xindong", [1, 16, 21]),  # cores 芯动生物科技 / 芯动半导体科技 (twice)
])
def test_pinyin_full_and_initials(loaded, query, expected):
    assert ids(search(loaded, query=query)) == expected


def test_product_words_across_whitespace(loaded):
    assert sorted(ids(search(loaded, query="碳化硅 功率器件"))) == [10, 16, 20, 21]


def test_product_and_place_may_match_in_different_fields(loaded):
    # 19 has 昆山 in its name; 29 (苏州清源) only in its region names.
    assert sorted(ids(search(loaded, query="合成生物 昆山"))) == [19, 29]


@pytest.mark.parametrize("query, expected", [
    ("91320211DL8P3MR19U", [1]),
    ("dl8p3m", [1]),
    ("91320211 DL8P", [1]),
    ("TAARB6", [11]),
])
def test_uscc_and_fragments(loaded, query, expected):
    assert ids(search(loaded, query=query)) == expected


def test_uscc_prefix_shared_by_a_city(loaded):
    result = search(loaded, query="913205", first=30)
    assert sorted(ids(result)) == [2, 4, 5, 6, 8, 9, 10, 11, 12, 17, 19, 22, 24, 27, 28, 29]


def test_uscc_fragment_shorter_than_six_is_not_a_code_search(loaded):
    assert search(loaded, query="DL8P3").total == 0


def test_text_relevance_prefers_the_name(loaded):
    result = search(loaded, query="芯动生物")
    assert ids(result) == [1, 14]


def test_the_description_decides_matches_but_does_not_rank(loaded):
    # Every synbio firm sells 合成生物学酶制剂; firms 1 and 14 also say 酶制剂 in their descriptions
    # (firm 14 quoting firm 1). Same products and technologies: the same score, ties by id.
    result = search(loaded, query="酶制剂")
    assert ids(result) == [1, 13, 14, 19, 29]
    assert len({hit.score for hit in result.hits}) == 1
    assert ids(search(loaded, query="联合实验室")) == [14]  # only in firm 14's description


# Filters -------------------------------------------------------------------------------------

@pytest.mark.parametrize("filters, total", [
    ({"stage": ["hnte"]}, 10),
    ({"stage": ["hnte", "srdi"]}, 16),
    ({"tier": ["srdi_sme"]}, 3),
    ({"tier": ["gazelle_municipal", "gazelle_provincial"]}, 5),
    ({"region": ["320200"]}, 12),  # a city matches its districts
    ({"region": ["320583"]}, 6),
    ({"region": ["320000"]}, 29),  # a province matches everything under it
    ({"region": ["330000"]}, 1),
    ({"chain": ["biomed"]}, 7),  # a chain matches firms tagged with it (and with its children)
    ({"chain": ["biomed.synbio"]}, 5),
    ({"stage": ["hnte"], "region": ["320200"]}, 4),
])
def test_filters(loaded, filters, total):
    assert search(loaded, first=0, **filters).total == total


def test_filters_apply_to_text_search(loaded):
    assert ids(search(loaded, query="合成生物", region="320200")) == [1, 14]


# Facets: multi-select and scope --------------------------------------------------------------

ALL_FACETS = ("stage", "tier", "region", "chain")


def test_facets_without_filters(loaded):
    result = search(loaded, first=0, facets=ALL_FACETS)
    assert result.total == 30
    assert result.facets["stage"] == [("hnte", 10), ("tech_sme", 7), ("srdi", 6), ("gazelle", 5), ("unicorn", 2)]
    assert result.facets["region"] == [("320500", 16), ("320200", 12), ("320400", 1), ("330100", 1)]
    assert result.facets["tier"][:3] == [("hnte", 10), ("tech_sme", 7), ("gazelle_municipal", 3)]
    assert result.facets["chain"][:4] == [("biomed", 7), ("semi", 7), ("biomed.synbio", 5), ("equip", 5)]


def test_selected_stage_still_counts_its_alternatives(loaded):
    result = search(loaded, stage="hnte", first=0, facets=ALL_FACETS)
    assert result.total == 10
    assert result.facets["stage"] == [("hnte", 10), ("tech_sme", 7), ("srdi", 6), ("gazelle", 5), ("unicorn", 2)]
    assert result.facets["tier"] == [("hnte", 10)]
    assert result.facets["region"] == [("320200", 4), ("320500", 4), ("320400", 1), ("330100", 1)]
    assert result.facets["chain"] == [
        ("biomed", 3), ("biomed.synbio", 2), ("equip", 2), ("equip.robot", 2), ("semi", 2),
        ("biomed.device", 1), ("energy", 1), ("newmat", 1), ("semi.display", 1), ("semi.power", 1),
        ("software", 1),
    ]


def test_two_selected_facets_each_ignore_only_themselves(loaded):
    result = search(loaded, stage="hnte", region="320200", first=0, facets=("stage", "region"))
    assert result.total == 4
    assert result.facets["stage"] == [("hnte", 4), ("tech_sme", 3), ("gazelle", 2), ("srdi", 2), ("unicorn", 1)]
    assert result.facets["region"] == [("320200", 4), ("320500", 4), ("320400", 1), ("330100", 1)]


def test_facets_of_a_text_search(loaded):
    result = search(loaded, query="碳化硅 功率器件", facets=("stage",))
    assert result.facets["stage"] == [("gazelle", 1), ("hnte", 1), ("srdi", 1), ("unicorn", 1)]


def test_facets_are_counted_only_when_asked_and_the_page_is_the_same(loaded):
    with_facets = search(loaded, query="芯动", first=5, facets=ALL_FACETS)
    without = search(loaded, query="芯动", first=5)
    assert without.facets == {} and set(with_facets.facets) == set(ALL_FACETS)
    assert without.total == with_facets.total > 0
    assert [(h.id, h.score) for h in without.hits] == [(h.id, h.score) for h in with_facets.hits]
    assert with_facets.facets["stage"] == search(loaded, query="芯动", first=0, facets=("stage",)).facets["stage"]


def test_region_scope_limits_hits_and_every_facet(loaded):
    result = search(loaded, allowed_region_codes=["320500"], first=30, facets=("stage", "region"))
    assert result.total == 16
    assert all(hit.id in {2, 4, 5, 6, 8, 9, 10, 11, 12, 17, 19, 22, 24, 27, 28, 29} for hit in result.hits)
    assert result.facets["region"] == [("320500", 16)]
    assert result.facets["stage"] == [("hnte", 4), ("srdi", 4), ("tech_sme", 4), ("gazelle", 3), ("unicorn", 1)]


def test_region_scope_holds_when_the_region_facet_ignores_its_own_filter(loaded):
    result = search(loaded, allowed_region_codes=["320500"], region="320200", facets=("region",))
    assert result.total == 0
    assert result.facets["region"] == [("320500", 16)]  # never the 12 firms of 无锡 outside the scope


@pytest.mark.parametrize("scope, query, total", [
    (["320200"], "合成生物", 2),
    (["320583"], "", 6),  # a district scope
    (["320583", "330106"], "", 7),
    ([], "", 0),  # an empty scope sees nothing
    (None, "", 30),  # None: no scope
])
def test_region_scope(loaded, scope, query, total):
    result = search(loaded, query=query, allowed_region_codes=scope, facets=("stage",))
    assert result.total == total
    assert sum(count for _, count in result.facets["stage"]) == total


# Highlights ----------------------------------------------------------------------------------

def test_highlights_wrap_matches_in_em(loaded):
    hit = search(loaded, query="芯动")
    first = hit.hits[0]
    assert first.id == 1
    assert first.highlights["name"] == ["无锡<em>芯动</em>生物科技有限公司"]
    fragments = first.highlights["description"]
    assert fragments and all("<em>芯动</em>" in f for f in fragments)
    assert all(re.sub("</?em>", "", f) in FIRM_1_DESCRIPTION for f in fragments)
    assert all(len(re.sub("</?em>", "", f)) < len(FIRM_1_DESCRIPTION) for f in fragments)  # not the whole text


def test_highlights_escape_html_in_the_text(loaded):
    hit = search(loaded, query="巨量转移").hits[0]
    (fragment,) = hit.highlights["technologies"]
    assert "<em>巨量转移</em>" in fragment
    assert "&lt;50μm" in fragment and "<50" not in fragment


def test_browsing_has_no_scores_or_highlights(loaded):
    hit = search(loaded).hits[0]
    assert hit.score is None and hit.highlights == {}


# Browsing and paging -------------------------------------------------------------------------

def test_empty_query_browses_by_stage_then_id(loaded):
    result = search(loaded, first=30)
    assert result.total == 30
    assert ids(result) == BROWSE_ORDER
    assert result.next_cursor is None


def _all_pages(backend, **kwargs):
    pages, after = [], None
    while True:
        result = backend.search(SearchRequest(after=after, **kwargs))
        pages.append(ids(result))
        after = result.next_cursor
        if after is None:
            return pages


def test_browse_pages_are_stable_and_complete(loaded):
    pages = _all_pages(loaded, first=7)
    assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
    assert sum(pages, []) == BROWSE_ORDER


def test_search_pages_match_the_single_page_order(loaded):
    whole = search(loaded, query="科技", first=100)
    assert whole.total >= 10
    pages = _all_pages(loaded, query="科技", first=3)
    assert sum(pages, []) == ids(whole)
    assert len(set(ids(whole))) == whole.total


def test_filtered_pages(loaded):
    pages = _all_pages(loaded, stage="hnte", first=4)
    assert sum(pages, []) == [1, 6, 8, 13, 16, 18, 24, 26, 28, 30]


# Bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["!!!", "   ", "（）【】", "*", "——"])
def test_punctuation_only_is_a_browse_not_an_error(loaded, query):
    result = search(loaded, query=query, first=5)
    assert result.total == 30 and ids(result) == BROWSE_ORDER[:5]


@pytest.mark.parametrize("query", ['"无锡芯动"', "芯动 (生物)", "芯动生物*", "(无锡芯动"])
def test_query_syntax_characters_are_text(loaded, query):
    assert ids(search(loaded, query=query))[0] == 1


@pytest.mark.parametrize("query", ["name:芯动", "芯动 AND 生物", "芯动 OR", "title:(x", "[1 TO 5]", "a~2^3"])
def test_engine_syntax_never_raises(loaded, query):
    result = search(loaded, query=query)
    assert result.total >= 0


def test_overlong_query_is_refused_with_the_limit(loaded):
    with pytest.raises(SearchError, match=r"query: at most 200 characters \(got 1000\)"):
        search(loaded, query="芯" * 1000)


@pytest.mark.parametrize("kwargs, name", [
    ({"stage": ["dragon"]}, "stage"),
    ({"tier": ["hnte", "gold"]}, "tier"),
    ({"region": ["32"]}, "region"),
    ({"chain": ["bio med!"]}, "chain"),
    ({"allowed_region_codes": ["suzhou"]}, "allowed_region_codes"),
    ({"first": 101}, "first"),
    ({"first": -1}, "first"),
    ({"facets": ["colour"]}, "facets"),
    ({"after": "not-a-cursor"}, "after"),
])
def test_bad_arguments_name_the_argument(loaded, kwargs, name):
    with pytest.raises(SearchError, match=rf"^{name}: "):
        search(loaded, **kwargs)


def test_cursor_of_another_search_is_refused(loaded):
    cursor = search(loaded, first=2).next_cursor
    with pytest.raises(SearchError, match="^after: .*different search"):
        search(loaded, stage="hnte", first=2, after=cursor)


# Suggest -------------------------------------------------------------------------------------

def test_suggest_completes_names_pinyin_and_respects_scope(loaded):
    assert loaded.suggest("无锡芯")[0].id == 1
    assert loaded.suggest("无锡芯")[0].name == "无锡芯动生物科技有限公司"
    assert [s.id for s in loaded.suggest("wxxd")] == [1]
    assert loaded.suggest("芯动", allowed_region_codes=["320500"]) == []
    assert loaded.suggest("！！") == []
    assert len(loaded.suggest("科技", limit=3)) == 3


# Writing -------------------------------------------------------------------------------------

def test_index_upserts_by_id_and_delete_removes(empty):
    firms = {firm["id"]: firm for firm in profiles()}
    assert empty.index([firms[1], firms[16]]) == 2
    empty.refresh()
    assert empty.count() == 2
    assert ids(search(empty, query="芯动")) == [1, 16]

    empty.index([dict(firms[16], name="江阴启明半导体科技有限公司")])
    empty.refresh()
    assert empty.count() == 2
    assert ids(search(empty, query="芯动")) == [1]
    assert ids(search(empty, query="启明")) == [16]

    assert empty.delete([1, 999]) == 2  # an unknown id is not an error
    empty.refresh()
    assert empty.count() == 1
    assert search(empty, query="芯动").total == 0


def test_rebuild_replaces_everything(empty):
    firms = profiles()
    empty.index(firms[:5])
    assert empty.rebuild(firms[10:13]) == 3
    empty.refresh()
    assert sorted(ids(search(empty))) == [11, 12, 13]
    empty.clear()
    empty.refresh()
    assert empty.count() == 0 and search(empty, query="芯动").total == 0
