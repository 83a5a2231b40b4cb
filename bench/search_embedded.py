"""Benchmark: the embedded search backend vs a brute-force scan of the same rows, in one run.

    .venv/bin/python bench/search_embedded.py --firms 200000
    .venv/bin/python bench/search_embedded.py --firms 1000000

Builds a tantivy index of synthetic firms (search.benchmark's generator: real Jiangsu places, brand
words and industries), prints build time, index size and peak memory, then per query kind the
index's p50/p95 for a page of 20 hits with highlights and all four facets (goal p95 < 10 ms at
1,000,000), next to the baseline, labelled as what it is: a scan of every row (no index).

The backend keeps answers while the index is unchanged (search.backends.embedded.ResultCache), so
each kind is timed twice: "cold" empties that cache before every call (a search nobody asked since
the last commit: the engine's full cost) and "warm" repeats the request (a reload, a shared link, a
popular query). Wall times and this process's CPU times are printed: on a loaded shared machine the
wall time includes waiting for a core, the CPU time does not.

`--index DIR` keeps the index in DIR and reuses it when it already holds the same number of firms
(the build is then not timed; the hit-set checks below still compare it with the generated firms).

Before timing, each kind's results are checked, and any difference exits with status 1:
- the hit SET: every firm the index matches (its own match query, all hits) equals the firms a
  brute-force scan matches by the contract's rules (search.backends.base) — not just the count;
- the top-k: the served page and the next one (through its cursor) equal the scan's matches
  sorted by (score desc, id asc) — browsing: (stage rank desc, id asc) — so the page is the
  top 20 with a deterministic tiebreak, not any 20 of the tied hits.
"""

import argparse
import os
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

from bench.common import Table, Timing, machine, measure, percentile, ratio, same  # noqa: E402
from search.backends.base import SearchRequest  # noqa: E402
from search.backends.embedded import EmbeddedBackend, _rank_score, document_fields  # noqa: E402
from search.benchmark import QUERIES, synthetic_firms  # noqa: E402
from search.source import STAGE_RANK  # noqa: E402
from search.text import analyze_query  # noqa: E402

FACETS = ("stage", "tier", "region", "chain")
PAGE = 20


def scan_rows(firms):
    """Per firm, what the contract's matchers look at, from the same document preparation the index
    gets (search.backends.embedded.document_fields: tokens, name keys, pinyin), but matched here
    by brute force. Not timed; firms sharing their texts share one preparation."""
    prepared, rows = {}, []
    for firm in firms:
        key = (firm["name"], firm["main_products"], firm["description"], firm["region_code"])
        if key not in prepared:
            _, _, _, texts = document_fields({**firm, "uscc": ""})
            fields = {}
            for name, text in texts:
                fields.setdefault(name, []).append(text)
            tokens = frozenset(t for name, values in fields.items() if name.startswith("t_")
                               for value in values for t in value.split())
            prepared[key] = (tokens, frozenset(fields.get("names_exact", ())),
                             frozenset(fields.get("fingerprints", ())),
                             tuple(fields.get("pinyin_full", ()) + fields.get("pinyin_initials", ())))
        rows.append((firm["id"], *prepared[key], firm["uscc"].upper()))
    return rows


def scan(rows, query):
    """Ids of every firm a search for `query` must find, by the rules of search.backends.base: every
    query term in some text field, or the name equal (exactly or by fingerprint), or a Latin-only
    query prefixing a name's pinyin, or 6+ USCC characters inside the code; empty: every firm."""
    q = analyze_query(query)
    if q.is_empty:
        return {row[0] for row in rows}
    terms = set(q.terms)
    return {firm_id for firm_id, tokens, exact, prints, pinyin, uscc in rows
            if (terms and terms <= tokens) or (q.exact and q.exact in exact)
            or (q.fingerprint and q.fingerprint in prints) or (q.pinyin and any(k.startswith(q.pinyin) for k in pinyin))
            or (q.uscc and q.uscc in uscc)}


def index_matches(backend, query, total):
    """Every firm the index's own match query finds, with its rank score (None when browsing)."""
    analyzed = analyze_query(query)
    searcher = backend._searcher()
    match = Query.all_query() if analyzed.is_empty else backend._match(analyzed)
    found = searcher.search(match, limit=max(total, 1), count=False).hits
    ids = searcher.fast_field_values("id", [address for _, address in found])
    return {firm_id: (None if analyzed.is_empty else _rank_score(raw)) for (raw, _), firm_id in zip(found, ids)}


def _row(cold: Timing, warm: Timing) -> list:
    goal = "/".join("ok" if timing.p95 < 10 else "MISSED" for timing in (cold, warm))
    return [cold.p50, cold.p95, cold.cpu_p50, percentile(cold.cpu, 95), warm.p50, warm.p95, goal]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="processes preparing documents for the build")
    parser.add_argument("--index", help="keep the index in this directory; reuse it if it holds --firms firms")
    args = parser.parse_args(argv)

    firms = list(synthetic_firms(args.firms))
    stage_rank = {firm["id"]: STAGE_RANK.get(firm["stage"], 0) for firm in firms}
    with (nullcontext(args.index) if args.index else tempfile.TemporaryDirectory(prefix="searchbench-")) as path:
        backend = EmbeddedBackend(path)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if backend.count() == args.firms:
            built = f"index reused from {path} (build not timed)"
        else:
            started = time.perf_counter()
            backend.rebuild(firms, workers=args.workers)
            built = (f"build {time.perf_counter() - started:.2f} s ({args.workers} workers; "
                     f"goal ≤ 300 s at 1,000,000)")
        files = [f for f in Path(path).rglob("*") if f.is_file()]
        size = sum(f.stat().st_size for f in files)
        by_kind: dict[str, int] = {}
        for f in files:
            by_kind[f.suffix or f.name] = by_kind.get(f.suffix or f.name, 0) + f.stat().st_size
        print(f"{args.firms:,} firms: {built}, "
              f"index on disk {size / 1e6:.1f} MB (memory-mapped: the RAM it needs to stay hot), "
              f"peak RSS of this process {rss_before:,.0f} MB before the build, "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB after; {machine()}")
        print("index files by kind (MB): " + ", ".join(  # .idx postings, .pos positions, .fast columns, .store sources
            f"{kind} {n / 1e6:.1f}" for kind, n in sorted(by_kind.items(), key=lambda kv: -kv[1]) if n > 1e5))
        rows = scan_rows(firms)
        table = Table("query kind", "query", "hits", "cold p50", "cold p95", "cold cpu p50", "cold cpu p95",
                      "warm p50", "warm p95", "goal cold/warm", "scan p50", "scan p95", "scan/cold p50")
        all_cold, all_warm, all_scan = Timing(), Timing(), []
        for kind, make in QUERIES.items():
            query = make(firms)
            request = SearchRequest(query=query, facets=FACETS, first=PAGE)

            # Agreement first, untimed: the hit set, then the top-k pages in their deterministic order.
            first = backend.search(request)
            expected = scan(rows, query)
            found = index_matches(backend, query, first.total)
            same(f"{kind} hit set", set(found), expected, ("index", "scan"))
            same(f"{kind} total", first.total, len(expected), ("index", "scan"))
            if query.strip():
                order = sorted(expected, key=lambda firm_id: (-found[firm_id], firm_id))
            else:
                order = sorted(expected, key=lambda firm_id: (-stage_rank[firm_id], firm_id))
            second = backend.search(SearchRequest(query=query, facets=FACETS, first=PAGE, after=first.next_cursor)) \
                if first.next_cursor else None
            served = [hit.id for hit in first.hits] + ([hit.id for hit in second.hits] if second else [])
            same(f"{kind} top {2 * PAGE}", served, order[:2 * PAGE], ("index pages", "scan sorted"))

            def cold():
                backend.results.clear()  # untimed in effect: emptying a dict of a few entries
                return backend.search(request).total

            timed = measure({"cold": cold, "warm": lambda: backend.search(request).total}, args.repeat)
            scans = measure({"scan": lambda: len(scan(rows, query))}, max(3, args.repeat // 10))["scan"]
            same(f"{kind} timed totals (cold)", timed["cold"].result, scans.result, ("index", "scan"))
            same(f"{kind} timed totals (warm)", timed["warm"].result, scans.result, ("index", "scan"))
            for total, timing in ((all_cold, timed["cold"]), (all_warm, timed["warm"])):
                total.wall += timing.wall
                total.cpu += timing.cpu
            all_scan += scans.wall
            table.add(kind, query[:16], first.total, *_row(timed["cold"], timed["warm"]),
                      scans.p50, scans.p95, f"{ratio(scans.p50, timed['cold'].p50):,.0f}×")
        scans = Timing(wall=all_scan)
        table.add("all kinds", "", "", *_row(all_cold, all_warm),
                  scans.p50, scans.p95, f"{ratio(scans.p50, all_cold.p50):,.0f}×")
        table.print()
        print(f"Times in ms for a page of 20 hits with highlights and 4 facets; cold: the answer cache emptied "
              f"before each call, warm: repeated; goal p95 < 10 ms (wall). {machine()}. Baseline: a brute-force "
              "scan of every row (no index), for scale only. Hit sets, totals and the first two pages (score desc, "
              "id asc; browsing stage rank desc, id asc) were checked equal to the scan's (else exit 1).")


if __name__ == "__main__":
    main()
