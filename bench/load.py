"""Load test: N clients for T seconds against the production server (gunicorn), loopback only.

Issue 13's goal: 50 clients, 60 s, 200,000 firms on PostgreSQL, 0 errors, p95 < 300 ms, with an
import of 100,000 rows running at the same time without any request failing:

    scripts/with-services .venv/bin/python bench/load.py --firms 200000 --clients 50 --seconds 60 --import-rows 100000

Two ways of sending load, each printed under its own heading (`--mode both`, the default, runs
"users" first, then "closed"):
- users: each client is a person who reads what they asked for before asking again: a seeded random
  pause of 1-5 s (`--think 1-5`) between their requests. This is the latency users see at this many
  people working at once, and what the goal is judged on (docs: README "Serving").
- closed: each client sends its next request as soon as the last one returns. On 2 cores that
  measures throughput (how many requests per second the machine can do), not user latency: with
  50 clients always waiting, every request also waits for ~49 others.

What it does, and stops by itself (each window at T seconds or --max-requests, whichever first):
1. migrates the database in DATABASE_URL and seeds it with `seed_demo --firms N` when it is empty;
   creates an analyst and an officer (苏州) with API tokens; samples USCCs, districts with firms and
   words of firm names, so each client varies ids, cursors, regions, years and queries;
2. starts `scripts/serve` (gunicorn, `SERVE_MIGRATE=0`) on a free 127.0.0.1 port, with DJANGO_DEBUG=0
   (a throwaway secret key unless one is set) and, when the Celery broker is Redis and CACHE_URL is
   unset, Django's cache in Redis (database 2), as production runs; `--server runserver` starts
   `manage.py runserver` instead (threaded, no reloader): the baseline issue 13 measured;
3. measures each kind's service time alone (one client, --service-samples each): where the time
   goes before anything queues;
4. optionally imports a K-row 高企 list (`manage.py import_list`, a separate process) during the
   windows, with a Celery worker for what it queues when a broker is set; both at `nice`
   --import-nice, as production should run its workers, so reads win (and, PostgreSQL on this
   machine, their database backends too: PostgreSQL cannot lower one session's priority itself);
5. per window: requests/s, p50/p95/p99 overall and per kind, every error kind with a count, and the
   CPU seconds the server, PostgreSQL's backends and the import used (CPU per request).

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
FUNNEL = """query($region: String, $year: Int) { funnel(stages: ["tech_sme", "hnte", "srdi"], region: $region,
  cohortYear: $year) { cohortYear steps { stage count conversionFromPrevious } } }"""
CANDIDATES = """query($stage: String!, $region: String, $after: String) {
  candidates(stage: $stage, region: $region, first: 20, after: $after) {
  totalCount edges { node { eligible score firm { uscc name } unmet { criterion text } } } } }"""
SEARCH_TERMS = ["科技", "智能", "生物", "新材料", "苏州", "无锡 电子", "芯片", "医疗器械", "软件", "新能源"]
STAGES = ["tech_sme", "hnte", "gazelle", None]
CANDIDATE_STAGES = ["hnte", "hnte", "srdi", "gazelle"]
COHORT_YEARS = list(range(2019, 2026))
# The mix, by weight: mostly pages and profiles, as a registry UI and notebooks ask.
MIX = {"firms_first": 20, "firms_next": 20, "profile": 25, "search": 20, "funnel": 5, "candidates": 10}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup(firms, seed):
    """Migrate, seed when empty; return the analyst and officer keys and what the clients vary over."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Count

    from registry.models import ApiToken, Firm, Region, Role, RoleAssignment
    from django.contrib.auth import get_user_model

    call_command("migrate", "--noinput", verbosity=0)
    if not Firm.objects.exists():
        t = time.perf_counter()
        call_command("seed_demo", "--firms", str(firms), "--seed", str(seed), verbosity=0)
        print(f"seeded {firms:,} firms in {time.perf_counter() - t:.0f} s")
    print(f"registry: {Firm.objects.count():,} firms")
    from registry.analytics import precomputed
    from registry.eligibility import precomputed as ranking

    if not (precomputed.is_complete() and ranking.is_complete()):  # e.g. an earlier run stopped mid-rebuild
        t = time.perf_counter()
        call_command("analytics_rebuild", verbosity=0)
        print(f"precomputed tables were stale: rebuilt in {time.perf_counter() - t:.0f} s")
    keys = []
    for username, role, regions in (("load_analyst", Role.ANALYST, []), ("load_officer", Role.OFFICER, ["320500"])):
        user, _ = get_user_model().objects.get_or_create(username=username)
        assignment, _ = RoleAssignment.objects.update_or_create(user=user, defaults={"role": role})
        assignment.regions.set(Region.objects.filter(code__in=regions))
        keys.append(ApiToken.issue(user, name="bench/load.py")[1])
    rng = random.Random(seed)
    usccs = list(Firm.objects.order_by("?").values_list("uscc", flat=True)[:2000])
    # Districts that hold firms, and their cities: each client asks about many places, not five.
    districts = list(Firm.objects.values("region__code").annotate(n=Count("id")).filter(n__gte=20)
                     .order_by("region__code").values_list("region__code", flat=True))
    districts = rng.sample(districts, min(40, len(districts)))
    regions = sorted(set(districts) | {code[:4] + "00" for code in districts}) + [None]
    names = Firm.objects.order_by("?").values_list("name", flat=True)[:300]
    words = sorted({name[k:k + 2] for name in names for k in (2, 4) if len(name) > k + 2})
    from django.db import connections

    connections.close_all()
    return keys[0], keys[1], {"usccs": usccs, "regions": regions, "terms": SEARCH_TERMS + words}


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


def request_for(kind, rng, pools):
    """(query, variables) of one request of this kind, with the client's own ids, cursors, places and words."""
    region = rng.choice(pools["regions"])
    if kind == "firms_first":
        return FIRMS_PAGE, {"stage": rng.choice(STAGES), "region": region}
    if kind == "firms_next":
        return FIRMS_PAGE, {"after": rng.choice(pools["cursors"])}
    if kind == "profile":
        return PROFILE, {"uscc": rng.choice(pools["usccs"])}
    if kind == "search":
        return SEARCH, {"q": rng.choice(pools["terms"])}
    if kind == "funnel":
        return FUNNEL, {"region": region, "year": rng.choice(COHORT_YEARS)}
    from graphql_relay import offset_to_cursor

    after = rng.choice([None, None, offset_to_cursor(19), offset_to_cursor(39)])  # first pages, mostly
    return CANDIDATES, {"stage": rng.choice(CANDIDATE_STAGES), "region": region, "after": after}


def send(client, kind, query, variables):
    """(latency s, error or None) of one request."""
    started = time.perf_counter()
    try:
        status, body = client.post(query, variables)
        error = None if status == 200 and b'"errors"' not in body[:20000] else f"{kind}: HTTP {status} {body[:160]!r}"
    except (OSError, http.client.HTTPException) as failure:
        error = f"{kind}: {type(failure).__name__} {failure}"
    return time.perf_counter() - started, error


def run_client(n, port, keys, pools, deadline, budget, results, args, think=None):
    """One client until the deadline: back to back (think None) or a person pausing think=(lo, hi) s."""
    rng = random.Random(args.seed * 1000 + n)
    key = keys[n % 4 == 3]  # every fourth client is a district officer
    client = Client(port, key, args.timeout)
    kinds, weights = zip(*MIX.items())
    if think:  # people do not all start at the same instant
        time.sleep(rng.uniform(0, think[1]))
    while time.monotonic() < deadline and budget.take():
        kind = rng.choices(kinds, weights)[0]
        latency, error = send(client, kind, *request_for(kind, rng, pools))
        results.append((kind, latency, error))
        if think:
            pause = rng.uniform(*think)
            if time.monotonic() + pause >= deadline:
                break
            time.sleep(pause)


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


def service_times(port, keys, pools, samples, seed):
    """Each kind alone, one request at a time: what a request costs before anything queues."""
    rng = random.Random(seed)
    clients = [Client(port, key, 60) for key in keys]
    table = Table("kind (alone)", "n", "p50 ms", "max ms", "errors")
    for kind in MIX:
        times, errors = [], 0
        for k in range(samples):
            latency, error = send(clients[k % 2], kind, *request_for(kind, rng, pools))
            times.append(latency * 1000)
            errors += error is not None
        table.add(kind, samples, percentile(times, 50), max(times), errors)
    print("\nservice time of each kind alone (1 client, analyst and officer alternating):")
    table.print()


class CpuMeter:
    """CPU seconds (user + system) of process groups on this machine: the server, our PostgreSQL's
    backends (children of its postmaster) and the import, read from /proc before and after a window."""

    TICKS = os.sysconf("SC_CLK_TCK")

    def __init__(self, server_pid, postmaster_pid):
        self.server_pid, self.postmaster_pid, self.background_pids = server_pid, postmaster_pid, set()

    @classmethod
    def _stats(cls):
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        fields = stat.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                # after the name: state ppid pgrp session ... utime stime cutime cstime (the last two: its
                # children that ended, e.g. a backend that closed, a recycled worker)
                yield int(entry), int(fields[1]), int(fields[2]), sum(map(int, fields[11:15])) / cls.TICKS

    def sample(self):
        totals = Counter()
        for pid, ppid, pgrp, seconds in self._stats():
            if pgrp == self.server_pid:
                totals["server"] += seconds
            elif self.postmaster_pid and (ppid == self.postmaster_pid or pid == self.postmaster_pid):
                totals["postgres"] += seconds
            elif pgrp in self.background_pids:
                totals["import"] += seconds  # and its Celery worker
        return totals


def postmaster_pid():
    """Our PostgreSQL's postmaster (its data directory's postmaster.pid), or None (SQLite, or not readable)."""
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW data_directory")
            data_directory = cursor.fetchone()[0]
        with open(Path(data_directory) / "postmaster.pid") as pid_file:
            return int(pid_file.readline())
    except (OSError, ValueError, Exception):  # noqa: BLE001 - CPU figures are a bonus, not the test
        return None
    finally:
        connections.close_all()


IMPORT_APP = "cultivar-import"  # PGAPPNAME of the import and its worker: how their backends are found


def renice_import_backends(nice, stop):
    """PostgreSQL cannot lower one session's priority itself: when it runs on this machine, give the import's
    backends the import's nice too (as a single-machine deployment would), every 2 s until `stop`."""
    from django.db import connection

    done = set()
    while not stop.wait(2):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [IMPORT_APP])
            for (pid,) in cursor.fetchall():
                if pid not in done:
                    try:
                        os.setpriority(os.PRIO_PROCESS, pid, nice)
                        done.add(pid)
                    except OSError:
                        pass
    connection.close()


def report(title, results, seconds, cpu, importing):
    print(f"\n=== {title} ===")
    print(f"{len(results):,} requests in {seconds:.1f} s: {len(results) / seconds:.1f} requests/s; "
          f"import running: {importing}; {machine()}")
    by_kind = defaultdict(list)
    for kind, latency, _ in results:
        by_kind[kind].append(latency * 1000)
    rows = [("all", [r[1] * 1000 for r in results])] + sorted(by_kind.items())
    table = Table("kind", "n", "p50 ms", "p95 ms", "p99 ms", "max ms")
    for kind, values in rows:
        table.add(kind, len(values), percentile(values, 50), percentile(values, 95), percentile(values, 99),
                  max(values, default=float("nan")))
    table.print()
    if results:
        used = ", ".join(f"{name} {value:.1f} s" for name, value in sorted(cpu.items()))  # postgres: every backend
        per_request = (cpu["server"] + cpu["postgres"]) / len(results) * 1000
        print(f"CPU in the window: {used or 'not measured'}; server + PostgreSQL per request: {per_request:.1f} ms "
              f"(2 cores give {seconds * (os.cpu_count() or 1):.0f} CPU s in {seconds:.0f} s)")
    errors = Counter(e for _, _, e in results if e)
    print(f"errors: {sum(errors.values())}")
    for message, count in errors.most_common(10):
        print(f"  {count} x {message}")
    return sum(errors.values())


def think_range(text):
    low, _, high = text.partition("-")
    low, high = float(low), float(high or low)
    if not 0 <= low <= high <= 60:
        raise argparse.ArgumentTypeError("think time LOW-HIGH in seconds, 0 <= LOW <= HIGH <= 60")
    return low, high


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--firms", type=int, default=200_000, help="seed this many firms when the database is empty")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60, help="length of each measured window")
    parser.add_argument("--mode", choices=("users", "closed", "both"), default="both",
                        help="users: people with think time; closed: back to back (throughput); both (default)")
    parser.add_argument("--think", type=think_range, default=(1.0, 5.0),
                        help="users mode: seconds a person pauses between requests, LOW-HIGH (default 1-5)")
    parser.add_argument("--warmup", type=float, default=5,
                        help="seconds of the closed mix before measuring (each worker's caches, not its start)")
    parser.add_argument("--service-samples", type=int, default=6,
                        help="requests of each kind timed alone before the load (0: skip)")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="stop a window after this many requests")
    parser.add_argument("--import-rows", type=int, default=0, help="import a list of this many rows during the run")
    parser.add_argument("--import-nice", type=int, default=10,
                        help="the import's CPU priority (nice), so reads win, as a Celery worker should run; also "
                             "given to its PostgreSQL backends when the database runs on this machine (0: off)")
    parser.add_argument("--workers", type=int, default=None, help="GUNICORN_WORKERS (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, default=None, help="GUNICORN_THREADS")
    parser.add_argument("--timeout", type=float, default=30, help="client timeout per request, seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server", choices=("gunicorn", "runserver"), default="gunicorn",
                        help="runserver: the development server, as a baseline")
    args = parser.parse_args()
    if not 1 <= args.clients <= 500 or not 0 < args.seconds <= 3600:
        parser.error("--clients 1..500 and --seconds up to 3600: a bounded test")

    analyst, officer, pools = setup(args.firms, args.seed)
    keys = (analyst, officer)
    port = free_port()
    env = dict(os.environ, GUNICORN_BIND=f"127.0.0.1:{port}", SERVE_MIGRATE="0", CULTIVAR_PYTHON=sys.executable,
               DJANGO_DEBUG="0")
    env.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(40))
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not env.get("CACHE_URL") and broker.startswith("redis://"):
        env["CACHE_URL"] = broker.rsplit("/", 1)[0] + "/2"  # the broker's Redis, its own database
    for name, value in (("GUNICORN_WORKERS", args.workers), ("GUNICORN_THREADS", args.threads)):
        if value:
            env[name] = str(value)
    command = ([str(ROOT / "scripts" / "serve")] if args.server == "gunicorn" else
               [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"])
    meter_postmaster = postmaster_pid()
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    meter = CpuMeter(server.pid, meter_postmaster)
    importer, worker, errors = None, None, 0
    stop_renice = threading.Event()
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
        pools["cursors"] = collect_cursors(port, analyst)
        print(f"server on 127.0.0.1:{port} ({args.server}, cache {env.get('CACHE_URL') or 'per process'}); "
              f"{len(pools['cursors'])} cursors, {len(pools['usccs'])} USCCs, {len(pools['regions'])} regions, "
              f"{len(pools['terms'])} search terms; {args.clients} clients, {args.seconds:.0f} s per window")
        if args.service_samples:
            service_times(port, keys, pools, args.service_samples, args.seed)
        if args.import_rows and broker:
            # What the import queues (search indexing, a rebuild of the precomputed tables) runs in a Celery
            # worker, as in production: at the import's priority, its CPU counted with the import's.
            worker = subprocess.Popen(
                ["nice", "-n", str(args.import_nice), sys.executable, "-m", "celery", "-A", "cultivar", "worker",
                 "-Q", "celery,search", "--concurrency", "1", "--loglevel", "WARNING"],
                cwd=ROOT, env=dict(os.environ, DJANGO_DEBUG="0", DJANGO_SECRET_KEY=env["DJANGO_SECRET_KEY"],
                                   PGAPPNAME=IMPORT_APP),
                start_new_session=True)
            meter.background_pids.add(worker.pid)
        if args.import_rows:
            path = Path(tempfile.gettempdir()) / f"load_import_{args.import_rows}_{os.getpid()}.csv"
            # bench/import_recognitions.py's list generator, with a fresh seed: new firms each run, not a re-import
            spec = importlib.util.spec_from_file_location("import_recognitions", ROOT / "bench" / "import_recognitions.py")
            generator = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(generator)
            generator.generate(str(path), args.import_rows, seed=secrets.randbelow(10**9))
            import_started = time.monotonic()
            import_log = tempfile.TemporaryFile("w+", encoding="utf-8")
            importer = subprocess.Popen(
                ["nice", "-n", str(args.import_nice), sys.executable, "manage.py", "import_list", str(path),
                 "--kind", "recognitions", "--tier", "hnte", "--authority", "江苏省科技厅", "--no-progress"],
                cwd=ROOT, stdout=import_log, stderr=subprocess.STDOUT,  # a file: a full pipe would stall it
                env=dict(os.environ, COLUMNS="160", PGAPPNAME=IMPORT_APP), start_new_session=True)
            meter.background_pids.add(importer.pid)
            if meter_postmaster and args.import_nice:
                threading.Thread(target=renice_import_backends, args=(args.import_nice, stop_renice), daemon=True).start()
        if args.warmup:
            warm = [threading.Thread(target=run_client, daemon=True,
                                     args=(n, port, keys, pools, time.monotonic() + args.warmup, Budget(10**6), [],
                                           args)) for n in range(args.clients)]
            for thread in warm:
                thread.start()
            for thread in warm:
                thread.join(args.warmup + args.timeout + 5)
        modes = ["users", "closed"] if args.mode == "both" else [args.mode]
        for mode in modes:
            think = args.think if mode == "users" else None
            results, budget = [], Budget(args.max_requests)
            before = meter.sample()
            started = time.monotonic()
            deadline = started + args.seconds
            threads = [threading.Thread(target=run_client, daemon=True,
                                        args=(n, port, keys, pools, deadline, budget, results, args, think))
                       for n in range(args.clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(args.seconds + args.timeout + 5)
            elapsed = time.monotonic() - started
            cpu = meter.sample()
            cpu.subtract(before)
            title = (f"users: {args.clients} people, think time {think[0]:g}-{think[1]:g} s between requests"
                     if think else f"closed loop: {args.clients} clients back to back (throughput, not user latency)")
            importing = "no" if importer is None else ("yes" if importer.poll() is None else "finished")
            errors += report(title, list(results), elapsed, cpu, importing)
        if importer is not None:
            state = importer.poll()
            if state is None:
                print(f"import of {args.import_rows:,} rows still running after the load windows "
                      f"({time.monotonic() - import_started:.0f} s); waiting for it")
                state = importer.wait()
            import_log.seek(0)
            output = [line for line in import_log.read().splitlines() if any(c.isalnum() for c in line)]
            print(f"import of {args.import_rows:,} rows: exit {state} after {time.monotonic() - import_started:.0f} s")
            print("\n".join("  " + line for line in output[-8:]))
            path.unlink(missing_ok=True)
            errors += state != 0
    finally:
        stop_renice.set()
        for background in (importer, worker):
            if background is not None and background.poll() is None:
                background.terminate()  # Celery's warm shutdown finishes the task at hand
                try:
                    background.wait(60)
                except subprocess.TimeoutExpired:
                    os.killpg(background.pid, signal.SIGKILL)
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
