"""The one search interface every backend implements, and the rules they share.

Backends differ in how they run a search, never in what a search means. So this module owns the
request (and its validation), the result shapes, the opaque cursor and the query analysis entry
point; a backend only implements ``_search``/``_suggest`` and the write side.

What a query means (both backends, pinned by tests/search/test_contract.py): a firm matches when
* every query term (Han bigram or Latin/digit word) occurs in at least one of its text fields
  (name, former names, products, technologies, description, region names) — cross-field AND;
* or its name or a former name equals the query, exactly or by fingerprint;
* or the query, when only Latin letters, is a prefix of the pinyin or pinyin initials of a name;
* or the query, when 6+ USCC characters, is part of its USCC.
Exact and fingerprint matches are boosted far above text relevance so they rank first.
Filters and facets follow the Aleph/yente multi-select rule: each facet is counted with every
filter except its own; the caller's region scope applies to hits and every count.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from search.text import AnalyzedQuery, analyze_query


class SearchError(ValueError):
    """A request the caller can fix; the message names the argument and is safe to show users."""


class SearchUnavailable(RuntimeError):
    """The engine failed (down, timed out, rejected the request); details are logged, not shown."""

    def __init__(self, message: str = "Search is temporarily unavailable; please try again later."):
        super().__init__(message)


# The default ladder until the registry supplies its own (the ladder is data: see Vocabulary).
STAGES = ("tech_sme", "hnte", "gazelle", "srdi", "unicorn")  # 科技型中小企业 … 独角兽, lowest first
TIERS = (
    "tech_sme", "tech_innovative_sme",  # 科技型中小企业, 科技和创新型中小企业
    "hnte",  # 高新技术企业
    "gazelle_municipal", "gazelle_provincial",  # 市级/省级瞪羚
    "srdi_innovative", "srdi_sme", "srdi_little_giant",  # 创新型中小企业, 专精特新中小企业, 小巨人
    "unicorn_seed", "unicorn_potential", "unicorn",  # 种子/潜在独角兽, 独角兽
)
FILTERS = ("stage", "tier", "region", "chain")
FACETS = FILTERS  # every filter is a multi-select facet; "region" buckets are city-level codes

MAX_QUERY_CHARS = 200
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_RESULT_WINDOW = 10_000  # like Elasticsearch's index.max_result_window
DEFAULT_FACET_SIZE = 50
MAX_FACET_SIZE = 200
# Text relevance, the same in both backends (issue 14). A firm matches when every query term is in
# some of the six text fields (an isolated character inside some term: search.text.AnalyzedQuery).
# The terms score only in the fields of search.source.TEXT_WEIGHTS: per
# term, the sum over those fields of its weight x its BM25 there (FIELD_TIE_BREAKER 1.0,
# Elasticsearch's multi_match knob). The description and the region names decide matches but do
# not rank them: a description quoting another firm's name or products gains nothing by it, and a
# place is a filter's job. Until issue 14 all six fields ranked (the best field per term plus 0.1
# of the others), and at 1,000,000 firms reading every field's postings for it was most of a broad
# query's time (docs/search.md, "Issue 14: the two broad text queries").
FIELD_TIE_BREAKER = 1.0

_REGION_CODE = re.compile(r"^\d{6}$")
_CHAIN_CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,60}$")
_CODE_FORMS = {"region": _REGION_CODE, "chain": _CHAIN_CODE}


@dataclass(frozen=True)
class Vocabulary:
    """Codes a filter may use. None means any well-formed code (regions: 6 digits).

    The default knows the national ladder; once the registry exists, phase 2 passes a vocabulary
    built from its Stage/Tier/Region/IndustryChain tables, so a region's own rung (e.g. 雏鹰
    ``eaglet``) is accepted without a code change.
    """

    stage: frozenset[str] | None = frozenset(STAGES)
    tier: frozenset[str] | None = frozenset(TIERS)
    region: frozenset[str] | None = None
    chain: frozenset[str] | None = None

    def check(self, name: str, codes: Iterable[str]) -> None:
        known, form = getattr(self, name), _CODE_FORMS.get(name)
        for code in codes:
            if not isinstance(code, str):
                raise SearchError(f"{name}: codes must be strings, got {code!r}")
            if (form and not form.match(code)) or (known is not None and code not in known):
                raise SearchError(f"{name}: unknown code {code!r}")


def _codes(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(dict.fromkeys(value))


@dataclass(frozen=True)
class SearchRequest:
    """One search: text, facet filters (codes OR-ed within a filter, AND-ed across), the caller's
    region scope (None = everything, () = nothing), paging and the facets wanted."""

    query: str = ""
    stage: tuple[str, ...] = ()
    tier: tuple[str, ...] = ()
    region: tuple[str, ...] = ()  # matches every firm whose region_path contains the code
    chain: tuple[str, ...] = ()
    allowed_region_codes: tuple[str, ...] | None = None
    first: int = DEFAULT_PAGE_SIZE
    after: str | None = None
    facets: tuple[str, ...] = ()
    facet_size: int = DEFAULT_FACET_SIZE

    def __post_init__(self):
        for name in FILTERS + ("facets",):
            object.__setattr__(self, name, _codes(getattr(self, name)))
        if self.allowed_region_codes is not None:
            object.__setattr__(self, "allowed_region_codes", _codes(self.allowed_region_codes))
        if not isinstance(self.query, str):
            raise SearchError("query: must be a string")
        if len(self.query.strip()) > MAX_QUERY_CHARS:
            raise SearchError(
                f"query: at most {MAX_QUERY_CHARS} characters (got {len(self.query.strip())})"
            )
        for name, limit in (("first", MAX_PAGE_SIZE), ("facet_size", MAX_FACET_SIZE)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
                raise SearchError(f"{name}: must be an integer from 0 to {limit} (got {value!r})")
        for name in self.facets:
            if name not in FACETS:
                raise SearchError(f"facets: unknown facet {name!r} (known: {', '.join(FACETS)})")

    @property
    def filters(self) -> dict[str, tuple[str, ...]]:
        """The facet filters that are set."""
        return {name: getattr(self, name) for name in FILTERS if getattr(self, name)}

    def validate(self, vocabulary: Vocabulary) -> None:
        for name, codes in self.filters.items():
            vocabulary.check(name, codes)
        if self.allowed_region_codes:
            for code in self.allowed_region_codes:
                if not isinstance(code, str) or not _REGION_CODE.match(code):
                    raise SearchError(f"allowed_region_codes: unknown code {code!r}")

    def identity(self) -> str:
        """What a cursor is bound to: the same search, whatever the page."""
        key = json.dumps(
            [analyze_query(self.query).text, {k: sorted(v) for k, v in self.filters.items()},
             None if self.allowed_region_codes is None else sorted(self.allowed_region_codes)],
            ensure_ascii=False, sort_keys=True,
        )
        return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Hit:
    id: int
    score: float | None  # None when browsing (no query to score against)
    highlights: dict[str, list[str]] = field(default_factory=dict)  # field -> HTML fragments


@dataclass(frozen=True)
class SearchResult:
    total: int  # exact number of matches (hits beyond MAX_RESULT_WINDOW are counted, not served)
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]  # facet -> [(code, count)], count desc then code
    next_cursor: str | None


@dataclass(frozen=True)
class Suggestion:
    id: int
    name: str


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: how many hits were served and the last hit's sort values
    (search_after style, so a page never repeats or skips a hit because of ties)."""

    position: int
    sort: tuple


def encode_cursor(request: SearchRequest, position: int, sort: Iterable) -> str:
    payload = json.dumps({"v": 1, "p": position, "s": list(sort), "h": request.identity()})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(request: SearchRequest) -> Cursor | None:
    if request.after is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(request.after + "=" * (-len(request.after) % 4))
        payload = json.loads(raw)
        cursor = Cursor(position=int(payload["p"]), sort=tuple(payload["s"]))
        identity = payload["h"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise SearchError("after: not a cursor returned by this search") from None
    if identity != request.identity():
        raise SearchError("after: the cursor belongs to a different search (query or filters changed)")
    if not 0 < cursor.position <= MAX_RESULT_WINDOW or len(cursor.sort) != 2:
        raise SearchError("after: not a cursor returned by this search")
    return cursor


def page_size(request: SearchRequest, cursor: Cursor | None) -> int:
    """How many hits this page may serve without going past MAX_RESULT_WINDOW."""
    return max(0, min(request.first, MAX_RESULT_WINDOW - (cursor.position if cursor else 0)))


def next_cursor(request: SearchRequest, cursor: Cursor | None, total: int,
                served: int, last_sort: Iterable | None) -> str | None:
    position = (cursor.position if cursor else 0) + served
    if served and position < min(total, MAX_RESULT_WINDOW):
        return encode_cursor(request, position, last_sort)
    return None


def sorted_buckets(counts: Mapping[str, int], size: int) -> list[tuple[str, int]]:
    """Facet buckets in one deterministic order for every backend: count desc, then code."""
    return sorted(((k, int(v)) for k, v in counts.items() if v), key=lambda kv: (-kv[1], kv[0]))[:size]


class SearchBackend(ABC):
    """Index firm documents (plain dicts, see search.source.prepare_firm) and search them."""

    name = "abstract"

    def __init__(self, vocabulary: Vocabulary | Callable[[], Vocabulary] | None = None):
        self._vocabulary = vocabulary or Vocabulary()

    @property
    def vocabulary(self) -> Vocabulary:
        vocabulary = self._vocabulary
        return vocabulary() if callable(vocabulary) else vocabulary

    # Reading.
    def search(self, request: SearchRequest) -> SearchResult:
        """Validate, analyse and run ``request``; bad input raises SearchError, never an engine error."""
        request.validate(self.vocabulary)
        return self._search(request, analyze_query(request.query), decode_cursor(request))

    def suggest(self, prefix: str, limit: int = 10,
                allowed_region_codes: Iterable[str] | None = None) -> list[Suggestion]:
        """Names completing ``prefix`` (by name, fingerprint or pinyin), best first, within scope."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_PAGE_SIZE:
            raise SearchError(f"limit: must be an integer from 0 to {MAX_PAGE_SIZE} (got {limit!r})")
        request = SearchRequest(query=prefix or "", first=limit, allowed_region_codes=allowed_region_codes)
        request.validate(self.vocabulary)
        query = analyze_query(request.query)
        if query.is_empty or not limit:
            return []
        return self._suggest(query, limit, request.allowed_region_codes)

    @abstractmethod
    def _search(self, request: SearchRequest, query: AnalyzedQuery, cursor: Cursor | None) -> SearchResult:
        ...

    @abstractmethod
    def _suggest(self, query: AnalyzedQuery, limit: int,
                 allowed_region_codes: tuple[str, ...] | None) -> list[Suggestion]:
        ...

    @abstractmethod
    def count(self) -> int:
        """Number of documents in the index readers see."""

    @abstractmethod
    def ids_between(self, low: int, high: int | None) -> list[int]:
        """The firm ids of the documents readers see with ``low <= id <= high`` (no upper bound when
        ``high`` is None), ascending: what search.consistency compares with the registry."""

    # Writing.
    @abstractmethod
    def index(self, docs: Iterable[Mapping]) -> int:
        """Add or replace documents by id; returns how many were written."""

    @abstractmethod
    def delete(self, ids: Iterable[int]) -> int:
        """Remove documents by id (unknown ids are ignored); returns how many ids were sent."""

    @abstractmethod
    def rebuild(self, docs: Iterable[Mapping], chunk_size: int = 500) -> int:
        """Replace the whole index with ``docs``; readers see the old index until it is done."""

    def clear(self) -> None:
        """Empty the index (a rebuild from nothing)."""
        self.rebuild(())

    def refresh(self) -> None:
        """Make every write so far visible to searches (a no-op where writes are visible at once)."""
