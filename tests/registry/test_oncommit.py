"""registry.oncommit: the two hooks that act once per transaction — the data version (registry.cache)
and the queued rebuild (registry.services.effects.queue_rebuild) — act once however many writes ask,
and never for a rolled-back transaction or savepoint. Real commits, so the hooks really run."""

import datetime

import pytest
from django.db import transaction

from registry import cache
from registry.eligibility import precomputed as candidate_ranks
from registry.models import PipelineState
from registry.oncommit import on_commit_once, queued
from registry.services import effects

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


class Boom(Exception):
    pass


def test_a_hook_is_queued_once_per_tag_and_runs_at_commit():
    calls = []
    with transaction.atomic():
        assert on_commit_once(lambda: calls.append("a"), "tag")
        assert not on_commit_once(lambda: calls.append("b"), "tag")  # same tag: already queued
        assert queued("tag") and not queued("other")
        assert calls == []
    assert calls == ["a"] and not queued("tag")
    assert on_commit_once(lambda: calls.append("now"), "tag")  # no transaction: runs at once, as on_commit
    assert calls == ["a", "now"]


def test_the_data_version_changes_once_per_transaction_and_not_on_rollback(monkeypatch):
    bumps = []
    real = cache._bump
    monkeypatch.setattr(cache, "_bump", lambda: bumps.append(1) or real())
    start = cache.version()
    with transaction.atomic():
        cache.changed()
        with transaction.atomic():  # a savepoint that commits with the transaction
            cache.changed()
        cache.changed()
        assert bumps == [] and cache._pending()
    assert bumps == [1]
    committed = cache.version()
    assert committed != start

    with pytest.raises(Boom), transaction.atomic():
        cache.changed()
        raise Boom
    assert bumps == [1] and cache.version() == committed and not cache._pending()

    with transaction.atomic():
        with pytest.raises(Boom), transaction.atomic():
            cache.changed()
            raise Boom
        assert not cache._pending()  # the rolled-back savepoint took its hook along: a later write queues again
        cache.changed()
    assert bumps == [1, 1] and cache.version() != committed


def test_a_rebuild_is_queued_once_per_transaction_and_not_on_rollback(monkeypatch):
    PipelineState.objects.update_or_create(name=candidate_ranks.STATE, defaults={
        "complete": True, "evaluated_on": datetime.date(2026, 11, 23)})
    rebuilds = []
    monkeypatch.setattr("registry.tasks.rebuild_precomputed_tables.delay", lambda: rebuilds.append(1))

    with transaction.atomic():
        effects.queue_rebuild("first batch")
        effects.queue_rebuild("second batch")
        assert rebuilds == [] and queued(effects.REBUILD_QUEUED)
    assert rebuilds == [1]
    assert candidate_ranks.state().behind_since is not None

    PipelineState.objects.filter(name=candidate_ranks.STATE).update(behind_since=None, note="")
    with pytest.raises(Boom), transaction.atomic():
        effects.queue_rebuild("rolled back")
        raise Boom
    assert rebuilds == [1] and candidate_ranks.state().behind_since is None

    with transaction.atomic():
        effects.queue_rebuild("next write")
    assert rebuilds == [1, 1]
