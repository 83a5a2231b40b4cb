"""Benchmark: funnel, transition matrix and candidate query against hand-written SQL (issue 6).

For each computation it prints the time of the Cultivar function (ORM + pandas, as the API runs
it, reading the precomputed tables of registry.analytics.precomputed and
registry.eligibility.precomputed) next to a hand-written SQL query producing the same numbers from
the base tables (recognitions, indicators, firms), measured in the same run, and the ratio (goal:
≤ 2× the hand-written query and < 1 s). It also checks the numbers agree, and prints, for
reference, a hand-written query over the precomputed tables and the live (unprecomputed) path.
Nationally, for a city (苏州 320500) and a district (昆山 320583).

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

from registry.analytics import funnel, precomputed, stage_transitions  # noqa: E402
from registry.eligibility import find_candidates  # noqa: E402
from registry.eligibility import precomputed as candidate_ranks  # noqa: E402
from registry.models import Certification, Firm, Stage  # noqa: E402


def timed(fns, repeat):
    """Median seconds of each function over `repeat` runs after a warm-up, interleaved (a, b, c, a, b,
    c, …) so that load from other processes on a shared machine hits all alike. Returns [(t, result)]."""
    results = [fn() for fn in fns]
    times = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            started = time.perf_counter()
            results[i] = fn()
            times[i].append(time.perf_counter() - started)
    return [(statistics.median(t), r) for t, r in zip(times, results)]


def sql(query, params):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def ranks():
    return dict(Stage.objects.values_list("code", "rank")), dict(Stage.objects.values_list("code", "id"))


def in_region(column, region):
    """SQL fragment and params: `column` (a firm id) is a firm of the region or under it."""
    if region is None:
        return "", []
    return (f" AND {column} IN (SELECT f.id FROM registry_firm f JOIN registry_region r ON r.code = f.region_id "
            "WHERE r.path LIKE %s)", [sql("SELECT path FROM registry_region WHERE code = %s", [region])[0][0] + "%"])


# --------------------------------------------------------------------------- hand-written queries, base tables

def funnel_sql(stages, year, region=None):
    rank, ids = ranks()
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    later = ", ".join(f"MIN(CASE WHEN s.rank >= {rank[code]} THEN c.issued_on END) AS s{k}"
                      for k, code in enumerate(stages[1:], start=1))
    counts = ", ".join(f"COUNT(s{k})" for k in range(1, len(stages)))
    scope, scope_params = in_region("c.firm_id", region)
    query = f"""
        SELECT COUNT(*), {counts} FROM (
          SELECT c.firm_id, MIN(CASE WHEN c.stage_id = %s THEN c.issued_on END) AS entry, {later}
          FROM registry_certification c JOIN registry_stage s ON s.id = c.stage_id
          WHERE c.status <> 'revoked' AND s.rank >= %s{scope} AND c.firm_id IN (
            SELECT e.firm_id FROM registry_certification e
            WHERE e.stage_id = %s AND e.status <> 'revoked' AND e.issued_on BETWEEN %s AND %s
              AND NOT EXISTS (SELECT 1 FROM registry_certification b WHERE b.firm_id = e.firm_id
                              AND b.stage_id = e.stage_id AND b.status <> 'revoked' AND b.issued_on < %s))
          GROUP BY c.firm_id
          HAVING MIN(CASE WHEN c.stage_id = %s THEN c.issued_on END) BETWEEN %s AND %s) t"""
    first = ids[stages[0]]
    return list(sql(query, [first, rank[stages[0]], *scope_params, first, start, end, start, first, start, end])[0])


def transitions_sql(year, region=None):
    d0, d1 = datetime.date(year - 1, 12, 31), datetime.date(year, 12, 31)
    held = "c.valid_from <= %s AND c.valid_until >= %s AND (c.status <> 'revoked' OR c.revoked_on > %s)"
    scope, scope_params = in_region("c.firm_id", region)
    query = f"""
        SELECT from_rank, to_rank, COUNT(*) FROM (
          SELECT c.firm_id,
                 MAX(CASE WHEN {held} THEN s.rank END) AS from_rank,
                 MAX(CASE WHEN {held} THEN s.rank END) AS to_rank
          FROM registry_certification c JOIN registry_stage s ON s.id = c.stage_id
          WHERE c.valid_from <= %s AND c.valid_until >= %s{scope}
          GROUP BY c.firm_id) t
        WHERE from_rank IS NOT NULL OR to_rank IS NOT NULL
        GROUP BY from_rank, to_rank"""
    rows = sql(query, [d0, d0, d0, d1, d1, d1, d1, d0, *scope_params])
    return {(f, t): n for f, t, n in rows}


def hnte_candidates_sql(on, first, region=None):
    """高企 candidates among current 科小 firms: eligible count and the top page, by the 2016 rules as
    issue 16 reads them: the 3-year R&D ratios need every year the firm existed in (a missing one is
    not eligible), R&D inside China ≥ 60 % over the same years, innovation score ≥ 71."""
    year = on.year - 1
    registered_by = on.replace(year=on.year - 1)
    _, ids = ranks()
    scope, scope_params = in_region("f.id", region)
    existed = {k: datetime.date(year - k, 12, 31) for k in (1, 2)}

    def over_years(column):
        return (f"(i.{column} + CASE WHEN f.founded_on IS NULL OR f.founded_on <= %s THEN p1.{column} ELSE 0 END"
                f" + CASE WHEN f.founded_on IS NULL OR f.founded_on <= %s THEN p2.{column} ELSE 0 END)")

    query = f"""
        SELECT f.id,
          CASE WHEN i.id IS NULL THEN 2
               WHEN f.founded_on <= %s
                AND COALESCE(i.ip_class1, i.invention_patents, 0) + COALESCE(i.ip_class2, 0) >= 1
                AND i.employees > 0 AND 1.0 * i.rd_staff / i.employees >= 0.1 - 1e-9
                AND i.revenue > 0 AND 1.0 * i.hightech_revenue / i.revenue >= 0.6 - 1e-9
                AND {over_years("rd_expense")} * 1.0 / {over_years("revenue")}
                    >= CASE WHEN i.revenue <= 5000 THEN 0.05 WHEN i.revenue <= 20000 THEN 0.04 ELSE 0.03 END - 1e-9
                AND {over_years("rd_expense").replace("i.", "d0.").replace("p1.", "d1.").replace("p2.", "d2.")
                     .replace("rd_expense", "rd_expense_domestic")} * 1.0 / {over_years("rd_expense")} >= 0.6 - 1e-9
                AND d0.innovation_ip + d0.innovation_conversion + d0.innovation_rd_management
                    + d0.innovation_growth >= 71
               THEN 0 ELSE 1 END AS outcome
        FROM registry_firm f
        LEFT JOIN registry_indicatoryear i ON i.firm_id = f.id AND i.year = %s
        LEFT JOIN registry_indicatoryear p1 ON p1.firm_id = f.id AND p1.year = %s
        LEFT JOIN registry_indicatoryear p2 ON p2.firm_id = f.id AND p2.year = %s
        LEFT JOIN registry_indicatordetail d0 ON d0.firm_id = f.id AND d0.year = %s
        LEFT JOIN registry_indicatordetail d1 ON d1.firm_id = f.id AND d1.year = %s
        LEFT JOIN registry_indicatordetail d2 ON d2.firm_id = f.id AND d2.year = %s
        WHERE f.current_stage_id = %s{scope}
        ORDER BY outcome, f.id"""
    pair = [existed[1], existed[2]]
    params = [registered_by, *pair, *pair, *pair, *pair, year, year - 1, year - 2, year, year - 1, year - 2,
              ids["tech_sme"], *scope_params]
    rows = sql(query, params)
    eligible = sum(1 for _, outcome in rows if outcome == 0)
    return eligible, len(rows), [firm_id for firm_id, _ in rows[:first]]


# --------------------------------------------------------------------------- hand-written queries, precomputed tables

def on_path(alias, region):
    """The precomputed rows carry the firm's region path: filter it in place."""
    if region is None:
        return "", []
    return f" AND {alias}.region_path LIKE %s", [sql("SELECT path FROM registry_region WHERE code = %s", [region])[0][0] + "%"]


def funnel_precomputed_sql(stages, year, region=None):
    rank, ids = ranks()
    later = ", ".join(f"MIN(CASE WHEN s.rank >= {rank[code]} THEN r.issued_on END) AS s{k}"
                      for k, code in enumerate(stages[1:], start=1))
    counts = ", ".join(f"COUNT(s{k})" for k in range(1, len(stages)))
    scope, scope_params = on_path("r", region)
    query = f"""
        SELECT COUNT(*), {counts} FROM (
          SELECT r.firm_id, {later}
          FROM registry_firmstagereach r JOIN registry_stage s ON s.id = r.stage_id
          WHERE s.rank >= %s{scope} AND r.firm_id IN (
            SELECT e.firm_id FROM registry_firmstagereach e WHERE e.stage_id = %s AND e.issued_on BETWEEN %s AND %s)
          GROUP BY r.firm_id) t"""
    params = [rank[stages[0]], *scope_params, ids[stages[0]], datetime.date(year, 1, 1), datetime.date(year, 12, 31)]
    return list(sql(query, params)[0])


def transitions_precomputed_sql(year, region=None):
    scope, scope_params = on_path("t", region)
    rows = sql(f"SELECT from_rank, to_rank, COUNT(*) FROM registry_firmyeartransition t WHERE year = %s{scope} "
               "GROUP BY from_rank, to_rank", [year, *scope_params])
    return {(f, t): n for f, t, n in rows}


def candidates_precomputed_sql(first, region=None):
    scope, scope_params = on_path("c", region)
    where = f"FROM registry_candidaterank c WHERE c.target = 'hnte'{scope}"
    total = sql(f"SELECT COUNT(*) {where}", scope_params)[0][0]
    top = sql(f"SELECT c.firm_id {where} ORDER BY c.outcome_rank, c.score_key, c.gap, c.firm_id LIMIT %s",
              [*scope_params, first])
    return total, [f for f, in top]


# --------------------------------------------------------------------------- run

def report(name, ours, theirs, agree, pre=None, live=None):
    ratio = ours / theirs if theirs else float("inf")
    verdict = "ok" if ratio <= 2 and ours < 1 else "SLOW"
    extra = ""
    if pre is not None:
        extra += f"   [hand SQL on precomputed {pre * 1000:7.1f} ms"
        extra += f", live path {live * 1000:7.1f} ms]" if live is not None else "]"
    print(f"{name:<30} cultivar {ours * 1000:8.1f} ms   hand SQL {theirs * 1000:8.1f} ms   "
          f"ratio {ratio:5.2f}×   same numbers: {'yes' if agree else 'NO'}   {verdict}{extra}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, help="Seed this many demo firms first when the database is empty")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cohort-year", type=int, default=2021)
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--on", type=datetime.date.fromisoformat, default=datetime.date(2026, 6, 30))
    parser.add_argument("--regions", default=",320500,320583",
                        help="Comma-separated region codes; empty = national (default: national, 苏州, 昆山)")
    parser.add_argument("--live", action="store_true", help="Also time the live (unprecomputed) path")
    args = parser.parse_args()

    if args.firms:
        call_command("migrate", verbosity=0)
        if not Firm.objects.exists():
            call_command("seed_demo", firms=args.firms, seed=args.seed, no_index=True)
    vendor = connection.vendor
    print(f"{vendor}: {Firm.objects.count():,} firms, {Certification.objects.count():,} recognitions; "
          f"median of {args.repeat} runs after a warm-up")
    if not precomputed.is_complete():
        started = time.perf_counter()
        precomputed.rebuild()
        print(f"(pipeline tables were not complete: rebuilt in {time.perf_counter() - started:.1f} s)")
    if not candidate_ranks.ready_for(args.on):
        # The ranking answers for one evaluation date (normally today, rebuilt nightly); build it for --on.
        started = time.perf_counter()
        candidate_ranks.rebuild(args.on)
        print(f"(candidates ranking built for {args.on} in {time.perf_counter() - started:.1f} s)")
    state = candidate_ranks.state()
    print(f"pipeline tables complete: {precomputed.is_complete()}; candidates ranking for {state.evaluated_on}, "
          f"rebuilt {state.rebuilt_at:%Y-%m-%d %H:%M} UTC")

    stages = ["tech_sme", "hnte", "gazelle", "srdi"]
    rank, _ = ranks()
    for region in [code or None for code in args.regions.split(",")]:
        where = region or "national"

        def maybe_live(fn):
            return [fn] if args.live else []

        timings = timed([
            lambda: funnel(stages, args.cohort_year, region=region),
            lambda: funnel_sql(stages, args.cohort_year, region),
            lambda: funnel_precomputed_sql(stages, args.cohort_year, region),
            *maybe_live(lambda: funnel(stages, args.cohort_year, region=region, live=True)),
        ], args.repeat)
        (ours, result), (theirs, counts), (pre, pre_counts) = timings[:3]
        same = [s["count"] for s in result["steps"]] == counts == pre_counts
        report(f"funnel {where}", ours, theirs, same, pre, timings[3][0] if args.live else None)
        print(f"    cohort {args.cohort_year}: " + " → ".join(f"{s['stage']} {s['count']}" for s in result["steps"]))

        timings = timed([
            lambda: stage_transitions(args.year, region=region),
            lambda: transitions_sql(args.year, region),
            lambda: transitions_precomputed_sql(args.year, region),
            *maybe_live(lambda: stage_transitions(args.year, region=region, live=True)),
        ], args.repeat)
        (ours, result), (theirs, matrix), (pre, pre_matrix) = timings[:3]
        mine = {}
        for row in result:
            key = (rank.get(row["from_stage"]), rank.get(row["to_stage"]))
            mine[key] = mine.get(key, 0) + row["count"]
        report(f"transition matrix {where}", ours, theirs, mine == matrix == pre_matrix, pre,
               timings[3][0] if args.live else None)
        print(f"    {args.year}: {sum(matrix.values()):,} firms in {len(matrix)} from→to cells")

        timings = timed([
            lambda: find_candidates("hnte", region=region, on=args.on, first=20),
            lambda: hnte_candidates_sql(args.on, 20, region),
            lambda: candidates_precomputed_sql(20, region),
            *maybe_live(lambda: find_candidates("hnte", region=region, on=args.on, first=20, live=True)),
        ], args.repeat)
        (ours, page), (theirs, (eligible, total, top)), (pre, (pre_total, pre_top)) = timings[:3]
        full = find_candidates("hnte", region=region, on=args.on, first=100)
        ours_ids = [c.firm.pk for c in page.items]
        # Same judged set and eligible count; the page's eligible firms in the hand query's order (it
        # ranks eligible firms by id only, the finder by score and gap too).
        same = full.total == total == pre_total and pre_top == ours_ids and [
            c.firm.pk for c in page.items if c.eligible] == [f for f in top[:eligible] if f in set(ours_ids)]
        if eligible <= 100:
            same = same and sum(1 for c in full.items if c.eligible) == eligible
        report(f"candidates (高企) {where}", ours, theirs, same, pre, timings[3][0] if args.live else None)
        print(f"    {total:,} 科小 firms judged, {eligible:,} eligible; page of 20 with explanations")


if __name__ == "__main__":
    main()
