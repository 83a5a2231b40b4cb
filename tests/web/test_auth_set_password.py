"""A user made by `grant_role` signs in: the one-time set-password link, end to end (web/views/auth.py)."""

import io
import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db
GOOD = "mulberry-lantern-42"


@pytest.fixture(autouse=True)
def _fresh():
    cache.clear()  # sign-in throttling counts


def grant(*args):
    out = io.StringIO()
    call_command("grant_role", *args, stdout=out)
    return out.getvalue()


def link_in(output):
    found = re.findall(r"^(http://testserver(/accounts/set-password/[^\s]+/))$", output, re.M)
    assert len(found) == 1, output
    return found[0][1]


def sign_in(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_grant_role_link_set_password_sign_in_home():
    output = grant("li-wei", "officer", "--region", "320583", "--site", "http://testserver/")
    path = link_in(output)
    client = Client()
    assert sign_in(client, "li-wei", GOOD).status_code == 200  # no password yet: refused

    page = client.get(path, follow=True)
    form_url = page.redirect_chain[-1][0]
    assert "set-password" in form_url and path.rstrip("/").rsplit("/", 1)[1] not in form_url  # token out of the address
    html = page.content.decode()
    assert 'name="new_password1"' in html and "li-wei" in html and 'class="topbar"' in html  # the project's layout

    weak = client.post(form_url, {"new_password1": "12345678", "new_password2": "12345678"}).content.decode()
    assert "新密码: " in weak  # refused by the validators, the field named
    done = client.post(form_url, {"new_password1": GOOD, "new_password2": GOOD}, follow=True)
    assert done.redirect_chain[-1][0] == "/accounts/login/" and "密码已设置" in done.content.decode()

    home = client.post("/accounts/login/", {"username": "li-wei", "password": GOOD}, follow=True)
    assert home.redirect_chain[-1][0] == "/" and home.context["user"].username == "li-wei"
    assert "首页" in home.content.decode()


def test_the_link_works_once_and_a_wrong_token_is_refused():
    path = link_in(grant("zhou", "analyst", "--site", "http://testserver"))
    client = Client()
    form_url = client.get(path, follow=True).redirect_chain[-1][0]
    client.post(form_url, {"new_password1": GOOD, "new_password2": GOOD})
    again = Client().get(path, follow=True).content.decode()
    assert "此链接无效或已过期" in again and 'name="new_password1"' not in again
    forged = Client().get(path[:-3] + "xx/", follow=True).content.decode()
    assert "此链接无效或已过期" in forged


def test_the_link_expires(settings):
    path = link_in(grant("expiring", "analyst", "--site", "http://testserver"))
    settings.PASSWORD_RESET_TIMEOUT = -1  # every token is already too old
    assert "此链接无效或已过期" in Client().get(path, follow=True).content.decode()


def test_a_fresh_link_for_an_existing_user_replaces_a_forgotten_password():
    grant("chen", "investor", "--site", "http://testserver")
    assert "set-password" not in grant("chen", "investor")  # re-granting prints no link unless asked
    path = link_in(grant("chen", "investor", "--link", "--site", "http://testserver"))
    client = Client()
    form_url = client.get(path, follow=True).redirect_chain[-1][0]
    client.post(form_url, {"new_password1": GOOD, "new_password2": GOOD})
    assert sign_in(Client(), "chen", GOOD).status_code == 302
