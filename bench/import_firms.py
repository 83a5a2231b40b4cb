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

Afterwards the registry's firms and the baseline's rows are compared column by column (both ways,
SQL EXCEPT ALL, both ways); the benchmark exits non-zero when they differ. PostgreSQL only (COPY); the registry must
be empty (--fresh empties it: a bench database only).

    scripts/with-services .venv/bin/python bench/import_firms.py --rows 100000 --fresh
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


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
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
    from bench.common import machine, same
    from django.core.management import call_command
    from django.db import connection, transaction

    from importers.services import import_file
    from registry.models import AuditEvent, Firm
    from search.indexing import suspend_indexing

    if connection.vendor != "postgresql":
        sys.exit("PostgreSQL only (the baseline is a COPY): run it under scripts/with-services.")
    call_command("migrate", verbosity=0)
    if args.fresh:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE registry_firm, registry_certification, registry_auditevent CASCADE")
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
        with transaction.atomic():
            cpu = cpu_seconds(connection)
            t = time.perf_counter()
            with open(table_path, "rb") as fh, cursor.cursor.copy(f"COPY bench_registry_firm ({COLUMNS}) FROM STDIN") as copy:
                while block := fh.read(1 << 20):
                    copy.write(block)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred foreign keys are checked here, timed
            copy_s = time.perf_counter() - t
            copy_cpu = cpu_text(cpu, cpu_seconds(connection))
        # Baseline 2 (like for like, not the goal's): the firms again plus their audit rows, in scratch copies.
        cursor.execute("TRUNCATE bench_registry_firm")
        cursor.execute("DROP TABLE IF EXISTS bench_registry_auditevent")
        cursor.execute("CREATE TABLE bench_registry_auditevent (LIKE registry_auditevent INCLUDING ALL)")
        with transaction.atomic():
            t = time.perf_counter()
            for table, columns, source in (("bench_registry_firm", COLUMNS, table_path), (
                    "bench_registry_auditevent", "at, actor_id, via, action, model, object_id, firm_id, changes",
                    table_path + ".audit")):
                with open(source, "rb") as fh, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    while block := fh.read(1 << 20):
                        copy.write(block)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            with_audit_s = time.perf_counter() - t
        cursor.execute("DROP TABLE bench_registry_auditevent")
    os.unlink(table_path)
    os.unlink(table_path + ".audit")
    print(f"database: postgresql; {machine()}; baseline, COPY of the same rows into a copy of registry_firm (indexes, constraints, "
          f"foreign keys): {args.rows:,} rows in {copy_s:.2f} s = {args.rows / copy_s:,.0f} rows/s ({copy_cpu})")
    print(f"baseline 2 (like for like, not the goal's): the same COPY plus one audit row per firm into a copy of "
          f"registry_auditevent: {args.rows:,} rows in {with_audit_s:.2f} s = {args.rows / with_audit_s:,.0f} rows/s")

    failed = False
    for label in ("first import", "same file again"):
        audit_before = AuditEvent.objects.count()
        cpu = cpu_seconds(connection)
        t = time.perf_counter()
        with suspend_indexing():
            job = import_file(path, kind="firms")
        seconds = time.perf_counter() - t
        cpu = cpu_text(cpu, cpu_seconds(connection))
        print(f"{label}: job {job.pk} {job.status} {job.message[:200]} — {job.total:,} rows in {seconds:.2f} s = "
              f"{job.total / seconds:,.0f} rows/s = {copy_s / seconds:.3f} of the COPY (goal ≥ 0.5; "
              f"{with_audit_s / seconds:.3f} of baseline 2); created "
              f"{job.created:,}, updated {job.updated:,}, unchanged {job.unchanged:,}, errors {job.errors:,}, audit rows "
              f"written {AuditEvent.objects.count() - audit_before:,}; peak RSS {peak_mb():,.0f} MB (goal < 1024); {cpu}")
        expected = (args.rows, 0, 0) if label == "first import" else (0, 0, args.rows)
        audit_rows = AuditEvent.objects.count() - audit_before
        if job.status != "succeeded" or (job.created, job.updated, job.unchanged) != expected or job.errors \
                or audit_rows != expected[0]:
            print(f"UNEXPECTED: {label} should give created/updated/unchanged {expected}, no errors and "
                  f"{expected[0]:,} audit rows")
            failed = True

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM (SELECT {COMPARED} FROM registry_firm EXCEPT ALL "
                       f"SELECT {COMPARED} FROM bench_registry_firm) d")
        only_import = cursor.fetchone()[0]
        cursor.execute(f"SELECT count(*) FROM (SELECT {COMPARED} FROM bench_registry_firm EXCEPT ALL "
                       f"SELECT {COMPARED} FROM registry_firm) d")
        only_copy = cursor.fetchone()[0]
        if only_copy:  # show a few, to say what differs
            cursor.execute(f"SELECT {COMPARED} FROM bench_registry_firm EXCEPT ALL SELECT {COMPARED} FROM registry_firm "
                           f"ORDER BY 1 LIMIT 3")
            for row in cursor.fetchall():
                cursor.execute(f"SELECT {COMPARED} FROM registry_firm WHERE uscc = %s", [row[0]])
                print(f"COPY: {row}\nimport: {cursor.fetchone()}")
        cursor.execute("DROP TABLE bench_registry_firm")
    # Both ways, duplicates counted (bench.common.same exits 1 otherwise).
    same("firm rows", {"only in the import": only_import, "only in the COPY": only_copy},
         {"only in the import": 0, "only in the COPY": 0}, ("import", "COPY"))
    print(f"same rows: the import's {args.rows:,} firms equal the COPY's, column by column ({COMPARED})")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
