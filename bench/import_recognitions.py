"""Benchmark: importing a large recognition list (issue 4), next to a plain COPY of the same rows.

Generates an N-row 高企 list (valid USCCs from registry/demo/names.uscc, Jiangsu district names as
published), imports it as an import job through the bulk path (firms created from the rows,
certifications, renewal links, current stages, audit rows), then imports it again (every row
unchanged). Baseline, same run: COPY of the same CSV into a scratch table of text columns.
Peak memory is resource.getrusage(RUSAGE_SELF).ru_maxrss of this process (the file is generated
in a child process so it does not count).

    DATABASE_URL=postgres://postgres@127.0.0.1:55432/importbench .venv/bin/python bench/import_recognitions.py --rows 100000
"""

import argparse
import datetime
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cultivar.settings")
os.environ.setdefault("IMPORT_MAX_UPLOAD_BYTES", str(2 * 1024 ** 3))


def generate(path, rows, seed=7):
    """Write the list (no Django needed): 企业名称,统一社会信用代码,所在地区,证书编号,发证日期."""
    from registry.data import load_regions_rows, resolve_region
    from registry.demo.names import uscc

    regions = [(r["code"], r["name"]) for r in load_regions_rows()
               if r["level"] == "district" and r["code"].startswith("32") and resolve_region(r["name"]) == r["code"]]
    rng = random.Random(seed)
    seen = set()
    start = datetime.date(2024, 1, 1)
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("企业名称,统一社会信用代码,所在地区,证书编号,发证日期\n")
        n = 0
        while n < rows:
            code, name = regions[n % len(regions)]
            value = uscc(rng, code)
            if value in seen:
                continue
            seen.add(value)
            n += 1
            issued = start + datetime.timedelta(days=rng.randrange(0, 700))
            out.write(f"{name}测试{n}科技有限公司,{value},{name},GR{issued.year}32{n:07d},{issued.isoformat()}\n")


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--file", help="reuse this CSV instead of generating one")
    parser.add_argument("--generate-only", metavar="PATH")
    parser.add_argument("--no-rerun", action="store_true")
    args = parser.parse_args()
    if args.generate_only:
        generate(args.generate_only, args.rows)
        return

    path = args.file
    if not path:
        path = str(Path(tempfile.gettempdir()) / f"recognitions_{args.rows}.csv")
        if not Path(path).exists():
            t = time.perf_counter()
            subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--generate-only", path], check=True)
            print(f"generated {args.rows:,} rows ({Path(path).stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from importers.services import import_file
    from registry.models import Certification, Firm

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; registry before: "
          f"{Firm.objects.count():,} firms, {Certification.objects.count():,} certifications")

    # Baseline: the same rows COPY'd into a scratch table.
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_import_baseline")
        cursor.execute("CREATE TABLE bench_import_baseline (name text, uscc text, region text, certificate_no text, issued_on text)")
        t = time.perf_counter()
        if connection.vendor == "postgresql":
            with open(path, "rb") as fh, cursor.cursor.copy(
                    "COPY bench_import_baseline FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                while block := fh.read(1 << 20):
                    copy.write(block)
        else:
            import csv

            with open(path, encoding="utf-8") as fh:
                reader = csv.reader(fh)
                next(reader)
                cursor.executemany("INSERT INTO bench_import_baseline VALUES (%s, %s, %s, %s, %s)", reader)
        copy_s = time.perf_counter() - t
        cursor.execute("DROP TABLE bench_import_baseline")
    print(f"baseline COPY: {args.rows:,} rows in {copy_s:.1f} s = {args.rows / copy_s:,.0f} rows/s")

    runs = [("first import", None)] + ([] if args.no_rerun else [("same file again", None)])
    for label, _ in runs:
        t = time.perf_counter()
        job = import_file(path, kind="recognitions", options={"tier": "hnte", "authority": "江苏省科技厅"})
        seconds = time.perf_counter() - t
        print(f"{label}: job {job.pk} {job.status} {job.message[:200]} — {job.total:,} rows in {seconds:.1f} s = "
              f"{job.total / seconds:,.0f} rows/s ({copy_s / seconds:.4f} of COPY's speed, 1/{seconds / copy_s:,.0f}); created {job.created:,}, "
              f"unchanged {job.unchanged:,}, firms created {job.firms_created:,}, errors {job.errors:,}; "
              f"peak RSS {peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()
