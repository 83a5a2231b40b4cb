"""Load test: N clients for T seconds against the production server (gunicorn), loopback only.

Issue 13's goal: 50 clients, 60 s, 200,000 firms on PostgreSQL, 0 errors, p95 < 300 ms, with an
import of 100,000 rows running at the same time without any request failing:

    scripts/with-services .venv/bin/python bench/load.py --firms 200000 --clients 50 --seconds 60 --import-rows 100000

What it does, and stops by itself (at T seconds or --max-requests, whichever comes first):
1. migrates the database in DATABASE_URL and seeds it with `seed_demo --firms N` when it is empty;
   creates an analyst and an officer (苏州) with API tokens;
2. starts `scripts/serve` (gunicorn, `SERVE_MIGRATE=0`) on a free 127.0.0.1 port, with DJANGO_DEBUG=0
   (a throwaway secret key unless one is set); `--server runserver` starts `manage.py runserver`
   instead (threaded, no reloader): the baseline issue 13 measured;
3. collects real USCCs and firm-page cursors, then runs N client threads (keep-alive HTTP/1.1, one
   connection each) over a realistic mix: firms pages (first page and later pages by cursor, with
   ids), search, a firm profile, the funnel, candidates; each request is a POST to /graphql with a
   token (officers' requests are scoped to their district);
4. optionally imports a K-row 高企 list (`manage.py import_list`, a separate process) during the run;
5. prints requests/s, p50/p95/p99 overall and per kind, and every error kind with a count.

A request counts as an error when the status is not 200, the body has `errors`, or it times out; any
error makes the exit status 1. There is no baseline side here (nothing to compare results with): the
like-for-like comparisons of these documents are bench/graphql_firms.py and bench/pages.py.
Only loopback: the server is our own child process bound to 127.0.0.1, stopped at the end.
"""

import argparse
import http.client
import importlib.util
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cultivar.settings")

from bench.common import Table, machine, percentile  # noqa: E402

FIRMS_PAGE = """query($after: String, $stage: String, $region: String) {
  firms(first: 50, after: $after, stage: $stage, region: $region) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id uscc name foundedOn region { code name } currentStage { code } currentTier { code } } } } }"""
PROFILE = """query($uscc: String!) { firm(uscc: $uscc) {
  id uscc name formerNames foundedOn description mainProducts region { code name } chains { code name }
  currentStage { code name } currentTier { code name }
  certifications { tier { code } certificateNo issuedOn validUntil status }
  indicators { year employees inventionPatents }
  timeline { __typename } } }"""
SEARCH = """query($q: String!) { search(query: $q, first: 20) {
  total hits { score firm { id uscc name region { name } currentStage { code } } }
  facets { field buckets { key label count } } } }"""
FUNNEL = """query($region: String) { funnel(stages: ["tech_sme", "hnte", "srdi"], region: $region) {
  cohortYear steps { stage count conversionFromPrevious } } }"""
CANDIDATES = """query($region: String) { candidates(stage: "hnte", region: $region, first: 20) {
  totalCount edges { node { eligible score firm { uscc name } unmet { criterion text } } } } }"""
SEARCH_TERMS = ["科技", "智能", "生物", "新材料", "苏州", "无锡 电子", "芯片", "医疗器械", "软件", "新能源"]
REGIONS = ["320500", "320583", "320200", "320100", None]
STAGES = ["tech_sme", "hnte", "gazelle", None]
# The mix, by weight: mostly pages and profiles, as a registry UI and notebooks ask.
MIX = {"firms_first": 20, "firms_next": 20, "profile": 25, "search": 20, "funnel": 5, "candidates": 10}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup(firms, seed):
    """Migrate, seed when empty, and return (analyst key, officer key, some USCCs)."""
    import django

    django.setup()
    from django.core.management import call_command

    from registry.models import ApiToken, Firm, Region, Role, RoleAssignment
    from django.contrib.auth import get_user_model

    call_command("migrate", "--noinput", verbosity=0)
    if not Firm.objects.exists():
        t = time.perf_counter()
        call_command("seed_demo", "--firms", str(firms), "--seed", str(seed), verbosity=0)
        print(f"seeded {firms:,} firms in {time.perf_counter() - t:.0f} s")
    print(f"registry: {Firm.objects.count():,} firms")
    keys = []
    for username, role, regions in (("load_analyst", Role.ANALYST, []), ("load_officer", Role.OFFICER, ["320500"])):
        user, _ = get_user_model().objects.get_or_create(username=username)
        assignment, _ = RoleAssignment.objects.update_or_create(user=user, defaults={"role": role})
        assignment.regions.set(Region.objects.filter(code__in=regions))
        keys.append(ApiToken.issue(user, name="bench/load.py")[1])
    usccs = list(Firm.objects.order_by("?").values_list("uscc", flat=True)[:2000])
    from django.db import connections

    connections.close_all()
    return keys[0], keys[1], usccs


class Client:
    """One keep-alive connection to the server."""

    def __init__(self, port, key, timeout):
        self.port, self.key, self.timeout = port, key, timeout
        self.connection = None

    def post(self, query, variables):
        body = json.dumps({"query": query, "variables": variables})
        headers = {"Content-Type": "application/json", "Authorization": f"Token {self.key}"}
        for attempt in (1, 2):  # a kept-alive connection the server closed (max_requests) is reopened once
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.connection.request("POST", "/graphql", body, headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise


def run_client(n, port, keys, usccs, cursors, deadline, budget, results, args):
    rng = random.Random(args.seed * 1000 + n)
    key = keys[n % 4 == 3]  # every fourth client is a district officer
    client = Client(port, key, args.timeout)
    kinds, weights = zip(*MIX.items())
    while time.monotonic() < deadline and budget.take():
        kind = rng.choices(kinds, weights)[0]
        region, stage = rng.choice(REGIONS), rng.choice(STAGES)
        if kind == "firms_first":
            query, variables = FIRMS_PAGE, {"stage": stage, "region": region}
        elif kind == "firms_next":
            query, variables = FIRMS_PAGE, {"after": rng.choice(cursors)}
        elif kind == "profile":
            query, variables = PROFILE, {"uscc": rng.choice(usccs)}
        elif kind == "search":
            query, variables = SEARCH, {"q": rng.choice(SEARCH_TERMS)}
        elif kind == "funnel":
            query, variables = FUNNEL, {"region": region}
        else:
            query, variables = CANDIDATES, {"region": region}
        started = time.perf_counter()
        try:
            status, body = client.post(query, variables)
            error = None if status == 200 and b'"errors"' not in body[:20000] else f"{kind}: HTTP {status} {body[:160]!r}"
        except (OSError, http.client.HTTPException) as failure:
            error = f"{kind}: {type(failure).__name__} {failure}"
        results.append((kind, time.perf_counter() - started, error))


class Budget:
    """At most this many requests in all (the second bound besides time)."""

    def __init__(self, total):
        self.left, self.lock = total, threading.Lock()

    def take(self):
        with self.lock:
            self.left -= 1
            return self.left >= 0


def collect_cursors(port, key, count=200):
    """Real `after` cursors: walk the first pages of a few filters."""
    client, cursors = Client(port, key, 60), []
    for stage in STAGES:
        after = None
        for _ in range(count // len(STAGES)):
            status, body = client.post(FIRMS_PAGE, {"after": after, "stage": stage})
            page = json.loads(body)["data"]["firms"]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
            cursors.append(after)
            if len(cursors) >= count:
                return cursors
    return cursors or [None]


def report(results, seconds):
    print(f"\n{len(results):,} requests in {seconds:.1f} s: {len(results) / seconds:.1f} requests/s; {machine()}")
    by_kind = defaultdict(list)
    for kind, latency, _ in results:
        by_kind[kind].append(latency * 1000)
    rows = [("all", [r[1] * 1000 for r in results])] + sorted(by_kind.items())
    table = Table("kind", "n", "p50 ms", "p95 ms", "p99 ms", "max ms")
    for kind, values in rows:
        table.add(kind, len(values), percentile(values, 50), percentile(values, 95), percentile(values, 99),
                  max(values, default=float("nan")))
    table.print()
    errors = Counter(e for _, _, e in results if e)
    print(f"errors: {sum(errors.values())}")
    for message, count in errors.most_common(10):
        print(f"  {count} x {message}")
    return sum(errors.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--firms", type=int, default=200_000, help="seed this many firms when the database is empty")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=5,
                        help="seconds of the same mix before measuring (each worker's caches, not its start)")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="stop after this many requests in all")
    parser.add_argument("--import-rows", type=int, default=0, help="import a list of this many rows during the run")
    parser.add_argument("--workers", type=int, default=None, help="GUNICORN_WORKERS (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, default=None, help="GUNICORN_THREADS")
    parser.add_argument("--timeout", type=float, default=30, help="client timeout per request, seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server", choices=("gunicorn", "runserver"), default="gunicorn",
                        help="runserver: the development server, as a baseline")
    args = parser.parse_args()
    if not 1 <= args.clients <= 500 or not 0 < args.seconds <= 3600:
        parser.error("--clients 1..500 and --seconds up to 3600: a bounded test")

    analyst, officer, usccs = setup(args.firms, args.seed)
    port = free_port()
    env = dict(os.environ, GUNICORN_BIND=f"127.0.0.1:{port}", SERVE_MIGRATE="0", CULTIVAR_PYTHON=sys.executable,
               DJANGO_DEBUG="0")
    env.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(40))
    for name, value in (("GUNICORN_WORKERS", args.workers), ("GUNICORN_THREADS", args.threads)):
        if value:
            env[name] = str(value)
    command = ([str(ROOT / "scripts" / "serve")] if args.server == "gunicorn" else
               [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"])
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    importer = None
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.3)
        cursors = collect_cursors(port, analyst)
        print(f"server on 127.0.0.1:{port} ({args.server}); {len(cursors)} cursors, {len(usccs)} USCCs; "
              f"{args.clients} clients for {args.seconds:.0f} s")
        if args.import_rows:
            path = Path(tempfile.gettempdir()) / f"load_import_{args.import_rows}_{os.getpid()}.csv"
            # bench/import_recognitions.py's list generator, with a fresh seed: new firms each run, not a re-import
            spec = importlib.util.spec_from_file_location("import_recognitions", ROOT / "bench" / "import_recognitions.py")
            generator = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(generator)
            generator.generate(str(path), args.import_rows, seed=secrets.randbelow(10**9))
            import_started = time.monotonic()
            importer = subprocess.Popen(
                [sys.executable, "manage.py", "import_list", str(path), "--kind", "recognitions", "--tier", "hnte",
                 "--authority", "江苏省科技厅", "--no-progress"], cwd=ROOT, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, env=dict(os.environ, COLUMNS="160"))
        if args.warmup:
            warm = [threading.Thread(target=run_client, daemon=True,
                                     args=(n, port, (analyst, officer), usccs, cursors, time.monotonic() + args.warmup,
                                           Budget(10**6), [], args)) for n in range(args.clients)]
            for thread in warm:
                thread.start()
            for thread in warm:
                thread.join(args.warmup + args.timeout + 5)
        results, budget = [], Budget(args.max_requests)
        started = time.monotonic()
        deadline = started + args.seconds
        threads = [threading.Thread(target=run_client, daemon=True,
                                    args=(n, port, (analyst, officer), usccs, cursors, deadline, budget, results, args))
                   for n in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.seconds + args.timeout + 5)
        elapsed = time.monotonic() - started
        errors = report(list(results), elapsed)
        if importer is not None:
            state = importer.poll()
            if state is None:
                print(f"import of {args.import_rows:,} rows still running after the load window "
                      f"({time.monotonic() - import_started:.0f} s); waiting for it")
                state = importer.wait()
            output = [line for line in importer.stdout.read().splitlines() if any(c.isalnum() for c in line)]
            print(f"import of {args.import_rows:,} rows: exit {state} after {time.monotonic() - import_started:.0f} s")
            print("\n".join("  " + line for line in output[-8:]))
            path.unlink(missing_ok=True)
    finally:
        if importer is not None and importer.poll() is None:
            importer.terminate()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
