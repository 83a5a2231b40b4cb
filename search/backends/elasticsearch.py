"""The production backend: Elasticsearch 8 through ``elasticsearch.dsl``.

Index versions (``{prefix}-firms-v{timestamp}``) sit behind two aliases, as Kitsune and yente do:
``{prefix}-firms`` for reads and ``{prefix}-firms-write`` for writes. A reindex builds a new version,
points the write alias at old and new while it loads (so live updates reach both), then moves both
aliases in one ``update_aliases`` call — readers switch atomically — and deletes older versions.
Because the write alias may cover two indices, writes resolve it and address each index by name.

Queries follow search.backends.base: cross-field AND over the bigram text fields, boosted exact /
fingerprint / pinyin / USCC matchers, facet filters in ``post_filter`` with one filtered
aggregation per facet (multi-select), the caller's region scope in the query ``filter`` (so it
limits hits and every count), ``search_after`` on (score or stage rank, id).

Every engine failure becomes SearchUnavailable; the engine's own text is logged, never shown.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, ContextManager, Iterable, Iterator, Mapping

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch, NotFoundError, helpers
from elasticsearch.dsl import Q, Search

from search.backends.base import (
    FIELD_TIE_BREAKER,
    Cursor,
    Hit,
    SearchBackend,
    SearchRequest,
    SearchResult,
    SearchUnavailable,
    Suggestion,
    Vocabulary,
    next_cursor,
    page_size,
    sorted_buckets,
)
from search.documents import index_body
from search.locks import CacheLock
from search.source import (
    DESCRIPTION_FRAGMENT_CHARS,
    EXACT_BOOST,
    FACET_FIELDS,
    FILTER_FIELDS,
    FINGERPRINT_BOOST,
    HIGHLIGHT_FIELDS,
    PINYIN_BOOST,
    TEXT_FIELDS,
    TEXT_WEIGHTS,
    USCC_BOOST,
    USCC_FRAGMENT_BOOST,
    prepare_firm,
)
from search.text import AnalyzedQuery, isolated_regex, text_without_isolated

log = logging.getLogger(__name__)

ENGINE_ERRORS = (ApiError, TransportError, helpers.BulkIndexError)
IDS_PAGE = 10_000  # ids a consistency check reads per request: the default index.max_result_window


def every_term(query: AnalyzedQuery, fields: list[str]) -> list[Q]:
    """The text rule of search.backends.base over ``fields``: every term in one of them, an
    isolated character (search.text.AnalyzedQuery) inside any of their terms."""
    clauses = []
    if len(query.isolated) < len(query.terms):
        text = text_without_isolated(query) if query.isolated else query.text
        clauses.append(Q("multi_match", query=text, type="cross_fields", operator="and", fields=fields))
    for character in query.isolated:
        clauses.append(Q("bool", should=[Q("regexp", **{field.split("^")[0]: isolated_regex(character)})
                                         for field in fields], minimum_should_match=1))
    return clauses


@dataclass(frozen=True)
class Reindexed:
    index: str  # the version now behind both aliases
    written: int
    removed: tuple[str, ...]  # older versions deleted


@contextmanager
def engine_errors(action: str) -> Iterator[None]:
    try:
        yield
    except ENGINE_ERRORS as error:
        log.exception("elasticsearch %s failed: %s", action, error)
        raise SearchUnavailable() from error


def _body(response) -> Mapping:
    """The JSON of a client response (the real client wraps it; test doubles may not)."""
    return getattr(response, "body", response)


def _fields(boosts: Mapping[str, float]) -> list[str]:
    return [f"{name}^{boost:g}" for name, boost in boosts.items()]


class ElasticsearchBackend(SearchBackend):
    name = "elasticsearch"

    def __init__(self, client: Elasticsearch | None = None, *, url: str = "", prefix: str = "cultivar",
                 replicas: int = 1, word_analyzer: str | None = None,
                 lock: Callable[[], ContextManager] | None = None,
                 vocabulary: Vocabulary | Callable[[], Vocabulary] | None = None,
                 clock: Callable[[], float] = time.time, request_timeout: float = 10.0):
        super().__init__(vocabulary)
        if client is None:
            if not url:
                raise ValueError("ElasticsearchBackend needs a client or a url (ELASTICSEARCH_URL)")
            client = Elasticsearch(url, request_timeout=request_timeout)
        self.client = client
        self.read_alias = f"{prefix}-firms"
        self.write_alias = f"{prefix}-firms-write"
        self.replicas = replicas
        self.word_analyzer = word_analyzer
        self._lock = lock or (lambda: CacheLock(f"search:reindex:{self.read_alias}"))
        self._clock = clock

    # Index versions and aliases --------------------------------------------------------------
    def new_index_name(self) -> str:
        now = self._clock()
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(now)) + f"{int(now * 1e6) % 1_000_000:06d}"
        return f"{self.read_alias}-v{stamp}"

    def _versions(self) -> list[str]:
        found = self.client.indices.get(index=f"{self.read_alias}-v*", expand_wildcards="open")
        return sorted(found)

    def _alias_targets(self, alias: str) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=alias))
        except NotFoundError:
            return []

    def create_index(self, name: str, *, loading: bool = False) -> None:
        """Create one version; ``loading`` turns refresh and replicas off until the bulk load ends."""
        body = index_body(replicas=0 if loading else self.replicas, word_analyzer=self.word_analyzer)
        if loading:
            body["settings"]["refresh_interval"] = "-1"
        self.client.indices.create(index=name, settings=body["settings"], mappings=body["mappings"])

    def reindex(self, docs: Iterable[Mapping], chunk_size: int = 500) -> Reindexed:
        """Build a new version from ``docs``, swap both aliases to it at once, drop older versions.

        Runs under the reindex lock, so two reindexes never interleave. If loading fails the new
        version is deleted and readers never saw it. (A failed swap leaves it in place: the request
        may have succeeded, and the next reindex removes it if not.)
        """
        with self._lock(), engine_errors("reindex"):
            new = self.new_index_name()
            self.create_index(new, loading=True)
            try:
                self.client.indices.update_aliases(actions=[{"add": {"index": new, "alias": self.write_alias}}])
                written, _ = helpers.bulk(self.client, self._index_actions(docs, [new]), chunk_size=chunk_size)
                self.client.indices.put_settings(index=new, settings={
                    "index": {"refresh_interval": "1s", "number_of_replicas": self.replicas}})
                self.client.indices.refresh(index=new)
            except BaseException:
                self.client.indices.delete(index=new, ignore_unavailable=True)
                raise
            self.client.indices.update_aliases(actions=self.swap_actions(
                new, self._alias_targets(self.read_alias), self._alias_targets(self.write_alias)))
        removed = self._drop_versions(keep=new)
        log.info("reindexed %s documents into %s (removed %s)", written, new, ", ".join(removed) or "none")
        return Reindexed(index=new, written=written, removed=removed)

    def swap_actions(self, new: str, readers: Iterable[str], writers: Iterable[str]) -> list[dict]:
        """The one atomic alias change: each alias leaves the indices holding it and points at ``new``."""
        actions = [{"remove": {"index": name, "alias": alias}}
                   for alias, holders in ((self.read_alias, readers), (self.write_alias, writers))
                   for name in holders if name != new]
        actions.append({"add": {"index": new, "alias": self.read_alias}})
        actions.append({"add": {"index": new, "alias": self.write_alias, "is_write_index": True}})
        return actions

    def _drop_versions(self, keep: str) -> tuple[str, ...]:
        """Delete versions other than ``keep``; a failure here is logged, the reindex still stands."""
        try:
            removed = tuple(name for name in self._versions() if name != keep)
            if removed:
                self.client.indices.delete(index=",".join(removed), ignore_unavailable=True)
            return removed
        except ENGINE_ERRORS:
            log.exception("could not delete old versions of %s; the next reindex will retry", self.read_alias)
            return ()

    # Writing ---------------------------------------------------------------------------------
    def _index_actions(self, docs: Iterable[Mapping], targets: list[str]) -> Iterator[dict]:
        """Bulk ``index`` actions, one per document and target index.

        A document carrying ``version`` (e.g. its updated_at in microseconds) is written with
        ``external_gte`` versioning, so a stale copy read by a long reindex cannot overwrite the
        fresher one a live update already wrote.
        """
        for doc in docs:
            source = prepare_firm(doc)
            for target in targets:
                action = {"_op_type": "index", "_index": target, "_id": str(source["id"]), "_source": source}
                if doc.get("version") is not None:
                    action.update(version=int(doc["version"]), version_type="external_gte")
                yield action

    def _write_targets(self) -> list[str]:
        targets = self._alias_targets(self.write_alias)
        if not targets:
            log.warning("no index behind %s yet: write skipped; a reindex will include it", self.write_alias)
        return targets

    def index(self, docs: Iterable[Mapping]) -> int:
        docs = list(docs)
        with engine_errors("index"):
            targets = self._write_targets() if docs else []
            if not targets:
                return 0
            _, errors = helpers.bulk(self.client, self._index_actions(docs, targets),
                                     raise_on_error=False)
        # A version conflict means a newer copy is already there: that is the point of versioning.
        failures = [e for e in errors if e.get("index", {}).get("status") != 409]
        if failures:
            log.error("elasticsearch rejected %s documents: %s", len(failures), failures[:3])
            raise SearchUnavailable()
        return len(docs)

    def delete(self, ids: Iterable[int]) -> int:
        ids = [int(i) for i in ids]
        with engine_errors("delete"):
            targets = self._write_targets() if ids else []
            if not targets:
                return 0
            actions = ({"_op_type": "delete", "_index": t, "_id": str(i)} for i in ids for t in targets)
            _, errors = helpers.bulk(self.client, actions, raise_on_error=False)
        failures = [e for e in errors if e.get("delete", {}).get("status") != 404]
        if failures:
            log.error("elasticsearch failed to delete %s documents: %s", len(failures), failures[:3])
            raise SearchUnavailable()
        return len(ids)

    def rebuild(self, docs: Iterable[Mapping], chunk_size: int = 500) -> int:
        return self.reindex(docs, chunk_size=chunk_size).written

    def refresh(self) -> None:
        with engine_errors("refresh"):
            self.client.indices.refresh(index=self.read_alias)

    def count(self) -> int:
        with engine_errors("count"):
            return int(self.client.count(index=self.read_alias)["count"])

    def ids_body(self, low: int, high: int | None, after: int | None = None) -> dict:
        """A page of ids in [low, high], in id order after ``after``: sort values, no sources."""
        bounds = {"gte": low} if high is None else {"gte": low, "lte": high}
        body = {"query": {"range": {"id": bounds}}, "sort": [{"id": {"order": "asc"}}], "_source": False,
                "size": IDS_PAGE, "track_total_hits": False}
        if after is not None:
            body["search_after"] = [after]
        return body

    def ids_between(self, low: int, high: int | None) -> list[int]:
        ids, after = [], None
        while True:
            with engine_errors("ids"):
                response = _body(self.client.search(index=self.read_alias, body=self.ids_body(low, high, after)))
            page = [int(hit["sort"][0]) for hit in response["hits"]["hits"]]
            ids += page
            if len(page) < IDS_PAGE:
                return ids
            after = page[-1]

    # Reading ---------------------------------------------------------------------------------
    @staticmethod
    def _scope(allowed_region_codes) -> list[Q]:
        if allowed_region_codes is None:
            return []
        if not allowed_region_codes:
            return [Q("bool", must_not=[Q("match_all")])]  # an empty scope matches nothing
        return [Q("terms", region_path=list(allowed_region_codes))]

    @staticmethod
    def match_clauses(query: AnalyzedQuery, text_weights: Mapping[str, float] = TEXT_WEIGHTS) -> list[Q]:
        """The matchers of search.backends.base as Elasticsearch queries (any one is enough)."""
        clauses = []
        if query.terms:
            # search.backends.base: every term in some of the six fields decides
            # the match (unscored); the ranked fields' scores, summed per term, rank it.
            clauses.append(Q(
                "bool",
                filter=every_term(query, list(TEXT_FIELDS)),
                should=[Q("multi_match", query=query.text, type="cross_fields", fields=_fields(text_weights),
                          tie_breaker=FIELD_TIE_BREAKER)],
            ))
        if query.exact:
            clauses.append(Q("term", names_exact={"value": query.exact, "boost": EXACT_BOOST}))
        if query.fingerprint:
            clauses.append(Q("term", fingerprints={"value": query.fingerprint, "boost": FINGERPRINT_BOOST}))
        if query.pinyin:
            clauses.append(Q("prefix", pinyin_full={"value": query.pinyin, "boost": PINYIN_BOOST}))
            clauses.append(Q("prefix", pinyin_initials={"value": query.pinyin, "boost": PINYIN_BOOST}))
        if query.uscc:
            if len(query.uscc) == 18:
                clauses.append(Q("term", uscc={"value": query.uscc, "boost": USCC_BOOST}))
            clauses.append(Q("constant_score", boost=USCC_FRAGMENT_BOOST,
                             filter=Q("match_phrase", **{"uscc.fragment": query.uscc})))
        return clauses

    def search_body(self, request: SearchRequest, query: AnalyzedQuery, cursor: Cursor | None) -> dict:
        """The request body for one search (pure: tested without a server)."""
        scored = not query.is_empty
        scope = self._scope(request.allowed_region_codes)
        filters = {name: Q("terms", **{FILTER_FIELDS[name]: list(codes)})
                   for name, codes in request.filters.items()}
        if scored:
            main = Q("bool", should=self.match_clauses(query), minimum_should_match=1, filter=scope)
            if self.word_analyzer:  # plugin words add relevance to a match, never make one
                words = Q("multi_match", query=query.text, fields=[f"{f}.words" for f in TEXT_WEIGHTS])
                main = Q("bool", must=[main], should=[words])
        else:
            main = Q("bool", filter=scope) if scope else Q("match_all")
        search = Search().query(main).extra(
            size=page_size(request, cursor), track_total_hits=True, _source=False,
        )
        if filters:
            search = search.post_filter(Q("bool", filter=list(filters.values())))
        for name in request.facets:
            others = [q for other, q in filters.items() if other != name]
            search.aggs.bucket(name, "filter", filter=Q("bool", filter=others)).bucket(
                "keys", "terms", field=FACET_FIELDS[name], size=request.facet_size,
                order=[{"_count": "desc"}, {"_key": "asc"}],
            )
        if scored:
            search = search.sort({"_score": {"order": "desc"}}, {"id": {"order": "asc"}})
            search = search.highlight_options(pre_tags=["<em>"], post_tags=["</em>"], encoder="html")
            for name in HIGHLIGHT_FIELDS:
                if name == "description":
                    search = search.highlight(name, fragment_size=DESCRIPTION_FRAGMENT_CHARS, number_of_fragments=3)
                else:
                    search = search.highlight(name, number_of_fragments=0)
        else:
            search = search.sort({"stage_rank": {"order": "desc"}}, {"id": {"order": "asc"}})
        if cursor is not None:
            search = search.extra(search_after=list(cursor.sort))
        return search.to_dict()

    def _search(self, request: SearchRequest, query: AnalyzedQuery, cursor: Cursor | None) -> SearchResult:
        body = self.search_body(request, query, cursor)
        with engine_errors("search"):
            response = self.client.search(index=self.read_alias, body=body)
        return self.parse_response(request, query, cursor, _body(response))

    def parse_response(self, request, query: AnalyzedQuery, cursor, response: Mapping) -> SearchResult:
        scored = not query.is_empty
        raw_hits = response["hits"]["hits"]
        hits = [Hit(id=int(h["_id"]), score=float(h["_score"]) if scored and h.get("_score") is not None else None,
                    highlights={k: list(v) for k, v in (h.get("highlight") or {}).items()})
                for h in raw_hits]
        total = int(response["hits"]["total"]["value"])
        aggregations = response.get("aggregations", {})
        facets = {
            name: sorted_buckets({b["key"]: b["doc_count"] for b in aggregations[name]["keys"]["buckets"]},
                                 request.facet_size)
            for name in request.facets
        }
        return SearchResult(
            total=total, hits=hits, facets=facets,
            next_cursor=next_cursor(request, cursor, total, len(hits), raw_hits[-1]["sort"] if raw_hits else None),
        )

    def suggest_body(self, query: AnalyzedQuery, limit: int, allowed_region_codes) -> dict:
        clauses = []
        if query.terms:
            names = every_term(query, ["name^3", "former_names"])
            clauses.append(names[0] if len(names) == 1 else Q("bool", must=names))
        if query.exact:
            clauses.append(Q("prefix", names_exact={"value": query.exact, "boost": 20}))
        if query.fingerprint:
            clauses.append(Q("prefix", fingerprints={"value": query.fingerprint, "boost": 10}))
        if query.pinyin:
            clauses.append(Q("prefix", pinyin_full={"value": query.pinyin, "boost": 5}))
            clauses.append(Q("prefix", pinyin_initials={"value": query.pinyin, "boost": 5}))
        main = Q("bool", should=clauses, minimum_should_match=1, filter=self._scope(allowed_region_codes))
        search = Search().query(main).extra(size=limit, _source=["name"]).sort(
            {"_score": {"order": "desc"}}, {"id": {"order": "asc"}})
        return search.to_dict()

    def _suggest(self, query: AnalyzedQuery, limit: int, allowed_region_codes) -> list[Suggestion]:
        body = self.suggest_body(query, limit, allowed_region_codes)
        with engine_errors("suggest"):
            response = _body(self.client.search(index=self.read_alias, body=body))
        return [Suggestion(id=int(h["_id"]), name=h["_source"]["name"]) for h in response["hits"]["hits"]]
