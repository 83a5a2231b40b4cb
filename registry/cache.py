"""Remembered analytics answers (funnel, stage transitions, target progress), for GraphQL and the pages alike.

Why: under load (bench/load.py) the funnel was among the slowest reads, yet dashboards ask the same
few questions over and over while the registry changes only when something is written.

- `cached(fn, *args, user=..., **kwargs)` is `fn(*args, user=user, **kwargs)`, remembered under a key
  of: the function, its arguments, the caller's scope (registry.permissions.region_paths: an officer's
  regions, or all), today's date (answers depend on it) and the registry's data version.
- `count(queryset)` is `queryset.count()` of registry rows (the firms list's totalCount: a COUNT over
  200,000 firms was the costliest statement of a firms page), keyed by its exact SQL and parameters,
  which carry the filters and the caller's scope, and the data version.
- The data version (registry.models.RegistryVersion) gets a new random token after every committed
  write: `firms_changed` (every service write, single or bulk, registry.services.effects) and saves or
  deletes of what the answers read outside it (stages, tiers, regions, chains, targets, admin edits;
  registry.receivers), and a rebuild of the precomputed tables (raw loads). It lives in the database,
  so every process (gunicorn workers, the importer, Celery) sees a write as soon as it is committed,
  whichever cache holds the answers.
- The token changes on commit, never before: a reader cannot store an answer of the old data under
  the new version. A transaction that has written (its change pending) computes its answers itself:
  it must see its own writes.
- A request reads the version once (its first remembered answer), not once per answer: the officer's
  home asks four or more. A write this request commits replaces it; outside a request (commands,
  Celery) it is read every time.
- Answers live in Django's cache (CACHES: per-process memory embedded, Redis with CACHE_URL) for
  ANALYTICS_CACHE_SECONDS (0 turns this off); that expiry also bounds how long a write that bypasses
  the services (raw SQL before `analytics_rebuild`) can go unseen. A cache that fails (Redis down)
  is logged and skipped: the answer is computed.
"""

import hashlib
import json
import logging
import uuid

from asgiref.local import Local
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.signals import request_finished, request_started
from django.utils import timezone

from registry.models import RegistryVersion
from registry.oncommit import on_commit_once, queued
from registry.permissions import region_paths, role_of

logger = logging.getLogger(__name__)
NAME = "registry"
KEY_PREFIX = "cultivar-answer"


def _read_version():
    token = list(RegistryVersion.objects.filter(name=NAME).values_list("token", flat=True)[:1])
    return token[0] if token else None


# This request's version, read at its first remembered answer; NOT_IN_REQUEST outside requests.
_request = Local()
NOT_IN_REQUEST, UNREAD = object(), object()


def _request_started(**_signal_kwargs):
    _request.token = UNREAD


def _request_finished(**_signal_kwargs):
    _request.token = NOT_IN_REQUEST


request_started.connect(_request_started, dispatch_uid="registry-cache-version-request-started")
request_finished.connect(_request_finished, dispatch_uid="registry-cache-version-request-finished")


def version():
    """The current data version token, or None when there is no row (a flushed database): then nothing is
    remembered until the next write makes one. Never written here: a read must not wait for a writer
    (SQLite's write lock during an import). Read once per request."""
    token = getattr(_request, "token", NOT_IN_REQUEST)
    if token is NOT_IN_REQUEST:
        return _read_version()
    if token is UNREAD:
        token = _request.token = _read_version()
    return token


def _bump():
    token, now = uuid.uuid4().hex, timezone.now()
    if not RegistryVersion.objects.filter(name=NAME).update(token=token, changed_at=now):
        RegistryVersion.objects.bulk_create(  # migration 0011 made the row; a flush removed it
            [RegistryVersion(name=NAME, token=token, changed_at=now)], ignore_conflicts=True)
    if getattr(_request, "token", NOT_IN_REQUEST) is not NOT_IN_REQUEST:
        _request.token = token  # this request committed a write: its later answers are of the new data


def _pending(using=None):
    """True when this transaction has written and its version change waits for the commit."""
    return queued(_bump, using)


def changed(**_signal_kwargs):
    """The registry was written: a new data version once the transaction commits (once per transaction).
    robust: a failed change is logged and must not hide the other commit hooks (search index); the
    answers' expiry bounds how long it is missed."""
    on_commit_once(_bump, robust=True)


def scope_key(user):
    """What of the caller the answers depend on: their region scope (None: not cacheable, no role)."""
    if user is not None and role_of(user) is None:
        return None
    paths = None if user is None else region_paths(user)
    return ["all"] if paths is None else sorted(paths)


def cached(fn, *args, user=None, **kwargs):
    """fn(*args, user=user, **kwargs), remembered per data version, scope, date and arguments."""
    seconds = settings.ANALYTICS_CACHE_SECONDS
    scope = scope_key(user)
    if seconds <= 0 or scope is None or _pending():
        return fn(*args, user=user, **kwargs)
    try:
        described = json.dumps([fn.__module__, fn.__qualname__, args, kwargs, scope,
                                timezone.localdate().isoformat()], sort_keys=True, default=str)
    except (TypeError, ValueError):
        return fn(*args, user=user, **kwargs)
    token = version()
    if token is None:
        return fn(*args, user=user, **kwargs)
    key = f"{KEY_PREFIX}:{token}:{hashlib.sha256(described.encode()).hexdigest()}"
    try:
        found = cache.get(key)
    except Exception:  # noqa: BLE001 - a cache outage costs speed, never an answer
        logger.warning("analytics cache unavailable; computing", exc_info=True)
        return fn(*args, user=user, **kwargs)
    if found is not None:
        return found
    result = fn(*args, user=user, **kwargs)
    try:
        cache.set(key, result, seconds)
    except Exception:  # noqa: BLE001
        logger.warning("analytics cache unavailable; not stored", exc_info=True)
    return result


def count(queryset):
    """queryset.count(), remembered per data version and the statement itself. Only for querysets over
    what the data version follows (firms, recognitions, indicators, regions, chains, the ladder)."""
    seconds = settings.ANALYTICS_CACHE_SECONDS
    if seconds <= 0 or _pending(queryset.db):
        return queryset.count()
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # e.g. .none(): nothing to ask
        return 0
    token = version()
    if token is None:
        return queryset.count()
    described = json.dumps([queryset.db, sql, params], default=str)
    key = f"{KEY_PREFIX}:{token}:count:{hashlib.sha256(described.encode()).hexdigest()}"
    try:
        found = cache.get(key)
    except Exception:  # noqa: BLE001 - a cache outage costs speed, never an answer
        logger.warning("analytics cache unavailable; counting", exc_info=True)
        return queryset.count()
    if found is not None:
        return found
    result = queryset.count()
    try:
        cache.set(key, result, seconds)
    except Exception:  # noqa: BLE001
        logger.warning("analytics cache unavailable; not stored", exc_info=True)
    return result
