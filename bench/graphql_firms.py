"""Benchmark: the `firms` GraphQL query end to end vs the same rows from a plain ORM `values()` query.

A page of 100 firms filtered by stage + region + rdIntensityMin goes through the whole stack
(Django test client → middleware → token auth → validation rules → filters → keyset page →
loaders → JSON), timed next to `Firm.objects.filter(...).values(...)[:100]` returning the same
rows. Prints both timings (p50/p95) and the ratios of the medians and of the p95s; the goal is ≤ 2×.

The database comes from DATABASE_URL (PostgreSQL in production), assumed seeded with
`manage.py seed_demo --firms N --seed S`. An empty database is migrated and seeded here: with
seed_demo when it is installed, else with a modest bulk_create data set.

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python bench/graphql_firms.py --firms 20000
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cultivar.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

QUERY = """query($stage: String, $region: String, $rd: Decimal) {
  firms(first: 100, stage: $stage, region: $region, rdIntensityMin: $rd) {
    edges { node { uscc name foundedOn currentStage { code } region { code }
                   latestIndicators { year rdIntensity } } } } }"""


def ensure_data(firms, seed):
    call_command("migrate", verbosity=0)
    from registry.models import Firm

    if Firm.objects.exists():
        return "existing"
    try:
        call_command("seed_demo", firms=firms, seed=seed, no_index=True)
        return "seed_demo"
    except Exception as error:  # noqa: BLE001 - fall back to our own modest data set
        print(f"seed_demo unavailable ({error}); bulk-creating {firms} firms")
        bulk_seed(firms, seed)
        return "bulk_create"


def bulk_seed(n, seed):
    """Firms in Jiangsu districts with a current stage and a latest indicator year (no services: speed)."""
    import datetime
    import random
    from decimal import Decimal

    from registry.models import Firm, IndicatorYear, Region, Stage, Tier
    from tests.factories import make_uscc

    rng = random.Random(seed)
    districts = list(Region.objects.filter(code__startswith="32", level="district").values_list("code", flat=True))
    tiers = list(Tier.objects.select_related("stage"))
    firms = []
    for i in range(n):
        tier = rng.choice(tiers + [None, None])
        region = rng.choice(districts)
        firms.append(Firm(
            uscc=make_uscc(region, serial=i + 1), name=f"基准企业{i}", name_normalized=f"基准企业{i}", region_id=region,
            founded_on=datetime.date(2000, 1, 1) + datetime.timedelta(days=rng.randrange(9000)),
            current_stage_id=tier.stage_id if tier else None, current_tier_id=tier.id if tier else None,
        ))
    Firm.objects.bulk_create(firms, batch_size=2000)
    ids = list(Firm.objects.order_by("id").values_list("id", flat=True))
    rows = [IndicatorYear(firm_id=fid, year=2025, revenue=Decimal(rng.randrange(100, 100000)),
                          rd_expense=Decimal(rng.randrange(1, 5000)), employees=rng.randrange(5, 900)) for fid in ids]
    IndicatorYear.objects.bulk_create(rows, batch_size=2000)
    latest = dict(IndicatorYear.objects.values_list("firm_id", "id"))
    batch = [Firm(id=fid, latest_indicators_id=latest[fid]) for fid in ids]
    Firm.objects.bulk_update(batch, ["latest_indicators"], batch_size=2000)
    Stage.objects.all()  # noqa: B018 - keep imports honest


def bench_user():
    from registry.models import ApiToken, Role, RoleAssignment

    user, _ = get_user_model().objects.get_or_create(username="bench-analyst")
    RoleAssignment.objects.update_or_create(user=user, defaults={"role": Role.ANALYST})
    _, key = ApiToken.issue(user, name="bench")
    return key


def orm_page(stage, region, rd):
    from registry.filtersets import region_codes_under
    from registry.models import Firm

    codes = region_codes_under(region)
    return list(
        Firm.objects.filter(current_stage__code=stage, region_id__in=codes, latest_indicators__rd_intensity__gte=rd)
        .order_by("id")
        .values("id", "uscc", "name", "founded_on", "current_stage__code", "region_id", "latest_indicators__year",
                "latest_indicators__rd_intensity")[:100]
    )


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=20000, help="Seed this many firms when the database is empty.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--stage", default="hnte")
    parser.add_argument("--region", default="320500")
    parser.add_argument("--rd-intensity-min", default="0.03")
    args = parser.parse_args()

    settings.ALLOWED_HOSTS = ["*"]
    source = ensure_data(args.firms, args.seed)
    from registry.models import Firm

    key = bench_user()
    client = Client()
    variables = {"stage": args.stage, "region": args.region, "rd": args.rd_intensity_min}
    body = json.dumps({"query": QUERY, "variables": variables})
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"}

    def graphql():
        response = client.post("/graphql", data=body, content_type="application/json", **headers)
        return response.json()

    def orm():
        return orm_page(args.stage, args.region, float(args.rd_intensity_min))

    result = graphql()
    assert "errors" not in result, result
    gql_rows = [(n["uscc"], n["name"], n["foundedOn"], n["currentStage"]["code"], n["region"]["code"],
                 n["latestIndicators"]["year"], n["latestIndicators"]["rdIntensity"])
                for n in (e["node"] for e in result["data"]["firms"]["edges"])]
    orm_rows = [(r["uscc"], r["name"], r["founded_on"].isoformat(), r["current_stage__code"], r["region_id"],
                 r["latest_indicators__year"], r["latest_indicators__rd_intensity"]) for r in orm()]
    assert gql_rows == orm_rows, "GraphQL and ORM returned different rows"

    timings = {"graphql": [], "orm": []}
    cpu = {"graphql": [], "orm": []}
    for _ in range(3):  # warm up caches and connections
        graphql(), orm()
    for _ in range(args.runs):  # interleaved, so drift hits both equally
        for name, fn in (("graphql", graphql), ("orm", orm)):
            started, started_cpu = time.perf_counter(), time.process_time()
            fn()
            timings[name].append((time.perf_counter() - started) * 1000)
            cpu[name].append((time.process_time() - started_cpu) * 1000)

    vendor = connection.vendor
    print(f"database: {vendor} ({source}), firms: {Firm.objects.count():,}, page rows: {len(gql_rows)}, "
          f"filters: stage={args.stage} region={args.region} rdIntensityMin={args.rd_intensity_min}, runs: {args.runs}")
    for name, values in timings.items():
        print(f"{name:8s} wall p50 {statistics.median(values):8.2f} ms  p95 {percentile(values, 95):8.2f} ms   "
              f"this process's CPU p50 {statistics.median(cpu[name]):8.2f} ms  p95 {percentile(cpu[name], 95):8.2f} ms")
    for label, stat in (("p50", statistics.median), ("p95", lambda values: percentile(values, 95))):
        ratio = stat(timings["graphql"]) / stat(timings["orm"])
        cpu_ratio = stat(cpu["graphql"]) / stat(cpu["orm"])
        print(f"ratio ({label} graphql / {label} orm): wall {ratio:.2f}x, CPU of this process {cpu_ratio:.2f}x  "
              f"(goal ≤ 2x)")
    # CPU time of this process is steadier than wall time on a shared machine; on PostgreSQL it
    # leaves out the server's work, so read the wall ratio there.


if __name__ == "__main__":
    main()
