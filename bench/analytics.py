"""Benchmark: funnel, transition matrix and candidate query against hand-written SQL (issue 6).

For each computation it prints the time of the Cultivar function (ORM + pandas, as the API runs
it) next to a hand-written SQL query producing the same numbers, measured in the same run, and the
ratio (goal: ≤ 2× the hand-written query and < 1 s). It also checks the numbers agree.

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python bench/analytics.py --firms 50000
    scripts/with-services .venv/bin/python bench/analytics.py --firms 1000000   # PostgreSQL

With --firms, an empty database is migrated and seeded first (`seed_demo --firms N --seed S`).
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cultivar.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from registry.analytics import funnel, stage_transitions  # noqa: E402
from registry.eligibility import find_candidates  # noqa: E402
from registry.models import Certification, Firm, Stage  # noqa: E402


def timed_pair(ours, theirs, repeat):
    """Median seconds of each over `repeat` runs after a warm-up, interleaved (ours, theirs, ours, …)
    so that load from other processes on a shared machine hits both alike. Returns (t1, r1, t2, r2)."""
    results = [ours(), theirs()]
    times = ([], [])
    for _ in range(repeat):
        for i, fn in enumerate((ours, theirs)):
            started = time.perf_counter()
            results[i] = fn()
            times[i].append(time.perf_counter() - started)
    return statistics.median(times[0]), results[0], statistics.median(times[1]), results[1]


def sql(query, params):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def ranks():
    return dict(Stage.objects.values_list("code", "rank")), dict(Stage.objects.values_list("code", "id"))


# --------------------------------------------------------------------------- hand-written queries

def funnel_sql(stages, year):
    rank, ids = ranks()
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    later = ", ".join(f"MIN(CASE WHEN s.rank >= {rank[code]} THEN c.issued_on END) AS s{k}"
                      for k, code in enumerate(stages[1:], start=1))
    counts = ", ".join(f"COUNT(s{k})" for k in range(1, len(stages)))
    query = f"""
        SELECT COUNT(*), {counts} FROM (
          SELECT c.firm_id, MIN(CASE WHEN c.stage_id = %s THEN c.issued_on END) AS entry, {later}
          FROM registry_certification c JOIN registry_stage s ON s.id = c.stage_id
          WHERE c.status <> 'revoked' AND s.rank >= %s AND c.firm_id IN (
            SELECT e.firm_id FROM registry_certification e
            WHERE e.stage_id = %s AND e.status <> 'revoked' AND e.issued_on BETWEEN %s AND %s
              AND NOT EXISTS (SELECT 1 FROM registry_certification b WHERE b.firm_id = e.firm_id
                              AND b.stage_id = e.stage_id AND b.status <> 'revoked' AND b.issued_on < %s))
          GROUP BY c.firm_id
          HAVING MIN(CASE WHEN c.stage_id = %s THEN c.issued_on END) BETWEEN %s AND %s) t"""
    first = ids[stages[0]]
    row = sql(query, [first, rank[stages[0]], first, start, end, start, first, start, end])[0]
    return list(row)


def transitions_sql(year):
    d0, d1 = datetime.date(year - 1, 12, 31), datetime.date(year, 12, 31)
    held = "c.valid_from <= %s AND c.valid_until >= %s AND (c.status <> 'revoked' OR c.revoked_on > %s)"
    query = f"""
        SELECT from_rank, to_rank, COUNT(*) FROM (
          SELECT c.firm_id,
                 MAX(CASE WHEN {held} THEN s.rank END) AS from_rank,
                 MAX(CASE WHEN {held} THEN s.rank END) AS to_rank
          FROM registry_certification c JOIN registry_stage s ON s.id = c.stage_id
          WHERE c.valid_from <= %s AND c.valid_until >= %s
          GROUP BY c.firm_id) t
        WHERE from_rank IS NOT NULL OR to_rank IS NOT NULL
        GROUP BY from_rank, to_rank"""
    rows = sql(query, [d0, d0, d0, d1, d1, d1, d1, d0])
    return {(f, t): n for f, t, n in rows}


def hnte_candidates_sql(on, first):
    """高企 candidates among current 科小 firms: eligible count and the top page, by the 2016 rules."""
    year = on.year - 1
    registered_by = on.replace(year=on.year - 1)
    _, ids = ranks()
    query = """
        SELECT f.id,
          CASE WHEN i.id IS NULL THEN 2
               WHEN f.founded_on <= %s
                AND COALESCE(i.ip_class1, i.invention_patents, 0) + COALESCE(i.ip_class2, 0) >= 1
                AND i.employees > 0 AND 1.0 * i.rd_staff / i.employees >= 0.1 - 1e-9
                AND i.revenue > 0 AND 1.0 * i.hightech_revenue / i.revenue >= 0.6 - 1e-9
                AND (COALESCE(i.rd_expense, 0) + COALESCE(p1.rd_expense, 0) + COALESCE(p2.rd_expense, 0)) * 1.0
                    / (i.revenue + COALESCE(CASE WHEN p1.rd_expense IS NOT NULL THEN p1.revenue END, 0)
                                 + COALESCE(CASE WHEN p2.rd_expense IS NOT NULL THEN p2.revenue END, 0))
                    >= CASE WHEN i.revenue <= 5000 THEN 0.05 WHEN i.revenue <= 20000 THEN 0.04 ELSE 0.03 END - 1e-9
               THEN 0 ELSE 1 END AS outcome
        FROM registry_firm f
        LEFT JOIN registry_indicatoryear i ON i.firm_id = f.id AND i.year = %s
        LEFT JOIN registry_indicatoryear p1 ON p1.firm_id = f.id AND p1.year = %s AND p1.revenue IS NOT NULL
        LEFT JOIN registry_indicatoryear p2 ON p2.firm_id = f.id AND p2.year = %s AND p2.revenue IS NOT NULL
        WHERE f.current_stage_id = %s
        ORDER BY outcome, f.id"""
    rows = sql(query, [registered_by, year, year - 1, year - 2, ids["tech_sme"]])
    eligible = sum(1 for _, outcome in rows if outcome == 0)
    return eligible, len(rows), [firm_id for firm_id, _ in rows[:first]]


# --------------------------------------------------------------------------- run

def report(name, ours, theirs, agree):
    ratio = ours / theirs if theirs else float("inf")
    verdict = "ok" if ratio <= 2 and ours < 1 else "SLOW"
    print(f"{name:<22} cultivar {ours * 1000:8.1f} ms   hand SQL {theirs * 1000:8.1f} ms   "
          f"ratio {ratio:5.2f}×   same numbers: {'yes' if agree else 'NO'}   {verdict}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, help="Seed this many demo firms first when the database is empty")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cohort-year", type=int, default=2021)
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--on", type=datetime.date.fromisoformat, default=datetime.date(2026, 6, 30))
    args = parser.parse_args()

    if args.firms:
        call_command("migrate", verbosity=0)
        if not Firm.objects.exists():
            call_command("seed_demo", firms=args.firms, seed=args.seed, no_index=True)
    vendor = connection.vendor
    print(f"{vendor}: {Firm.objects.count():,} firms, {Certification.objects.count():,} recognitions; "
          f"median of {args.repeat} runs after a warm-up")

    stages = ["tech_sme", "hnte", "gazelle", "srdi"]
    ours, result, theirs, counts = timed_pair(
        lambda: funnel(stages, args.cohort_year), lambda: funnel_sql(stages, args.cohort_year), args.repeat)
    report("funnel", ours, theirs, [s["count"] for s in result["steps"]] == counts)
    print(f"    cohort {args.cohort_year}: " + " → ".join(f"{s['stage']} {s['count']}" for s in result["steps"]))

    ours, result, theirs, matrix = timed_pair(
        lambda: stage_transitions(args.year), lambda: transitions_sql(args.year), args.repeat)
    rank, _ = ranks()
    mine = {}
    for row in result:
        key = (rank.get(row["from_stage"]), rank.get(row["to_stage"]))
        mine[key] = mine.get(key, 0) + row["count"]
    report("transition matrix", ours, theirs, mine == matrix)
    print(f"    {args.year}: {sum(matrix.values()):,} firms in {len(matrix)} from→to cells")

    ours, page, theirs, (eligible, total, top) = timed_pair(
        lambda: find_candidates("hnte", on=args.on, first=20), lambda: hnte_candidates_sql(args.on, 20), args.repeat)
    full = find_candidates("hnte", on=args.on, first=100)
    eligible_ours = sum(1 for c in full.items if c.eligible) if eligible <= 100 else None
    same = full.total == total and [c.firm.pk for c in page.items if c.eligible] == [
        f for f in top if f in {c.firm.pk for c in page.items if c.eligible}]
    if eligible_ours is not None:
        same = same and eligible_ours == eligible
    report("candidates (高企)", ours, theirs, same)
    print(f"    {total:,} 科小 firms judged, {eligible:,} eligible; page of 20 with explanations")


if __name__ == "__main__":
    main()
