"""What is particular to the tantivy backend: persistence, write locking, ties in paging."""

import platform
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from search.backends.base import SearchError, SearchRequest, Vocabulary
from search.backends.embedded import SCHEMA_VERSION, EmbeddedBackend
from tests.search.profiles import profiles


def firm(firm_id, name="测试科技有限公司", **extra):
    return {"id": firm_id, "name": name, "stage": "hnte", "tier": "hnte", "region_code": "320583",
            "region_path": ["320000", "320500", "320583"], **extra}


def test_index_lives_in_a_schema_versioned_directory_and_survives_reopening(tmp_path):
    EmbeddedBackend(tmp_path).rebuild(profiles())
    assert (tmp_path / f"firms-v{SCHEMA_VERSION}").is_dir()
    reopened = EmbeddedBackend(tmp_path)
    assert reopened.count() == 30
    assert [h.id for h in reopened.search(SearchRequest(query="wxxd")).hits] == [1]


def test_a_second_instance_sees_commits_of_the_first(tmp_path):
    reader, writer = EmbeddedBackend(tmp_path), EmbeddedBackend(tmp_path)
    writer.index([firm(1)])
    assert reader.count() == 1


def test_concurrent_writers_wait_for_each_other(tmp_path):
    backend = EmbeddedBackend(tmp_path)
    errors = []

    def write(start):
        try:
            for firm_id in range(start, start + 5):
                EmbeddedBackend(tmp_path).index([firm(firm_id)])
        except Exception as error:  # tantivy's LockBusy would land here without our lock
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n * 100,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert backend.count() == 20


def test_writes_take_the_injected_lock(tmp_path):
    events = []

    class Lock:
        def __enter__(self):
            events.append("enter")

        def __exit__(self, *exc):
            events.append("exit")

    backend = EmbeddedBackend(tmp_path, lock=Lock)
    backend.index([firm(1)])
    backend.delete([1])
    assert events == ["enter", "exit", "enter", "exit"]


def test_a_bad_document_writes_nothing(tmp_path):
    backend = EmbeddedBackend(tmp_path)
    with pytest.raises(ValueError, match="name is required"):
        backend.index([firm(1), firm(2, name="")])
    with pytest.raises(ValueError, match="revenue must be a number"):
        backend.index([firm(3, revenue="很多")])
    assert backend.count() == 0


def test_pages_stay_complete_when_every_score_ties(tmp_path):
    backend = EmbeddedBackend(tmp_path)
    backend.rebuild(firm(firm_id) for firm_id in range(1, 151))
    seen, after = [], None
    while True:
        result = backend.search(SearchRequest(query="测试", first=50, after=after))
        assert len({hit.score for hit in result.hits}) == 1
        seen += [hit.id for hit in result.hits]
        after = result.next_cursor
        if after is None:
            break
    assert seen == list(range(1, 151))


def test_pages_walk_a_tie_group_that_is_interleaved_with_better_hits(tmp_path):
    # Every third firm says 测试 in its technologies too (a higher score); the rest tie. Pages must serve the better
    # group by id, then the tie group by id, skipping the better firms while walking it by id.
    backend = EmbeddedBackend(tmp_path)
    better = [firm_id for firm_id in range(1, 601) if firm_id % 3 == 0]
    backend.rebuild(firm(firm_id, technologies="测试" if firm_id in better else "") for firm_id in range(1, 601))
    expected = better + [firm_id for firm_id in range(1, 601) if firm_id % 3]
    seen, after = [], None
    while True:
        result = backend.search(SearchRequest(query="测试", first=70, after=after))
        assert result.total == 600
        seen += [hit.id for hit in result.hits]
        after = result.next_cursor
        if after is None:
            break
    assert seen == expected
    scores = [hit.score for hit in backend.search(SearchRequest(query="测试", first=100)).hits]
    assert len(set(scores[:100])) == 1 and scores[0] > backend.search(
        SearchRequest(query="测试", first=1, after=_cursor_at(backend, 200))).hits[0].score


def _cursor_at(backend, position):
    after = None
    while position:
        step = min(position, 100)
        after = backend.search(SearchRequest(query="测试", first=step, after=after)).next_cursor
        position -= step
    return after


def test_search_after_does_not_repeat_hits_when_documents_arrive_between_pages(tmp_path):
    backend = EmbeddedBackend(tmp_path)
    backend.rebuild(firm(firm_id) for firm_id in range(10, 20))
    first = backend.search(SearchRequest(first=4))
    assert [h.id for h in first.hits] == [10, 11, 12, 13]
    backend.index([firm(1)])  # sorts before the cursor
    second = backend.search(SearchRequest(first=4, after=first.next_cursor))
    assert [h.id for h in second.hits] == [14, 15, 16, 17]


def test_the_vocabulary_may_come_from_a_callable(tmp_path):
    backend = EmbeddedBackend(tmp_path, vocabulary=lambda: Vocabulary(stage=frozenset({"tech_sme", "eaglet"})))
    backend.index([firm(1, stage="eaglet")])
    assert [h.id for h in backend.search(SearchRequest(stage="eaglet")).hits] == [1]
    with pytest.raises(SearchError, match="^stage: unknown code 'hnte'"):
        backend.search(SearchRequest(stage="hnte"))


def test_a_rebuild_with_worker_processes_builds_the_same_index(tmp_path):
    serial, parallel = EmbeddedBackend(tmp_path / "serial"), EmbeddedBackend(tmp_path / "parallel")
    assert serial.rebuild(profiles()) == parallel.rebuild(profiles(), chunk_size=7, workers=2) == 30
    for query in ("", "wxxd", "合成生物 昆山", "碳化硅 功率器件", "91320211DL"):
        request = SearchRequest(query=query, first=30, facets=("stage", "tier", "region", "chain"))
        assert parallel.search(request) == serial.search(request)


def test_worker_processes_give_every_document_in_order_across_many_batches(monkeypatch):
    """Several batches are in the workers at once (embedded._pipelined): what comes back is still
    each document's fields once, in the order the documents were read."""
    from search.backends import embedded

    monkeypatch.setattr(embedded, "PIPELINE_BATCH", 1)  # batches of 64 * workers = 128 documents
    docs = [firm(firm_id, name=f"测试{firm_id}科技有限公司", main_products="碳化硅 功率器件")
            for firm_id in range(1, 701)]  # 6 batches: more than BATCHES_AHEAD + 1 in flight
    with embedded.prepared_documents(iter(docs), chunk_size=5, workers=2) as prepared:
        assert list(prepared) == [embedded.document_fields(doc) for doc in docs]


def test_repeated_texts_are_tokenised_as_any_text_is():
    """Region names, products and technologies go through a per-process cache of their tokens."""
    from search.backends.embedded import REPEATED_TEXT_FIELDS, _repeated_tokens, _tokens, document_fields

    assert "description" not in REPEATED_TEXT_FIELDS and "name" not in REPEATED_TEXT_FIELDS
    doc = firm(1, main_products="ＬＥＤ显示模组、5G通信", technologies="碳化硅", region_names=["江苏省", "苏州市"])
    for _ in range(2):  # the second time from the cache
        texts = document_fields(doc)[3]
        assert ("t_main_products", "led 显示 示模 模组 5g 通信") in texts
        assert ("t_technologies", "碳化 化硅") in texts
        assert [t for t in texts if t[0] == "t_region_names"] == [("t_region_names", "江苏 苏省"),
                                                                   ("t_region_names", "苏州 州市")]
    assert _repeated_tokens("碳化硅") == _tokens("碳化硅") and _repeated_tokens.cache_info().hits >= 4


def test_the_token_cache_holds_only_texts_that_repeat_and_is_bounded():
    """Former names are nearly all distinct: caching them grew a build's memory with the registry."""
    from search.backends import embedded

    assert "former_names" not in embedded.REPEATED_TEXT_FIELDS
    assert embedded._repeated_tokens.cache_info().maxsize == embedded.TOKEN_CACHE_SIZE <= 16_384
    embedded._repeated_tokens.cache_clear()
    for firm_id in range(1, 41):
        embedded.document_fields(firm(firm_id, former_names=[f"旧名{firm_id}有限公司"], main_products="碳化硅",
                                      technologies="外延", region_names=["江苏省"]))
    assert embedded._repeated_tokens.cache_info().currsize == 3  # 碳化硅, 外延, 江苏省: no former name


def test_a_bad_document_in_a_worker_process_writes_nothing(tmp_path):
    backend = EmbeddedBackend(tmp_path)
    backend.rebuild([firm(1)])
    with pytest.raises(ValueError, match="name is required"):
        backend.rebuild([firm(2), firm(3, name="")], workers=2)
    assert [h.id for h in backend.search(SearchRequest()).hits] == [1]


FACETS = ("stage", "tier", "region", "chain")


def test_a_repeated_search_is_answered_from_the_cache_until_the_index_changes(tmp_path):
    backend = EmbeddedBackend(tmp_path)
    backend.rebuild(firm(firm_id, name=f"测试{firm_id}科技有限公司") for firm_id in range(1, 6))
    request = SearchRequest(query="测试", facets=FACETS)
    first = backend.search(request)
    assert backend.search(SearchRequest(query=" 测试 ", facets=FACETS)) is first  # same normalised search
    assert first.total == 5
    backend.index([firm(6, name="测试六科技有限公司", stage="srdi")])  # a commit in this process
    after_write = backend.search(request)
    assert after_write.total == 6 and dict(after_write.facets["stage"])["srdi"] == 1
    EmbeddedBackend(tmp_path).delete([1, 2])  # a commit by another instance (another process)
    after_delete = backend.search(request)
    assert after_delete.total == 4 and 1 not in {hit.id for hit in after_delete.hits}


def test_later_pages_reuse_the_facets_but_rank_their_own_hits(tmp_path, monkeypatch):
    backend = EmbeddedBackend(tmp_path)
    backend.rebuild(firm(firm_id) for firm_id in range(1, 31))
    counted = []
    original = EmbeddedBackend._facets
    monkeypatch.setattr(EmbeddedBackend, "_facets", lambda self, *args: counted.append(1) or original(self, *args))
    first = backend.search(SearchRequest(query="测试", first=10, facets=FACETS))
    second = backend.search(SearchRequest(query="测试", first=10, facets=FACETS, after=first.next_cursor))
    assert len(counted) == 1
    assert second.facets == first.facets and second.total == 30
    assert [hit.id for hit in second.hits] == list(range(11, 21))
    backend.search(SearchRequest(query="测试", first=10, facets=("stage",)))  # other facets: counted anew
    assert len(counted) == 2


def test_the_cache_holds_a_bounded_number_of_answers(tmp_path):
    backend = EmbeddedBackend(tmp_path)
    backend.rebuild([firm(1)])
    backend.results.size = 4
    for query in ("测试", "科技", "有限", "公司", "测试科技"):
        backend.search(SearchRequest(query=query))
    assert len(backend.results) == 4


def test_an_answer_computed_on_an_older_searcher_is_not_served_after_a_newer_one(tmp_path, monkeypatch):
    backend = EmbeddedBackend(tmp_path)
    backend.rebuild([firm(1)])
    original = EmbeddedBackend._facets

    def racing(self, *args):
        # Another thread, while this search runs: a commit lands and it loads the newer searcher.
        monkeypatch.setattr(EmbeddedBackend, "_facets", original)
        EmbeddedBackend(tmp_path).index([firm(2)])
        self._current()
        return original(self, *args)

    monkeypatch.setattr(EmbeddedBackend, "_facets", racing)
    assert backend.search(SearchRequest(query="测试")).total == 1  # ranked on the older searcher
    assert backend.search(SearchRequest(query="测试")).total == 2


def test_a_tie_group_beyond_the_first_id_window_is_still_found(tmp_path):
    # 200 better firms hold the low ids; the tie group starts at id 100,000, past the id range the
    # first window of the walk looks at (about twice a window's worth of matches at their density),
    # which therefore ends short of a window and the walk goes on past it.
    backend = EmbeddedBackend(tmp_path)
    better = list(range(1, 201))
    tied = list(range(100_000, 100_060))
    backend.rebuild([firm(firm_id, technologies="测试") for firm_id in better] + [firm(firm_id) for firm_id in tied])
    seen, after = [], None
    while True:
        result = backend.search(SearchRequest(query="测试", first=50, after=after))
        assert result.total == 260
        seen += [hit.id for hit in result.hits]
        after = result.next_cursor
        if after is None:
            break
    assert seen == better + tied


@pytest.mark.parametrize("facets", [(), ("stage",), ("stage", "tier"), ("stage", "tier", "region", "chain")])
def test_the_total_is_the_same_whoever_counts_it(tmp_path, facets):
    # The facet pass counts the total when one of its groups applies every filter; otherwise the
    # ranking pass counts. Either way the filtered total, page by page.
    backend = EmbeddedBackend(tmp_path)
    backend.rebuild(firm(firm_id, stage="hnte" if firm_id % 3 else "srdi", tier="hnte" if firm_id % 3 else "srdi_sme")
                    for firm_id in range(1, 31))
    for query in ("测试", ""):
        first = backend.search(SearchRequest(query=query, stage=["srdi"], first=4, facets=facets))
        second = backend.search(SearchRequest(query=query, stage=["srdi"], first=4, facets=facets,
                                              after=first.next_cursor))
        assert (first.total, second.total) == (10, 10)
        assert [h.id for h in first.hits + second.hits] == [3, 6, 9, 12, 15, 18, 21, 24]
        if "stage" in facets:
            assert dict(first.facets["stage"]) == {"hnte": 20, "srdi": 10}


def test_a_small_tie_group_past_the_first_fetch_is_served_by_id(tmp_path, monkeypatch):
    # 240 better firms, then a group of 100 tied firms added in descending id order: the third page's
    # fetch (301 by score) holds 61 of the group, the highest ids; the page must hold its lowest ids.
    # It is served by fetching past the group by score, without walking it by id.
    backend = EmbeddedBackend(tmp_path)
    better = list(range(1000, 1240))
    tied = list(range(1, 101))
    backend.rebuild([firm(firm_id, technologies="测试测试") for firm_id in better]
                    + [firm(firm_id) for firm_id in reversed(tied)])
    monkeypatch.setattr(EmbeddedBackend, "_tied", lambda *args: pytest.fail("walked the tie group by id"))
    seen, after = [], None
    while True:
        result = backend.search(SearchRequest(query="测试", first=100, after=after))
        seen += [hit.id for hit in result.hits]
        after = result.next_cursor
        if after is None:
            break
    assert seen == better + tied


def _per_field_match(backend, query):
    """Which firms match, as it was decided before ``t_all``: every term required as a disjunction
    over the six text fields."""
    from tantivy import Occur, Query

    from search.source import TEXT_FIELDS

    return Query.boolean_query([
        (Occur.Must, Query.disjunction_max_query(
            [Query.term_query(backend.schema, f"t_{name}", term) for name in TEXT_FIELDS]))
        for term in query.terms])


def _ranked_scores(backend, searcher, query, firm_ids):
    """Each firm's score by the formula (search.source.TEXT_WEIGHTS), added up here from
    one single-term query per (term, ranked field)."""
    from tantivy import Query

    from search.source import TEXT_WEIGHTS

    totals = dict.fromkeys(firm_ids, 0.0)
    for term in query.terms:
        for name, weight in TEXT_WEIGHTS.items():
            found = searcher.search(Query.term_query(backend.schema, f"t_{name}", term), limit=1000).hits
            ids = searcher.fast_field_values("id", [address for _, address in found])
            for (score, _), firm_id in zip(found, ids):
                if firm_id in totals:
                    totals[firm_id] += weight * score
    return totals


def scored_hits(searcher, match, places: int = 4):
    """[(firm id, score to ``places`` places)] of a tantivy query's first 100 hits, by id."""
    found = searcher.search(match, limit=100).hits
    ids = searcher.fast_field_values("id", [address for _, address in found])
    return sorted((firm_id, round(score, places)) for (score, _), firm_id in zip(found, ids))


@pytest.mark.parametrize("text", ["合成生物 昆山", "碳化硅", "无锡芯动生物科技有限公司", "科技 有限公司", "昆山",
                                  "Micro LED", "不存在的词语"])
def test_all_text_matches_like_the_fields(tmp_path, text):
    # t_all decides which firms match, the ranked fields' clauses only score them: the firms the
    # per-field conjunction finds, each with the sum of its (term, ranked field) scores.
    from search.source import TEXT_WEIGHTS
    from search.text import analyze_query

    backend = EmbeddedBackend(tmp_path)
    backend.rebuild(profiles())
    searcher = backend._searcher()
    query = analyze_query(text)
    assert query.terms

    expected_ids = [firm_id for firm_id, _ in scored_hits(searcher, _per_field_match(backend, query))]
    found = scored_hits(searcher, backend._text_match(query, TEXT_WEIGHTS), places=6)
    assert [firm_id for firm_id, _ in found] == expected_ids
    expected = _ranked_scores(backend, searcher, query, expected_ids)
    # Summed in another order than tantivy's: equal up to f32 rounding.
    assert [score for _, score in found] == pytest.approx([expected[firm_id] for firm_id in expected_ids], rel=1e-5)
    assert (len(expected_ids) > 0) == (text != "不存在的词语")


def test_facets_leave_out_firms_without_a_stage_tier_city_or_chain(tmp_path):
    # The facet columns are dense (a placeholder for "none"); the placeholder is never a bucket,
    # and the total counted from a column is still the number of matches.
    backend = EmbeddedBackend(tmp_path)
    backend.rebuild([
        firm(1, chains=["semi", "semi.power", "ai", "green", "green.water"]),  # three top-level chains
        firm(2, stage="", tier="", chains=["semi"]),
        firm(3, stage="srdi", tier="", region_code="", region_path=["320000"]),
        firm(4, stage="", tier="", region_code="", region_path=[]),
    ])
    facets = ("stage", "tier", "region", "chain")
    for query in ("测试", ""):
        result = backend.search(SearchRequest(query=query, facets=facets))
        assert result.total == 4
        assert result.facets == {"stage": [("hnte", 1), ("srdi", 1)], "tier": [("hnte", 1)],
                                 "region": [("320500", 2)],
                                 "chain": [("semi", 2), ("ai", 1), ("green", 1), ("green.water", 1), ("semi.power", 1)]}
        filtered = backend.search(SearchRequest(query=query, chain=["semi"], facets=facets))
        assert filtered.total == 2
        assert filtered.facets["chain"] == result.facets["chain"]  # its own filter ignored
        assert dict(filtered.facets["stage"]) == {"hnte": 1}


def test_pinyin_keys_hold_only_what_the_prefix_regex_lets_follow():
    # The pinyin prefix clause is query.pinyin + PINYIN_KEY_TAIL: a key with any other character
    # after the prefix would be missed.
    import re

    from search.backends.embedded import PINYIN_KEY_TAIL
    from search.text import pinyin_keys

    names = [p["name"] for p in profiles()] + ["ＡＢＣ３Ｍ中国有限公司", "Micro-LED 光电（苏州）", "𠮷野家餐饮", "Ⅻ号科技", "ß工作室"]
    full, initials = pinyin_keys(names)
    tail = re.compile(f"^{PINYIN_KEY_TAIL}$")
    assert full and initials
    assert [key for key in full + initials if not tail.match(key)] == []


@pytest.mark.parametrize("text", ["无锡芯动生物科技有限公司", "芯动生物科技", "合成生物 昆山", "wxxd", "91320211DL8P3MR19U",
                                  "DL8P3MR1", "不存在的公司"])
def test_the_pruned_and_the_unscored_match_find_what_the_full_match_finds(tmp_path, text):
    # With a searcher, whole-name clauses no firm has are left out (and one clause is the query
    # itself); unscored, the text part is t_all alone. Same firms, and the same scores when scored.
    from search.text import analyze_query

    backend = EmbeddedBackend(tmp_path)
    backend.rebuild(profiles())
    searcher = backend._searcher()
    query = analyze_query(text)

    full = scored_hits(searcher, backend._match(query))
    assert scored_hits(searcher, backend._match(query, searcher)) == full
    assert {firm_id for firm_id, _ in scored_hits(searcher, backend._match(query, searcher, scored=False))} == \
        {firm_id for firm_id, _ in full}
    assert (len(full) > 0) == (text != "不存在的公司")


def test_a_stage_code_that_would_break_the_facet_column_is_refused(tmp_path):
    backend = EmbeddedBackend(tmp_path)
    with pytest.raises(ValueError, match=r"firm 7: stage 'a\|b'"):
        backend.index([firm(7, stage="a|b")])
    assert backend.count() == 0


ALLOCATION_PROBE = """
import ctypes, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cultivar.settings")
import django
django.setup()
from search.backends.embedded import fix_allocation_thresholds
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_size_t], [ctypes.c_void_p]
if sys.argv[1] == "fixed":
    assert fix_allocation_thresholds()
libc.free(libc.malloc(4 << 20))  # glibc would now raise its mmap threshold to 4 MB
block = libc.malloc(1 << 20)
print(bool(ctypes.c_size_t.from_address(block - 8).value & 2))  # the chunk's IS_MMAPPED bit
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
@pytest.mark.parametrize("mode, mapped", [("default", "False"), ("fixed", "True")])
def test_a_build_keeps_large_blocks_mapped_so_freeing_returns_them(mode, mapped):
    """After a segment's arena is freed, its 1 MB pages must still come from mmap (given back on free),
    not from a heap glibc gives back only from its top: the build's memory then does not grow with its segments."""
    probe = subprocess.run([sys.executable, "-c", ALLOCATION_PROBE, mode], check=False, capture_output=True,
                           text=True, cwd=Path(__file__).resolve().parents[2])
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == mapped


def test_ids_between_reads_a_window_at_a_time_across_segments(tmp_path, monkeypatch):
    monkeypatch.setattr("search.backends.embedded.IDS_WINDOW", 4)
    backend = EmbeddedBackend(tmp_path)
    backend.index([firm(i) for i in (40, 7, 19, 3, 25)])  # two commits, so two segments
    backend.index([firm(i) for i in (12, 33, 8, 1, 30)])
    assert backend.ids_between(0, None) == [1, 3, 7, 8, 12, 19, 25, 30, 33, 40]  # windows of 4, 4, 2
    assert backend.ids_between(8, 30) == [8, 12, 19, 25, 30]  # 4 + 1
    assert backend.ids_between(4, 7) == [7]
    assert backend.ids_between(41, None) == []
