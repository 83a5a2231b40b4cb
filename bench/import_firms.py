"""Benchmark: importing a large firm list (issue 12), next to a plain COPY of the same rows.

Generates an N-row firm list as registries publish it (统一社会信用代码, 企业名称, 成立日期, 所在地区,
主营产品, 注册资本（万元）; valid USCCs, Jiangsu district names), imports it as an import job — on
PostgreSQL the firm list's fast path (importers.fastpath.FastFirms: a vectorised reader staging the
rows into a TEMP table; registry.services.staged.StagedFirms: new firms, changed firms and their audit
rows in a few statements, side effects once) — then imports it again (every row unchanged, no audit
row written).

Baseline, same run: COPY of the same rows, already in their final form (normalised name, region
code, typed values), into a scratch copy of registry_firm (every column, default, check, index,
unique constraint and foreign key). The COPY file is written beforehand by a child process: only
the COPY is timed. Goal: the import at least 0.5 of that COPY's rows/s; peak memory under 1 GB.

A second baseline, labelled as such and not the goal's: the same COPY plus a COPY of one audit row per
firm (the `create` row the import writes, `changes` as it writes them) into a scratch copy of
registry_auditevent — the writes the import must make, like for like.

--repeat K runs K pairs (COPY, import), interleaved (which side goes first alternates), emptying both
tables before each side and taking their statistics anew (VACUUM ANALYZE); each pair's ratio is printed
and the median is the headline, with the worst pair: one noisy COPY no longer decides. After every pair
the registry's firms and the baseline's rows are compared column by column (SQL EXCEPT ALL, both ways,
duplicates counted); the benchmark exits non-zero when they differ. Then the same file is imported once
more (every row unchanged, nothing written). PostgreSQL only (COPY); the registry must be empty (--fresh
empties it, as --repeat does: a bench database only).

    scripts/with-services .venv/bin/python bench/import_firms.py --rows 100000 --repeat 5
"""

import argparse
import datetime
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cultivar.settings")
os.environ.setdefault("IMPORT_MAX_UPLOAD_BYTES", str(2 * 1024 ** 3))

COLUMNS = ("id, uscc, uscc_override_reason, name, name_normalized, former_names, region_id, industry_code, "
           "description, main_products, technologies, listing_status, created_at, updated_at, founded_on, "
           "registered_capital")
COMPARED = "uscc, name, name_normalized, former_names, region_id, founded_on, main_products, registered_capital"


def generate(path, rows, seed=11):
    """Write the list (no Django needed)."""
    from registry.data import load_regions_rows, resolve_region
    from registry.demo.names import uscc

    regions = [(r["code"], r["name"]) for r in load_regions_rows()
               if r["level"] == "district" and r["code"].startswith("32") and resolve_region(r["name"]) == r["code"]]
    products = ["工业机器人", "锂电池隔膜", "医疗影像设备", "工业软件", "新型显示材料", ""]
    rng, seen, n = random.Random(seed), set(), 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("统一社会信用代码,企业名称,成立日期,所在地区,主营产品,注册资本（万元）\n")
        while n < rows:
            code, name = regions[n % len(regions)]
            value = uscc(rng, code)
            if value in seen:
                continue
            seen.add(value)
            n += 1
            founded = datetime.date(1995, 1, 1) + datetime.timedelta(days=rng.randrange(0, 10000))
            capital = rng.choice(["", str(rng.randrange(10, 50000)), f"{rng.randrange(10, 5000)}.5"])
            out.write(f"{value},{name}基准{n}科技有限公司,{founded.isoformat()},{name},{rng.choice(products)},{capital}\n")


def generate_table(path, out_path, first_id):
    """The list's rows as COPY text for registry_firm (the baseline), and their audit rows (OUT.audit)."""
    import csv
    import json

    from registry.data import resolve_region
    from registry.names import normalize_name

    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    regions = {}
    with open(path, encoding="utf-8") as fh, open(out_path, "w", encoding="utf-8") as out, \
            open(out_path + ".audit", "w", encoding="utf-8") as audit:
        reader = csv.reader(fh)
        next(reader)
        for n, (uscc, name, founded, region, products, capital) in enumerate(reader):
            code = regions.get(region) or regions.setdefault(region, resolve_region(region))
            changes = {"name": ["", name], "founded_on": [None, founded], "region": [None, code]}
            if products:
                changes["main_products"] = ["", products]
            if capital:
                changes.update(registered_capital=[None, capital], registered_capital_currency=["", "CNY"])
            audit.write(f"{now}\t\\N\timport job 0\tcreate\tfirm\t{first_id + n}\t{first_id + n}\t"
                        f"{json.dumps(changes, ensure_ascii=False)}\n")
            capital = f"{float(capital):.2f}" if capital else "\\N"
            out.write(f"{first_id + n}\t{uscc}\t\t{name}\t{normalize_name(name)}\t[]\t{code}\t\t\t{products}\t\t"
                      f"unlisted\t{now}\t{now}\t{founded}\t{capital}\n")


def cpu_seconds(connection):
    """(this process's CPU, the PostgreSQL backend's CPU) in seconds; the backend's from /proc when the server
    runs on this machine (scripts/with-services), else None. On a shared machine the wall-clock ratio moves
    with the load; CPU seconds say what each side cost."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    backend = None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            fields = Path(f"/proc/{cursor.fetchone()[0]}/stat").read_text().rsplit(")", 1)[1].split()
        backend = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        pass
    return usage.ru_utime + usage.ru_stime, backend


def cpu_text(before, after):
    python = after[0] - before[0]
    if before[1] is None or after[1] is None:
        return f"CPU: Python {python:.2f} s"
    return f"CPU: Python {python:.2f} s, PostgreSQL backend {after[1] - before[1]:.2f} s"


def empty(cursor, *tables):
    """Empty the tables and take their statistics anew, so that autovacuum has nothing left to analyse while
    the next side writes (it once analysed registry_firm mid-import: 0 rows over the import's pages)."""
    cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    for table in tables:
        cursor.execute(f"VACUUM ANALYZE {table}")


def copy_into(cursor, table, columns, source):
    with open(source, "rb") as fh, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        while block := fh.read(1 << 20):
            copy.write(block)


def differences(cursor):
    """(rows only in the import, rows only in the COPY): the compared columns, duplicates counted."""
    counts = []
    for a, b in (("registry_firm", "bench_registry_firm"), ("bench_registry_firm", "registry_firm")):
        cursor.execute(f"SELECT count(*) FROM (SELECT {COMPARED} FROM {a} EXCEPT ALL SELECT {COMPARED} FROM {b}) d")
        counts.append(cursor.fetchone()[0])
    if counts[1]:  # show a few, to say what differs
        cursor.execute(f"SELECT {COMPARED} FROM bench_registry_firm EXCEPT ALL SELECT {COMPARED} FROM registry_firm "
                       f"ORDER BY 1 LIMIT 3")
        for row in cursor.fetchall():
            cursor.execute(f"SELECT {COMPARED} FROM registry_firm WHERE uscc = %s", [row[0]])
            print(f"COPY: {row}\nimport: {cursor.fetchone()}")
    return {"only in the import": counts[0], "only in the COPY": counts[1]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1, metavar="K",
                        help="K pairs of (COPY, import), interleaved, both tables emptied before each side; the "
                             "median ratio is the headline (a bench database only: implies --fresh)")
    parser.add_argument("--fresh", action="store_true", help="empty the registry first (a bench database only)")
    parser.add_argument("--generate-only", metavar="PATH", help=argparse.SUPPRESS)
    parser.add_argument("--table-only", nargs=3, metavar=("CSV", "OUT", "FIRST_ID"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_only:
        return generate(args.generate_only, args.rows)
    if args.table_only:
        return generate_table(args.table_only[0], args.table_only[1], int(args.table_only[2]))

    path = str(Path(tempfile.gettempdir()) / f"firms_{args.rows}.csv")
    if not Path(path).exists():
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--generate-only", path], check=True)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - t:.1f} s")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from bench.common import machine, peak_rss_mb, same
    from importers.services import import_file
    from registry.models import AuditEvent, Firm
    from search.indexing import suspend_indexing

    if connection.vendor != "postgresql":
        sys.exit("PostgreSQL only (the baseline is a COPY): run it under scripts/with-services.")
    call_command("migrate", verbosity=0)
    registry = ("registry_firm", "registry_certification", "registry_auditevent")
    if args.fresh or args.repeat > 1:
        with connection.cursor() as cursor:
            empty(cursor, *registry)
    if Firm.objects.exists():
        sys.exit("The registry is not empty: use an empty database, or --fresh on a bench database.")

    table_path = path + ".firms.tsv"
    subprocess.run([sys.executable, __file__, "--table-only", path, table_path, "1"], check=True)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_registry_firm")
        cursor.execute("CREATE TABLE bench_registry_firm (LIKE registry_firm INCLUDING ALL)")
        cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE conrelid = 'registry_firm'::regclass AND contype = 'f'")
        for name, definition in cursor.fetchall():
            cursor.execute(f"ALTER TABLE bench_registry_firm ADD CONSTRAINT bench_{name} "
                           f"{definition.replace('REFERENCES registry_firm(', 'REFERENCES bench_registry_firm(')}")
        # Baseline 2 (like for like, not the goal's): the firms plus their audit rows, in scratch copies; once.
        cursor.execute("DROP TABLE IF EXISTS bench_registry_auditevent")
        cursor.execute("CREATE TABLE bench_registry_auditevent (LIKE registry_auditevent INCLUDING ALL)")
        with transaction.atomic():
            t = time.perf_counter()
            copy_into(cursor, "bench_registry_firm", COLUMNS, table_path)
            copy_into(cursor, "bench_registry_auditevent",
                      "at, actor_id, via, action, model, object_id, firm_id, changes", table_path + ".audit")
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            with_audit_s = time.perf_counter() - t
        cursor.execute("DROP TABLE bench_registry_auditevent")
        empty(cursor, "bench_registry_firm")
    os.unlink(table_path + ".audit")
    print(f"database: postgresql; {machine()}; {args.rows:,} rows; baseline: COPY of the same rows, in their final form, "
          f"into a copy of registry_firm (indexes, constraints, foreign keys); {args.repeat} pair(s), interleaved")
    print(f"baseline 2 (like for like, not the goal's): the same COPY plus one audit row per firm into a copy of "
          f"registry_auditevent: {with_audit_s:.2f} s = {args.rows / with_audit_s:,.0f} rows/s")

    def copy_side():
        with connection.cursor() as cursor, transaction.atomic():
            cpu = cpu_seconds(connection)
            t = time.perf_counter()
            copy_into(cursor, "bench_registry_firm", COLUMNS, table_path)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred foreign keys are checked here, timed
            seconds = time.perf_counter() - t
            return seconds, cpu_text(cpu, cpu_seconds(connection))

    def import_side(label, expected):
        audit_before = AuditEvent.objects.count()
        cpu = cpu_seconds(connection)
        t = time.perf_counter()
        with suspend_indexing():
            job = import_file(path, kind="firms")
        seconds = time.perf_counter() - t
        cpu = cpu_text(cpu, cpu_seconds(connection))
        audit_rows = AuditEvent.objects.count() - audit_before
        ok = job.status == "succeeded" and (job.created, job.updated, job.unchanged) == expected and not job.errors \
            and audit_rows == expected[0]
        if not ok:
            print(f"UNEXPECTED: {label}: job {job.pk} {job.status} {job.message[:200]}; created/updated/unchanged "
                  f"{(job.created, job.updated, job.unchanged)} (expected {expected}), errors {job.errors:,}, audit "
                  f"rows {audit_rows:,} (expected {expected[0]:,})")
        return seconds, cpu, ok

    failed, ratios = False, []
    for k in range(args.repeat):
        sides = {}
        if k:  # (the registry's truncation cascades to the copy: it refers to the registry's indicator rows)
            with connection.cursor() as cursor:
                empty(cursor, *registry, "bench_registry_firm")
        # Alternate which side runs first, so that a drift in the machine's load hits both alike.
        for side in (("copy", "import") if k % 2 == 0 else ("import", "copy")):
            if side == "copy":
                sides["copy"] = copy_side()
            else:
                sides["import"] = import_side(f"pair {k + 1}", (args.rows, 0, 0))
        (copy_s, copy_cpu), (import_s, import_cpu, ok) = sides["copy"], sides["import"]
        failed |= not ok
        with connection.cursor() as cursor:  # both sides wrote the same rows, every pair (exits 1 otherwise)
            same(f"firm rows, pair {k + 1}", differences(cursor), {"only in the import": 0, "only in the COPY": 0},
                 ("import", "COPY"))
        ratios.append(copy_s / import_s)
        print(f"pair {k + 1}: COPY {copy_s:.2f} s ({copy_cpu}); import {import_s:.2f} s = {args.rows / import_s:,.0f} "
              f"rows/s ({import_cpu}) = {ratios[-1]:.3f} of the COPY ({with_audit_s / import_s:.3f} of baseline 2); "
              f"same rows; {machine()}", flush=True)

    import_s, cpu, ok = import_side("same file again", (0, 0, args.rows))
    failed |= not ok
    print(f"same file again: {import_s:.2f} s = {args.rows / import_s:,.0f} rows/s = {copy_s / import_s:.3f} of the "
          f"last COPY; nothing written; {cpu}")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_registry_firm")
    os.unlink(table_path)
    print(f"import of {args.rows:,} new firms against the COPY, {len(ratios)} pair(s): median "
          f"{statistics.median(ratios):.3f} (goal ≥ 0.5), worst {min(ratios):.3f}, best {max(ratios):.3f}; the import's "
          f"firms equal the COPY's in every pair, column by column ({COMPARED}); peak RSS {peak_rss_mb():,.0f} MB "
          f"(goal < 1024)")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
