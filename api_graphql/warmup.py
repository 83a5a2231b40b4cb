"""Warm a server process before it reports ready, so a user's first request does not pay for start-up.

Measured at 1,000,000 firms (bench/graphql_firms.py, first call in a fresh process): the first
GraphQL request cost 2.3–3.9x the hand-written ORM code's first call. What it paid that later
requests do not: graphql-core's first validation and execution (its rule classes and code paths
run cold), Django's first URL resolution and ORM compilation of a page query, django-filter's
form class, the stage/tier codes, the province copies of the region table, and the database
connection. `warm_up()` does all of it once, by sending the shapes users send (a firms page, a
page with cursors, a profile) through the GraphQL view as an in-memory analyst — nothing is
written, and no user or token is needed. What stays for the first request is its own token check
(one query; the key is unknown until then).

Called from `cultivar/wsgi.py` at start-up (gunicorn's master with `preload_app`, so forked workers
inherit the warm caches) and from gunicorn's `post_worker_init` (each worker's own connection, then
`gc.freeze()`: the objects alive after start-up are never scanned again by the collector).
CULTIVAR_WARMUP=0 turns it off. It never stops a start-up: a failure is logged and the server starts cold.
"""

import gc
import json
import logging
import os
import time

logger = logging.getLogger(__name__)

DOCUMENTS = [
    ("""query($stage: String, $region: String, $rd: Decimal) {
        firms(first: 2, stage: $stage, region: $region, rdIntensityMin: $rd) { pageInfo { hasNextPage endCursor }
        edges { cursor node { id uscc name foundedOn currentStage { code } currentTier { code } region { code name }
        latestIndicators { year rdIntensity } } } } }""", "page"),
    ("""{ firms(first: 1) { edges { node { uscc region { code name level parent { code name } }
        certifications { tier { code name } issuedOn validUntil status certificateNo } } } } }""", "none"),
    ("""query($uscc: String!) { firm(uscc: $uscc) { id uscc name region { code name } currentStage { code name }
        timeline { date kind stage { code } } indicators { year revenue rdIntensity } } }""", "firm"),
]


def enabled():
    return os.environ.get("CULTIVAR_WARMUP", "1") != "0"


def _analyst():
    """An analyst held in memory only (never saved): reads every region, writes nothing."""
    from django.contrib.auth import get_user_model

    from registry.models import Role, RoleAssignment

    user = get_user_model()(username="warm-up", is_active=True)
    user._state.fields_cache["cultivar_role"] = RoleAssignment(role=Role.ANALYST)
    return user


def _post(view, query, variables):
    from django.test import RequestFactory

    request = RequestFactory().post("/graphql", data=json.dumps({"query": query, "variables": variables or {}}),
                                    content_type="application/json")
    request.user = _analyst()
    request._dont_enforce_csrf_checks = True  # a request made here, not a browser's: no CSRF cookie to check
    return view(request)


def _through_middleware():
    from django.test import Client

    from django.conf import settings

    # A host the server accepts (CommonMiddleware checks it): the first named one, else localhost.
    host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if h not in ("*", ".")), "localhost")
    client = Client(HTTP_HOST=host)
    client.handler.load_middleware()
    request_log = logging.getLogger("django.request")  # its 401 is expected: not a warning in the server log
    level = request_log.level
    request_log.setLevel(logging.ERROR)  # setLevel, not .level: it clears the loggers' isEnabledFor caches
    try:
        client.post("/graphql", data="{}", content_type="application/json",
                    HTTP_AUTHORIZATION="Token warm-up-no-such-key")
    finally:
        request_log.setLevel(level)


def warm_up():
    """Run once per process before serving; returns the milliseconds it took (None when turned off or failed)."""
    if not enabled():
        return None
    started = time.perf_counter()
    try:
        from django.db import connection
        from django.urls import get_resolver, resolve

        from registry.filtersets import region_table, stage_id, tier_id
        from registry.models import Firm, Stage, Tier

        get_resolver().url_patterns  # noqa: B018 - the URLconf and the GraphQL schema
        view = resolve("/graphql").func
        connection.ensure_connection()
        # Reference data the first pages read: the regions (one query: the pages' national table and the
        # API's province copies alike, registry.filtersets.region_table), stage and tier codes.
        region_table()
        for code in Stage.objects.values_list("code", flat=True):
            stage_id(code)
        for code in Tier.objects.values_list("code", flat=True):
            tier_id(code)
        # A firm that exists, for the profile, and its region for the page (so the page's id scan stops at once).
        uscc, region = Firm.objects.order_by("id").values_list("uscc", "region_id").first() or ("-", None)
        # The middleware chain and the token check as a real request meets them: a token no one holds
        # (its lookup warms the ORM path and the database's catalog for the token, user and role tables).
        _through_middleware()
        variables = {"page": {"stage": None, "region": region, "rd": "0"}, "none": {}, "firm": {"uscc": uscc}}
        for query, kind in DOCUMENTS:
            response = _post(view, query, variables[kind])
            if response.status_code != 200 or b'"errors"' in response.content:
                logger.warning("warm-up document answered %s: %.200r", response.status_code, response.content)
    except Exception:  # noqa: BLE001 - a cold start is slower, never broken
        logger.warning("Warm-up failed; the first requests will be slower", exc_info=True)
        return None
    return (time.perf_counter() - started) * 1000


def freeze():
    """Move everything alive now (modules, schema, caches) out of the collector's reach: later collections
    scan only what requests allocate (the p95 tail of a long-lived server)."""
    gc.collect()
    gc.freeze()
