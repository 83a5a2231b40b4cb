import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_settings(show="s.DEBUG, s.DATABASES['default']['ENGINE']", **env):
    """Import the settings in a fresh process with only these deployment variables; print `show`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "POSTGRES_"))}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", f"import cultivar.settings as s; print({show})"],
        cwd=ROOT, env=environment, capture_output=True, text=True,
    )


def test_production_refuses_the_development_secret_key():
    result = load_settings(DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_starts_with_a_real_key_and_postgres_url():
    result = load_settings(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50, DATABASE_URL="postgres://u:p@db/cultivar")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "django.db.backends.postgresql"]


def test_embedded_defaults_need_no_variables():
    result = load_settings()
    assert result.stdout.split() == ["True", "django.db.backends.sqlite3"]


def postgres_options(**env):
    result = load_settings("s.DATABASES['default'].get('OPTIONS', {})", DATABASE_URL="postgres://u:p@db/cultivar", **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_postgres_connections_start_without_jit_unless_asked():
    assert postgres_options() == "{'options': '-c jit=off'}"
    assert postgres_options(POSTGRES_JIT="on") == "{}"


@pytest.mark.django_db
def test_the_live_connection_has_jit_off():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
