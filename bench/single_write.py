"""Benchmark: single-firm writes through the GraphQL API on a large registry (issues 12 and 14).

Three writes, each one HTTP request through the whole stack (Django test client → token auth →
validation → mutation → registry.services → side effects → JSON), with every side effect current
when the request returns — current stage, precomputed pipeline rows, the candidates ranking
(re-judged for the one firm), the search index (queued on commit; eager Celery in the embedded
set-up):

1. upsertFirm creating a new firm;
2. upsertFirm renaming it (the old name goes to formerNames);
3. recordCertification giving it a 科技型中小企业 recognition (its current stage moves, so it leaves
   the bottom rung's ranking and enters the next one's).

Prints p50/p95 per write (goal: < 50 ms p95 on a 1,000,000-firm registry). In-run reference, labelled
as what it is: the same firm row created and renamed with bare ORM calls (no checks, audit or side
effects), the floor a write cannot go under.

Then it checks that the side effects are current and exits non-zero otherwise: for every firm it wrote,
the candidates rows equal a fresh judge of that firm (the vectorised pandas judge, not the row-by-row
ranking a single write takes), the pipeline rows equal a fresh derivation (year by year, not the
one-statement path), the current stage equals current_of(), and the API returned the firm as stored.

The database comes from DATABASE_URL (PostgreSQL for the goal), seeded with seed_demo when empty.
Every run adds its firms to the registry: use a bench database.

    scripts/with-services .venv/bin/python bench/single_write.py --firms 1000000 --writes 200
"""

import argparse
import datetime
import json
import os
import random
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
from django.db import connection, connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from bench.common import Table, machine, percentile, same  # noqa: E402

UPSERT = """mutation($uscc: String!, $name: String, $region: String, $foundedOn: String) {
  upsertFirm(uscc: $uscc, name: $name, region: $region, foundedOn: $foundedOn) {
    errors { field message } outcome firm { uscc name formerNames region { code } currentStage { code } } } }"""
RECORD = """mutation($uscc: String!, $tier: String!, $issuedOn: String!, $no: String) {
  recordCertification(uscc: $uscc, tier: $tier, issuedOn: $issuedOn, certificateNo: $no) {
    errors { field message } outcome firm { uscc currentStage { code } } certification { certificateNo } } }"""

# The floor runs on a connection of its own: its rollback would otherwise end the API connection's
# prepared statements (psycopg deallocates them on every rollback; PREPARED_SINGLE_WRITES).
FLOOR = "floor"
connections.settings[FLOOR] = dict(connections.settings["default"])


def admin_key():
    from registry.models import ApiToken, Role, RoleAssignment

    user, _ = get_user_model().objects.get_or_create(username="bench-admin")
    RoleAssignment.objects.update_or_create(user=user, defaults={"role": Role.ADMIN})
    return ApiToken.issue(user, name="bench")[1]


def check_side_effects(firm_ids):
    """The written firms' derived rows equal a fresh derivation and their current stage is the one their
    recognitions give, or the difference is printed and the benchmark exits with status 1 (bench.common.same)."""
    from registry.analytics import precomputed as pipeline
    from registry.eligibility import precomputed as candidates
    from registry.models import CandidateRank, Certification, Firm, FirmStageReach, FirmYearTransition
    from registry.services.stage import current_of, held_on

    stored = {
        "candidates": sorted(CandidateRank.objects.filter(firm_id__in=firm_ids).values_list(
            "target", "firm_id", "outcome_rank", "score_key", "gap", "region_path")),
        "reach": sorted(FirmStageReach.objects.filter(firm_id__in=firm_ids).values_list(
            "firm_id", "stage_id", "issued_on", "region_path")),
        "transitions": sorted(FirmYearTransition.objects.filter(firm_id__in=firm_ids).values_list(
            "firm_id", "year", "from_rank", "to_rank", "revoked", "region_path")),
    }
    with transaction.atomic():  # derive again from scratch, compare, roll back
        CandidateRank.objects.filter(firm_id__in=firm_ids).delete()
        candidates._insert(candidates.state().evaluated_on, Firm.objects.filter(id__in=firm_ids))  # vectorised: the reference
        one_statement, pipeline.ONE_STATEMENT_MAX_FIRMS = pipeline.ONE_STATEMENT_MAX_FIRMS, 0  # year by year: the reference
        pipeline.refresh_firms(firm_ids)
        pipeline.ONE_STATEMENT_MAX_FIRMS = one_statement
        fresh = {
            "candidates": sorted(CandidateRank.objects.filter(firm_id__in=firm_ids).values_list(
                "target", "firm_id", "outcome_rank", "score_key", "gap", "region_path")),
            "reach": sorted(FirmStageReach.objects.filter(firm_id__in=firm_ids).values_list(
                "firm_id", "stage_id", "issued_on", "region_path")),
            "transitions": sorted(FirmYearTransition.objects.filter(firm_id__in=firm_ids).values_list(
                "firm_id", "year", "from_rank", "to_rank", "revoked", "region_path")),
        }
        transaction.set_rollback(True)
    for name in stored:
        same(f"side effects: {name}", stored[name], fresh[name], ("stored by the writes", "derived afresh"))
    from django.utils import timezone

    current = current_of(Certification.objects.filter(held_on(timezone.localdate()), firm_id__in=firm_ids)
                         .values_list("firm_id", "stage_id", "tier_id", "stage__rank", "tier__rank"))
    stages = {firm_id: (stage_id, tier_id) for firm_id, stage_id, tier_id in Firm.objects.filter(
        id__in=firm_ids).values_list("id", "current_stage_id", "current_tier_id")}
    same("side effects: current stage/tier", stages, {firm_id: current.get(firm_id, (None, None)) for firm_id in stages},
         ("stored on the firm", "from its recognitions"))
    if not stored["candidates"]:
        same("side effects: candidates rows", "none for the written firms", "rows", ("stored", "expected"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=20000, help="seed this many firms when the database is empty")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--writes", type=int, default=60, help="firms written (three requests each)")
    args = parser.parse_args()

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    from registry.demo.names import uscc as make_uscc
    from registry.eligibility import precomputed as candidates
    from registry.models import Firm

    if not Firm.objects.exists():
        t = time.perf_counter()
        call_command("seed_demo", firms=args.firms, seed=args.seed)
        print(f"seeded {args.firms:,} firms in {time.perf_counter() - t:.0f} s")
    if not candidates.is_complete():
        call_command("analytics_rebuild", verbosity=0)
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Token {admin_key()}"}
    # As a server worker starts (gunicorn.conf's post_worker_init): start-up's objects out of the
    # collector's reach, or its full collections (40-110 ms here) land in the timed writes.
    from api_graphql.warmup import freeze

    freeze()

    def post(query, variables):
        response = client.post("/graphql", data=json.dumps({"query": query, "variables": variables}),
                               content_type="application/json", **headers)
        body = response.json()
        payload = next(iter((body.get("data") or {}).values()), None)
        if body.get("errors") or not payload or payload["errors"]:
            sys.exit(f"the API refused a write: {body}")
        return payload

    rng = random.Random(time.time_ns())
    issued_on = (datetime.date.today() - datetime.timedelta(days=30)).isoformat()  # held today
    timings = {"create": [], "rename": [], "record": [], "orm create+rename (floor)": []}
    written, firms = [], Firm.objects.count()
    regions = ["320583", "320506", "320214", "320411", "320115"]
    for n in range(args.writes + 3):  # the first three warm caches and connections, not timed
        region = rng.choice(regions)
        code = make_uscc(rng, region)
        if Firm.objects.filter(uscc=code).exists():
            continue
        steps = (
            ("create", UPSERT, {"uscc": code, "name": f"基准写入{code[-8:]}科技有限公司", "region": region,
                                "foundedOn": "2019-05-01"}),
            ("rename", UPSERT, {"uscc": code, "name": f"基准写入{code[-8:]}智能科技有限公司"}),
            ("record", RECORD, {"uscc": code, "tier": "tech_sme", "issuedOn": issued_on, "no": f"B{code[-10:]}"}),
        )
        for label, query, variables in steps:
            t = time.perf_counter()
            payload = post(query, variables)
            if n >= 3:
                timings[label].append((time.perf_counter() - t) * 1000)
        if payload["firm"]["currentStage"] is None or payload["firm"]["currentStage"]["code"] != "tech_sme":
            sys.exit(f"recordCertification returned a stale current stage: {payload}")
        written.append(Firm.objects.get(uscc=code).pk)
        # The floor: the same two firm writes as bare ORM calls, rolled back.
        with transaction.atomic(using=FLOOR):
            t = time.perf_counter()
            firm = Firm.objects.using(FLOOR).create(uscc=code[:-1] + "Z", name="floor", name_normalized="floor",
                                                    region_id=region)
            firm.name = "floor2"
            firm.save(update_fields=["name"], using=FLOOR)
            if n >= 3:
                timings["orm create+rename (floor)"].append((time.perf_counter() - t) * 1000)
            transaction.set_rollback(True, using=FLOOR)

    print(f"database: {connection.vendor}; registry: {firms:,} firms; {len(written)} firms written, "
          f"three requests each; search indexing: "
          f"{'in the request (eager Celery, embedded set-up)' if settings.CELERY_TASK_ALWAYS_EAGER else 'queued on commit to the search queue (production set-up)'}")
    print(machine())
    table = Table("request", "p50 ms", "p95 ms", "goal p95 < 50 ms")
    for label, values in timings.items():
        table.add(label, statistics.median(values), percentile(values, 95),
                  "(a floor, not a like-for-like baseline)" if "floor" in label
                  else "met" if percentile(values, 95) < 50 else "NOT met")
    table.print()
    check_side_effects(written)
    print(f"side effects current for all {len(written)} firms: candidates ranking, pipeline rows and current "
          f"stage equal a fresh derivation")


if __name__ == "__main__":
    main()
