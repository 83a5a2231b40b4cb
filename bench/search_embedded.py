"""Benchmark: the embedded search backend vs a brute-force scan of the same rows, in one run.

    .venv/bin/python bench/search_embedded.py --firms 200000
    .venv/bin/python bench/search_embedded.py --firms 1000000

Builds a tantivy index of synthetic firms (search.benchmark's generator: real Jiangsu places, brand
words and industries), prints build time, index size and peak memory, then per query kind the
index's p50/p95 for a page of 20 hits with highlights and all four facets (goal p95 < 10 ms at
1,000,000), next to the baseline, labelled as what it is: a scan of every row (no index).

The backend keeps answers while the index is unchanged (search.backends.embedded.ResultCache), so
each kind is timed three ways, interleaved: "cold" opens a NEW searcher before every call, as the
first search after any commit does (the index reloaded, the answer cache empty, nothing of the new
searcher warm; the reload is inside the timed call) — the goal is judged on it; "same searcher"
only empties the answer cache (a search nobody asked since the last reload); "warm" repeats the
request (a reload of the page, a shared link, a popular query). Wall times and this process's CPU
times are printed: on a loaded shared machine the wall time includes waiting for a core, the CPU
time does not.

`--parts` (with `--index`) prints where a cold search's CPU goes, step by step, per kind.

`--from-db` indexes the registry of DATABASE_URL (search.indexing.firm_documents, as
`search_reindex` does) instead of synthetic firms. `--index DIR` keeps the index in DIR and reuses
it when it already holds as many firms (the build is then not timed; the checks below compare it
with the scan made while it was built, kept beside it, or else with the firms prepared again).

The build prints wall time, CPU seconds of this process and of the worker processes, and memory:
peak RSS, and the peak of its private (anonymous) and file-backed parts sampled every 0.2 s (the
index files tantivy maps while it merges count in RSS but are page cache, shared and reclaimable).

Before timing, each kind's results are checked, and any difference exits with status 1:
- the hit SET: every firm the index matches (its own match query, all hits) equals the firms a
  brute-force scan matches by the contract's rules (search.backends.base) — not just the count.
  The scan tests every prepared document (the tokens, name keys and pinyin the index received)
  in one pass as it is built, so it needs no copy of every firm in memory;
- the top-k: the served page and the next one (through its cursor) equal the scan's matches
  sorted by (score desc, id asc) — browsing: (stage rank desc, id asc) — so the page is the
  top 20 with a deterministic tiebreak, not any 20 of the tied hits.
"""

import argparse
import heapq
import itertools
import os
import pickle
import resource
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cultivar.settings")

import django  # noqa: E402

django.setup()

from tantivy import Query  # noqa: E402

from bench.common import MemorySampler, Table, Timing, machine, measure, percentile, same  # noqa: E402
from search.backends.base import SearchRequest  # noqa: E402
from search.backends.embedded import EmbeddedBackend, _rank_score, prepared_documents  # noqa: E402
from search.benchmark import QUERIES, synthetic_firms  # noqa: E402
from search.text import analyze_query, text_matches  # noqa: E402

FACETS = ("stage", "tier", "region", "chain")
PAGE = 20


class Scan:
    """A brute-force scan by the rules of search.backends.base, fed every prepared document
    (search.backends.embedded.document_fields: what the index received) once: a query matches a
    firm when every query term is among its text tokens, or a name key equals the query (exactly
    or by fingerprint), or a Latin-only query prefixes a pinyin key, or 6+ USCC characters are
    inside its code; an empty query matches every firm. Keeps only the matching ids per query, the
    40 highest browse keys (stage rank, then id) and the CPU time each query's test took."""

    def __init__(self, queries: dict[str, str]):
        self.queries = {kind: analyze_query(query) for kind, query in queries.items()}
        self.matches: dict[str, list[int]] = {kind: [] for kind in queries}
        self.seconds = dict.fromkeys(queries, 0.0)
        self.top_browse: list[tuple[int, int]] = []  # (browse key, id), a min-heap of the highest 40
        self.firms = 0
        self.spent = [0.0, 0.0]  # wall and CPU seconds inside add(): not the build's

    def add(self, fields) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self._add(fields)
        self.spent[0] += time.perf_counter() - wall
        self.spent[1] += time.process_time() - cpu

    def _add(self, fields) -> None:
        firm_id, browse_key, _, texts = fields
        self.firms += 1
        if len(self.top_browse) < 2 * PAGE:
            heapq.heappush(self.top_browse, (browse_key, firm_id))
        else:
            heapq.heappushpop(self.top_browse, (browse_key, firm_id))
        tokens, keys = set(), {}
        for name, text in texts:
            if name.startswith("t_"):
                tokens.update(text.split())
            else:
                keys.setdefault(name, []).append(text)
        exact, prints = keys.get("names_exact", ()), keys.get("fingerprints", ())
        pinyin = keys.get("pinyin_full", []) + keys.get("pinyin_initials", [])
        uscc = "".join(keys.get("uscc", ()))
        for kind, q in self.queries.items():
            started = time.process_time()
            if q.is_empty or (q.terms and text_matches(tokens, q)) or (q.exact and q.exact in exact) \
                    or (q.fingerprint and q.fingerprint in prints) \
                    or (q.pinyin and any(key.startswith(q.pinyin) for key in pinyin)) or (q.uscc and q.uscc in uscc):
                self.matches[kind].append(firm_id)
            self.seconds[kind] += time.process_time() - started

    def browse_order(self) -> list[int]:
        return [firm_id for _, firm_id in sorted(self.top_browse, reverse=True)]


def registry_firms(limit: int | None):
    from search.indexing import firm_documents

    return itertools.islice(firm_documents(chunk_size=5000), limit)


def queries_for(args) -> dict[str, str]:
    """The query kinds of search.benchmark.QUERIES; those taking a firm take it by position."""
    if args.from_db:
        from registry.models import Firm
        from search.indexing import firm_documents

        ids = Firm.objects.order_by("id").values_list("id", flat=True)
        count = ids.count() if args.firms is None else min(args.firms, ids.count())

        class Firms:  # the firm at a position, read when a query asks for it
            def __len__(self):
                return count

            def __getitem__(self, position):
                return next(firm_documents([ids[position]]))

        firms = Firms()
    else:
        count = args.firms or 5000

        class Firms:
            def __len__(self):
                return count

            def __getitem__(self, position):
                return next(itertools.islice(synthetic_firms(count), position, None))

        firms = Firms()
    return len(firms), {kind: make(firms) for kind, make in QUERIES.items()}


def index_matches(backend, query, total):
    """Every firm the index's own match query finds, with its rank score (None when browsing)."""
    analyzed = analyze_query(query)
    searcher = backend._searcher()
    match = Query.all_query() if analyzed.is_empty else backend._match(analyzed)
    found = searcher.search(match, limit=max(total, 1), count=False).hits
    ids = searcher.fast_field_values("id", [address for _, address in found])
    return {firm_id: (None if analyzed.is_empty else _rank_score(raw)) for (raw, _), firm_id in zip(found, ids)}


def _answer(result) -> tuple[list[int], int]:
    return [hit.id for hit in result.hits], result.total


def _row(cold: Timing, same_searcher: Timing, warm: Timing) -> list:
    goal = "/".join("ok" if timing.p95 < 10 else "MISSED" for timing in (cold, warm))
    return [cold.p50, cold.p95, cold.cpu_p50, percentile(cold.cpu, 95), same_searcher.p50,
            same_searcher.p95, warm.p50, warm.p95, goal]


def resident_memory(backend, queries: dict[str, str], repeat: int) -> None:
    """What a searching process keeps resident once warm: its private memory (RssAnon) and the
    index pages it has touched (RssFile, page cache shared by every process that maps the index),
    after opening the index and after every query kind ran cold ``repeat`` times."""
    def mb(status):
        return f"private {status['RssAnon'] / 1024:,.0f} MB, index and library pages {status['RssFile'] / 1024:,.0f} MB"

    started = MemorySampler.current()
    opened = backend.count()
    after_open = MemorySampler.current()
    for _ in range(max(repeat, 1)):
        for query in queries.values():
            backend.results.clear()
            backend.search(SearchRequest(query=query, facets=FACETS, first=PAGE))
    warm = MemorySampler.current()
    files = [f for f in backend.path.rglob("*") if f.is_file()]
    print(f"{opened:,} firms, index {sum(f.stat().st_size for f in files) / 1e6:,.0f} MB on disk. Resident memory of "
          f"this process: before opening {mb(started)}; opened {mb(after_open)}; after {len(queries)} query kinds x "
          f"{max(repeat, 1)} (cold) {mb(warm)}; {machine()}")


# What a cold search spends its CPU on (--parts): the backend's steps, timed inside the search.
PARTS = {"_current": "new searcher", "_facets": "facets + total", "_scored_page": "ranked page",
         "_browse_page": "browse page", "_tied": "tie walk (of ranked page)", "_hit": "hits + highlights"}


def cold_parts(backend, queries: dict[str, str], repeat: int) -> None:
    """CPU ms per cold search (a new searcher before each, as the timed "cold" calls) and how much
    of it each step of EmbeddedBackend took, by wrapping those methods; the rest is the request's
    own Python (validation, cache keys, cursor). The steps are timed where they run, so the sum is
    the search (a "tie walk" runs inside "ranked page")."""
    spent: dict[str, float] = {}

    def timed(name, method):
        def wrapper(*args, **kwargs):
            started = time.process_time()
            try:
                return method(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.process_time() - started
        return wrapper

    originals = {name: getattr(type(backend), name) for name in PARTS}
    table = Table("query kind", "cpu p50", "cpu p95", *(f"{label} (mean)" for label in PARTS.values()), "rest (mean)")
    try:
        for name, method in originals.items():
            setattr(type(backend), name, timed(name, method))
        for kind, query in queries.items():
            request = SearchRequest(query=query, facets=FACETS, first=PAGE)
            backend.search(request)
            spent.clear()
            totals = []
            for _ in range(repeat):
                backend._cached_searcher = None
                started = time.process_time()
                backend.search(request)
                totals.append((time.process_time() - started) * 1000)
            means = [spent.get(name, 0.0) * 1000 / repeat for name in PARTS]
            rest = sum(totals) / repeat - sum(m for name, m in zip(PARTS, means) if name != "_tied")
            table.add(kind, percentile(totals, 50), percentile(totals, 95), *means, rest)
    finally:
        for name, method in originals.items():
            setattr(type(backend), name, method)
    table.print()
    print(f"CPU ms of a cold search ({repeat} per kind, a page of 20 with highlights and 4 facets) and the "
          f"mean spent in each step; {machine()}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, help="synthetic firms (default 5,000); with --from-db: the first N by id")
    parser.add_argument("--from-db", action="store_true", help="index the registry of DATABASE_URL, not synthetic firms")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="processes preparing documents for the build")
    parser.add_argument("--index", help="keep the index in this directory; reuse it if it holds as many firms")
    parser.add_argument("--build-only", action="store_true",
                        help="time the build alone: no scan beside it (its CPU would compete with the build's), "
                             "no query checks or timings")
    parser.add_argument("--parts", action="store_true",
                        help="with --index: where a cold search's CPU goes, step by step, per query kind "
                             "(no checks against the scan)")
    parser.add_argument("--ram", action="store_true",
                        help="with --index: the memory a searching process needs, in a fresh process: open the "
                             "index, run every query kind cold --repeat times, print its resident memory")
    args = parser.parse_args(argv)

    count, queries = queries_for(args)
    if args.ram:
        return resident_memory(EmbeddedBackend(args.index), queries, args.repeat)
    if args.parts:
        return cold_parts(EmbeddedBackend(args.index), queries, args.repeat)
    docs = (lambda: registry_firms(args.firms)) if args.from_db else (lambda: synthetic_firms(count))
    scan = Scan(queries)
    saved = Path(args.index) / f"scan-{count}.pickle" if args.index else None
    with (nullcontext(args.index) if args.index else tempfile.TemporaryDirectory(prefix="searchbench-")) as path:
        backend = EmbeddedBackend(path)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        sampler = MemorySampler()
        sampler.start()
        cpu_before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        if backend.count() == count:
            if saved is not None and saved.exists() and (loaded := pickle.loads(saved.read_bytes())).queries == scan.queries:
                scan = loaded  # the scan of exactly the documents this index was built from
                built = f"index reused from {path} (build not timed), with the scan made while it was built"
            else:
                with prepared_documents(docs(), 5000, args.workers) as prepared:
                    for fields in prepared:
                        scan.add(fields)
                built = f"index reused from {path} (build not timed; documents prepared again for the scan)"
        else:
            backend.rebuild(docs(), chunk_size=5000, workers=args.workers,
                            observe=None if args.build_only else scan.add)
            wall = time.perf_counter() - started - scan.spent[0]
            cpu_after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            main_cpu, workers_cpu = ((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
                                     for before, after in zip(cpu_before, cpu_after))
            main_cpu -= scan.spent[1]
            built = (f"build {wall:,.1f} s wall, CPU {main_cpu:,.1f} s this process + {workers_cpu:,.1f} s in "
                     f"{args.workers} worker processes ({'registry' if args.from_db else 'synthetic firms'}; "
                     f"goal ≤ 300 s at 1,000,000; the scan's {scan.spent[0]:,.1f} s in this process left out), "
                     f"load average at the end {os.getloadavg()[0]:.1f}")
            if saved is not None and not args.build_only:
                saved.write_bytes(pickle.dumps(scan))
        memory = sampler.stop()
        if args.build_only:
            same("firms indexed", backend.count(), count, ("index", "firms"))
        else:
            same("firms scanned", scan.firms, count, ("scan", "firms"))
        files = [f for f in Path(path).rglob("*") if f.is_file()]
        size = sum(f.stat().st_size for f in files)
        by_kind: dict[str, int] = {}
        for f in files:
            by_kind[f.suffix or f.name] = by_kind.get(f.suffix or f.name, 0) + f.stat().st_size
        print(f"{count:,} firms: {built}; index on disk {size / 1e6:.1f} MB in {backend._searcher().num_segments} "
              f"segments (memory-mapped: the RAM it needs to stay hot); peak RSS of this process "
              f"{rss_before:,.0f} MB before the build, {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} "
              f"MB after ({memory}); worker processes' peak RSS "
              f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:,.0f} MB; {machine()}")
        print("index files by kind (MB): " + ", ".join(  # .idx postings, .pos positions, .fast columns, .store sources
            f"{kind} {n / 1e6:.1f}" for kind, n in sorted(by_kind.items(), key=lambda kv: -kv[1]) if n > 1e5))
        if args.build_only:
            return
        table = Table("query kind", "query", "hits", "cold p50", "cold p95", "cold cpu p50", "cold cpu p95",
                      "same searcher p50", "same searcher p95", "warm p50", "warm p95", "goal cold/warm", "scan")
        all_cold, all_same, all_warm = Timing(), Timing(), Timing()
        for kind, query in queries.items():
            request = SearchRequest(query=query, facets=FACETS, first=PAGE)

            # Agreement first, untimed: the hit set, then the top-k pages in their deterministic order.
            first = backend.search(request)
            expected = set(scan.matches[kind])
            found = index_matches(backend, query, first.total)
            same(f"{kind} hit set", set(found), expected, ("index", "scan"))
            same(f"{kind} total", first.total, len(expected), ("index", "scan"))
            if query.strip():
                order = heapq.nsmallest(2 * PAGE, expected, key=lambda firm_id: (-found[firm_id], firm_id))
            else:
                order = scan.browse_order()
            second = backend.search(SearchRequest(query=query, facets=FACETS, first=PAGE, after=first.next_cursor)) \
                if first.next_cursor else None
            served = [hit.id for hit in first.hits] + ([hit.id for hit in second.hits] if second else [])
            same(f"{kind} top {2 * PAGE}", served, order[:2 * PAGE], ("index pages", "scan sorted"))

            def cold():
                backend._cached_searcher = None  # as after a commit: the index reloaded, a new searcher
                return _answer(backend.search(request))

            def same_searcher():
                backend.results.clear()  # untimed in effect: emptying a dict of a few entries
                return _answer(backend.search(request))

            def warm():
                return _answer(backend.search(request))

            timed = measure({"cold": cold, "same searcher": same_searcher, "warm": warm}, args.repeat)
            for name, timing in timed.items():
                same(f"{kind} timed page and total ({name})", timing.result,
                     (order[:PAGE], len(expected)), ("index", "scan"))
            for total, timing in ((all_cold, timed["cold"]), (all_same, timed["same searcher"]),
                                  (all_warm, timed["warm"])):
                total.wall += timing.wall
                total.cpu += timing.cpu
            table.add(kind, query[:16], first.total,
                      *_row(timed["cold"], timed["same searcher"], timed["warm"]), scan.seconds[kind] * 1000)
        table.add("all kinds", "", "", *_row(all_cold, all_same, all_warm), "")
        table.print()
        after = MemorySampler()
        after.sample()
        print(f"this process after the searches: private {after.peak['RssAnon'] / 1024:,.0f} MB, file-backed "
              f"{after.peak['RssFile'] / 1024:,.0f} MB (index pages it touched, page cache)")
        print(f"Times in ms for a page of 20 hits with highlights and 4 facets; cold: a new searcher before "
              f"each call (as the first search after any commit), same searcher: only the answer cache emptied, "
              f"warm: repeated; goal p95 < 10 ms (wall) cold. {machine()}. Baseline: a brute-force "
              "scan, the CPU its one pass over every prepared document spent testing that query (no index), for "
              "scale only. Hit sets, totals and the first two pages (score desc, id asc; browsing stage rank desc, "
              "id asc) were checked equal to the scan's (else exit 1).")


if __name__ == "__main__":
    main()
