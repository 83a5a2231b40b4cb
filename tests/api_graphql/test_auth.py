"""Authentication (session and token), CSRF, and the role-less account."""

import datetime
import json

import pytest
from django.test import Client
from django.utils import timezone

from api_graphql.core.auth import verified_tokens
from registry.models import ApiToken, Role, RoleAssignment
from tests.api_graphql.conftest import make_user

QUERY = "{ firms { totalCount } }"


def post(client, query=QUERY, **headers):
    response = client.post("/graphql", data=json.dumps({"query": query}), content_type="application/json", **headers)
    return response.status_code, response.json()


def test_anonymous_gets_401_with_an_error_and_no_data(db):
    status, body = post(Client())
    assert status == 401
    assert "data" not in body and "Authentication required" in body["errors"][0]["message"]


def test_account_without_role_is_refused(db):
    client = Client()
    client.force_login(make_user("nobody"))
    status, body = post(client)
    assert status == 403 and "no Cultivar role" in body["errors"][0]["message"]


def test_token_authentication_and_last_used_throttle(analyst, registry_data):
    token, key = ApiToken.issue(analyst, name="notebook")
    status, body = post(Client(), HTTP_AUTHORIZATION=f"Token {key}")
    assert status == 200 and body["data"]["firms"]["totalCount"] == 2
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    post(Client(), HTTP_AUTHORIZATION=f"Token {key}")
    token.refresh_from_db()
    assert token.last_used_at == first_use  # not rewritten within a minute
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - datetime.timedelta(minutes=2))
    verified_tokens.clear()  # this process remembers when it last wrote last_used_at; start afresh
    post(Client(), HTTP_AUTHORIZATION=f"Token {key}")
    token.refresh_from_db()
    assert token.last_used_at > first_use
    assert ApiToken.objects.get(pk=token.pk).key_hash == ApiToken.hash_key(key)  # only the hash is stored


def test_bad_and_revoked_tokens_are_refused(analyst):
    token, key = ApiToken.issue(analyst)
    assert post(Client(), HTTP_AUTHORIZATION="Token nope")[0] == 401
    assert post(Client(), HTTP_AUTHORIZATION=f"Token {key}")[0] == 200  # verified, so remembered
    token.revoked = True
    token.save()
    status, body = post(Client(), HTTP_AUTHORIZATION=f"Token {key}")
    assert status == 401 and "revoked" in body["errors"][0]["message"]
    _, fresh = ApiToken.issue(analyst)
    assert post(Client(), HTTP_AUTHORIZATION=f"Token {fresh}")[0] == 200
    analyst.is_active = False
    analyst.save()
    assert post(Client(), HTTP_AUTHORIZATION=f"Token {fresh}")[0] == 401  # a deactivated user's tokens stop
    assert post(Client(), HTTP_AUTHORIZATION="Token")[0] == 401  # malformed header


def test_verified_tokens_are_remembered_until_something_changes(analyst, registry_data, django_assert_num_queries,
                                                               settings):
    _, key = ApiToken.issue(analyst)
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"}
    assert post(Client(), **headers)[0] == 200
    with django_assert_num_queries(0):  # the token query (and the last_used_at write) are not repeated
        from api_graphql.core.auth import authenticate_token
        user = authenticate_token(key)
    assert (user.username, user.cultivar_role.role) == ("analyst", Role.ANALYST)
    assert user.email == analyst.email  # columns not cached are read on access, not made up

    assignment = RoleAssignment.objects.get(user=analyst)
    assignment.role = Role.INVESTOR
    assignment.save()  # a role change in this process is seen by the next request
    assert authenticate_token(key).cultivar_role.role == Role.INVESTOR
    assignment.delete()
    status, body = post(Client(), **headers)
    assert status == 403 and "no Cultivar role" in body["errors"][0]["message"]

    RoleAssignment.objects.create(user=analyst, role=Role.ANALYST)
    assert post(Client(), **headers)[0] == 200
    ApiToken.objects.filter(key_hash=ApiToken.hash_key(key)).update(revoked=True)  # no signal: as another process
    assert post(Client(), **headers)[0] == 200  # still remembered: the TTL is the revocation delay
    settings.API_TOKEN_CACHE_SECONDS = 0  # expired (or cache off): verified again
    status, body = post(Client(), **headers)
    assert status == 401 and "revoked" in body["errors"][0]["message"]


def test_session_posts_need_csrf_but_token_posts_do_not(analyst, registry_data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)
    status, body = post(client)
    assert status == 403 and "CSRF" in body["errors"][0]["message"]
    client.get("/graphql", HTTP_ACCEPT="text/html")  # GraphiQL sets the csrftoken cookie
    csrf = client.cookies["csrftoken"].value
    status, body = post(client, HTTP_X_CSRFTOKEN=csrf)
    assert status == 200 and body["data"]["firms"]["totalCount"] == 2
    _, key = ApiToken.issue(analyst)
    status, _ = post(Client(enforce_csrf_checks=True), HTTP_AUTHORIZATION=f"Token {key}")
    assert status == 200


def test_graphiql_for_signed_in_users_login_redirect_for_others(analyst):
    assert Client().get("/graphql", HTTP_ACCEPT="text/html").status_code == 302
    client = Client()
    client.force_login(analyst)
    response = client.get("/graphql", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and b"graphiql" in response.content.lower()


def test_a_busy_database_skips_the_last_used_write_and_the_read_goes_on(analyst, registry_data):
    from django.db import OperationalError, connection

    token, key = ApiToken.issue(analyst, name="notebook")

    def locked(execute, sql, params, many, context):
        if sql.startswith("UPDATE") and ApiToken._meta.db_table in sql:
            raise OperationalError("database is locked")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(locked):
        status, body = post(Client(), HTTP_AUTHORIZATION=f"Bearer {key}")
    assert status == 200 and body["data"]["firms"]["totalCount"] == 2
    token.refresh_from_db()
    assert token.last_used_at is None  # skipped, tried again a minute later


def test_last_used_at_read_back_from_the_database_keeps_its_zone_and_throttles(analyst, registry_data):
    token, key = ApiToken.issue(analyst)
    recent = timezone.now() - datetime.timedelta(seconds=30)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent)
    verified_tokens.clear()  # read the token (and its last_used_at) from the database, not this process
    assert post(Client(), HTTP_AUTHORIZATION=f"Token {key}")[0] == 200
    token.refresh_from_db()
    assert token.last_used_at == recent  # used 30 s ago: not written again


def test_a_user_without_role_behind_a_token_is_refused_not_broken(db):
    _, key = ApiToken.issue(make_user("nobody"))
    status, body = post(Client(), HTTP_AUTHORIZATION=f"Token {key}")
    assert status == 403 and "no Cultivar role" in body["errors"][0]["message"]


# Real autocommit; serialized_rollback restores the migrations' reference rows after the flush, as the suite's
# other committed tests do (a plain transactional flush re-creates content types the next one would clash with).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_outside_a_transaction_the_token_check_and_its_last_used_write_are_one_statement_each():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from api_graphql.core.auth import authenticate_token

    analyst = make_user("solo")
    RoleAssignment.objects.create(user=analyst, role=Role.ANALYST)
    token, key = ApiToken.issue(analyst)
    verified_tokens.clear()
    with CaptureQueriesContext(connection) as captured:
        user = authenticate_token(key)
    assert (user.username, user.cultivar_role.role) == ("solo", Role.ANALYST)
    statements = [q["sql"].split()[0].upper() for q in captured.captured_queries]
    # No BEGIN/COMMIT or SAVEPOINT around the write (SQLite's PRAGMAs set the write's short lock wait).
    assert [s for s in statements if s != "PRAGMA"] == ["SELECT", "UPDATE"]
    token.refresh_from_db()
    assert token.last_used_at is not None and timezone.is_aware(token.last_used_at)
