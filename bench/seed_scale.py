"""Benchmark: generating the demo registry at scale (issue: registry core).

Prints rows/second and peak memory for `seed_demo`, next to a baseline measured in the same run:
the same number of narrow rows written into a scratch table the same way (COPY on PostgreSQL,
executemany on SQLite): the cost of getting rows into this database at all. That baseline is not
like for like (its rows are narrow and carry no history) and is labelled so. What is asserted (exit
status 1 otherwise): the generator's reported counts are the rows now in the registry, and the
baseline table holds exactly as many rows as the seed wrote. Run on a fresh database, e.g.

    scripts/with-services .venv/bin/python bench/seed_scale.py --firms 1000000
"""

import argparse
import datetime
import os
import resource
import sys
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

from bench.common import machine, same  # noqa: E402


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


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--firms", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=5000)
    args = parser.parse_args()

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
