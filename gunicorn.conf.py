"""gunicorn settings for Cultivar (`scripts/serve`, `make serve`); every value can be set from the environment.

gthread workers: each worker process runs THREADS requests at a time, so a slow export or funnel
does not hold a whole process; WORKERS processes use the cores. Each thread keeps its own database
connection (DB_CONN_MAX_AGE), so PostgreSQL sees up to WORKERS x THREADS connections.
"""

import multiprocessing
import os


def env_int(name, default):
    return int(os.environ.get(name, default))


wsgi_app = "cultivar.wsgi:application"
# Load Django once in the master (5-6 s on a busy 2-core machine), then fork: workers start at once and
# share the loaded code, instead of each loading it while requests queue (GUNICORN_PRELOAD=0 to turn off).
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
# One process per core, 8 threads each: requests mostly wait on the database (threads release the GIL
# there), and every process keeps its own caches (schema, codes, tokens, search reader). Measured here
# (bench/load.py, 20 clients, 20,000 firms, PostgreSQL, busy 2-core machine): 2 x 8 served 28.0
# requests/s, p95 1.8 s; gunicorn's usual 2 x cores + 1 = 5 x 4 served 13.7 requests/s, p95 4.4 s.
workers = env_int("GUNICORN_WORKERS", min(max(multiprocessing.cpu_count(), 2), 8))
threads = env_int("GUNICORN_THREADS", 8)
# A request running longer than this is killed with its worker (and logged): the GraphQL limits keep
# queries far below it; exports stream and the importer runs in Celery, not in a request.
timeout = env_int("GUNICORN_TIMEOUT", 60)
graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = env_int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then, so a slow leak cannot grow without bound.
max_requests = env_int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = env_int("GUNICORN_MAX_REQUESTS_JITTER", 500)
backlog = env_int("GUNICORN_BACKLOG", 2048)
# Limits on the request line and headers (gunicorn's defaults, named here so they are visible).
limit_request_line = 4094
limit_request_fields = 100
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # "-" for stdout
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "cultivar"
# gunicorn 25+ opens a control socket at one path per user (~/.gunicorn/gunicorn.ctl): two servers on a
# machine (tests, a benchmark, the demo) would fight over it, and nothing here uses it.
control_socket_disable = True


def pre_fork(server, worker):
    """A database connection the master opened while loading must not be shared by forked workers."""
    from django.db import connections

    connections.close_all()


def post_worker_init(worker):
    """Ready to serve: warm what the master could not share, then keep the collector off start-up's objects.

    With preload_app the master warmed the caches (cultivar/wsgi.py); without it this worker loaded the
    app, and with it, warmed them. Each request thread opens its own database connection: they are
    opened here, one per thread (a barrier holds every thread until all have one), so the first requests
    do not connect. Then gc.freeze() (api_graphql/warmup.freeze).
    """
    import threading

    from django.db import connection

    from api_graphql.warmup import enabled, freeze

    pool, threads = getattr(worker, "tpool", None), worker.cfg.threads
    if enabled() and pool is not None:
        barrier = threading.Barrier(threads, timeout=10)

        def connect():
            try:
                connection.ensure_connection()
                barrier.wait()
            except Exception:  # noqa: BLE001 - a cold thread connects on its first request instead
                barrier.abort()

        for future in [pool.submit(connect) for _ in range(threads)]:
            future.result()
    freeze()
