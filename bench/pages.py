"""Benchmark: each workbench page's server time beside the GraphQL call that answers the same question.

Pages (signed-in users, Django test Client → middleware → view → template, no network): the
officer's home, the firms page, a firm profile, search, candidates. Each is timed next to ONE GraphQL
request (same client, same session) asking for what the page shows, in the same run, interleaved,
with variables varied per round (different officers and regions, stages, firms, queries).

Before timing, every variant is run once with Django's test instrumentation on (which records the
page's template context) and both sides are compared row for row: the page's firms, counts and
recognitions must be the GraphQL answer's. A mismatch prints both and exits non-zero. Timing then
runs with the instrumentation off.

Prints p50/p95 per page and per GraphQL twin, and the ratios page/GraphQL. Issue goal at 1,000,000
firms on PostgreSQL: no page above 1.5× its twin, every page under 300 ms p95.

    scripts/with-services .venv/bin/python bench/pages.py --firms 50000        # seeds when empty
    DATABASE_URL=postgres://… .venv/bin/python bench/pages.py --runs 30        # an existing registry

The search index is built into --search-dir (a temporary directory by default) from the database,
only when search is timed. `--cold` empties Django's cache before every timed call, on both sides, so
the answers remembered per data version (registry/cache.py) are computed each time, as after a write.
"""

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cultivar.settings")

from bench.common import Table, machine, percentile, ratio  # noqa: E402


def configure(search_dir):
    os.environ.setdefault("SEARCH_EMBEDDED_PATH", str(search_dir))
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
    import django

    django.setup()


# ---------------------------------------------------------------------------------------------
# The pages and their GraphQL twins


@dataclass
class Case:
    name: str
    role: str
    variants: list  # dicts of variables, one per round (cycled)
    page: Callable  # variant -> (path, params)
    graphql: Callable  # variant -> (query, variables)
    same: Callable  # (variant, page context, graphql data) -> None, or raises Mismatch


GOAL_RATIO, GOAL_P95_MS = 1.5, 300.0  # issue 11: no page above 1.5× its twin (p50 and p95), p95 < 300 ms


class Mismatch(AssertionError):
    pass


def check(label, page_side, graphql_side):
    if page_side != graphql_side:
        raise Mismatch(f"{label}:\n  page    {page_side!r}\n  graphql {graphql_side!r}")


HOME = """query%(declarations)s {
  lapsing: expiringCertificates(before: $lapsingBefore, first: 10) { certificateNo }
  %(target_fields)s
  %(stage_fields)s
  %(candidate_fields)s
}"""


def home_case(officers, today):
    """The officer's home: targets of every region in scope, firms per current stage, candidates per rung."""
    from registry.analytics.targets import target_progress  # noqa: F401 - the page's source, for readers
    from registry.models import PolicyTarget, Region, Stage
    from registry.permissions import regions_in_scope

    stages = list(Stage.objects.order_by("rank").values_list("code", "region_id"))
    variants = []
    for user in officers:
        scope = regions_in_scope(user)
        regions = list(Region.objects.filter(code__in=PolicyTarget.objects.filter(year__gte=today.year)
                                             .values("region_id"), ).filter(code__in=scope.values("code"))
                       .order_by("path").values_list("code", flat=True))
        variants.append({"user": user, "regions": regions})

    def graphql(v):
        declared = ["$lapsingBefore: Date!"] + (["$year: Int!"] + [f"$r{i}: String!" for i in range(len(v["regions"]))]
                                                if v["regions"] else [])
        target_fields = "\n  ".join(f"t{i}: targetProgress(region: $r{i}, year: $year) {{ stage tier kind target actual }}"
                                    for i in range(len(v["regions"])))
        stage_fields = "\n  ".join(f"s_{code}: firms(stage: \"{code}\") {{ totalCount }}" for code, _ in stages)
        candidate_fields = "\n  ".join(f"c_{code}: candidates(stage: \"{code}\", first: 0) {{ totalCount }}"
                                       for code, region in stages if region is None)
        query = HOME % {"declarations": f"({', '.join(declared)})", "target_fields": target_fields,
                        "stage_fields": stage_fields, "candidate_fields": candidate_fields}
        variables = {"lapsingBefore": (today + datetime.timedelta(days=90)).isoformat(),
                     **({"year": today.year, **{f"r{i}": code for i, code in enumerate(v["regions"])}} if v["regions"] else {})}
        return query, variables

    def same(v, context, data):
        page_targets = [[(r["stage"], r["tier"], r["kind"], r["target"], r["actual"]) for r in block["rows"]]
                        for block in context["targets"]]
        gql_targets = [[(r["stage"], r["tier"], r["kind"], r["target"], r["actual"]) for r in data[f"t{i}"]]
                       for i in range(len(v["regions"])) if data[f"t{i}"]]
        check("home targets", page_targets, gql_targets)
        check("home soonest lapsing", [c.certificate_no for c in context["soonest"]],
              [c["certificateNo"] for c in data["lapsing"]])
        check("home firms per stage", {s.code: n for s, n in context["stage_counts"]},
              {code: data[f"s_{code}"]["totalCount"] for code, _ in stages})
        check("home candidates per rung", {s.code: n for s, n in context["candidates"] if n is not None},
              {code: data[f"c_{code}"]["totalCount"] for code, region in stages if region is None
               if f"c_{code}" in data and data[f"c_{code}"] is not None})

    return Case("home", "officer", variants, lambda v: ("/", {}), graphql, same)


FIRMS = """query($stage: String, $region: String) {
  firms(first: 50, stage: $stage, region: $region) {
    totalCount
    edges { node { uscc name foundedOn region { name } currentStage { name } currentTier { name }
                   latestIndicators { employees inventionPatents revenue rdIntensity revenueGrowth } } } } }"""


def firms_case(stages, regions):
    variants = [{"stage": s, "region": r} for s in stages for r in regions]

    def same(v, context, data):
        check("firms total", context["total"], data["firms"]["totalCount"])
        check("firms rows", [f["uscc"] for f in context["firms"]], [e["node"]["uscc"] for e in data["firms"]["edges"]])

    return Case("firms page", "analyst", variants, lambda v: ("/firms/", v),
                lambda v: (FIRMS, v), same)


PROFILE = """query($uscc: String!) {
  firm(uscc: $uscc) {
    uscc name formerNames foundedOn registeredCapital listingStatus region { code name } chains { code name }
    currentStage { code name } currentTier { code name }
    certifications { certificateNo stage { code } tier { code } issuedOn validUntil status }
    timeline { date kind stage { code } }
    indicators { year revenue rdExpense employees rdStaff inventionPatents }
  }
  %(eligibility)s
}"""


def profile_case(firms):
    """An analyst's view of firms across the ladder; eligibility for each higher rung."""
    from registry.models import Stage

    stages = list(Stage.objects.filter(region__isnull=True).order_by("rank"))
    variants = []
    for firm in firms:
        rank = firm.current_stage.rank if firm.current_stage_id else -1
        variants.append({"uscc": firm.uscc, "next": [s.code for s in stages if s.rank > rank]})

    def graphql(v):
        eligibility = "\n  ".join(
            f"e_{code}: eligibility(uscc: $uscc, stage: \"{code}\") {{ eligible outcome score unmet {{ criterion text }} }}"
            for code in v["next"])
        return PROFILE % {"eligibility": eligibility}, {"uscc": v["uscc"]}

    def same(v, context, data):
        firm = data["firm"]
        check("profile firm", context["firm"].uscc, firm["uscc"])
        check("profile recognitions", [c.certificate_no for c in context["certifications"]],
              [c["certificateNo"] for c in firm["certifications"]])
        check("profile timeline", [(e["date"].isoformat() if hasattr(e["date"], "isoformat") else e["date"], e["kind"])
                                   for e in _events(context["timeline"])],
              [(e["date"], e["kind"]) for e in firm["timeline"]])
        check("profile indicator years", [i.year for i in context["indicators"]], [i["year"] for i in firm["indicators"]])
        page_eligibility = {stage.code: (result.eligible, [u["criterion"] for u in result.unmet])
                            for stage, result, _problem in context.get("eligibility", []) if result is not None}
        gql_eligibility = {code: (data[f"e_{code}"]["eligible"], [u["criterion"] for u in data[f"e_{code}"]["unmet"]])
                           for code in v["next"] if data.get(f"e_{code}")}
        check("profile eligibility", page_eligibility, gql_eligibility)

    return Case("profile", "analyst", variants, lambda v: (f"/firms/{v['uscc']}/", {}), graphql, same)


def _events(timeline):
    return [{"date": getattr(e, "date", None) or e["date"], "kind": getattr(e, "kind", None) or e["kind"]}
            if not isinstance(e, dict) else e for e in timeline]


SEARCH = """query($q: String!) {
  search(query: $q, first: 20) {
    total
    hits { firm { uscc name region { name } currentStage { name } currentTier { name } } highlights { field fragments } }
    facets { field buckets { key label count } }
  } }"""


def search_case(queries):
    def same(v, context, data):
        result = context["result"]
        check("search total", result.total, data["search"]["total"])
        check("search hits", [h.firm.uscc for h in result.hits], [h["firm"]["uscc"] for h in data["search"]["hits"]])
        check("search facets", {name: [(b.key, b.count) for b in buckets] for name, buckets in result.facets.items()},
              {f["field"]: [(b["key"], b["count"]) for b in f["buckets"]] for f in data["search"]["facets"]})

    return Case("search", "investor", [{"q": q} for q in queries], lambda v: ("/search/", v),
                lambda v: (SEARCH, v), same)


CANDIDATES = """query($stage: String!, $region: String) {
  candidates(stage: $stage, region: $region, first: 25) {
    totalCount
    edges { node { firm { uscc name region { name } } eligible outcome score unmet { criterion text gap unit } } } } }"""


def candidates_case(officer_regions):
    variants = [{"user": user, "stage": stage, "region": region}
                for user, region in officer_regions for stage in ("hnte", "gazelle", "srdi")]

    def same(v, context, data):
        result = context["result"]
        check("candidates total", result.total if result else 0, data["candidates"]["totalCount"])
        check("candidates rows", [c.firm.uscc for c in result.items] if result else [],
              [e["node"]["firm"]["uscc"] for e in data["candidates"]["edges"]])

    return Case("candidates", "officer", variants,
                lambda v: ("/candidates/", {"stage": v["stage"], "region": v["region"]}),
                lambda v: (CANDIDATES, {"stage": v["stage"], "region": v["region"]}), same)


# ---------------------------------------------------------------------------------------------
# Data and users


def ensure_data(firms, seed):
    from django.core.management import call_command

    from registry.models import Firm

    call_command("migrate", verbosity=0)
    if Firm.objects.exists():
        return "existing"
    started = time.perf_counter()
    call_command("seed_demo", firms=firms, seed=seed, no_index=True)
    print(f"seeded {firms:,} firms with seed_demo in {time.perf_counter() - started:.0f} s")
    return "seed_demo"


def build_index():
    from django.core.management import call_command

    from search.backends import get_backend

    if get_backend().count():
        return
    started = time.perf_counter()
    call_command("search_reindex", stdout=open(os.devnull, "w"))
    print(f"search index built in {time.perf_counter() - started:.0f} s")


def make_user(username, role, regions=()):
    from django.contrib.auth import get_user_model

    from registry.models import Region, RoleAssignment

    user, _ = get_user_model().objects.get_or_create(username=username)
    assignment, _ = RoleAssignment.objects.update_or_create(user=user, defaults={"role": role})
    assignment.regions.set(Region.objects.filter(code__in=regions))
    return get_user_model().objects.get(pk=user.pk)


def busiest_districts(k):
    from django.db.models import Count

    from registry.models import Firm

    return list(Firm.objects.filter(region__level="district").values("region_id").annotate(n=Count("id"))
                .order_by("-n", "region_id").values_list("region_id", flat=True)[:k])


def sample_firms(rng, k):
    """Firms from every rung (and none), so profiles differ in recognitions and eligibility."""
    from registry.models import Firm, Stage

    firms = []
    for stage in [None, *Stage.objects.filter(region__isnull=True).order_by("rank")]:
        query = Firm.objects.filter(current_stage=stage).select_related("current_stage")
        ids = list(query.order_by("id").values_list("id", flat=True)[:2000])
        for pk in rng.sample(ids, min(len(ids), max(1, k // 6))):
            firms.append(Firm.objects.select_related("current_stage").get(pk=pk))
    return firms[:k]


def search_queries(rng, k):
    """A realistic mix: product words, name fragments, a pinyin prefix, USCC fragments, a browse."""
    from registry.models import Firm

    names = list(Firm.objects.order_by("id").values_list("name", "uscc")[:5000])
    picks = rng.sample(names, min(len(names), k))
    queries = ["碳化硅", "芯片", "新材料", "智能装备", "生物医药", ""]
    for name, uscc in picks:
        queries += [name[2:6], uscc[:10]]
    return queries[: max(k, 6)]


# ---------------------------------------------------------------------------------------------


def run_graphql(client, query, variables):
    response = client.post("/graphql", data=json.dumps({"query": query, "variables": variables}),
                           content_type="application/json")
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise Mismatch(f"GraphQL answered {response.status_code}: {body.get('errors')}")
    return body["data"]


def run_page(client, path, params):
    response = client.get(path, params)
    if response.status_code != 200:
        raise Mismatch(f"{path} answered {response.status_code}")
    return response


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=50000, help="Seed this many firms when the database is empty.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=30, help="Timed rounds per page (variants cycle).")
    parser.add_argument("--variants", type=int, default=12, help="Different firms / queries / users per page.")
    parser.add_argument("--pages", default="home,firms page,profile,search,candidates")
    parser.add_argument("--cold", action="store_true",
                        help="Empty Django's cache before every timed call (both sides): the answers remembered per "
                             "data version (registry/cache.py) computed each time, as after a registry write.")
    parser.add_argument("--search-dir", default=None, help="Search index directory (default: a temporary one).")
    args = parser.parse_args()

    search_dir = Path(args.search_dir or tempfile.mkdtemp(prefix="cultivar-bench-search-"))
    configure(search_dir)
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment, teardown_test_environment
    from django.utils import timezone

    from registry.models import Firm, Role

    settings.ALLOWED_HOSTS = ["*"]
    source = ensure_data(args.firms, args.seed)
    chosen = [name.strip() for name in args.pages.split(",") if name.strip()]
    if "search" in chosen:  # only search reads the index (building one at 1,000,000 firms takes ~40 min)
        build_index()
    rng = random.Random(args.seed)
    today = timezone.localdate()

    districts = busiest_districts(max(2, args.variants // 3))
    officers = [make_user(f"bench-officer-{code}", Role.OFFICER, [code]) for code in districts]
    analyst = make_user("bench-analyst", Role.ANALYST)
    investor = make_user("bench-investor", Role.INVESTOR)
    cities = sorted({code[:4] + "00" for code in districts})
    cases = {
        "home": home_case(officers, today),
        "firms page": firms_case(["tech_sme", "hnte", "gazelle", "srdi"], cities + [""]),
        "profile": profile_case(sample_firms(rng, args.variants)),
        "search": search_case(search_queries(rng, args.variants)),
        "candidates": candidates_case(list(zip(officers, districts))),
    }
    clients = {}

    def client_for(case, variant):
        user = variant.get("user") or {"analyst": analyst, "investor": investor, "officer": officers[0]}[case.role]
        if user.pk not in clients:
            clients[user.pk] = Client()
            clients[user.pk].force_login(user)
        return clients[user.pk]

    def clean(variant):
        return {k: v for k, v in variant.items() if k not in ("user", "regions", "next")}

    # 1. Same rows on both sides, with the template context recorded.
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    failures = 0
    try:
        for name in chosen:
            case = cases[name]
            for variant in case.variants:
                client = client_for(case, variant)
                path, params = case.page(variant)
                try:
                    response = run_page(client, path, params)
                    case.same(variant, response.context, run_graphql(client, *case.graphql(variant)))
                except Mismatch as error:
                    failures += 1
                    print(f"MISMATCH {name} {clean(variant)}: {error}")
    finally:
        teardown_test_environment()
        settings.ALLOWED_HOSTS = ["*"]
    if failures:
        print(f"{failures} variant(s) differ between page and GraphQL: not timing.")
        sys.exit(1)

    # 2. Timing, interleaved page / GraphQL, variants cycling.
    print(f"database: {connection.vendor} ({source}), firms: {Firm.objects.count():,}, runs per page: {args.runs}, "
          f"variants: " + ", ".join(f"{n} {len(cases[n].variants)}" for n in chosen)
          + ("; cold (cache emptied before every call)" if args.cold else "") + f"; {machine()}")
    table = Table("page", "page p50 ms", "p95", "GraphQL twin p50 ms", "p95", "ratio p50", "ratio p95",
                  "≤ 1.5×", "p95 < 300 ms")
    worst = []
    for name in chosen:
        case = cases[name]
        prepared = [(client_for(case, v), case.page(v), case.graphql(v)) for v in case.variants]
        for client, (path, params), (query, variables) in prepared[:3]:  # warm up
            run_page(client, path, params), run_graphql(client, query, variables)
        times = {"page": [], "graphql": []}
        for i in range(args.runs):
            client, (path, params), (query, variables) = prepared[i % len(prepared)]
            order = (("page", lambda: run_page(client, path, params)), ("graphql", lambda: run_graphql(client, query, variables)))
            for side, call in (order if i % 2 == 0 else order[::-1]):
                if args.cold:
                    cache.clear()
                started = time.perf_counter()
                call()
                times[side].append((time.perf_counter() - started) * 1000)
        p50 = {side: statistics.median(values) for side, values in times.items()}
        p95 = {side: percentile(values, 95) for side, values in times.items()}
        ratio50, ratio95 = ratio(p50["page"], p50["graphql"]), ratio(p95["page"], p95["graphql"])
        worst.append((name, ratio50, ratio95, p95["page"]))
        table.add(name, p50["page"], p95["page"], p50["graphql"], p95["graphql"], f"{ratio50:.2f}×", f"{ratio95:.2f}×",
                  "yes" if max(ratio50, ratio95) <= GOAL_RATIO else "NO", "yes" if p95["page"] < GOAL_P95_MS else "NO")
    table.print()
    over = [n for n, r50, r95, p in worst if max(r50, r95) > GOAL_RATIO or p >= GOAL_P95_MS]
    print("goal (≤ 1.5× its GraphQL twin at p50 and p95, p95 < 300 ms): "
          + ("met by every page" if not over else "missed by " + ", ".join(over)))


if __name__ == "__main__":
    main()
