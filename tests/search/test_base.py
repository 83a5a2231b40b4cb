"""The shared request rules: coercion, vocabulary, cursors and the 10,000-hit window."""

import pytest

from search.backends.base import (
    MAX_RESULT_WINDOW,
    Cursor,
    SearchError,
    SearchRequest,
    Vocabulary,
    decode_cursor,
    encode_cursor,
    next_cursor,
    page_size,
    sorted_buckets,
)


def test_codes_are_tuples_without_duplicates():
    request = SearchRequest(stage="hnte", tier=["srdi_sme", "srdi_sme"], region=None, facets=["stage"])
    assert (request.stage, request.tier, request.region, request.facets) == (("hnte",), ("srdi_sme",), (), ("stage",))
    assert request.filters == {"stage": ("hnte",), "tier": ("srdi_sme",)}


def test_a_regional_vocabulary_accepts_its_own_rung():
    request = SearchRequest(stage="eaglet")
    with pytest.raises(SearchError, match="^stage: unknown code 'eaglet'"):
        request.validate(Vocabulary())
    request.validate(Vocabulary(stage=frozenset({"tech_sme", "eaglet"})))


def test_region_and_chain_codes_are_checked_for_form_by_default_and_against_a_list_when_given():
    SearchRequest(region="320583", chain="biomed.synbio").validate(Vocabulary())
    with pytest.raises(SearchError, match="^region: unknown code '320999'"):
        SearchRequest(region="320999").validate(Vocabulary(region=frozenset({"320583"})))


def test_cursor_round_trip_and_binding():
    request = SearchRequest(query="芯动", stage="hnte", first=5)
    token = encode_cursor(request, 5, [3.25, 16])
    assert decode_cursor(SearchRequest(query=" 芯动 ", stage="hnte", first=10, after=token)) == Cursor(5, (3.25, 16))
    for other in (SearchRequest(query="芯动", after=token),
                  SearchRequest(query="芯动", stage="hnte", allowed_region_codes=["320500"], after=token)):
        with pytest.raises(SearchError, match="different search"):
            decode_cursor(other)
    with pytest.raises(SearchError, match="^after: not a cursor"):
        decode_cursor(SearchRequest(after=token[:-3] + "xyz"))


def test_paging_stops_at_the_result_window():
    request = SearchRequest(first=20)
    near_end = Cursor(MAX_RESULT_WINDOW - 5, (1, 1))
    assert page_size(request, near_end) == 5
    assert next_cursor(request, near_end, total=50_000, served=5, last_sort=[1, 2]) is None
    assert next_cursor(request, None, total=50_000, served=20, last_sort=[1, 2]) is not None
    assert next_cursor(request, None, total=20, served=20, last_sort=[1, 2]) is None
    beyond = encode_cursor(request, MAX_RESULT_WINDOW + 1, [1, 1])
    with pytest.raises(SearchError, match="^after: "):
        decode_cursor(SearchRequest(first=20, after=beyond))


def test_buckets_sort_by_count_then_code_and_drop_zeroes():
    assert sorted_buckets({"b": 2, "a": 2, "c": 5, "d": 0}, 10) == [("c", 5), ("a", 2), ("b", 2)]
    assert sorted_buckets({"b": 2, "a": 2, "c": 5}, 2) == [("c", 5), ("a", 2)]
