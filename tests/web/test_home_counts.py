"""The officer's home counts (firms per stage, lapsing recognitions, candidates per rung) are remembered
per data version (registry.cache): a second visit reads them from the cache, and a committed write
shows at once. The counts themselves equal a plain count over the officer's regions."""

import datetime

import pytest
from django.core.cache import cache as django_cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry import cache
from registry.models import Certification, Firm, Region, Role
from registry.services import record_certification, upsert_firm
from tests.web.conftest import BH_USCC, KS_CANDIDATE_USCC, KS_USCC, make_user
from web.views.home import firms_per_stage, lapsing_counts


def committed(test):
    """Real commits (the version changes on commit). The migrations' reference rows are restored from
    conftest's snapshot: after the browser tests, serialized_rollback alone cannot (tests/web/conftest.py)."""
    return pytest.mark.django_db(transaction=True, serialized_rollback=True)(
        pytest.mark.usefixtures("restore_reference_data")(test))


@pytest.fixture(autouse=True)
def _empty_cache():
    django_cache.clear()
    yield
    django_cache.clear()


def home_counts(response):
    context = response.context
    return ({s.code: n for s, n in context["stage_counts"]}, context["unstaged"], dict(context["lapsing"]),
            {s.code: n for s, n in context["candidates"]})


@committed
def test_officer_home_counts_remembered_and_fresh_after_a_commit():
    if cache.version() is None:  # an earlier test's flush removed migration 0011's row
        cache._bump()
    today = timezone.localdate()
    ks, _ = upsert_firm(KS_USCC, name="昆山甲科技有限公司", region="320583")
    upsert_firm(KS_CANDIDATE_USCC, name="昆山乙科技有限公司", region="320583")  # no stage
    bh, _ = upsert_firm(BH_USCC, name="无锡滨湖丙有限公司", region="320211")
    record_certification(ks, "tech_sme", today - datetime.timedelta(days=300), certificate_no="K1",
                         valid_until=today + datetime.timedelta(days=30))
    record_certification(bh, "tech_sme", today - datetime.timedelta(days=300), certificate_no="B1",
                         valid_until=today + datetime.timedelta(days=30))
    officer = make_user("home-counts-officer", Role.OFFICER, ["320583"])
    client = Client()
    client.force_login(officer)

    first = client.get("/")
    stages, unstaged, lapsing, candidates = home_counts(first)
    assert stages["tech_sme"] == 1 and unstaged == 1  # Binhu's firm is outside the officer's regions
    assert lapsing == {90: 1, 180: 1}

    with CaptureQueriesContext(connection) as remembered:
        again = client.get("/")
    django_cache.clear()
    with CaptureQueriesContext(connection) as computed:
        client.get("/")
    assert len(remembered) < len(computed)  # the second visit read the three remembered answers
    assert home_counts(again) == (stages, unstaged, lapsing, candidates)
    version_reads = [q for q in remembered.captured_queries if "registry_registryversion" in q["sql"]]
    assert len(version_reads) == 1  # once per page, not once per remembered answer

    # A committed write: the unstaged firm recognised, lapsing in 150 days.
    with transaction.atomic():
        record_certification(Firm.objects.get(uscc=KS_CANDIDATE_USCC), "tech_sme", today - datetime.timedelta(days=200),
                             certificate_no="K2", valid_until=today + datetime.timedelta(days=150))
    stages, unstaged, lapsing, _candidates = home_counts(client.get("/"))
    assert stages["tech_sme"] == 2 and unstaged == 0
    assert lapsing == {90: 1, 180: 2}


@pytest.mark.django_db
def test_home_counts_equal_plain_counts_in_scope(web_registry):
    """firms_per_stage counts staged and unstaged firms apart (index-only); lapsing_counts counts one
    column: both must equal a plain count over the officer's regions, and an admin's over all."""
    today = timezone.localdate()
    officer = make_user("home-plain-officer", Role.OFFICER, ["320583"])
    admin = make_user("home-plain-admin", Role.ADMIN)
    kunshan = Firm.objects.filter(region__path__startswith=Region.objects.get(code="320583").path)
    assert kunshan.count() == 3 and Firm.objects.count() == 4  # the plain counts below are not empty
    for user, firms in ((officer, kunshan), (admin, Firm.objects.all())):
        expected = {}
        for firm in firms:
            expected[firm.current_stage_id] = expected.get(firm.current_stage_id, 0) + 1
        assert {k: v for k, v in firms_per_stage(user=user).items() if v} == expected
        active = Certification.objects.filter(status="active", firm__in=firms)
        assert lapsing_counts(today, user=user) == {
            days: active.filter(valid_until__lt=today + datetime.timedelta(days=days)).count() for days in (90, 180)}
