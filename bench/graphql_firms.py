"""Benchmark: GraphQL documents end to end vs hand-written ORM queries returning the same JSON (issue 14).

Each shape goes through the whole stack (Django test client → middleware → token auth → validation
rules → filters → keyset page → execution → JSON text) and is timed, interleaved, next to
hand-written ORM/values() queries that build the same JSON text (`json.dumps` of the same dict).
The shapes are the ones users send:
- the plain page (stage + region + rdIntensityMin, plain columns) with fixed variables and with
  varying variables (a new filter value each call: the document cache is keyed by the text, so it
  hits; the limit verdict is kept per page-size variables);
- ids + cursors, walking the first pages through `after`;
- nested recognitions and region (with its parent);
- a firm profile with its timeline and indicator years;
- the first call after start-up: a fresh process per call (`--cold-runs` of them per side), started
  as a server worker is before it reports ready — URLconf and schema, api_graphql.warmup.warm_up()
  and gc.freeze(), timed and printed apart — then ONE timed call: what a user's first request sees
  after the server reports ready (its token never verified in this process, its document and
  variables never seen). The hand side starts the same way (one server serves both), in its own
  fresh processes.
Before timing, every variable set's GraphQL JSON is checked equal to the hand-written JSON (else
exit 1); the SQL query count per document is printed at page sizes 20 and 100 (goal: constant).
Goal: every shape ≤ 2× its hand-written twin, p50 and p95.

The database comes from DATABASE_URL (PostgreSQL in production), assumed seeded with
`manage.py seed_demo --firms N --seed S`. An empty database is migrated and seeded here: with
seed_demo when it is installed, else with a modest bulk_create data set.

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python bench/graphql_firms.py --firms 20000

On a database the bench must not write to (a shared 1,000,000-firm copy), pass an analyst's API key
in BENCH_API_TOKEN: no user or token is created then (the endpoint still records the token's
`last_used_at`, at most once a minute, as for any client).
"""

import argparse
import base64
import json
import os
import random
import subprocess
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
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.common import Table, Timing, machine, measure, percentile, ratio, same  # noqa: E402

QUERY = """query($stage: String, $region: String, $rd: Decimal) {
  firms(first: 100, stage: $stage, region: $region, rdIntensityMin: $rd) {
    edges { node { uscc name foundedOn currentStage { code } region { code }
                   latestIndicators { year rdIntensity } } } } }"""


def ensure_data(firms, seed):
    """"existing" for a seeded database (left as it is: no migrate), else migrate and seed it."""
    from registry.models import Firm

    if Firm._meta.db_table in connection.introspection.table_names() and Firm.objects.exists():
        return "existing"
    call_command("migrate", verbosity=0)
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
    """The analyst's API key: BENCH_API_TOKEN when set (a read-only database: nothing written here), else a
    new token for `bench-analyst` (created with its role when missing)."""
    if os.environ.get("BENCH_API_TOKEN"):
        return os.environ["BENCH_API_TOKEN"]
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


# --------------------------------------------------------------------------- the shapes users send

NESTED = """query($stage: String, $region: String, $first: Int) {
  firms(first: $first, stage: $stage, region: $region) {
    edges { node { uscc name region { code name level parent { code name } }
                   certifications { tier { code name } issuedOn validUntil status certificateNo } } } } }"""

CURSORS = """query($stage: String, $first: Int, $after: String) {
  firms(first: $first, stage: $stage, after: $after) {
    edges { cursor node { id uscc name currentTier { code } } } pageInfo { hasNextPage endCursor } } }"""

PROFILE = """query($uscc: String!) {
  firm(uscc: $uscc) { id uscc name foundedOn region { code name } currentStage { code name } currentTier { code name }
    timeline { date kind stage { code } tier { code } certification { certificateNo issuedOn } }
    indicators { year revenue rdExpense employees rdIntensity revenueGrowth } } }"""


def decimal(value):
    return None if value is None else str(value)


def global_id(type_name, pk):
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def cursor_of(kind, pk):
    """The keyset cursor of a row ordered by id (api_graphql.core.pagination's format, written out)."""
    return base64.urlsafe_b64encode(json.dumps([kind, None, pk], separators=(",", ":")).encode()).decode()


def hand_plain(v):
    """The plain page through one values() query, shaped as the GraphQL JSON."""
    rows = orm_page(v["stage"], v["region"], float(v["rd"]))
    return {"firms": {"edges": [{"node": {
        "uscc": r["uscc"], "name": r["name"], "foundedOn": r["founded_on"] and r["founded_on"].isoformat(),
        "currentStage": {"code": r["current_stage__code"]}, "region": {"code": r["region_id"]},
        "latestIndicators": {"year": r["latest_indicators__year"], "rdIntensity": r["latest_indicators__rd_intensity"]},
    }} for r in rows]}}


def hand_nested(v):
    """Firms, their regions (with parent) and every recognition: three queries."""
    from registry.filtersets import region_codes_under
    from registry.models import Certification, Firm, Region

    firms = list(Firm.objects.filter(current_stage__code=v["stage"], region_id__in=region_codes_under(v["region"]))
                 .order_by("id").values("id", "uscc", "name", "region_id")[:v["first"]])
    ids = [f["id"] for f in firms]
    certs = {}
    for c in (Certification.objects.filter(firm_id__in=ids).order_by("issued_on", "id")
              .values("firm_id", "tier__code", "tier__name", "issued_on", "valid_until", "status", "certificate_no")):
        certs.setdefault(c["firm_id"], []).append({
            "tier": {"code": c["tier__code"], "name": c["tier__name"]}, "issuedOn": c["issued_on"].isoformat(),
            "validUntil": c["valid_until"].isoformat(), "status": c["status"].upper(), "certificateNo": c["certificate_no"]})
    regions = {r["code"]: r for r in Region.objects.filter(code__in={f["region_id"] for f in firms})
               .values("code", "name", "level", "parent__code", "parent__name")}

    def region(code):
        r = regions[code]
        parent = {"code": r["parent__code"], "name": r["parent__name"]} if r["parent__code"] else None
        return {"code": r["code"], "name": r["name"], "level": r["level"], "parent": parent}

    return {"firms": {"edges": [{"node": {"uscc": f["uscc"], "name": f["name"], "region": region(f["region_id"]),
                                          "certifications": certs.get(f["id"], [])}} for f in firms]}}


def hand_cursors(v, kind="firmsid"):
    from registry.models import Firm

    firms = Firm.objects.filter(current_stage__code=v["stage"])
    if v["after"]:
        firms = firms.filter(id__gt=json.loads(base64.urlsafe_b64decode(v["after"]))[2])
    rows = list(firms.order_by("id").values("id", "uscc", "name", "current_tier__code")[:v["first"] + 1])
    page = rows[:v["first"]]
    edges = [{"cursor": cursor_of(kind, r["id"]), "node": {
        "id": global_id("FirmType", r["id"]), "uscc": r["uscc"], "name": r["name"],
        "currentTier": {"code": r["current_tier__code"]} if r["current_tier__code"] else None}} for r in page]
    return {"firms": {"edges": edges, "pageInfo": {"hasNextPage": len(rows) > v["first"],
                                                   "endCursor": edges[-1]["cursor"] if edges else None}}}


def hand_profile(v):
    """One firm, its recognitions (timeline by registry.timeline.build_timeline, the domain's rule) and
    indicator years: three queries."""
    from registry.models import Certification, Firm, IndicatorYear
    from registry.timeline import build_timeline

    firm = (Firm.objects.select_related("region", "current_stage", "current_tier").filter(uscc=v["uscc"]).first())
    if firm is None:
        return {"firm": None}
    certs = list(Certification.objects.filter(firm_id=firm.id).select_related("stage", "tier").order_by("issued_on", "id"))
    years = IndicatorYear.objects.filter(firm_id=firm.id).order_by("year").values(
        "year", "revenue", "rd_expense", "employees", "rd_intensity", "revenue_growth")
    named = (lambda o: {"code": o.code, "name": o.name} if o else None)
    return {"firm": {
        "id": global_id("FirmType", firm.id), "uscc": firm.uscc, "name": firm.name,
        "foundedOn": firm.founded_on and firm.founded_on.isoformat(),
        "region": {"code": firm.region.code, "name": firm.region.name},
        "currentStage": named(firm.current_stage), "currentTier": named(firm.current_tier),
        "timeline": [{"date": e.date.isoformat(), "kind": str(e.kind), "stage": {"code": e.stage.code},
                      "tier": {"code": e.certification.tier.code},
                      "certification": {"certificateNo": e.certification.certificate_no,
                                        "issuedOn": e.certification.issued_on.isoformat()}}
                     for e in build_timeline(certs)],
        "indicators": [{"year": y["year"], "revenue": decimal(y["revenue"]), "rdExpense": decimal(y["rd_expense"]),
                        "employees": y["employees"], "rdIntensity": y["rd_intensity"], "revenueGrowth": y["revenue_growth"]}
                       for y in years],
    }}


class Shape:
    """One document, a cycle of variable sets and its hand-written twin."""

    def __init__(self, name, query, variables, hand):
        self.name, self.query, self.variables, self.hand = name, query, variables, hand
        self.turn = 0

    def next_variables(self):
        v = self.variables[self.turn % len(self.variables)]
        self.turn += 1
        return v


def numbers_as_json(value):
    """Round-trip through JSON: the hand side's floats and the API's read alike."""
    return json.loads(json.dumps(value, default=str))


def first_call(args):
    """`--first-call SHAPE SIDE`: this process is fresh; start up as a server worker does, then time ONE call.

    Start-up is what `scripts/serve` runs before the worker reports ready, for either side alike (one
    server would serve both): the URLconf and schema (cultivar/wsgi.py), `api_graphql.warmup.warm_up()`
    (the shapes users send, reference data, the database connection) and gc.freeze() (gunicorn.conf's
    post_worker_init). It is timed apart. The timed call is then a user's first request after ready:
    its token is unknown to the process (one query), its document never seen, its variables new.
    """
    from django.urls import get_resolver

    from api_graphql.warmup import freeze, warm_up

    settings.ALLOWED_HOSTS = ["*"]
    started = time.perf_counter()
    get_resolver().url_patterns  # noqa: B018 - the URLconf and the GraphQL schema, as cultivar/wsgi.py loads them
    warm_up()
    freeze()
    loaded = time.perf_counter() - started
    shape = {s.name: s for s in build_shapes(args, 50)}[args.first_call[0]]
    v = shape.variables[0]
    if args.first_call[1] == "graphql":
        key, client = bench_user(), Client()
        client.handler.load_middleware()  # as get_wsgi_application() does at start-up
        started = time.perf_counter()
        body = client.post("/graphql", data=json.dumps({"query": shape.query, "variables": v}),
                           content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}").content
    else:
        started = time.perf_counter()
        body = json.dumps(shape.hand(v), ensure_ascii=False, default=str).encode()
    elapsed = time.perf_counter() - started
    print(json.dumps({"ms": elapsed * 1000, "load_ms": loaded * 1000, "json": json.loads(body)}))


def run_fresh(args, shape_name, side):
    """One `--first-call` in a new process: (ms, URLconf load ms, parsed JSON)."""
    command = [sys.executable, __file__, "--first-call", shape_name, side, "--seed", str(args.seed),
               "--stage", args.stage, "--region", args.region, "--rd-intensity-min", args.rd_intensity_min]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    answer = json.loads(out.strip().splitlines()[-1])
    return answer["ms"], answer["load_ms"], answer["json"]


POOLS = {}


def variable_pools(args):
    """Stages × the busiest cities/districts, the first pages' cursors, sampled firms (fixed by --seed)."""
    if POOLS:
        return POOLS
    from registry.models import Firm, Region

    busiest = [code for code, _ in sorted(
        ((r, n) for r, n in Firm.objects.values_list("region_id").annotate(n=Count("id")).values_list("region_id", "n")),
        key=lambda item: (-item[1], item[0]))[:4]]
    cities = sorted(set(Region.objects.filter(code__in=busiest).values_list("parent_id", flat=True)))
    rng = random.Random(args.seed)
    cursors = [None]
    for _ in range(9):
        page = hand_cursors({"stage": args.stage, "first": 50, "after": cursors[-1]})["firms"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursors.append(page["pageInfo"]["endCursor"])
    usccs = list(Firm.objects.filter(current_stage__isnull=False).order_by("id").values_list("uscc", flat=True))
    POOLS.update(stages=["tech_sme", "hnte", "gazelle", "srdi"], regions=cities + busiest, cursors=cursors,
                 usccs=rng.sample(usccs, min(20, len(usccs))), rds=["0.02", "0.03", "0.05"])
    return POOLS


def build_shapes(args, first):
    pools = variable_pools(args)
    return [
        Shape("plain page, fixed variables", QUERY,
              [{"stage": args.stage, "region": args.region, "rd": args.rd_intensity_min}], hand_plain),
        Shape("plain page, varying variables", QUERY,
              [{"stage": s, "region": r, "rd": rd} for s in pools["stages"] for r in pools["regions"]
               for rd in pools["rds"]], hand_plain),
        Shape(f"ids + cursors ({first}/page)", CURSORS,
              [{"stage": args.stage, "first": first, "after": c} for c in pools["cursors"]], hand_cursors),
        Shape(f"nested recognitions + region ({first})", NESTED,
              [{"stage": s, "region": r, "first": first} for s in pools["stages"] for r in pools["regions"]],
              hand_nested),
        Shape("profile: timeline + indicators", PROFILE, [{"uscc": u} for u in pools["usccs"]], hand_profile),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=20000, help="Seed this many firms when the database is empty.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--cold-runs", type=int, default=20,
                        help="Fresh processes per side for the first call (its p95 needs ~20: with 5 it is the maximum).")
    parser.add_argument("--stage", default="hnte")
    parser.add_argument("--region", default="320500")
    parser.add_argument("--rd-intensity-min", default="0.03")
    parser.add_argument("--first-call", nargs=2, metavar=("SHAPE", "SIDE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.first_call:
        return first_call(args)

    settings.ALLOWED_HOSTS = ["*"]
    source = ensure_data(args.firms, args.seed)
    from registry.models import Firm

    key = bench_user()
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"}

    def post(query, variables):
        """The response's JSON text, as a client receives it (exit on errors)."""
        response = client.post("/graphql", data=json.dumps({"query": query, "variables": variables}),
                               content_type="application/json", **headers)
        if response.status_code != 200 or b'"errors":' in response.content:
            sys.exit(f"GraphQL answered with errors: {response.content[:2000]!r}")
        return response.content

    print(f"database: {connection.vendor} ({source}), firms: {Firm.objects.count():,}, runs per shape: {args.runs}; "
          f"{machine()}")

    # Agreement first: every variable set of every shape, GraphQL JSON == the hand-written JSON.
    for shape in build_shapes(args, 50):
        for v in shape.variables:
            same(f"{shape.name} {v}", numbers_as_json(json.loads(post(shape.query, v))["data"]),
                 numbers_as_json(shape.hand(v)), ("GraphQL", "hand-written ORM"))

    # SQL queries per document, at two page sizes (goal: constant in page size).
    queries = {}
    for first in (20, 100):
        for shape in build_shapes(args, first):
            v = shape.variables[0]
            with CaptureQueriesContext(connection) as captured:
                post(shape.query, v)
            with CaptureQueriesContext(connection) as hand:
                shape.hand(v)
            queries.setdefault(shape.name.replace(f"({first}/page)", "").replace(f"({first})", ""), []).append(
                (len(captured), len(hand)))

    table = Table("shape", "GraphQL p50", "p95", "hand p50", "p95", "ratio p50", "ratio p95", "goal ≤ 2×",
                  "SQL per doc GraphQL (20/100)", "hand (20/100)")
    missed = []

    def add(name, g, h, counts):
        ok = ratio(g.p50, h.p50) <= 2 and ratio(g.p95, h.p95) <= 2
        if not ok:
            missed.append(name)
        table.add(name, g.p50, g.p95, h.p50, h.p95, f"{ratio(g.p50, h.p50):.2f}×", f"{ratio(g.p95, h.p95):.2f}×",
                  "ok" if ok else "MISSED", counts[0], counts[1])

    for shape in build_shapes(args, 50):
        def graphql(shape=shape):
            return post(shape.query, shape.next_variables())

        hand_turn = iter(range(10 ** 9))

        def hand(shape=shape, turns=hand_turn):
            v = shape.variables[next(turns) % len(shape.variables)]
            return json.dumps(shape.hand(v), ensure_ascii=False, default=str).encode()

        t = measure({"graphql": graphql, "hand": hand}, args.runs)
        counts = queries[shape.name.replace("(50/page)", "").replace("(50)", "")]
        add(shape.name, t["graphql"], t["hand"], ["/".join(str(c[i]) for c in counts) for i in (0, 1)])

    # The first call after start-up: fresh processes, interleaved sides, each answer checked too.
    loads = []
    for name in ("plain page, fixed variables", "profile: timeline + indicators"):
        g, h = Timing(), Timing()
        for _ in range(args.cold_runs):
            for side, timing in (("graphql", g), ("hand", h)):
                ms, load_ms, body = run_fresh(args, name, side)
                timing.wall.append(ms)
                timing.result = body["data"] if side == "graphql" else body
                if side == "graphql":
                    loads.append(load_ms)
            same(f"first call: {name}", numbers_as_json(g.result), numbers_as_json(h.result),
                 ("GraphQL", "hand-written ORM"))
        add(f"first call after start-up: {name}", g, h, [str(c) for c in queries[name][0]])
    table.print()
    print(f"Start-up (not in the first call): URLconf, GraphQL schema, warm-up and gc.freeze took p50 "
          f"{percentile(loads, 50):.0f} ms in the fresh GraphQL processes.")
    print("Times in ms, wall, interleaved runs; both sides end in the same JSON text (GraphQL: the response body; "
          "hand: json.dumps of the hand-built dict). Baseline: hand-written ORM/values() queries (checked equal "
          "for every variable set before timing, else exit 1). Variable sets cycle per call.")
    print(f"{machine()} at the end")
    if missed:
        print(f"MISSED the ≤ 2× goal: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
