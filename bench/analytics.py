"""Benchmark: funnel, transition matrix and candidates against hand-written SQL, like for like (issues 6, 14).

For each computation, nationally, for a city (苏州 320500) and a district (昆山 320583), it times the
Cultivar function (ORM + pandas, as the API runs it, reading the precomputed tables of
registry.analytics.precomputed and registry.eligibility.precomputed) and, interleaved in the same
run:
- the headline baseline: hand-written SQL over the SAME precomputed tables (firm stage reach,
  year transitions, candidate ranks and their per-region counts, with the same indexes: the page
  filters on the region's path prefix the per-depth ordered indexes are built on) — ratio goal
  ≤ 1.5×, candidates page ≤ 50 ms p95;
- a second baseline, labelled as such: hand-written SQL recomputing the numbers from the raw tables
  (recognitions, indicators, firms) — what the precomputation saves;
- with --live, the live (unprecomputed) path.
Every side's result is checked equal to Cultivar's (funnel counts, the whole matrix, the candidates
page's firms/eligibility/score/gap/rule set/explanations, and each judged firm's eligibility from the
raw tables), and the stored candidates page to the live engine's, explanations included; any
difference prints where and exits with status 1. Headline timings: `--repeat` interleaved runs, p50
and p95; the raw-table baseline is timed apart (`--raw-repeat`, it is slow).

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python bench/analytics.py --firms 50000
    scripts/with-services .venv/bin/python bench/analytics.py --firms 1000000   # PostgreSQL

With --firms, an empty database is migrated and seeded first (`seed_demo --firms N --seed S`).
"""

import argparse
import datetime
import json
import os
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

from bench.common import Table, machine, measure, percentile, ratio, same  # noqa: E402


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


def hnte_candidates_sql(on, region=None):
    """高企 candidates among current 科小 firms, {firm id: outcome} (0 eligible), by the 2016 rules as
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
"""
    pair = [existed[1], existed[2]]
    params = [registered_by, *pair, *pair, *pair, *pair, year, year - 1, year - 2, year, year - 1, year - 2,
              ids["tech_sme"], *scope_params]
    return dict(sql(query, params))


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
    """The page as the finder returns it, by hand: the total from the per-region counts table
    (registry_candidatecount, kept with the ranking), then the first rows of the ranking in the
    region — filtered on the path prefix of the region's depth, the expression the ordered
    per-depth indexes are built on — with their stored explanation and the firm, its region, stage
    and tier (what Candidate.firm carries)."""
    path = "" if region is None else sql("SELECT path FROM registry_region WHERE code = %s", [region])[0][0]
    total = sql("SELECT COALESCE(SUM(n), 0) FROM registry_candidatecount WHERE target = 'hnte' AND region_path = %s",
                [path])[0][0]
    scope, scope_params = (f" AND SUBSTRING(c.region_path, 1, {len(path)}) = %s", [path]) if path else ("", [])
    if connection.vendor == "sqlite":
        scope = scope.replace("SUBSTRING(", "SUBSTR(")
    top = sql("SELECT c.firm_id, c.outcome_rank, c.score_key, c.gap, c.rule_set, c.unmet, f.*, r.*, s.*, t.* "
              "FROM registry_candidaterank c JOIN registry_firm f ON f.id = c.firm_id "
              "JOIN registry_region r ON r.code = f.region_id "
              "LEFT JOIN registry_stage s ON s.id = f.current_stage_id LEFT JOIN registry_tier t ON t.id = f.current_tier_id "
              f"WHERE c.target = 'hnte'{scope} ORDER BY c.outcome_rank, c.score_key, c.gap, c.firm_id LIMIT %s",
              [*scope_params, first])
    # score_key is −score, or 1e18 where the rules do not score (registry.eligibility.candidates.judge).
    return total, [(f, outcome == 0, None if key >= 1e17 else -key, gap, rule_set,
                    json.loads(unmet) if isinstance(unmet, str) else unmet)
                   for f, outcome, key, gap, rule_set, unmet, *_ in top]


def as_page(page):
    """Cultivar's candidates page in the hand SQL's terms."""
    return page.total, [(c.firm.pk, c.eligible, c.score, c.gap, c.rule_set, c.unmet) for c in page.items]


# --------------------------------------------------------------------------- run

def region_label(region):
    return {None: "national", "320500": "苏州 320500", "320583": "昆山 320583"}.get(region, region)


def candidate_outcomes(region=None):
    """Every ranked firm's outcome in the precomputed ranking (0 eligible, 1 not, 2 missing data):
    what the raw-table query must reproduce firm by firm (untimed)."""
    scope, scope_params = on_path("c", region)
    return dict(sql(f"SELECT c.firm_id, c.outcome_rank FROM registry_candidaterank c WHERE c.target = 'hnte'{scope}",
                    scope_params))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, help="Seed this many demo firms first when the database is empty")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=20, help="Timed runs of cultivar and the headline baseline")
    parser.add_argument("--raw-repeat", type=int, default=3, help="Timed runs of the raw-table baseline (slow)")
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
          f"{args.repeat} interleaved runs after a warm-up ({args.raw_repeat} of the raw-table baseline); {machine()}")
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
    columns = ["computation", "scope", "cultivar p50", "p95", "hand SQL same tables p50", "p95",
               "ratio p50", "ratio p95", "goal", "hand SQL raw tables p50", "cultivar/raw"]
    if args.live:
        columns.append("live path p50")
    table = Table(*columns)
    notes = []

    def row(name, region, timings, raw, extra_goal=True):
        ours, pre = timings["cultivar"], timings["precomputed"]
        goal_met = ratio(ours.p50, pre.p50) <= 1.5 and ratio(ours.p95, pre.p95) <= 1.5 and extra_goal
        cells = [name, region_label(region), ours.p50, ours.p95, pre.p50, pre.p95,
                 f"{ratio(ours.p50, pre.p50):.2f}×", f"{ratio(ours.p95, pre.p95):.2f}×", "ok" if goal_met else "MISSED",
                 raw["raw"].p50, f"{ratio(ours.p50, raw['raw'].p50):.3f}×"]
        if args.live:
            cells.append(timings["live"].p50)
        table.add(*cells)

    def timed(ours, pre, raw, live):
        """The headline pair (and --live) interleaved, `--repeat` times; the raw-table baseline apart."""
        sides = {"cultivar": ours, "precomputed": pre}
        if args.live:
            sides["live"] = live
        return measure(sides, args.repeat), measure({"raw": raw}, args.raw_repeat)

    for region in [code or None for code in args.regions.split(",")]:
        where = region_label(region)

        timings, raw = timed(
            lambda: funnel(stages, args.cohort_year, region=region),
            lambda: funnel_precomputed_sql(stages, args.cohort_year, region),
            lambda: funnel_sql(stages, args.cohort_year, region),
            lambda: funnel(stages, args.cohort_year, region=region, live=True),
        )
        counts = [s["count"] for s in timings["cultivar"].result["steps"]]
        same(f"funnel {where}", counts, timings["precomputed"].result, ("cultivar", "hand SQL on precomputed tables"))
        same(f"funnel {where}", counts, raw["raw"].result, ("cultivar", "hand SQL on raw tables"))
        if args.live:
            same(f"funnel {where}", counts, [s["count"] for s in timings["live"].result["steps"]],
                 ("cultivar", "live path"))
        row("funnel", region, timings, raw)
        notes.append(f"funnel {where}, cohort {args.cohort_year}: "
                     + " → ".join(f"{s['stage']} {s['count']}" for s in timings["cultivar"].result["steps"]))

        def as_matrix(result):
            mine = {}
            for cell in result:
                key = (rank.get(cell["from_stage"]), rank.get(cell["to_stage"]))
                mine[key] = mine.get(key, 0) + cell["count"]
            return mine

        timings, raw = timed(
            lambda: stage_transitions(args.year, region=region),
            lambda: transitions_precomputed_sql(args.year, region),
            lambda: transitions_sql(args.year, region),
            lambda: stage_transitions(args.year, region=region, live=True),
        )
        matrix = as_matrix(timings["cultivar"].result)
        same(f"transitions {where}", matrix, timings["precomputed"].result, ("cultivar", "hand SQL on precomputed tables"))
        same(f"transitions {where}", matrix, raw["raw"].result, ("cultivar", "hand SQL on raw tables"))
        if args.live:
            same(f"transitions {where}", matrix, as_matrix(timings["live"].result), ("cultivar", "live path"))
        row("transitions", region, timings, raw)
        notes.append(f"transitions {where}, {args.year}: {sum(matrix.values()):,} firms in {len(matrix)} from→to cells")

        timings, raw = timed(
            lambda: find_candidates("hnte", region=region, on=args.on, first=20),
            lambda: candidates_precomputed_sql(20, region),
            lambda: hnte_candidates_sql(args.on, region),
            lambda: find_candidates("hnte", region=region, on=args.on, first=20, live=True),
        )
        page = timings["cultivar"].result
        mine = as_page(page)
        same(f"candidates {where}", mine, timings["precomputed"].result, ("cultivar", "hand SQL on precomputed tables"))
        # The raw-table query judges every 科小 firm by the rules itself: each firm's eligibility must be
        # the ranking's, firm by firm (the raw query ranks eligible firms by id only, so pages differ).
        judged = raw["raw"].result
        outcomes = candidate_outcomes(region)
        same(f"candidates {where} (eligible firms)", {f for f, o in outcomes.items() if o == 0},
             {f for f, o in judged.items() if o == 0}, ("precomputed ranking", "hand SQL on raw tables"))
        same(f"candidates {where} (firms judged)", set(outcomes), set(judged),
             ("precomputed ranking", "hand SQL on raw tables"))
        # The stored page (explanations included) is what the live engine says now.
        same(f"candidates {where}", mine, as_page(find_candidates("hnte", region=region, on=args.on, first=20, live=True)),
             ("cultivar (stored)", "live path"))
        ours = timings["cultivar"]
        row("candidates 高企", region, timings, raw, ours.p95 <= 50)
        notes.append(f"candidates {where}: cultivar p95 {ours.p95:.1f} ms against the 50 ms goal "
                     f"({'met' if ours.p95 <= 50 else 'MISSED'})")
        # At a few ms a page, one slow run of 20–40 sets the p95: the distribution says whether it is one.
        notes.append(f"candidates {where}: " + "; ".join(
            f"{name} p50 / p90 / p95 / max {side.p50:.1f} / {percentile(side.wall, 90):.1f} / {side.p95:.1f} / "
            f"{max(side.wall):.1f} ms, CPU p50 {side.cpu_p50:.2f} ms"
            for name, side in (("cultivar", ours), ("hand SQL", timings["precomputed"]))))
        notes.append(f"candidates {where}: {page.total:,} 科小 firms judged, "
                     f"{sum(1 for o in outcomes.values() if o == 0):,} eligible; page of 20 explained")

    table.print()
    print("\n".join(notes))
    print(f"At the end: {machine()}")
    print("Times in ms. Headline: cultivar against hand SQL over the SAME precomputed tables (goal ≤ 1.5× at p50 "
          "and p95; candidates page also ≤ 50 ms p95); both read the candidates page's stored explanations and "
          "firms. Second baseline, labelled as such: hand SQL recomputing from the raw tables (recognitions, "
          "indicators, firms). Every side's result was checked equal (else exit 1), and the stored candidates page "
          "equal to the live engine's, explanations included.")


if __name__ == "__main__":
    main()
