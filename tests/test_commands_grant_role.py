"""grant_role --password-stdin: a password that never appears on the command line or in the output."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

pytestmark = pytest.mark.django_db
SECRET = "quiet-harbour-9317"


def grant(*args, stdin=""):
    out = io.StringIO()
    call_command("grant_role", *args, stdout=out, stdin=io.StringIO(stdin))
    return out.getvalue()


def test_password_from_stdin_signs_in_and_is_never_printed():
    output = grant("sun", "analyst", "--password-stdin", stdin=SECRET + "\n")
    assert SECRET not in output and "set-password" not in output and "from standard input" in output
    response = Client().post("/accounts/login/", {"username": "sun", "password": SECRET})
    assert response.status_code == 302 and response["Location"] == "/"


def test_an_existing_users_password_is_replaced_from_stdin():
    grant("he", "investor")
    assert not get_user_model().objects.get(username="he").has_usable_password()
    grant("he", "investor", "--password-stdin", stdin=SECRET)
    assert get_user_model().objects.get(username="he").check_password(SECRET)


@pytest.mark.parametrize("stdin, message", [
    ("", "empty line"),
    ("short\n", "too short"),
    ("1234567890123\n", "entirely numeric"),
    ("password123\n", "too common"),
])
def test_a_weak_or_missing_password_changes_nothing(stdin, message):
    with pytest.raises(CommandError, match=message):
        grant("qian", "officer", "--region", "320583", "--password-stdin", stdin=stdin)
    assert not get_user_model().objects.filter(username="qian").exists()


def test_no_password_on_the_command_line_and_one_way_at_a_time():
    with pytest.raises(CommandError, match="unrecognized arguments"):
        grant("wu", "analyst", "--password", SECRET)
    with pytest.raises(CommandError, match="not allowed with"):
        grant("wu", "analyst", "--link", "--password-stdin", stdin=SECRET)
    assert not get_user_model().objects.filter(username="wu").exists()
