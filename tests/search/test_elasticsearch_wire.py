"""The Elasticsearch backend up to the wire: index definition, query bodies, bulk actions, alias
swaps and error handling, through a real client talking to an in-memory node (no server)."""

import pytest
from elastic_transport import ConnectionError as TransportConnectionError

from search.backends.base import SearchRequest, SearchUnavailable, decode_cursor
from search.documents import index_body
from search.source import prepare_firm
from search.text import analyze_query
from tests.search.fake_elasticsearch import FakeCluster, fake_backend
from tests.search.profiles import profiles

NEW = "cultivar-firms-v20260101000000250000"  # from the fixed clock in fake_backend
OLD = "cultivar-firms-v20250101000000000000"
STRAY = "cultivar-firms-v20240101000000000000"  # left behind by a crashed reindex
READ, WRITE = "cultivar-firms", "cultivar-firms-write"
BUCKET_ORDER = [{"_count": "desc"}, {"_key": "asc"}]
TEXT_FIELDS = ["name", "former_names", "main_products", "technologies", "description", "region_names"]
RANKED_FIELDS = ["name^3", "former_names^2", "main_products^1.5", "technologies^1"]


def text_clause(query):
    """Every term in some text field decides the match; the ranked fields score it (summed per term)."""
    return {"bool": {
        "filter": [{"multi_match": {"query": query, "type": "cross_fields", "operator": "and",
                                    "fields": TEXT_FIELDS}}],
        "should": [{"multi_match": {"query": query, "type": "cross_fields", "fields": RANKED_FIELDS,
                                    "tie_breaker": 1.0}}],
    }}
HIGHLIGHT = {
    "pre_tags": ["<em>"], "post_tags": ["</em>"], "encoder": "html",
    "fields": {
        "name": {"number_of_fragments": 0}, "former_names": {"number_of_fragments": 0},
        "main_products": {"number_of_fragments": 0}, "technologies": {"number_of_fragments": 0},
        "description": {"fragment_size": 80, "number_of_fragments": 3},
    },
}


# Index definition ----------------------------------------------------------------------------

def test_analysis_needs_no_plugin():
    settings = index_body(replicas=2)["settings"]
    assert settings["number_of_shards"] == 1 and settings["number_of_replicas"] == 2
    assert settings["analysis"] == {
        "analyzer": {
            "cjk_text": {"type": "custom", "tokenizer": "standard",
                         "filter": ["cjk_width", "lowercase", "cjk_bigram"]},
            "uscc_fragment": {"type": "custom", "tokenizer": "uscc_6gram", "filter": ["uppercase"]},
        },
        "tokenizer": {"uscc_6gram": {"type": "ngram", "min_gram": 6, "max_gram": 6,
                                     "token_chars": ["letter", "digit"]}},
        "normalizer": {"exact": {"type": "custom", "filter": ["cjk_width", "lowercase"]}},
    }


def test_mapping():
    mappings = index_body()["mappings"]
    assert mappings["dynamic"] == "strict"
    properties = mappings["properties"]
    cjk = {"type": "text", "analyzer": "cjk_text"}
    assert properties["name"] == {**cjk, "fields": {"keyword": {"type": "keyword", "normalizer": "exact"}}}
    assert properties["former_names"] == properties["name"]
    for name in ("description", "main_products", "technologies", "region_names"):
        assert properties[name] == cjk
    assert properties["uscc"] == {"type": "keyword",
                                  "fields": {"fragment": {"type": "text", "analyzer": "uscc_fragment"}}}
    for name in ("names_exact", "fingerprints", "pinyin_full", "pinyin_initials", "stage", "tier",
                 "region_code", "region_path", "region_city", "chains"):
        assert properties[name] == {"type": "keyword"}, name
    assert properties["id"] == {"type": "long"}
    assert properties["stage_rank"] == properties["founded_year"] == {"type": "integer"}
    assert properties["revenue"] == properties["rd_intensity"] == properties["revenue_growth"] == {"type": "double"}
    # Every field the search document carries is mapped (the mapping is strict).
    assert set(properties) == set(prepare_firm(profiles()[0]))


def test_word_analyzer_adds_words_subfields_only_when_asked():
    with_ik = index_body(word_analyzer="ik")["mappings"]["properties"]
    assert with_ik["name"]["fields"]["words"] == {"type": "text", "analyzer": "ik_max_word",
                                                  "search_analyzer": "ik_smart"}
    assert with_ik["description"]["fields"] == {"words": {"type": "text", "analyzer": "ik_max_word",
                                                          "search_analyzer": "ik_smart"}}
    assert index_body(word_analyzer="smartcn")["mappings"]["properties"]["name"]["fields"]["words"][
        "analyzer"] == "smartcn"
    assert "words" not in str(index_body())  # the option does not leak into later bodies
    with pytest.raises(ValueError, match="word_analyzer"):
        index_body(word_analyzer="jieba")


# Query bodies --------------------------------------------------------------------------------

def body(backend, **kwargs):
    request = SearchRequest(**kwargs)
    return backend.search_body(request, analyze_query(request.query), decode_cursor(request))


def test_browse_body():
    backend, _ = fake_backend()
    assert body(backend) == {
        "query": {"match_all": {}},
        "sort": [{"stage_rank": {"order": "desc"}}, {"id": {"order": "asc"}}],
        "size": 20, "track_total_hits": True, "_source": False,
    }


def test_text_search_with_filters_scope_and_facets():
    backend, _ = fake_backend()
    assert body(backend, query="合成生物 昆山", stage=["hnte", "srdi"], region="320500",
                allowed_region_codes=["320500", "320200"], facets=("stage", "region"), first=10) == {
        "query": {"bool": {
            "should": [
                text_clause("合成生物 昆山"),
                {"term": {"names_exact": {"value": "合成生物 昆山", "boost": 100}}},
                {"term": {"fingerprints": {"value": "合成生物昆山", "boost": 50}}},
            ],
            "minimum_should_match": 1,
            "filter": [{"terms": {"region_path": ["320500", "320200"]}}],  # scope: hits and facets
        }},
        "post_filter": {"bool": {"filter": [
            {"terms": {"stage": ["hnte", "srdi"]}}, {"terms": {"region_path": ["320500"]}},
        ]}},
        "aggs": {
            "stage": {"filter": {"bool": {"filter": [{"terms": {"region_path": ["320500"]}}]}},
                      "aggs": {"keys": {"terms": {"field": "stage", "size": 50, "order": BUCKET_ORDER}}}},
            "region": {"filter": {"bool": {"filter": [{"terms": {"stage": ["hnte", "srdi"]}}]}},
                       "aggs": {"keys": {"terms": {"field": "region_city", "size": 50, "order": BUCKET_ORDER}}}},
        },
        "sort": [{"_score": {"order": "desc"}}, {"id": {"order": "asc"}}],
        "size": 10, "track_total_hits": True, "_source": False,
        "highlight": HIGHLIGHT,
    }


def clauses(backend, query):
    return [q.to_dict() for q in backend.match_clauses(analyze_query(query))]


def any_field_holds(character, fields=TEXT_FIELDS):
    return {"bool": {"should": [{"regexp": {field: f"{character}.?|.{character}"}} for field in fields],
                     "minimum_should_match": 1}}


def test_an_isolated_character_is_matched_inside_any_term_and_the_rest_as_before():
    backend, _ = fake_backend()
    (text, *_) = clauses(backend, "灯具 LED灯")
    assert text["bool"]["filter"] == [
        {"multi_match": {"query": "灯具 led ", "type": "cross_fields", "operator": "and", "fields": TEXT_FIELDS}},
        any_field_holds("灯"),
    ]
    assert text["bool"]["should"] == text_clause("灯具 led灯")["bool"]["should"]  # scored as before
    (alone, *_) = clauses(backend, "灯")
    assert alone["bool"]["filter"] == [any_field_holds("灯")]


def test_suggest_matches_an_isolated_character_inside_the_names():
    backend, cluster = fake_backend()
    backend.suggest("芯动 G号", limit=5)
    (call,) = cluster.calls_to("POST", "_search")
    assert {"bool": {"must": [
        {"multi_match": {"query": "芯动 g ", "type": "cross_fields", "operator": "and", "fields": ["name^3", "former_names"]}},
        any_field_holds("号", ["name", "former_names"]),
    ]}} in call.body["query"]["bool"]["should"]


def test_pinyin_query_adds_prefix_matchers():
    backend, _ = fake_backend()
    assert clauses(backend, "WXXD")[3:] == [
        {"prefix": {"pinyin_full": {"value": "wxxd", "boost": 10}}},
        {"prefix": {"pinyin_initials": {"value": "wxxd", "boost": 10}}},
    ]


def test_uscc_queries():
    backend, _ = fake_backend()
    fragment = {"constant_score": {"filter": {"match_phrase": {"uscc.fragment": "DL8P3M"}}, "boost": 30}}
    assert clauses(backend, "dl8p3m")[-1] == fragment
    full = clauses(backend, "91320211dl8p3mr19u")
    assert full[-2:] == [
        {"term": {"uscc": {"value": "91320211DL8P3MR19U", "boost": 100}}},
        {"constant_score": {"filter": {"match_phrase": {"uscc.fragment": "91320211DL8P3MR19U"}}, "boost": 30}},
    ]
    assert not any("prefix" in c for c in full)  # digits: not pinyin


def test_empty_scope_matches_nothing():
    backend, _ = fake_backend()
    assert body(backend, allowed_region_codes=[])["query"] == {
        "bool": {"filter": [{"bool": {"must_not": [{"match_all": {}}]}}]}}


def test_word_analyzer_only_adds_relevance():
    backend, _ = fake_backend(word_analyzer="ik")
    plain, _ = fake_backend()
    query = body(backend, query="芯动")["query"]
    assert query == {"bool": {
        "must": [body(plain, query="芯动")["query"]],  # the match is decided without the plugin
        "should": [{"multi_match": {"query": "芯动", "fields": [
            "name.words", "former_names.words", "main_products.words", "technologies.words"]}}],
    }}


CANNED = {
    "hits": {"total": {"value": 42, "relation": "eq"}, "hits": [
        {"_id": "1", "_score": 12.5, "sort": [12.5, 1], "highlight": {"name": ["无锡<em>芯动</em>生物科技有限公司"]}},
        {"_id": "16", "_score": 3.25, "sort": [3.25, 16]},
    ]},
    "aggregations": {"stage": {"doc_count": 42, "keys": {"buckets": [
        {"key": "srdi", "doc_count": 2}, {"key": "hnte", "doc_count": 5}, {"key": "gazelle", "doc_count": 2},
    ]}}},
}


def test_search_sends_the_body_and_reads_the_answer():
    backend, cluster = fake_backend()
    cluster.search_response = CANNED
    request = SearchRequest(query="芯动", first=2, facets=("stage",))
    result = backend.search(request)

    (call,) = cluster.calls_to("POST", "_search")
    assert call.path == f"/{READ}/_search"
    assert call.body == backend.search_body(request, analyze_query("芯动"), None)
    assert result.total == 42
    assert [(h.id, h.score) for h in result.hits] == [(1, 12.5), (16, 3.25)]
    assert result.hits[0].highlights == {"name": ["无锡<em>芯动</em>生物科技有限公司"]}
    assert result.hits[1].highlights == {}
    assert result.facets == {"stage": [("hnte", 5), ("gazelle", 2), ("srdi", 2)]}

    following = SearchRequest(query="芯动", first=2, facets=("stage",), after=result.next_cursor)
    cursor = decode_cursor(following)
    assert (cursor.position, cursor.sort) == (2, (3.25, 16))
    sent = backend.search_body(following, analyze_query("芯动"), cursor)
    assert sent["search_after"] == [3.25, 16] and sent["size"] == 2


def test_ids_between_pages_by_id_with_search_after_and_no_sources(monkeypatch):
    monkeypatch.setattr("search.backends.elasticsearch.IDS_PAGE", 2)
    backend, cluster = fake_backend()
    stored = [3, 5, 8, 13, 21]

    def answer(body):  # the node's side: the range, in id order, after the cursor, one page
        bounds, after = body["query"]["range"]["id"], (body.get("search_after") or [-1])[0]
        found = [i for i in stored if bounds["gte"] <= i <= bounds.get("lte", i) and i > after][:body["size"]]
        return {"hits": {"hits": [{"_id": str(i), "_score": None, "sort": [i]} for i in found]}}

    cluster.search_response = answer
    assert backend.ids_between(4, None) == [5, 8, 13, 21]
    calls = cluster.calls_to("POST", "_search")
    assert [c.path for c in calls] == [f"/{READ}/_search"] * 3  # 2 + 2 + an empty page
    assert calls[0].body == {"query": {"range": {"id": {"gte": 4}}}, "sort": [{"id": {"order": "asc"}}],
                             "_source": False, "size": 2, "track_total_hits": False}
    assert [c.body.get("search_after") for c in calls] == [None, [8], [21]]
    assert backend.ids_between(0, 8) == [3, 5, 8]
    assert cluster.calls[-1].body["query"] == {"range": {"id": {"gte": 0, "lte": 8}}}


def test_last_page_has_no_cursor():
    backend, cluster = fake_backend()
    cluster.search_response = {"hits": {"total": {"value": 2}, "hits": CANNED["hits"]["hits"]}}
    assert backend.search(SearchRequest(query="芯动", first=5)).next_cursor is None


def test_suggest_body_and_answer():
    backend, cluster = fake_backend()
    cluster.search_response = {"hits": {"total": {"value": 1}, "hits": [
        {"_id": "1", "_score": 30.0, "_source": {"name": "无锡芯动生物科技有限公司"}, "sort": [30.0, 1]}]}}
    suggestions = backend.suggest("wxxd", limit=5, allowed_region_codes=["320200"])
    assert [(s.id, s.name) for s in suggestions] == [(1, "无锡芯动生物科技有限公司")]
    (call,) = cluster.calls_to("POST", "_search")
    assert call.body["size"] == 5 and call.body["_source"] == ["name"]
    assert call.body["query"]["bool"]["filter"] == [{"terms": {"region_path": ["320200"]}}]
    assert {"prefix": {"pinyin_initials": {"value": "wxxd", "boost": 5}}} in call.body["query"]["bool"]["should"]


# Reindex, writes and aliases -----------------------------------------------------------------

def test_reindex_loads_a_new_version_and_swaps_both_aliases_at_once():
    cluster = FakeCluster()
    cluster.add_index(OLD, READ, WRITE)
    cluster.add_index(STRAY, WRITE)  # a reindex that crashed while loading
    backend, _ = fake_backend(cluster, replicas=1)
    firms = profiles()[:5]

    report = backend.reindex(firms, chunk_size=2)

    assert (report.index, report.written, report.removed) == (NEW, 5, (STRAY, OLD))
    assert backend._lock.events == ["enter", "exit"]
    assert [(c.method, c.path) for c in cluster.calls if "_bulk" not in c.path] == [
        ("PUT", f"/{NEW}"),
        ("POST", "/_aliases"),  # live writes reach the new version while it loads
        ("PUT", f"/{NEW}/_settings"),
        ("POST", f"/{NEW}/_refresh"),
        ("GET", f"/_alias/{READ}"),
        ("GET", f"/_alias/{WRITE}"),
        ("POST", "/_aliases"),  # the swap
        ("GET", "/cultivar-firms-v*"),
        ("DELETE", f"/{STRAY},{OLD}"),
    ]
    create = cluster.calls[0].body
    assert create["settings"]["refresh_interval"] == "-1" and create["settings"]["number_of_replicas"] == 0
    assert create["mappings"] == index_body()["mappings"]
    assert cluster.calls_to("PUT", "_settings")[0].body == {
        "index": {"refresh_interval": "1s", "number_of_replicas": 1}}
    loading, swap = cluster.calls_to("POST", "_aliases")
    assert loading.body == {"actions": [{"add": {"index": NEW, "alias": WRITE}}]}
    assert swap.body == {"actions": [  # each index loses only the aliases it holds
        {"remove": {"index": OLD, "alias": READ}},
        {"remove": {"index": STRAY, "alias": WRITE}},
        {"remove": {"index": OLD, "alias": WRITE}},
        {"add": {"index": NEW, "alias": READ}},
        {"add": {"index": NEW, "alias": WRITE, "is_write_index": True}},
    ]}
    bulks = [c.body for c in cluster.calls if "_bulk" in c.path]
    assert [len(b) // 2 for b in bulks] == [2, 2, 1]
    assert bulks[0] == [
        {"index": {"_index": NEW, "_id": "1"}}, prepare_firm(firms[0]),
        {"index": {"_index": NEW, "_id": "2"}}, prepare_firm(firms[1]),
    ]
    assert cluster.aliases == {NEW: {READ, WRITE}}


def test_failed_reindex_drops_the_new_version_and_keeps_readers_on_the_old():
    cluster = FakeCluster()
    cluster.add_index(OLD, READ, WRITE)
    cluster.bulk_errors = {"3"}
    backend, _ = fake_backend(cluster)

    with pytest.raises(SearchUnavailable) as raised:
        backend.reindex(profiles()[:5], chunk_size=2)

    assert "secret" not in str(raised.value)
    assert cluster.calls[-1].method == "DELETE" and cluster.calls[-1].path == f"/{NEW}"
    assert len(cluster.calls_to("POST", "_aliases")) == 1  # never swapped
    assert cluster.aliases == {OLD: {READ, WRITE}}
    assert backend._lock.events == ["enter", "exit"]


def test_a_failed_swap_keeps_the_new_version_and_a_failed_cleanup_keeps_the_reindex():
    cluster = FakeCluster()
    cluster.add_index(OLD, READ, WRITE)
    cluster.fail_when = lambda method, path, body: path == "/_aliases" and "remove" in str(body)
    backend, _ = fake_backend(cluster)
    with pytest.raises(SearchUnavailable):
        backend.reindex(profiles()[:2])
    assert not cluster.calls_to("DELETE")  # the swap may have happened server-side: keep NEW
    assert cluster.aliases == {OLD: {READ, WRITE}, NEW: {WRITE}}

    cluster.calls.clear()
    cluster.fail_when = lambda method, path, body: method == "DELETE"
    backend, _ = fake_backend(cluster, clock=lambda: 1767225660.0)
    report = backend.reindex(profiles()[:2])
    assert report.removed == () and report.written == 2
    assert cluster.aliases[report.index] == {READ, WRITE}


def test_index_writes_to_every_index_behind_the_write_alias_with_versions():
    cluster = FakeCluster()
    cluster.add_index(OLD, READ, WRITE)
    cluster.add_index(NEW, WRITE)  # a reindex is loading
    backend, _ = fake_backend(cluster)
    firm = dict(profiles()[0], version=1700000000000000)

    assert backend.index([firm]) == 1

    (bulk,) = [c.body for c in cluster.calls if "_bulk" in c.path]
    meta = {"_id": "1", "version": 1700000000000000, "version_type": "external_gte"}
    assert bulk == [
        {"index": {"_index": OLD, **meta}}, prepare_firm(firm),
        {"index": {"_index": NEW, **meta}}, prepare_firm(firm),
    ]


def test_a_version_conflict_is_not_an_error_but_a_rejection_is():
    cluster = FakeCluster()
    cluster.add_index(OLD, READ, WRITE)
    backend, _ = fake_backend(cluster)
    cluster.bulk_errors, cluster.bulk_status = {"1"}, 409  # a newer copy is already indexed
    assert backend.index(profiles()[:1]) == 1
    cluster.bulk_status = 400
    with pytest.raises(SearchUnavailable):
        backend.index(profiles()[:1])


def test_delete_ignores_unknown_ids():
    cluster = FakeCluster()
    cluster.add_index(OLD, READ, WRITE)
    backend, _ = fake_backend(cluster)
    cluster.bulk_errors, cluster.bulk_status = {"999"}, 404
    assert backend.delete([1, 999]) == 2
    (bulk,) = [c.body for c in cluster.calls if "_bulk" in c.path]
    assert bulk == [{"delete": {"_index": OLD, "_id": "1"}}, {"delete": {"_index": OLD, "_id": "999"}}]


def test_writes_before_the_first_reindex_are_skipped():
    backend, cluster = fake_backend()
    assert backend.index(profiles()[:2]) == 0
    assert backend.delete([1]) == 0
    assert not [c for c in cluster.calls if "_bulk" in c.path]


def test_engine_failures_become_search_unavailable_without_engine_text():
    backend, cluster = fake_backend()
    cluster.fail_with = TransportConnectionError("secret connection detail")
    for action in (lambda: backend.search(SearchRequest(query="芯动")), backend.count, backend.refresh,
                   lambda: backend.index(profiles()[:1]), lambda: backend.suggest("芯动")):
        with pytest.raises(SearchUnavailable) as raised:
            action()
        assert "secret" not in str(raised.value)
        assert str(raised.value) == "Search is temporarily unavailable; please try again later."


def test_bad_input_is_refused_before_any_request():
    backend, cluster = fake_backend()
    with pytest.raises(ValueError, match="^stage: unknown code 'dragon'"):
        backend.search(SearchRequest(stage="dragon"))
    assert cluster.calls == []


def test_a_backend_needs_a_client_or_url():
    from search.backends.elasticsearch import ElasticsearchBackend

    with pytest.raises(ValueError, match="ELASTICSEARCH_URL"):
        ElasticsearchBackend()
