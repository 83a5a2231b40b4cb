"""grant_role and create_token, end to end: the printed key works against /graphql."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from registry.models import ApiToken, RoleAssignment


def test_grant_role_creates_user_and_scopes_officer(db):
    out = io.StringIO()
    call_command("grant_role", "wang", "officer", "--region", "320583", "--region", "320211", stdout=out)
    assignment = RoleAssignment.objects.get(user__username="wang")
    assert assignment.role == "officer"
    assert sorted(assignment.regions.values_list("code", flat=True)) == ["320211", "320583"]
    assert "Created user wang" in out.getvalue()
    call_command("grant_role", "wang", "analyst", stdout=io.StringIO())
    assignment.refresh_from_db()
    assert assignment.role == "analyst" and not assignment.regions.exists()


@pytest.mark.parametrize("args, message", [
    (["li", "officer"], "at least one --region"),
    (["li", "officer", "--region", "999999"], "Unknown region"),
    (["li", "analyst", "--region", "320583"], "officers only"),
])
def test_grant_role_refuses_bad_input(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("grant_role", *args, stdout=io.StringIO())


def test_create_token_prints_a_working_key_once(db, registry_data):
    call_command("grant_role", "zhao", "officer", "--region", "320583", stdout=io.StringIO())
    out = io.StringIO()
    call_command("create_token", "zhao", "--name", "notebook", stdout=out, stderr=io.StringIO())
    key = out.getvalue().strip()
    token = ApiToken.objects.get(user__username="zhao")
    assert token.name == "notebook" and token.key_hash == ApiToken.hash_key(key) and key not in token.key_hash
    response = Client().post("/graphql", data=json.dumps({"query": "{ firms { totalCount } }"}),
                             content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.json() == {"data": {"firms": {"totalCount": 1}}}  # only the Kunshan firm
    with pytest.raises(CommandError):
        call_command("create_token", "nobody", stdout=io.StringIO())
