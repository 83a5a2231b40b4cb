"""API token authentication (`Authorization: Token <key>`, or `Bearer <key>`), for /graphql and exports.

Only the SHA-256 of a key is stored (ApiToken.hash_key). `last_used_at` is written at most once a
minute per token, so a busy notebook does not turn every read into a write; and that write never
waits for another writer (an import holding SQLite's write lock): it is skipped until the next minute.

Verified tokens are remembered in this process for `API_TOKEN_CACHE_SECONDS` (default 30 s; 0 turns
it off), saving a query per request. Revoking a token, changing a role, its regions or a user in
this process forgets them all at once (signals below); another process (e.g. `manage.py`, another
worker) notices at the latest when its entry expires: that TTL is the revocation delay.
"""

import contextlib
import datetime
import functools
import logging
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from registry.models import ApiToken, RoleAssignment

logger = logging.getLogger(__name__)
TOUCH_INTERVAL = datetime.timedelta(minutes=1)
KEYWORDS = ("token", "bearer")


def _in_model_order(model, names):
    # Model.from_db takes a subset of columns in the model's field order.
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in names)


# What auth and scope need of the user and role; the password hash and profile columns stay in the database.
USER_COLUMNS = _in_model_order(get_user_model(), {"id", "username", "is_active", "is_superuser"})
ROLE_COLUMNS = _in_model_order(RoleAssignment, {"id", "user_id", "role"})


class TokenError(Exception):
    pass


def token_from_header(request):
    """The key in the Authorization header, or None when the header is not a token."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    parts = header.split()
    if not parts or parts[0].lower() not in KEYWORDS:
        return None
    if len(parts) != 2:
        raise TokenError("Malformed Authorization header: use 'Authorization: Token <key>'.")
    return parts[1]


class VerifiedTokens:
    """key hash → (verified at, token id, last_used_at, user columns, role columns or None), per process."""

    def __init__(self):
        self.entries = {}

    def get(self, key_hash):
        entry = self.entries.get(key_hash)
        ttl = settings.API_TOKEN_CACHE_SECONDS
        if entry is None or time.monotonic() - entry[0] >= ttl:
            return None
        return entry

    def put(self, key_hash, token_id, last_used_at, user_values, role_values):
        if settings.API_TOKEN_CACHE_SECONDS > 0:
            self.entries[key_hash] = (time.monotonic(), token_id, last_used_at, user_values, role_values)

    def touched(self, key_hash, last_used_at):
        entry = self.entries.get(key_hash)
        if entry is not None:
            self.entries[key_hash] = entry[:2] + (last_used_at,) + entry[3:]

    def clear(self, **_signal_kwargs):
        self.entries.clear()


verified_tokens = VerifiedTokens()

# Whatever can change who a token is (revocation, a role or its regions, deactivation) forgets every
# verified token of this process: rare admin events, so forgetting all keeps this simple and safe.
for _model in (ApiToken, RoleAssignment, get_user_model()):
    post_save.connect(verified_tokens.clear, sender=_model, dispatch_uid=f"token-cache-save-{_model.__name__}")
    post_delete.connect(verified_tokens.clear, sender=_model, dispatch_uid=f"token-cache-delete-{_model.__name__}")
m2m_changed.connect(verified_tokens.clear, sender=RoleAssignment.regions.through, dispatch_uid="token-cache-regions")


def _user(user_values, role_values):
    """A fresh user (with its role attached, or none) for this request, built from verified columns.

    Fresh per request, so nothing a request caches on its user outlives it; the other columns are
    deferred (loaded on access), as with `only()`.
    """
    User = get_user_model()
    user = User.from_db(DEFAULT_DB_ALIAS, USER_COLUMNS, user_values)
    role = None if role_values is None else RoleAssignment.from_db(DEFAULT_DB_ALIAS, ROLE_COLUMNS, role_values)
    user._state.fields_cache["cultivar_role"] = role  # None: accessing it raises DoesNotExist, as Django does
    return user


@functools.cache
def _token_sql(vendor):
    """The token check as one statement, composed once per process and database vendor: the ORM compiled the
    same select_related query on every unknown key (~0.8 ms of a first request)."""
    quote = connection.ops.quote_name

    def columns(alias, model, attnames):
        by_attname = {f.attname: f.column for f in model._meta.concrete_fields}
        return [f"{alias}.{quote(by_attname[name])}" for name in attnames]

    token, user, role = ApiToken._meta, get_user_model()._meta, RoleAssignment._meta
    selected = (columns("t", ApiToken, ("id", "revoked", "last_used_at")) + columns("u", get_user_model(), USER_COLUMNS)
                + columns("r", RoleAssignment, ROLE_COLUMNS))
    return (f"SELECT {', '.join(selected)} FROM {quote(token.db_table)} t "
            f"JOIN {quote(user.db_table)} u ON u.{quote(user.pk.column)} = t.{quote(token.get_field('user').column)} "
            f"LEFT JOIN {quote(role.db_table)} r ON r.{quote(role.get_field('user').column)} = u.{quote(user.pk.column)} "
            f"WHERE t.{quote(token.get_field('key_hash').column)} = %s")


def _verify(key_hash):
    """(token id, last_used_at, user columns, role columns or None) from the database, or TokenError."""
    with connection.cursor() as cursor:
        cursor.execute(_token_sql(connection.vendor), [key_hash])
        row = cursor.fetchone()
    user_end = 3 + len(USER_COLUMNS)
    if row is None or row[1] or not row[3 + USER_COLUMNS.index("is_active")]:
        raise TokenError("Invalid or revoked API token.")
    token_id, _, last_used_at = row[:3]
    if last_used_at is not None and timezone.is_naive(last_used_at):  # SQLite returns UTC without its zone
        last_used_at = timezone.make_aware(last_used_at, datetime.timezone.utc)
    role_values = None if row[user_end] is None else tuple(row[user_end:])
    return token_id, last_used_at, tuple(row[3:user_end]), role_values


def authenticate_token(key):
    """The active user behind a key, or TokenError (unknown, revoked, or inactive user)."""
    key_hash = ApiToken.hash_key(key)
    entry = verified_tokens.get(key_hash)
    if entry is not None:
        _, token_id, last_used_at, user_values, role_values = entry
    else:
        token_id, last_used_at, user_values, role_values = _verify(key_hash)
        verified_tokens.put(key_hash, token_id, last_used_at, user_values, role_values)
    now = timezone.now()
    if last_used_at is None or now - last_used_at >= TOUCH_INTERVAL:
        _touch(token_id, now)
        verified_tokens.touched(key_hash, now)  # tried: the next try is a minute away even when it was skipped
    return _user(user_values, role_values)


# How long the last-used write may wait for SQLite's write lock before it is skipped.
TOUCH_WAIT_MS = 50


@functools.cache
def _touch_sql(vendor):
    """The last-used write, composed once per process and vendor (the ORM compiled the UPDATE each time)."""
    quote, table = connection.ops.quote_name, ApiToken._meta
    return (f"UPDATE {quote(table.db_table)} SET {quote(table.get_field('last_used_at').column)} = %s "
            f"WHERE {quote(table.pk.column)} = %s")


def _touch(token_id, now):
    """Record `last_used_at`, or skip it when the database is busy: a read must not wait for an import."""
    values = [connection.ops.adapt_datetimefield_value(now), token_id]
    try:
        with _short_busy_timeout():
            # In a transaction (a test, a command), a savepoint: a skipped write leaves the caller's transaction
            # usable. Otherwise one statement in autocommit: no BEGIN/COMMIT round trips on a request's path.
            with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
                with connection.cursor() as cursor:
                    cursor.execute(_touch_sql(connection.vendor), values)
    except OperationalError as error:
        logger.info("API token %s: last_used_at not recorded (%s)", token_id, error)


@contextlib.contextmanager
def _short_busy_timeout():
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        previous = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA busy_timeout = {TOUCH_WAIT_MS}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {int(previous)}")
