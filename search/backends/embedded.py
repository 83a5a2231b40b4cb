"""The default backend: a tantivy inverted index on local disk (BM25, no server).

Why tantivy: measured on this hardware with 200k synthetic profiles (STACK_NOTES), tantivy with
bigram tokens served top-10 + highlights at p50 0.4 ms / p95 0.9 ms with recall 1.0 and built in
2.2 s, against SQLite FTS5 trigram at 19 / 101 ms (whose 2-character searches fall back to LIKE
scans, and SQLite 3.40 even returns no rows for them) and jieba words at recall 0.91 (unknown
brand names get split). Our own figures for this module are in docs/search.md.

How its traps are avoided:
* Analysis happens in Python (``search.text``): tantivy receives the tokens joined by spaces and
  indexes them with its built-in ``whitespace`` tokenizer. No custom tokenizer has to be
  re-registered after ``Index.open``, and every bigram gets its own position (tantivy's n-gram
  tokenizer puts all grams at position 0).
* One writer per index: every write first takes an exclusive file lock beside the index, so
  writers in other processes (web, Celery, management command) wait instead of failing on
  tantivy's own writer lock. A Celery queue with concurrency 1 is still the cheap way to avoid
  waiting at all.
* A commit is atomic: readers see the old segments until it returns, so ``rebuild`` (delete all +
  add all + one commit) never shows a half-built index.

Layout: ``{path}/firms-v{SCHEMA_VERSION}``. Changing the schema means bumping SCHEMA_VERSION, which
starts an empty index beside the old one: run a rebuild after deploying.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import functools
import itertools
import json
import logging
import multiprocessing
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable, ContextManager, Iterable, Iterator, Mapping

import tantivy
from tantivy import Occur, Order, Query

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
from search.locks import FileLock
from search.source import (
    DESCRIPTION_FRAGMENT_CHARS,
    EXACT_BOOST,
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
from search.text import MIN_USCC_FRAGMENT, AnalyzedQuery, highlight, isolated_regex, terms

if FIELD_TIE_BREAKER != 1.0:  # _text_match's flat sum over (term, field) is that formula and no other
    raise ImportError("the embedded backend sums a term's fields: FIELD_TIE_BREAKER must be 1.0")

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3  # 2: chain_set, rank_key; 3: t_all, the dense facet columns f_*
KEYWORD_FIELDS = (
    "names_exact", "fingerprints", "pinyin_full", "pinyin_initials", "uscc", "uscc_grams",
    "stage", "tier", "region_path", "region_city", "chains", "rank_key",
    "f_ladder_city", "f_chains_a", "f_chains_b",
)
# Every text token of a firm in one field (docs only, no positions): "every query term in some text
# field" is then an intersection of plain posting lists, led by the rarest term, instead of an
# intersection of per-term unions over six fields; the per-field scoring runs only on its matches.
ALL_TEXT = "t_all"
# The columns the facets are counted on, each single-valued and DENSE (every firm has exactly one
# value, NO_VALUE when it has none): tantivy reads an optional column through its index of present
# documents (1M registry firms, a third without a stage: stage 10.8 ms and tier 17.3 ms against
# 2.7 ms for the dense city column) and a multi-valued one ~18x slower than a single-valued one.
# Each column's distinct values cost too (every segment turns each into a bucket: a firm's chains
# as one value, 1,180 combinations at 200,000 firms, took 3.9 ms against 0.3 ms for a dozen).
# So stage, tier and city share ``f_ladder_city`` ("stage|tier|city", at most tiers x cities
# values), and a firm's chains are split by top-level chain into two columns: ``f_chains_a`` the
# first chain with its sub-chains, ``f_chains_b`` the rest (a few dozen values each). The columns
# partition a firm's chains, so per-chain counts are sums; ``_split_counts`` does them.
FACET_COLUMNS = {"stage": ("f_ladder_city",), "tier": ("f_ladder_city",), "region": ("f_ladder_city",),
                 "chain": ("f_chains_a", "f_chains_b")}
NO_VALUE = "~"  # a facet column's value for "none": not a stage, tier, region or chain code
SEPARATOR = "|"  # never inside a stage, tier or region code
LADDER_CITY = {"stage": 0, "tier": 1, "region": 2}  # positions in f_ladder_city
CHAIN_SEPARATOR = " "  # never inside a chain code (see base._CHAIN_CODE)
USCC_GRAM = MIN_USCC_FRAGMENT  # a fragment matches when all its grams are in the code
ID_LIMIT = 10**12  # browse_key packs (stage rank, id) into one sortable integer
WRITER_HEAP = 64_000_000
# Buckets gathered per segment and returned per facet column: above any real number of its values
# (tiers x cities; chain groups), so counts are exact (the facet size cuts afterwards).
FACET_SEGMENT_SIZE = 100_000
# Answers kept per process while the index is unchanged (see ResultCache): a few hundred searches of
# ~10 KB each (20 hits with highlights, facets).
RESULT_CACHE_SIZE = 256
IDS_WINDOW = 10_000  # ids a consistency check reads per query (EmbeddedBackend.ids_between)
SCORED_FETCH = 256  # hits a ranked page fetches at least (see EmbeddedBackend._scored_page)
_REGEX_META = set("\\.+*?()|[]{}^$#&-~")
# What may follow a pinyin prefix in a pinyin key (search.text._join keeps ASCII letters and digits
# of the lower-cased name). A prefix regex ending in ".*" takes 0.35 ms to compile (any Unicode
# character), this one 0.02 ms, and a search builds two.
PINYIN_KEY_TAIL = "[a-z0-9]*"


def _regex_literal(text: str) -> str:
    return "".join("\\" + c if c in _REGEX_META else c for c in text)


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _grams(code: str) -> list[str]:
    """Distinct USCC_GRAM-character substrings: a term lookup per gram instead of a regex that
    walks every code in the index (measured 2.6 ms per query at 5,000 firms, growing linearly)."""
    return list(dict.fromkeys(code[i:i + USCC_GRAM] for i in range(len(code) - USCC_GRAM + 1)))


def _rank_score(raw: float) -> float:
    """The score hits are ranked (and paged) by: tantivy's f32 score cut to 5 significant digits.
    Equal documents in different segments score a few ulps apart (1,000,000 synthetic firms:
    18.664350 in some segments, 18.664349 in others), which would order them by segment instead of
    by id. A group of scores straddling a rounding boundary splits in two, consistently; real
    relevance differences are far larger than 1e-4."""
    return float(f"{raw:.4e}")


def _chain_columns(chains: Iterable[str]) -> tuple[str, str]:
    """``f_chains_a`` and ``f_chains_b`` of a firm: its first top-level chain (by code) with its
    sub-chains, and every other chain; NO_VALUE for none."""
    ordered = sorted(set(chains), key=lambda code: (code.split(".")[0], code))
    if not ordered:
        return NO_VALUE, NO_VALUE
    top = ordered[0].split(".")[0]
    first = [code for code in ordered if code.split(".")[0] == top]
    rest = [code for code in ordered if code.split(".")[0] != top]
    return CHAIN_SEPARATOR.join(first), CHAIN_SEPARATOR.join(rest) or NO_VALUE


def _split_counts(facet: str, columns_counts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """A facet's firm counts from the value counts of its columns (see FACET_COLUMNS)."""
    counts: dict[str, int] = {}
    for column_counts in columns_counts:
        for value, count in column_counts.items():
            for code in _value_codes(facet, value):
                counts[code] = counts.get(code, 0) + count
    return counts


@functools.lru_cache(maxsize=16384)
def _value_codes(facet: str, value: str) -> tuple[str, ...]:
    """The codes of ``facet`` a facet column value holds (cached: a column has a few hundred values,
    each split once per facet and search otherwise)."""
    if value == NO_VALUE:
        return ()
    if facet == "chain":  # a firm's chains are distinct: it adds one to each of them
        codes = value.split(CHAIN_SEPARATOR)
    else:
        codes = [value.split(SEPARATOR)[LADDER_CITY[facet]]]
    return tuple(code for code in codes if code and code != NO_VALUE)


def _tokens(text: str) -> tuple[str, ...]:
    """A text's ``terms``, as a tuple so that the repeated ones can be cached."""
    return tuple(terms(text))


# Text fields whose values repeat across firms (region names, product and technology lists):
# tokenised once per process. 200,000 registry firms carry 119 distinct region names, 7,341 product
# texts and 23,596 technology texts; names, former names (23,860 of 23,926) and descriptions are
# nearly all distinct, so caching them only grows memory. The cache is small enough to be full by
# 50,000 firms (~25 MB, so a build's memory does not grow with the registry; 65,536 entries grew it
# 31 MB from 50,000 to 200,000 firms) and still answers ~90 % of lookups (a miss costs ~5 µs).
REPEATED_TEXT_FIELDS = frozenset({"main_products", "technologies", "region_names"})
TOKEN_CACHE_SIZE = 16_384
_repeated_tokens = functools.lru_cache(maxsize=TOKEN_CACHE_SIZE)(_tokens)


def document_fields(firm: Mapping) -> tuple[int, int, bytes, list[tuple[str, str]]]:
    """What tantivy receives for one firm — id, browse key, stored source, (field, text) pairs — as
    plain values, so ``rebuild`` can compute them in worker processes (pinyin and tokenising are
    ~90 % of a build and hold the GIL)."""
    data = prepare_firm(firm)
    if not 0 <= data["id"] < ID_LIMIT:
        raise ValueError(f"firm id {data['id']} is out of range for the embedded index")
    browse_key = data["stage_rank"] * ID_LIMIT + (ID_LIMIT - 1 - data["id"])
    src = json.dumps({name: data[name] for name in HIGHLIGHT_FIELDS}, ensure_ascii=False).encode()
    texts, every_token = [], {}
    for name in TEXT_FIELDS:
        tokens_of = _repeated_tokens if name in REPEATED_TEXT_FIELDS else _tokens
        for value in _listed(data[name]):
            tokens = tokens_of(value)
            if tokens:
                texts.append((f"t_{name}", " ".join(tokens)))
                every_token.update(dict.fromkeys(tokens))
    if every_token:
        texts.append((ALL_TEXT, " ".join(every_token)))
    data["uscc_grams"] = _grams(data["uscc"])
    if any(SEPARATOR in code or code == NO_VALUE for code in (data["stage"], data["tier"])):
        raise ValueError(f"firm {data['id']}: stage {data['stage']!r} / tier {data['tier']!r} may not contain "
                         f"{SEPARATOR!r} or be {NO_VALUE!r} (the embedded index's facet column)")
    data["f_ladder_city"] = SEPARATOR.join((data["stage"], data["tier"], data["region_city"] or NO_VALUE))
    data["f_chains_a"], data["f_chains_b"] = _chain_columns(data["chains"])
    data["rank_key"] = str(data["stage_rank"])  # the stage ranks present, for browsing
    for name in KEYWORD_FIELDS:
        texts += [(name, value) for value in _listed(data[name]) if value]
    return data["id"], browse_key, src, texts


def _document(fields: tuple[int, int, bytes, list[tuple[str, str]]]) -> tantivy.Document:
    firm_id, browse_key, src, texts = fields
    doc = tantivy.Document()
    doc.add_integer("id", firm_id)
    doc.add_integer("browse_key", browse_key)
    doc.add_bytes("src", src)
    for name, text in texts:
        doc.add_text(name, text)
    return doc


@contextlib.contextmanager
def prepared_documents(docs: Iterable[Mapping], chunk_size: int = 500, workers: int = 1):
    """``document_fields`` of each doc, in order. ``workers`` > 1 computes them in that many spawned
    processes (not forked: tantivy's threads may be running), in batches of at most ``chunk_size``
    (and PIPELINE_BATCH) docs, all pulled from ``docs`` in this thread (it may be a database cursor)."""
    if workers > 1:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            yield _pipelined(pool, docs, max(min(chunk_size, PIPELINE_BATCH), 64 * workers), BATCHES_AHEAD)
    else:
        yield map(document_fields, docs)


# Batches handed to the workers before the oldest one's documents are taken back: while this
# process adds a batch to the index and reads the next from the database, the workers prepare the
# ones after it (one batch at a time left the workers idle during every read). Memory: these
# batches' documents (a few KB of Python objects a firm), whatever the number of firms.
PIPELINE_BATCH = 1000
BATCHES_AHEAD = 3


def _pipelined(pool, docs: Iterable[Mapping], size: int, ahead: int) -> Iterator[tuple]:
    pending: collections.deque = collections.deque()
    for batch in _batches(docs, size):
        pending.append(pool.map_async(document_fields, batch, chunksize=64))
        if len(pending) > ahead:
            yield from pending.popleft().get()
    while pending:
        yield from pending.popleft().get()


def _observed(prepared: Iterable[tuple], observe: Callable[[tuple], None]) -> Iterator[tuple]:
    for fields in prepared:
        observe(fields)
        yield fields


def _batches(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


# glibc's mallopt parameters (malloc.h) and the value both start at.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
ALLOCATION_THRESHOLD = 128 * 1024


def fix_allocation_thresholds() -> bool:
    """Keep glibc's mmap and trim thresholds at 128 KB for the rest of this process (True if set).

    A build's writer fills a 1 MB-page arena up to WRITER_HEAP, writes a segment, frees the arena and
    starts again. glibc raises its mmap threshold to the size of each large block freed, so after the
    first segment the pages come from the heap instead of mmap, and glibc gives the heap back only
    from its top (200,000 firms: 291 MB private at the peak, 278 MB with the thresholds fixed;
    docs/search.md). Fixed thresholds return every large block to the system when freed. Other C
    libraries: nothing to do.

    Called by the build commands (``search_reindex``, so ``seed_demo``), whose process ends with the
    build, not by ``rebuild``: the setting lasts for the whole process, and the query bench, which
    searches in the process that built, ran ~20 % slower with it (the cause was not isolated).
    ``malloc_trim`` every 5,000 documents instead, which leaves the process as it was, kept less:
    286 MB private at 200,000 firms."""
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, ALLOCATION_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, ALLOCATION_THRESHOLD))


class ResultCache:
    """What a search computed, reused while the index is unchanged.

    A search's total, facets and ranked page are a pure function of the committed index and the
    request, so they are kept per searcher: ``EmbeddedBackend._searcher`` empties the cache
    whenever it loads a newer commit (this process's or another's). Two entries per search: the
    whole answer per request (a repeated page) and the total + facets per search (every page of
    it: paging pays only for its ranking). Least recently used entries go first; thread-safe."""

    def __init__(self, size: int = RESULT_CACHE_SIZE):
        self.size = size
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    builder.add_integer_field("browse_key", fast=True)
    builder.add_bytes_field("src", stored=True)  # JSON of what hits and highlights need
    for name in TEXT_FIELDS:
        builder.add_text_field(f"t_{name}", tokenizer_name="whitespace", index_option="position")
    builder.add_text_field(ALL_TEXT, tokenizer_name="whitespace", index_option="basic")
    for name in KEYWORD_FIELDS:
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic",
                               fast=name.startswith("f_"))
    return builder.build()


class EmbeddedBackend(SearchBackend):
    name = "embedded"

    def __init__(self, path: str | Path, vocabulary: Vocabulary | Callable[[], Vocabulary] | None = None,
                 lock: Callable[[], ContextManager] | None = None):
        super().__init__(vocabulary)
        self.path = Path(path) / f"firms-v{SCHEMA_VERSION}"
        self.path.mkdir(parents=True, exist_ok=True)
        self.schema = build_schema()
        self._index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        self._lock = lock or (lambda: FileLock(self.path.parent / f".{self.path.name}.write.lock"))
        self._cached_searcher = None  # (meta.json stamp, Searcher, generation)
        self._generation = itertools.count()
        self.results = ResultCache()  # emptied with every new searcher

    # Writing -------------------------------------------------------------------------------
    def _write(self, work) -> int:
        """Run ``work(writer)`` under the write lock and commit it (or roll it back)."""
        with self._lock():
            writer = self._index.writer(heap_size=WRITER_HEAP, num_threads=1)
            try:
                written = work(writer)
                writer.commit()
                self.results.clear()  # the next search reloads anyway; never serve the old answer
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()
        return written

    def index(self, docs: Iterable[Mapping]) -> int:
        documents = [_document(document_fields(doc)) for doc in docs]  # prepare (and fail) before locking

        def work(writer):
            for document in documents:
                writer.delete_documents_by_term("id", document.get_first("id"))
                writer.add_document(document)
            return len(documents)

        return self._write(work) if documents else 0

    def delete(self, ids: Iterable[int]) -> int:
        ids = [int(i) for i in ids]

        def work(writer):
            for firm_id in ids:
                writer.delete_documents_by_term("id", firm_id)
            return len(ids)

        return self._write(work) if ids else 0

    def rebuild(self, docs: Iterable[Mapping], chunk_size: int = 500, workers: int = 1,
                observe: Callable[[tuple], None] | None = None) -> int:
        """Delete everything and add ``docs`` in one commit. ``workers`` > 1 prepares documents in
        that many spawned processes (see ``prepared_documents``). ``observe``, if given, sees each
        prepared document (``document_fields``) in this process before it is added: the benchmark
        checks the index against a scan of exactly what was indexed."""
        with prepared_documents(docs, chunk_size, workers) as prepared:
            return self._rebuild(prepared if observe is None else _observed(prepared, observe))

    def _rebuild(self, prepared: Iterable[tuple]) -> int:
        def work(writer):
            writer.delete_all_documents()
            written = 0
            for fields in prepared:
                writer.add_document(_document(fields))
                written += 1
            return written

        return self._write(work)

    def count(self) -> int:
        return self._searcher().num_docs

    def ids_between(self, low: int, high: int | None) -> list[int]:
        # Ordered by the id column, a window at a time from one searcher: a commit meanwhile
        # changes nothing here.
        searcher, ids, lowest, include_lower = self._searcher(), [], low, True
        while True:
            bounds = Query.range_query(self.schema, "id", tantivy.FieldType.Integer, lowest, high,
                                       include_lower=include_lower)
            found = searcher.search(bounds, limit=IDS_WINDOW, count=False, order_by_field="id", order=Order.Asc).hits
            ids += [firm_id for firm_id, _ in found]
            if len(found) < IDS_WINDOW:
                return ids
            lowest, include_lower = ids[-1], False

    # Reading -------------------------------------------------------------------------------
    def _searcher(self) -> tantivy.Searcher:
        return self._current()[1]

    def _current(self) -> tuple[int, tantivy.Searcher]:
        """The searcher of the latest commit, by this process or another, and its generation (a
        number counting the searchers this backend loaded). Every commit replaces meta.json (a new
        file renamed over the old), so its inode and mtime say when to reload; otherwise the
        searcher is reused."""
        try:
            meta = (self.path / "meta.json").stat()
            stamp = (meta.st_ino, meta.st_mtime_ns, meta.st_size)
        except FileNotFoundError:
            stamp = None
        cached = self._cached_searcher
        if cached is None or cached[0] != stamp:
            self._index.reload()
            self.results.clear()
            cached = self._cached_searcher = (stamp, self._index.searcher(), next(self._generation))
        return cached[2], cached[1]

    def _terms(self, field: str, codes) -> Query:
        return Query.term_set_query(self.schema, field, list(codes))

    def _all(self, *queries: Query) -> Query:
        """Documents matching every query; only the first one scores."""
        clauses = [(Occur.Must, queries[0])]
        clauses += [(Occur.Must, Query.const_score_query(q, 0.0)) for q in queries[1:]]
        return Query.boolean_query(clauses)

    def _scope(self, allowed_region_codes) -> Query | None:
        if allowed_region_codes is None:
            return None
        if not allowed_region_codes:
            return Query.empty_query()
        return self._terms("region_path", allowed_region_codes)

    def _text_match(self, query: AnalyzedQuery, weights: Mapping[str, float]) -> Query | None:
        """Every term in some text field (cross-field AND), scored per term by the sum over the
        fields of ``weights`` holding it of weight x BM25 (FIELD_TIE_BREAKER 1.0).

        Which firms match is decided on ``t_all`` alone (an unscored intersection of one posting
        list per term, led by the rarest); the (term, field) clauses are optional beside it, so
        tantivy scores only its matches, through one union over those fields' postings — and
        none at all when nothing is scored (counts, facets use ``_every_term`` alone). Checked
        against the per-field conjunction by test_all_text_matches_like_the_fields."""
        if not query.terms:
            return None
        per_field = [Query.boost_query(Query.term_query(self.schema, f"t_{name}", term), weight)
                     for term in query.terms for name, weight in weights.items()]
        return Query.boolean_query([(Occur.Must, Query.const_score_query(self._every_term(query), 0.0)),
                                    *((Occur.Should, q) for q in per_field)])

    def _every_term(self, query: AnalyzedQuery) -> Query:
        """Firms with every query term in some text field: one posting list per term, or for an
        isolated character the union of its terms' (search.text.isolated_regex)."""
        return Query.boolean_query(
            [(Occur.Must, Query.regex_query(self.schema, ALL_TEXT, isolated_regex(term)) if term in query.isolated
              else Query.term_query(self.schema, ALL_TEXT, term)) for term in query.terms])

    def _match(self, query: AnalyzedQuery, searcher: tantivy.Searcher | None = None,
               scored: bool = True) -> Query:
        """Any of the matchers described in search.backends.base, summed for the score.

        With ``searcher``, a whole-name clause whose key no firm has is left out, and a single
        clause is the query itself: tantivy runs a disjunction as a union that buffers every
        clause's postings window by window. ``scored=False`` (counting, facets) decides text
        matches on ``t_all`` alone, without the per-field clauses that only score: together, the
        facet pass over "碳化硅 功率器件" at 200,000 firms took 1.35 instead of 2.0 ms."""
        schema = self.schema
        clauses = []
        if query.terms:
            clauses.append(self._text_match(query, TEXT_WEIGHTS) if scored else self._every_term(query))
        for field, key, boost in (("names_exact", query.exact, EXACT_BOOST),
                                  ("fingerprints", query.fingerprint, FINGERPRINT_BOOST)):
            if key and (searcher is None or searcher.doc_freq(field, key)):
                clauses.append(Query.boost_query(Query.term_query(schema, field, key), boost))
        if query.pinyin:
            for name in ("pinyin_full", "pinyin_initials"):
                clauses.append(Query.boost_query(
                    Query.regex_query(schema, name, query.pinyin + PINYIN_KEY_TAIL), PINYIN_BOOST))
        if query.uscc:
            if len(query.uscc) == 18:
                clauses.append(Query.boost_query(
                    Query.term_query(schema, "uscc", query.uscc), USCC_BOOST))
            grams = [Query.term_query(schema, "uscc_grams", gram) for gram in _grams(query.uscc)]
            clauses.append(Query.const_score_query(
                Query.boolean_query([(Occur.Must, q) for q in grams]), USCC_FRAGMENT_BOOST))
        if len(clauses) == 1:
            return clauses[0]
        return Query.boolean_query([(Occur.Should, q) for q in clauses]) if clauses else Query.empty_query()

    def _search(self, request: SearchRequest, query: AnalyzedQuery, cursor: Cursor | None) -> SearchResult:
        try:
            return self._run(request, query, cursor)
        except (ValueError, OSError) as error:  # tantivy reports its failures as these
            log.exception("embedded search failed: %s", error)
            raise SearchUnavailable() from error

    def _run(self, request, query, cursor) -> SearchResult:
        generation, searcher = self._current()  # first: a newer commit empties the cache
        # The generation is in the key: a search still running on an older searcher while another
        # thread loads a newer one must not leave its answer behind for the newer one.
        search_key = (generation, query.text, tuple(sorted((k, tuple(sorted(v))) for k, v in request.filters.items())),
                      None if request.allowed_region_codes is None else tuple(sorted(request.allowed_region_codes)))
        page_key = ("page", search_key, request.first, request.after, request.facets, request.facet_size)
        answer = self.results.get(page_key)
        if answer is not None:
            return answer
        scored = not query.is_empty
        base = [self._match(query, searcher) if scored else Query.all_query()]
        scope = self._scope(request.allowed_region_codes)
        if scope is not None:
            base.append(scope)
        filters = {name: self._terms(FILTER_FIELDS[name], codes) for name, codes in request.filters.items()}
        parts = [*base, *filters.values()]
        if scored:  # counting needs no scores
            base[0] = self._match(query, searcher, scored=False)
        size = page_size(request, cursor)
        # The total and the facets belong to the search, not the page: kept for its later pages. The
        # facet pass counts the total too when one of its groups applies every filter, so the page's
        # ranking pass needs no count of its own.
        summary_key = ("summary", search_key, request.facets, request.facet_size)
        summary = self.results.get(summary_key)
        # Browsing everything needs no count (the number of documents); counting 1,000,000 ids is 4 ms.
        count = scored or len(parts) > 1
        total, facets = summary if summary is not None else self._facets(searcher, request, base, filters, count)
        if scored:
            counted, rows = self._scored_page(searcher, parts, cursor, size, total)
        else:
            counted, rows = self._browse_page(searcher, parts, cursor, size, total)
        total = counted if total is None else total
        if summary is None:
            self.results.put(summary_key, (total, facets))
        answer = SearchResult(
            total=total,
            hits=[self._hit(searcher, row, query, scored) for row in rows],
            facets=facets,
            next_cursor=next_cursor(request, cursor, total, len(rows), rows[-1][:2] if rows else None),
        )
        self.results.put(page_key, answer)
        return answer

    def _browse_page(self, searcher, parts, cursor, size, total: int | None) -> tuple[int, list[tuple]]:
        """Browse order is the browse key (stage rank, then id), unique per firm, so the cursor is
        a bound on it. Ordering every match by the key is a pass over all of them (19 ms for
        1,000,000 firms), so the page is filled one stage rank at a time from the top — ranks
        present are the ``rank_key`` terms, each rank's firms its posting list — and tantivy
        orders only that rank's firms."""
        if total is None:
            total = (searcher.num_docs if len(parts) == 1  # everything: nothing to count
                     else searcher.search(self._all(*parts), limit=1, count=True).count)
        rows: list[tuple] = []
        upper = int(cursor.sort[0]) if cursor is not None else None  # exclusive
        ranks = sorted((int(term) for term, _ in searcher.terms_with_prefix("rank_key", "")), reverse=True)
        for rank in ranks:
            if len(rows) >= size or not total:
                break
            low, high = rank * ID_LIMIT, (rank + 1) * ID_LIMIT
            # The rank's firms by their rank_key posting list: a range on the browse_key column
            # scans the whole column (200,000 firms: 0.38 ms against 0.05 ms for the top rank).
            band = [Query.term_query(self.schema, "rank_key", str(rank))]
            if upper is not None:
                if upper <= low:
                    continue
                if upper < high:  # the cursor lies inside this rank
                    band.append(Query.range_query(self.schema, "browse_key", tantivy.FieldType.Integer, low, upper,
                                                  include_upper=False))
            found = searcher.search(self._all(*parts, *band), limit=size - len(rows), count=False,
                                    order_by_field="browse_key", order=Order.Desc).hits
            ids = searcher.fast_field_values("id", [address for _, address in found])
            rows += [(key, firm_id, address) for (key, address), firm_id in zip(found, ids)]
        return total, rows

    def _scored_page(self, searcher, parts, cursor, size, total: int | None = None) -> tuple[int, list[tuple]]:
        """The next ``size`` hits in (score desc, id asc) order after the cursor, search_after style,
        and the number of matches (counted here unless the caller knows it as ``total``).

        tantivy ranks by score alone (ties by segment order), so we take its top ``limit``: every
        hit scoring above the lowest fetched score is in it and sorts exactly. When the page ends
        inside the group tied at that lowest score, the group is walked in id order (``_tied``)
        instead of fetching all of it: synthetic firms share product texts, so "碳化硅 功率器件"
        ties 125,000 of 1,000,000 firms. The fetch grows with the cursor position (capped at
        MAX_RESULT_WINDOW), never with the size of a tie group.

        A small tie group is fetched whole instead: the first fetch is at least SCORED_FETCH hits
        (scoring every match costs the same for 21 or 256 of them), and when fewer than half of a
        fetch tie at its lowest score, one fetch four times larger usually gets past the group
        (registry texts vary, so ties are small: walking one by id through 16,000 matches of
        "碳化硅 功率器件" at 1,000,000 firms cost 50 ms). A large group is walked by id.
        """
        query = self._all(*parts)
        after = (-cursor.sort[0], cursor.sort[1]) if cursor else None
        limit = max((cursor.position if cursor else 0) + size + 1, SCORED_FETCH)
        refetched = False
        while True:
            result = searcher.search(query, limit=limit, count=total is None)
            total, found = result.count if total is None else total, result.hits
            if not size or not found:
                return total, []
            ids = searcher.fast_field_values("id", [address for _, address in found])
            rows = sorted(((_rank_score(raw), firm_id, address) for (raw, address), firm_id in zip(found, ids)),
                          key=lambda row: (-row[0], row[1]))
            if after is not None:
                rows = [row for row in rows if (-row[0], row[1]) > after]
            if len(found) < limit:  # everything that matches was fetched
                return total, rows[:size]
            lowest = _rank_score(found[-1][0])
            above = [row for row in rows if row[0] > lowest]
            if len(above) >= size:
                return total, above[:size]
            if after is None or -after[0] >= lowest:
                tied = sum(1 for raw, _ in found if _rank_score(raw) == lowest)
                if not refetched and 2 * tied < len(found):  # a small group: fetch past it by score
                    limit, refetched = limit * 4, True
                    continue
                # The page ends in the tie group at ``lowest``; after the cursor's id if it is in it.
                start = after[1] if after is not None and -after[0] == lowest else None
                return total, above + self._tied(searcher, parts, lowest, start, size - len(above), total)
            limit *= 4  # the cursor lies below this fetch (hits arrived above it since): fetch more

    def _tied(self, searcher, parts, score, after_id, size, matches: int) -> list[tuple]:
        """The first ``size`` hits whose rank score is ``score``, with id above ``after_id``, by id.

        Walks the matches in id order in windows (tantivy orders by the id fast field) and
        rescores each window: its ids as a required constant-zero clause with the text match as an
        optional one, so tantivy visits only the window's documents (~1 ms at 1,000,000 firms,
        against a full pass when the match leads). Windows grow fourfold, so a sparse tie group
        costs a few queries, not one per hit. The first window looks only at the ids where, at the
        density of all ``matches``, about twice its size of matches lie: ordering every match by
        id is a pass over all of them (125,000 for "碳化硅 功率器件" at 1,000,000 firms), and a
        page of a large tie group is usually found among its first ids. Later windows are unbounded."""
        rows, window = [], max(4 * size, 256)
        span = 2 * window * max(1, searcher.num_docs // max(matches, 1))  # ids, not documents
        while len(rows) < size:
            start = -1 if after_id is None else int(after_id)  # ids start at 0
            bounds = [Query.range_query(self.schema, "id", tantivy.FieldType.Integer, start,
                                        start + span if span else None, include_lower=False)]
            by_id = searcher.search(self._all(*parts, *bounds), limit=window, count=False,
                                    order_by_field="id", order=Order.Asc).hits
            if by_id:
                window_ids = [firm_id for firm_id, _ in by_id]
                # One term query per id: term_set_query on ``id`` walks the id dictionary (8 ms).
                window_docs = Query.boolean_query([(Occur.Should, Query.term_query(self.schema, "id", i))
                                                   for i in window_ids])
                rescore = Query.boolean_query([
                    (Occur.Must, Query.const_score_query(window_docs, 0.0)),
                    (Occur.Should, parts[0]),  # the match: the only scoring part
                ])
                scored = searcher.search(rescore, limit=len(window_ids), count=False).hits
                ids = searcher.fast_field_values("id", [address for _, address in scored])
                rows += [(rank, firm_id, address) for (raw, address), firm_id in zip(scored, ids)
                         if (rank := _rank_score(raw)) == score]
            if len(by_id) == window:
                after_id = by_id[-1][0]
            elif span:
                after_id = start + span  # this id range is done; the rest of the ids from here
            else:
                break  # every match was walked
            span, window = None, window * 4
        return sorted(rows, key=lambda row: row[1])[:size]

    def _hit(self, searcher, row, query: AnalyzedQuery, scored: bool) -> Hit:
        key, firm_id, address = row
        highlights = {}
        if query.terms:
            src = json.loads(bytes(searcher.doc(address).get_first("src")))
            for name in HIGHLIGHT_FIELDS:
                fragment_chars = DESCRIPTION_FRAGMENT_CHARS if name == "description" else None
                fragments = [f for value in _listed(src[name]) for f in highlight(value, query.terms, fragment_chars)]
                if fragments:
                    highlights[name] = fragments
        return Hit(id=firm_id, score=float(key) if scored else None, highlights=highlights)

    def _facets(self, searcher, request, base, filters, count: bool = True) -> tuple[int | None, dict]:
        """Each facet counted under every filter but its own; facets sharing filters share a call.
        Also, if ``count``, the number of matches when a group applies every filter (a facet is
        asked for that is not filtered on), else None."""
        groups: dict[tuple[str, ...], list[str]] = {}
        for facet in request.facets:
            groups.setdefault(tuple(f for f in filters if f != facet), []).append(facet)
        facets, total = {}, None
        for applied, names in groups.items():
            columns = list(dict.fromkeys(column for name in names for column in FACET_COLUMNS[name]))
            aggs = {column: {"terms": {"field": column, "size": FACET_SEGMENT_SIZE,
                                       "segment_size": FACET_SEGMENT_SIZE}} for column in columns}
            result = searcher.aggregate(self._all(*base, *(filters[f] for f in applied)), aggs)
            counted = {column: {b["key"]: b["doc_count"] for b in result.get(column, {}).get("buckets", [])}
                       for column in columns}
            if any(len(values) >= FACET_SEGMENT_SIZE for values in counted.values()):
                raise ValueError(f"a facet column has {FACET_SEGMENT_SIZE}+ values: counts would be cut")
            if count and len(applied) == len(filters):
                # Every firm has one value in each (dense) column: its counts sum to the total.
                total = sum(counted[columns[0]].values())
            for name in names:
                facets[name] = sorted_buckets(_split_counts(name, (counted[c] for c in FACET_COLUMNS[name])),
                                              request.facet_size)
        return total, facets

    def _suggest(self, query: AnalyzedQuery, limit: int, allowed_region_codes) -> list[Suggestion]:
        schema = self.schema
        clauses = []
        text = self._text_match(query, {"name": 3.0, "former_names": 1.0})
        if text is not None:
            clauses.append(text)
        if query.exact:
            clauses.append(Query.boost_query(Query.regex_query(
                schema, "names_exact", _regex_literal(query.exact) + ".*"), 20.0))
        if query.fingerprint:
            clauses.append(Query.boost_query(Query.regex_query(
                schema, "fingerprints", _regex_literal(query.fingerprint) + ".*"), 10.0))
        if query.pinyin:
            for name in ("pinyin_full", "pinyin_initials"):
                clauses.append(Query.boost_query(
                    Query.regex_query(schema, name, query.pinyin + PINYIN_KEY_TAIL), 5.0))
        match = Query.boolean_query([(Occur.Should, q) for q in clauses])
        scope = self._scope(allowed_region_codes)
        searcher = self._searcher()
        try:
            found = searcher.search(match if scope is None else self._all(match, scope), limit=limit).hits
        except (ValueError, OSError) as error:
            log.exception("embedded suggest failed: %s", error)
            raise SearchUnavailable() from error
        ids = searcher.fast_field_values("id", [address for _, address in found])
        return [
            Suggestion(id=firm_id, name=json.loads(bytes(searcher.doc(address).get_first("src")))["name"])
            for (_, address), firm_id in zip(found, ids)
        ]
