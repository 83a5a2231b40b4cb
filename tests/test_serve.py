"""The production server (scripts/serve: gunicorn) on embedded SQLite stays usable while a writer holds the database.

Issue 13: while an import ran, every token read waited 5 s for the write lock (token auth wrote
`last_used_at`) and failed with HTTP 500 "database is locked", served as the debug page. Here a
thread holds a write transaction on the server's SQLite file until the reads are done: a read that waited
for the lock could only end by failing (the busy timeout), never by answering while the lock is held.
"""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOLD_CAP_SECONDS = 90  # the writer lets go when the reads are done, or after this (longer than any busy timeout)
READS = 3
QUERY = "{ ladder { code } firms(first: 5) { totalCount edges { node { uscc } } } }"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url, key, body, timeout=30):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers.get("Content-Type"), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_", "GUNICORN_"))}
    env.update(CULTIVAR_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="cultivar.settings", CULTIVAR_PYTHON=sys.executable,
               GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="2", GUNICORN_THREADS="4")
    process = subprocess.Popen([str(ROOT / "scripts" / "serve")], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}/graphql"
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stdout.read()
            try:
                status, _, _ = post(url, "none", {"query": "{ __typename }"}, timeout=2)
                if status == 401:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        make_token = ("from django.core.management import call_command; call_command('grant_role', 'bot', 'analyst'); "
                      "from registry.models import ApiToken; from django.contrib.auth.models import User; "
                      "print(ApiToken.issue(User.objects.get(username='bot'), name='t')[1])")
        key = subprocess.run([sys.executable, "manage.py", "shell", "-c", make_token], cwd=ROOT, env=env, check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]
        yield url, key, var / "cultivar.sqlite3"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def hold_write_lock(path, started, done, released):
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")  # the write lock, as an import's transaction holds it
    db.execute("UPDATE registry_apitoken SET name = name || '' ")
    started.set()
    done.wait(HOLD_CAP_SECONDS)
    released.set()
    db.execute("ROLLBACK")
    db.close()


def test_token_reads_succeed_while_another_connection_holds_a_long_write_transaction(server):
    url, key, path = server
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()
    started, done, released = threading.Event(), threading.Event(), threading.Event()
    writer = threading.Thread(target=hold_write_lock, args=(path, started, done, released))
    writer.start()
    assert started.wait(30)
    try:
        answers = []
        for _ in range(READS):
            answers.append(post(url, key, {"query": QUERY}, timeout=HOLD_CAP_SECONDS + 30))
            assert not released.is_set(), "a read answered only after the writer let go: it waited for the lock"
    finally:
        done.set()
        writer.join()
    for status, content_type, body in answers:
        assert status == 200 and content_type == "application/json", body[:300]
        assert "errors" not in json.loads(body) and json.loads(body)["data"]["ladder"]


FUNNEL = '{ funnel(stages: ["tech_sme", "hnte"], cohortYear: 2024) { steps { stage count } } }'
RECORD = ("import datetime; from registry.models import Region, Stage; from registry.services import record_certification, "
          "upsert_firm; from tests.factories import make_uscc; "
          "firm = upsert_firm(uscc=make_uscc('320583'), name='缓存测试科技有限公司', region=Region.objects.get(code='320583'))[0]; "
          "record_certification(firm, Stage.objects.get(code='tech_sme').tiers.first(), "
          "datetime.date(2024, 3, 1))")


def test_remembered_analytics_follow_a_write_from_another_process(server):
    """Both workers remember the funnel (registry/cache.py); a write committed by another process (an import,
    a Celery task) changes the data version in the database, so no worker answers from before it."""
    url, key, path = server

    def counts():
        status, _, body = post(url, key, {"query": FUNNEL})
        assert status == 200, body[:300]
        return [step["count"] for step in json.loads(body)["data"]["funnel"]["steps"]]

    assert {tuple(counts()) for _ in range(8)} == {(0, 0)}  # asked of both workers, and remembered there
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_"))}
    env.update(CULTIVAR_VAR_DIR=str(path.parent), DJANGO_SETTINGS_MODULE="cultivar.settings")
    subprocess.run([sys.executable, "manage.py", "shell", "-c", RECORD], cwd=ROOT, env=env, check=True,
                   capture_output=True, text=True)
    assert {tuple(counts()) for _ in range(8)} == {(1, 0)}
