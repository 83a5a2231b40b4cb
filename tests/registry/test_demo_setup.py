"""`make demo`'s set-up steps (seed_demo --if-empty, demo_setup) run twice keep the logins."""

import datetime
import io
import json
import stat

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from registry.models import ApiToken, CultivationEntry, Firm, PolicyTarget

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 23)


@pytest.fixture
def demo_settings(settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    return settings


def make_demo_steps():
    """What `make demo` runs before the server, as JSON summaries."""
    seeded, logins = io.StringIO(), io.StringIO()
    call_command("seed_demo", firms=40, seed=1, today=TODAY, if_empty=True, no_index=True, json_summary=True,
                 stdout=seeded)
    call_command("demo_setup", json_summary=True, stdout=logins)
    return json.loads(seeded.getvalue()), json.loads(logins.getvalue())


def token_works(key):
    return ApiToken.objects.filter(key_hash=ApiToken.hash_key(key), revoked=False).exists()


def test_twice_keeps_users_passwords_and_tokens(demo_settings, tmp_path):
    seeded, first = make_demo_steps()
    assert seeded["generated"] is True and seeded["firms"] == 40
    created = {login["username"]: login for login in first["logins"]}
    assert {login["state"] for login in first["logins"]} == {"created"}
    assert PolicyTarget.objects.exists()

    seeded_again, second = make_demo_steps()
    assert seeded_again == {"generated": False, "existing_firms": 40, "phases": []}
    assert Firm.objects.count() == 40
    for login in second["logins"]:
        assert login["state"] == "kept" and login["password"] is None and login["token"] is None
        before = created[login["username"]]
        assert User.objects.get(username=login["username"]).check_password(before["password"])
        assert token_works(before["token"])
    assert second["targets_imported"] == 0
    # demo-officer's board is in use, once: entries at several steps, each with its dated notes
    assert first["pooled"] == CultivationEntry.objects.count() > 0 and second["pooled"] == 0
    officer_user = User.objects.get(username="demo-officer")
    entries = CultivationEntry.objects.all()
    assert {e.owner_id for e in entries} == {officer_user.pk}
    assert {e.firm.region_id for e in entries} <= {"320583", "320571"}  # the officer's own firms
    assert {"pooled", "coaching", "applied"} <= {e.status for e in entries}
    assert all(e.notes.exists() for e in entries)
    assert max(note.noted_on for e in entries for note in e.notes.all()) <= timezone.localdate()  # none ahead

    # Each login says its role and regions; the officer's are 昆山 and 苏州工业园区.
    officer = next(login for login in second["logins"] if login["role"] == "officer")
    assert officer["regions"] == ["320571 苏州工业园区", "320583 昆山市"]
    # The secrets made at the first run stay findable, owner-only.
    saved = tmp_path / "demo-logins.txt"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert created["demo-officer"]["token"] in saved.read_text(encoding="utf-8")


def test_reset_says_what_it_reset(demo_settings):
    _, first = make_demo_steps()
    out = io.StringIO()
    call_command("demo_setup", reset=True, json_summary=True, stdout=out)
    for old, new in zip(first["logins"], json.loads(out.getvalue())["logins"]):
        assert new["state"].startswith("reset")
        assert not token_works(old["token"]) and token_works(new["token"])
        user = User.objects.get(username=new["username"])
        assert user.check_password(new["password"]) and not user.check_password(old["password"])


def test_printed_for_a_person(demo_settings, monkeypatch):
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    make_demo_steps()
    out = io.StringIO()
    call_command("demo_setup", stdout=out)
    text = out.getvalue()
    for username in ("demo-officer", "demo-analyst", "demo-investor", "demo-admin"):
        assert username in text
    assert "320583 昆山市" in text and "http://127.0.0.1:8000/graphql" in text and "demo_setup --reset" in text


@pytest.mark.parametrize("bind, start", [("127.0.0.1:8123", "http://127.0.0.1:8123/"),
                                         ("0.0.0.0:8124", "http://127.0.0.1:8124/"),
                                         ("unix:/tmp/cultivar.sock", "http://127.0.0.1:8000/")])
def test_the_links_follow_the_port_the_server_is_given(demo_settings, monkeypatch, bind, start):
    """`GUNICORN_BIND=127.0.0.1:8123 make demo` (8000 taken): the printed links name that port."""
    monkeypatch.setenv("GUNICORN_BIND", bind)
    make_demo_steps()
    out = io.StringIO()
    call_command("demo_setup", stdout=out)
    assert f"Start at {start} " in out.getvalue() and f"{start}graphql" in out.getvalue()
    if ":8000" not in start:
        assert ":8000" not in out.getvalue()


def test_refused_outside_debug(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("demo_setup")
