"""Benchmark: generating the demo registry at scale (issue: registry core).

Prints rows/second and peak memory for `seed_demo`, next to a baseline measured in the same run:
the same number of narrow rows written into a scratch table the same way (COPY on PostgreSQL,
executemany on SQLite): the cost of getting rows into this database at all. That baseline is not
like for like (its rows are narrow and carry no history) and is labelled so. What is asserted (exit
status 1 otherwise): the generator's reported counts are the rows now in the registry, and the
baseline table holds exactly as many rows as the seed wrote. Run on a fresh database, e.g.

    scripts/with-services .venv/bin/python bench/seed_scale.py --firms 1000000

`--index-phase` measures only seed_demo's last phase, the search index, on an existing registry
(read only: nothing is migrated or written; the index goes to a scratch directory): the first
`--firms` firms of DATABASE_URL through search_reindex's path in one process, as seed_demo runs it.
It prints wall and CPU seconds, and memory: the growth of peak RSS, and the peaks of the private
(RssAnon) and file-backed (RssFile: index files tantivy maps, page cache) parts sampled every
0.2 s, each against the process before the phase; what is asserted: the index holds every firm read.

    . /work/var/env1m && .venv/bin/python bench/seed_scale.py --index-phase --firms 200000

`--against 50000` runs the phase at 50,000 firms too, each size in a fresh process, and prints
each memory figure's ratio (N against 50,000) and whether it is flat (within 10 %: met / NOT met).
"""

import argparse
import datetime
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cultivar.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from registry.demo.generator import DemoGenerator  # noqa: E402
from registry.services.writes import copy_rows  # noqa: E402
from registry.models import Certification, Firm, IndicatorYear  # noqa: E402

from bench.common import MemorySampler, machine, same  # noqa: E402


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Baseline:
    """Stands in for a model: copy_rows only needs the table name."""

    class _meta:
        db_table = "bench_baseline"


def baseline_insert(n_rows, chunk=5000):
    """Write n_rows narrow (id, code, name, date) rows the way the generator writes (COPY on PostgreSQL);
    returns (seconds, rows the table then holds)."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_baseline")
        cursor.execute("CREATE TABLE bench_baseline (id bigint PRIMARY KEY, code varchar(18), name varchar(200), d date)")
    started = time.perf_counter()
    day = datetime.date(2020, 1, 1)
    for start in range(0, n_rows, chunk):
        rows = [(i, f"91320583{i:010d}", f"苏州测试{i}科技有限公司", day) for i in range(start, min(n_rows, start + chunk))]
        with transaction.atomic():
            copy_rows(Baseline, ("id", "code", "name", "d"), rows)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM bench_baseline")
        written = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_baseline")
    return elapsed, written


def index_phase(firms: int) -> dict:
    """seed_demo's index phase (search_reindex.reindex: firm_documents read 2,000 at a time, one
    process) over the first ``firms`` firms of the registry, into a scratch directory. Memory is
    this process's and its children's (none unless the build starts some)."""
    from search.backends.embedded import EmbeddedBackend, fix_allocation_thresholds
    from search.indexing import firm_documents

    fix_allocation_thresholds()  # as search_reindex does
    before = MemorySampler.current()
    rss_before = peak_rss_mb()
    sampler = MemorySampler()
    sampler.start()
    with tempfile.TemporaryDirectory(prefix="seed-index-") as path:
        backend = EmbeddedBackend(path)
        cpu, started = time.process_time(), time.perf_counter()
        written = backend.rebuild(itertools.islice(firm_documents(chunk_size=2000), firms), chunk_size=2000)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        sampler.stop()
        same("firms indexed", backend.count(), written, ("index", "firms read"))
        segments, size = backend._searcher().num_segments, sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())
    peak = sampler.peak
    grown = {name: (peak[name] - before[name]) / 1024 for name in before}
    print(f"index phase, {written:,} firms, one process: {wall:,.1f} s wall, {cpu:,.1f} s CPU "
          f"({cpu / written * 1e3:.3f} ms a firm); peak RSS {rss_before:,.0f} -> {peak_rss_mb():,.0f} MB; "
          f"during the phase private {before['RssAnon'] / 1024:,.0f} -> peak {peak['RssAnon'] / 1024:,.0f} MB "
          f"(+{grown['RssAnon']:,.0f}), file-backed {before['RssFile'] / 1024:,.0f} -> peak "
          f"{peak['RssFile'] / 1024:,.0f} MB (+{grown['RssFile']:,.0f}); index {size / 1e6:,.0f} MB "
          f"in {segments} segments; {machine()}", flush=True)
    return {"firms": written, "peak_rss_mb": peak_rss_mb(), "private_mb": peak["RssAnon"] / 1024,
            "file_backed_mb": peak["RssFile"] / 1024, "segments": segments, "wall": wall, "cpu": cpu}


FLAT = 1.10  # issue 14: seed_demo's memory within 10 % from 50,000 to 1,000,000 firms
RESULT = "index-phase-result: "


def index_phase_against(firms: int, against: int) -> None:
    """The index phase at ``against`` and at ``firms`` firms, each in a fresh process (peak RSS is
    per process), and the ratio of each memory figure: met when within FLAT."""
    runs = {}
    for n in (against, firms):
        child = subprocess.run([sys.executable, __file__, "--index-phase", "--firms", str(n), "--result"],
                               check=False, capture_output=True, text=True)
        sys.stdout.write("".join(line for line in child.stdout.splitlines(True) if not line.startswith(RESULT)))
        if child.returncode:
            sys.stderr.write(child.stderr)
            sys.exit(f"the index phase at {n:,} firms failed (exit {child.returncode})")
        runs[n] = json.loads(next(line for line in child.stdout.splitlines() if line.startswith(RESULT))[len(RESULT):])
        same("firms indexed", runs[n]["firms"], n, ("index", "asked"))
    small, large = runs[against], runs[firms]
    for label, key in (("peak RSS (ru_maxrss: what seed_demo reports, private + file-backed)", "peak_rss_mb"),
                       ("peak private memory (RssAnon)", "private_mb"),
                       ("peak file-backed memory (RssFile: mapped index files and libraries, page cache)", "file_backed_mb")):
        r = small[key] and large[key] / small[key]
        print(f"{label}: {small[key]:,.0f} MB at {against:,} firms, {large[key]:,.0f} MB at {firms:,}: "
              f"{r:.3f}x, {'met' if r <= FLAT else 'NOT met'} (goal <= {FLAT:.2f}x)")
    print(f"segments: {small['segments']} at {against:,}, {large['segments']} at {firms:,}; {machine()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--firms", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--index-phase", action="store_true",
                        help="only the search index phase, over the first --firms firms of an existing registry (read only)")
    parser.add_argument("--against", type=int, metavar="N",
                        help="with --index-phase: also run it at N firms (e.g. 50000), each in its own process, "
                             "and print the memory ratios and whether they are flat (within 10 %%)")
    parser.add_argument("--result", action="store_true", help=argparse.SUPPRESS)  # a child's figures, as JSON
    args = parser.parse_args()

    if args.index_phase:
        if args.against:
            return index_phase_against(args.firms, args.against)
        figures = index_phase(args.firms)
        if args.result:
            print(RESULT + json.dumps(figures))
        return None
    call_command("migrate", verbosity=0)
    if Firm.objects.exists():
        sys.exit("bench/seed_scale needs an empty registry (a fresh DATABASE_URL).")
    print(f"database: {connection.vendor}; firms: {args.firms:,}; {machine()}")
    started = time.perf_counter()
    counts = DemoGenerator(seed=args.seed).generate(args.firms, chunk_size=args.chunk_size)
    seed_seconds = time.perf_counter() - started
    rows = sum(counts.values())
    seed_peak = peak_rss_mb()
    same("seed counts", counts, {"firms": Firm.objects.count(), "certifications": Certification.objects.count(),
                                 "indicators": IndicatorYear.objects.count(),
                                 "chain_links": Firm.chains.through.objects.count()}, ("reported", "in the registry"))
    baseline_seconds, baseline_rows = baseline_insert(rows)
    same("rows written", baseline_rows, rows, ("baseline table", "seed_demo"))
    print(f"seed_demo: {counts}")
    print(f"seed_demo: {rows:,} rows in {seed_seconds:.1f} s = {rows / seed_seconds:,.0f} rows/s, "
          f"{args.firms / seed_seconds:,.0f} firms/s; peak RSS {seed_peak:,.0f} MB")
    print(f"baseline (not like for like: narrow rows, no history): the same number of rows written the same way, {rows:,} narrow rows: {baseline_seconds:.1f} s = {rows / baseline_seconds:,.0f} rows/s")
    print(f"ratio seed/baseline time: {seed_seconds / baseline_seconds:.2f}x")


if __name__ == "__main__":
    main()
