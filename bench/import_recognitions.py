"""Benchmark: importing a large recognition list (issue 4), next to plain COPYs of the same rows.

Generates an N-row 高企 list (valid USCCs from registry/demo/names.uscc, Jiangsu district names as
published), imports it as an import job (on PostgreSQL the set-based fast path, importers/fastpath.py:
firms created from the rows, certifications, current stages, audit rows), then imports it again
(every row unchanged). Two baselines, same run:

1. COPY of the same CSV into a scratch table of text columns (no parsing, no indexes);
2. COPY of the same rows, already in their final form, into the registry's own tables — one
   registry_firm row and one registry_certification row per list row — in a scratch copy of their
   schema (every column, default, check, index, unique constraint and foreign key), dropped
   afterwards. The COPY files are written beforehand by a child process: only the COPY is timed.

Between them it prints a floor: the import's own reader (importers.readers, pandas' C parser, chunks
of text cells) going through the file and doing nothing else, what the import pays before any check.

After the first import its firms and certifications are compared with the list's rows (baseline 1's
table, any database) and, on PostgreSQL, with baseline 2's rows column by column (SQL EXCEPT ALL, both
ways); the benchmark exits non-zero when they differ.

Peak memory is each import's own: this process's ru_maxrss, reset before the import
(bench.common.reset_peak_rss), so the row checks after the first import (2,000,000 rows held in Python)
do not count as the second import's; files are generated in child processes, which do not count. Search indexing is not in the import's time: an import
indexes the firms it changed in one pass after it commits, on the Celery "search" queue; --index
times that pass separately. The registry must be empty (--fresh empties it: a bench database only).

    DATABASE_URL=postgres://postgres@127.0.0.1:55432/importbench .venv/bin/python bench/import_recognitions.py --rows 1000000 --fresh
"""

import argparse
import calendar
import datetime
import os
import random
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


def generate_tables(path, firms_out, certs_out, stage_id, tier_id, first_id):
    """The list's rows as COPY text for registry_firm and registry_certification (baseline 2)."""
    import csv

    from registry.data import resolve_region
    from registry.names import normalize_name

    now = datetime.datetime.now(datetime.UTC).isoformat()
    regions = {}
    today = datetime.date.today()
    with open(path, encoding="utf-8") as fh, open(firms_out, "w", encoding="utf-8") as firms, \
            open(certs_out, "w", encoding="utf-8") as certs:
        reader = csv.reader(fh)
        next(reader)
        for n, (name, uscc, region, number, issued) in enumerate(reader):
            firm_id = first_id + n
            code = regions.get(region) or regions.setdefault(region, resolve_region(region))
            firms.write(f"{firm_id}\t{uscc}\t\t{name}\t{normalize_name(name)}\t[]\t{code}\t\t\t\t\tunlisted\t{now}\t{now}\n")
            day = datetime.date.fromisoformat(issued)
            # 高企: valid 36 months to the day before (the tier's validity_months, as default_valid_until)
            year = day.year + 3
            until = datetime.date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1])) \
                - datetime.timedelta(days=1)
            status = "expired" if until < today else "active"
            certs.write(f"{firm_id}\t{firm_id}\t{stage_id}\t{tier_id}\t江苏省科技厅\tnational\t\t\\N\t{number}\t{issued}\t"
                        f"{issued}\t{until.isoformat()}\t{status}\t\\N\t\t\\N\tbench\t{n + 2}\t\t\\N\t{now}\t{now}\n")


FIRM_COPY = ("id, uscc, uscc_override_reason, name, name_normalized, former_names, region_id, industry_code, description, "
             "main_products, technologies, listing_status, created_at, updated_at")
CERT_COPY = ("id, firm_id, stage_id, tier_id, authority, level, batch, batch_year, certificate_no, issued_on, valid_from, "
             "valid_until, status, revoked_on, revocation_reason, renews_id, source_name, source_row, source_checksum, "
             "import_job_id, created_at, updated_at")


def scratch_schema(cursor):
    """bench_registry_firm / bench_registry_certification: the registry tables' columns, defaults, checks,
    indexes and foreign keys (LIKE … INCLUDING ALL, then the foreign keys re-pointed). A scratch copy,
    so the baseline leaves no dead rows with the list's keys in the registry's own indexes."""
    cursor.execute("DROP TABLE IF EXISTS bench_registry_certification, bench_registry_firm")
    for table in ("registry_firm", "registry_certification"):
        cursor.execute(f"CREATE TABLE bench_{table} (LIKE {table} INCLUDING ALL)")
    for table in ("registry_firm", "registry_certification"):
        cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE conrelid = %s::regclass AND contype = 'f'", [table])
        for name, definition in cursor.fetchall():
            for own in ("registry_firm", "registry_certification"):
                definition = definition.replace(f"REFERENCES {own}(", f"REFERENCES bench_{own}(")
            cursor.execute(f"ALTER TABLE bench_{table} ADD CONSTRAINT bench_{name} {definition}")


def copy_file(cursor, sql, path):
    with open(path, "rb") as fh, cursor.cursor.copy(sql) as copy:
        while block := fh.read(1 << 20):
            copy.write(block)


SAME_FIRM = "f.uscc, f.name, f.name_normalized, f.region_id"
SAME_CERT = ("f.uscc, c.certificate_no, c.issued_on, c.valid_from, c.valid_until, c.status, c.authority, c.level, "
             "c.renews_id IS NULL")


def same_rows():
    """The import's firms and certifications against baseline 2's, column by column (SQL EXCEPT, both ways);
    drops the scratch tables. False (and what differs printed) when they are not the same rows."""
    from django.db import connection

    same = True
    with connection.cursor() as cursor:
        for what, columns, registry, bench in (
                ("firms", SAME_FIRM, "registry_firm f", "bench_registry_firm f"),
                ("certifications", SAME_CERT, "registry_certification c JOIN registry_firm f ON f.id = c.firm_id",
                 "bench_registry_certification c JOIN bench_registry_firm f ON f.id = c.firm_id")):
            counts = []
            for left, right in ((registry, bench), (bench, registry)):
                cursor.execute(f"SELECT count(*) FROM (SELECT {columns} FROM {left} EXCEPT ALL SELECT {columns} FROM {right}) d")
                counts.append(cursor.fetchone()[0])
            if any(counts):
                print(f"ROWS DIFFER ({what}): {counts[0]:,} only in the import, {counts[1]:,} only in baseline 2")
                same = False
        cursor.execute("DROP TABLE bench_registry_certification, bench_registry_firm")
    if same:
        print("same rows: the import's firms and certifications equal baseline 2's, column by column")
    return same


def same_as_list():
    """The import's firms and certifications hold exactly the list's rows (name, USCC, certificate number,
    date), as baseline 1 copied them, duplicates counted; exits with status 1 otherwise (bench.common.same).
    On every database, so SQLite runs check too. Drops baseline 1's table."""
    from django.db import connection

    from bench.common import same

    with connection.cursor() as cursor:
        cursor.execute("SELECT name, uscc, certificate_no, issued_on FROM bench_import_baseline")
        listed = sorted(tuple(row) for row in cursor.fetchall())
        cursor.execute("SELECT f.name, f.uscc, c.certificate_no, c.issued_on FROM registry_certification c "
                       "JOIN registry_firm f ON f.id = c.firm_id")
        imported = sorted((name, code, no, str(issued)) for name, code, no, issued in cursor.fetchall())
        cursor.execute("DROP TABLE bench_import_baseline")
    same("imported rows", imported, listed, ("import", "the list (baseline 1)"))
    print(f"same rows: the import's {len(imported):,} recognitions are the list's, name/USCC/number/date")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--file", help="reuse this CSV instead of generating one")
    parser.add_argument("--generate-only", metavar="PATH")
    parser.add_argument("--no-rerun", action="store_true")
    parser.add_argument("--fresh", action="store_true", help="empty the registry first (a bench database only)")
    parser.add_argument("--index", action="store_true", help="also time the search index pass after the first import")
    parser.add_argument("--tables-only", nargs=6, metavar=("CSV", "FIRMS", "CERTS", "STAGE", "TIER", "FIRST_ID"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_only:
        generate(args.generate_only, args.rows)
        return
    if args.tables_only:
        csv_path, firms_out, certs_out, stage_id, tier_id, first_id = args.tables_only
        generate_tables(csv_path, firms_out, certs_out, int(stage_id), int(tier_id), int(first_id))
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
    from django.db import connection, transaction

    from bench.common import machine, peak_rss_mb, reset_peak_rss
    from importers.services import import_file
    from registry.models import AuditEvent, Certification, Firm, Tier
    from search.indexing import suspend_indexing

    call_command("migrate", verbosity=0)
    if args.fresh:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE registry_firm, registry_certification, registry_auditevent CASCADE")
    if Firm.objects.exists():
        sys.exit("The registry is not empty: use an empty database, or --fresh on a bench database.")
    print(f"{machine()}")
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
        # Kept until the first import is compared with it (same_as_list), then dropped.
    print(f"baseline 1, COPY of the CSV into a scratch text table: {args.rows:,} rows in {copy_s:.2f} s = "
          f"{args.rows / copy_s:,.0f} rows/s")

    # Floor: the import's reader alone (header detection, pandas chunks of text cells), nothing checked or written.
    from importers.fastpath import FRAME_ROWS
    from importers.readers import open_source
    from importers.services import CHUNKSIZE, REQUIRED

    t = time.perf_counter()
    table = next(open_source(path).tables(required=REQUIRED["recognitions"], chunksize=CHUNKSIZE))
    read_rows = sum(len(lines) for lines, _ in table.frames(FRAME_ROWS))
    read_s = time.perf_counter() - t
    print(f"floor, the importer's reader alone (pandas, nothing checked or written): {read_rows:,} rows in "
          f"{read_s:.2f} s = {read_rows / read_s:,.0f} rows/s = {copy_s / read_s:.3f} of baseline 1")

    tables_s = None
    if connection.vendor == "postgresql":
        tier = Tier.objects.get(code="hnte")
        firms_tsv, certs_tsv = path + ".firms.tsv", path + ".certs.tsv"
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM registry_certification")
            first_id = cursor.fetchone()[0]
        subprocess.run([sys.executable, __file__, "--tables-only", path, firms_tsv, certs_tsv, str(tier.stage_id),
                        str(tier.id), str(first_id)], check=True)
        with connection.cursor() as cursor:
            scratch_schema(cursor)
            with transaction.atomic():
                t = time.perf_counter()
                copy_file(cursor, f"COPY bench_registry_firm ({FIRM_COPY}) FROM STDIN", firms_tsv)
                copy_file(cursor, f"COPY bench_registry_certification ({CERT_COPY}) FROM STDIN", certs_tsv)
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred foreign keys are checked here, timed
                tables_s = time.perf_counter() - t
            # Kept until the first import is compared with them (same_rows), then dropped.
        os.unlink(firms_tsv)
        os.unlink(certs_tsv)
        print(f"baseline 2, COPY of the same rows into copies of registry_firm + registry_certification (indexes, "
              f"constraints, foreign keys): {args.rows:,} rows in {tables_s:.2f} s = {args.rows / tables_s:,.0f} rows/s")

    runs = ["first import"] + ([] if args.no_rerun else ["same file again"])
    for label in runs:
        audit_before = AuditEvent.objects.count()
        reset_peak_rss()
        t = time.perf_counter()
        with suspend_indexing():
            job = import_file(path, kind="recognitions", options={"tier": "hnte", "authority": "江苏省科技厅"})
        seconds = time.perf_counter() - t
        against = f"{copy_s / seconds:.3f} of baseline 1 (1/{seconds / copy_s:,.1f})"
        if tables_s:
            against += f", {tables_s / seconds:.3f} of baseline 2 (1/{seconds / tables_s:,.1f})"
        print(f"{label}: job {job.pk} {job.status} {job.message[:200]} — {job.total:,} rows in {seconds:.2f} s = "
              f"{job.total / seconds:,.0f} rows/s; {against}; created {job.created:,}, updated {job.updated:,}, "
              f"unchanged {job.unchanged:,}, firms created {job.firms_created:,}, errors {job.errors:,}, "
              f"audit rows written {AuditEvent.objects.count() - audit_before:,}; peak RSS {peak_rss_mb():,.0f} MB")
        if label == "first import":
            same_as_list()
        if tables_s and label == "first import" and not same_rows():
            sys.exit(1)
        if args.index and label == "first import":
            from search.tasks import index_firms

            ids = list(Firm.objects.values_list("id", flat=True))
            t = time.perf_counter()
            for start in range(0, len(ids), 5000):
                index_firms(ids[start:start + 5000])
            print(f"search index pass (after commit, not in the import's time): {len(ids):,} firms in "
                  f"{time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
