"""registry.cache: analytics answers remembered per data version, scope, date and arguments."""

import datetime

import pytest
from django.core.cache import cache as django_cache
from django.db import transaction

from registry import analytics
from registry import cache
from registry.models import PolicyTarget, Region, RegistryVersion, Role, Stage
from registry.services import record_certification
from tests.api_graphql.conftest import make_user
from tests.factories import FirmFactory

D = datetime.date
pytestmark = pytest.mark.django_db


class Counted:
    """A stand-in analytics function that counts its calls and answers with the call number."""

    def __init__(self):
        self.calls = 0
        self.__qualname__ = "Counted"  # what cached() names a function by

    def __call__(self, *args, user=None, **kwargs):
        self.calls += 1
        return {"call": self.calls, "args": list(args), "kwargs": kwargs}


@pytest.fixture(autouse=True)
def empty_cache(db):
    django_cache.clear()
    if cache.version() is None:  # an earlier test's flush removed migration 0011's row
        cache._bump()
    yield
    django_cache.clear()


def test_reading_never_writes_and_no_row_remembers_nothing(analyst, django_assert_num_queries):
    """A read must not wait for SQLite's write lock (an import): without a row (a flushed database) the
    answer is computed, and the next write makes the row."""
    RegistryVersion.objects.all().delete()
    fn = Counted()
    with django_assert_num_queries(1):  # the version: a SELECT, no INSERT
        cache.cached(fn, 2024, user=None)
    cache.cached(fn, 2024, user=None)
    assert fn.calls == 2
    cache._bump()
    cache.cached(fn, 2024, user=None)
    cache.cached(fn, 2024, user=None)
    assert fn.calls == 3 and cache.version() is not None


@pytest.fixture
def analyst(db):
    return make_user("cache_analyst", Role.ANALYST)


@pytest.fixture
def officer(db):
    return make_user("cache_officer", Role.OFFICER, regions=["320583"])


def test_the_same_question_is_answered_once(analyst):
    fn = Counted()
    first = cache.cached(fn, 2024, region="320500", user=analyst)
    assert cache.cached(fn, 2024, region="320500", user=analyst) == first
    assert fn.calls == 1
    cache.cached(fn, 2024, region="320583", user=analyst)  # other arguments: computed
    cache.cached(fn, 2023, region="320500", user=analyst)
    assert fn.calls == 3


def test_scope_is_part_of_the_key(analyst, officer):
    fn = Counted()
    cache.cached(fn, 2024, user=analyst)
    cache.cached(fn, 2024, user=officer)  # an officer must never get the national answer
    cache.cached(fn, 2024, user=make_user("other_analyst", Role.ANALYST))  # same scope as the first analyst
    assert fn.calls == 2


def test_roleless_callers_are_not_remembered(db):
    fn = Counted()
    nobody = make_user("cache_nobody")
    cache.cached(fn, 2024, user=nobody)
    cache.cached(fn, 2024, user=nobody)
    assert fn.calls == 2


def test_a_committed_write_elsewhere_changes_the_version(analyst):
    """Another process's write reaches this one through the database row, whatever cache holds answers."""
    fn = Counted()
    cache.cached(fn, 2024, user=analyst)
    RegistryVersion.objects.filter(name=cache.NAME).update(token="written-by-another-process")
    assert cache.cached(fn, 2024, user=analyst)["call"] == 2


# Real commits (the version changes on commit), with the migrations' reference rows restored after the flush.
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@committed
def test_funnel_after_a_committed_recognition(analyst):
    tech_sme, hnte = (Stage.objects.get(code=code).tiers.first() for code in ("tech_sme", "hnte"))
    firm = FirmFactory()
    question = (["tech_sme", "hnte"], 2024)
    record_certification(firm, tech_sme, D(2024, 3, 1), today=D(2026, 1, 5))
    before = cache.cached(analytics.funnel, *question, user=analyst)
    assert [s["count"] for s in before["steps"]] == [1, 0]
    version = cache.version()
    with transaction.atomic():
        record_certification(firm, hnte, D(2025, 2, 1), today=D(2026, 1, 5))
        assert cache.version() == version  # not before the commit
    assert cache.version() != version
    after = cache.cached(analytics.funnel, *question, user=analyst)
    assert [s["count"] for s in after["steps"]] == [1, 1]
    assert after == analytics.funnel(*question, user=analyst)
    assert cache.cached(analytics.funnel, *question, user=analyst) == after


def test_a_transaction_that_wrote_sees_its_own_writes(analyst):
    """Before its commit the version is unchanged: the writer computes instead of reading the cache."""
    fn = Counted()
    cache.cached(fn, 2024, user=analyst)
    version = cache.version()
    with transaction.atomic():
        FirmFactory()  # post_save: the change waits for the commit
        assert cache.version() == version
        assert cache.cached(fn, 2024, user=analyst)["call"] == 2
        assert cache.cached(fn, 2024, user=analyst)["call"] == 3  # and never stores its uncommitted view


def test_a_rolled_back_write_changes_nothing(analyst):
    fn = Counted()
    cache.cached(fn, 2024, user=analyst)
    version = cache.version()
    try:
        with transaction.atomic():
            FirmFactory()
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert not cache._pending()
    assert cache.version() == version
    assert cache.cached(fn, 2024, user=analyst)["call"] == 1


def test_reference_edits_change_the_version(django_capture_on_commit_callbacks):
    version = cache.version()
    with django_capture_on_commit_callbacks(execute=True) as hooks:
        PolicyTarget.objects.filter(pk__in=[]).delete()  # a queryset delete of nothing sends nothing
    assert hooks == [] and cache.version() == version
    with django_capture_on_commit_callbacks(execute=True) as hooks:
        for code in ("hnte", "srdi"):
            Stage.objects.get(code=code).save()
    assert hooks.count(cache._bump) == 1  # once per transaction, however many saves
    assert cache.version() != version


def test_off_and_cache_outages_still_answer(analyst, settings, monkeypatch):
    fn = Counted()
    settings.ANALYTICS_CACHE_SECONDS = 0
    cache.cached(fn, 2024, user=analyst)
    cache.cached(fn, 2024, user=analyst)
    assert fn.calls == 2
    settings.ANALYTICS_CACHE_SECONDS = 300

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache.cache, "get", down)
    assert cache.cached(fn, 2024, user=analyst)["call"] == 3


def test_counts_are_remembered_per_statement(analyst, officer, django_assert_num_queries):
    from registry.models import Firm
    from registry.permissions import firms_visible_to

    FirmFactory()  # 昆山
    FirmFactory(region=Region.objects.get(code="320214"))  # 无锡
    transaction.get_connection().run_on_commit.clear()  # as if committed: this test reads, it does not write
    everyone, kunshan = firms_visible_to(analyst, Firm.objects.all()), firms_visible_to(officer, Firm.objects.all())
    assert (cache.count(everyone), cache.count(kunshan)) == (2, 1)  # the scope is in the statement, so in the key
    with django_assert_num_queries(1):  # the data version only
        assert cache.count(everyone) == 2
    assert cache.count(Firm.objects.none()) == 0


@committed
def test_a_committed_new_firm_is_counted():
    from registry.models import Firm

    FirmFactory()
    assert cache.count(Firm.objects.all()) == 1
    FirmFactory()
    assert cache.count(Firm.objects.all()) == 2


def test_a_request_reads_the_version_once_and_its_own_committed_write_replaces_it(analyst,
                                                                                 django_assert_num_queries):
    fn = Counted()
    cache._request_started()  # what the request_started signal calls
    try:
        with django_assert_num_queries(1):  # the version, once for three answers
            for year in (2022, 2023, 2024):
                cache.cached(fn, year, user=analyst)
        before = cache.version()
        cache._bump()  # a write this request committed (on_commit runs it in the request's thread)
        assert cache.version() not in (before, None)
        cache.cached(fn, 2024, user=analyst)
        assert fn.calls == 4  # the new data's answer is computed, not the old one served
    finally:
        cache._request_finished()
    with django_assert_num_queries(2):  # outside a request: read every time
        cache.version()
        cache.version()
