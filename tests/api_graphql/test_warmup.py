"""The start-up warm-up (api_graphql/warmup.py): it writes nothing, and a first request after it reads no
reference data and runs no validation code for the first time."""

import gc

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api_graphql import warmup
from registry.models import ApiToken, Certification, Firm, RoleAssignment


@pytest.fixture
def key(analyst):
    _, key = ApiToken.issue(analyst, name="warm-up test")
    return key


def counts():
    return [m.objects.count() for m in (get_user_model(), RoleAssignment, ApiToken, Firm, Certification)]


def test_warm_up_writes_nothing_and_leaves_the_reference_data_held(registry_data, key, gql, caplog):
    before = counts()
    with CaptureQueriesContext(connection) as captured:
        took = warmup.warm_up()
    assert took is not None and took > 0
    assert counts() == before
    assert not [q for q in captured.captured_queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")], caplog.records
    # A first page after it: the token and the page query, no region or stage reads.
    query = '{ firms(first: 5) { edges { node { uscc region { code name } currentStage { code } } } } }'
    with CaptureQueriesContext(connection) as first:
        status, body = gql(query, token=key)
    assert status == 200 and "errors" not in body and body["data"]["firms"]["edges"]
    tables = " ".join(q["sql"] for q in first.captured_queries)
    assert '"registry_region"' not in tables and 'FROM "registry_stage"' not in tables


def test_warm_up_can_be_turned_off_and_never_raises(monkeypatch, db):
    monkeypatch.setenv("CULTIVAR_WARMUP", "0")
    assert warmup.warm_up() is None
    monkeypatch.setenv("CULTIVAR_WARMUP", "1")

    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(warmup, "_through_middleware", broken)
    assert warmup.warm_up() is None  # logged, not raised: the server starts cold


def test_freeze_moves_start_up_objects_out_of_the_collector():
    try:
        warmup.freeze()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
