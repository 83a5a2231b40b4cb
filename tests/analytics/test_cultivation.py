"""The cultivation pool: statuses, dated notes, owners, audit, and closing on a recorded recognition."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

import registry.receivers  # noqa: F401  (connects the certification_recorded receiver, as apps.ready() will)
from registry.models import AuditEvent, CultivationEntry, PoolStatus
from registry.services import record_certification
from registry.services.cultivation import add_to_cultivation_pool, update_cultivation_entry

D = datetime.date
pytestmark = pytest.mark.django_db
THIS_YEAR = timezone.localdate().year


@pytest.fixture
def officer(db):
    return get_user_model().objects.create_user("officer", password="x")


def error_of(excinfo, field):
    return excinfo.value.message_dict[field][0]


def test_pool_entry_moves_along_with_dated_notes(firm, officer):
    entry = add_to_cultivation_pool(firm, "hnte", None, THIS_YEAR, owner=officer, actor=officer, note="园区推荐",
                                    today=D(2026, 3, 1))
    assert entry.status == PoolStatus.POOLED and entry.owner == officer
    update_cultivation_entry(entry, status="coaching", note="辅导：研发费用归集", actor=officer, today=D(2026, 4, 2))
    entry = update_cultivation_entry(entry, status="applied", actor=officer, today=D(2026, 6, 5))
    entry = update_cultivation_entry(entry, status="rejected", note="创新能力评分 68", actor=officer, today=D(2026, 11, 1))
    assert entry.status == PoolStatus.REJECTED and entry.closed_on == D(2026, 11, 1)
    notes = [(n.noted_on, n.status, n.text) for n in entry.notes.all()]
    assert notes == [
        (D(2026, 3, 1), "pooled", "园区推荐"),
        (D(2026, 4, 2), "coaching", "辅导：研发费用归集"),
        (D(2026, 6, 5), "applied", "辅导 coaching → 已申报 applied"),
        (D(2026, 11, 1), "rejected", "创新能力评分 68"),
    ]
    actions = list(AuditEvent.objects.filter(model="cultivationentry").order_by("id").values_list("action", flat=True))
    assert actions == ["pool", "pool_update", "pool_update", "pool_update"]


@pytest.mark.parametrize("path, bad", [
    ([], "recognized"),                       # pooled → recognized: only an application is recognised
    ([], "rejected"),
    (["coaching"], "pooled"),                 # no going back
    (["applied", "rejected"], "coaching"),    # closed entries stay closed
    (["applied", "recognized"], "applied"),
])
def test_invalid_transitions_are_clear_errors(firm, path, bad):
    entry = add_to_cultivation_pool(firm, "hnte", None, THIS_YEAR)
    for status in path:
        entry = update_cultivation_entry(entry, status=status)
    with pytest.raises(ValidationError) as excinfo:
        update_cultivation_entry(entry, status=bad)
    assert "Cannot move from" in error_of(excinfo, "status")
    assert CultivationEntry.objects.get(pk=entry.pk).status == (path[-1] if path else "pooled")


def test_unknown_status_duplicate_entry_and_wrong_tier(firm):
    entry = add_to_cultivation_pool(firm, "srdi", "srdi_sme", THIS_YEAR)
    with pytest.raises(ValidationError) as excinfo:
        update_cultivation_entry(entry, status="done")
    assert "Unknown pool status" in error_of(excinfo, "status")
    with pytest.raises(ValidationError) as excinfo:
        add_to_cultivation_pool(firm, "srdi", None, THIS_YEAR)
    assert "already in the" in error_of(excinfo, "target_year")
    with pytest.raises(ValidationError) as excinfo:
        add_to_cultivation_pool(firm, "hnte", "srdi_sme", THIS_YEAR)
    assert error_of(excinfo, "target_tier") == "Tier “srdi_sme” is not a tier of stage “hnte”."


def test_recorded_recognition_closes_the_open_entry(firm, officer):
    entry = add_to_cultivation_pool(firm, "hnte", None, THIS_YEAR, owner=officer)
    update_cultivation_entry(entry, status="applied")
    cert, _ = record_certification(firm, "hnte", D(THIS_YEAR, 10, 1), certificate_no=f"GR{THIS_YEAR}32001234",
                                   via="import job 7")
    entry.refresh_from_db()
    assert entry.status == PoolStatus.RECOGNIZED
    assert entry.certification == cert and entry.closed_on == D(THIS_YEAR, 10, 1)
    last = entry.notes.last()
    assert last.status == "recognized" and f"GR{THIS_YEAR}32001234" in last.text
    assert AuditEvent.objects.filter(model="cultivationentry", object_id=str(entry.pk), via="certification_recorded").exists()
    # importing the same list again changes nothing
    record_certification(firm, "hnte", D(THIS_YEAR, 10, 1), certificate_no=f"GR{THIS_YEAR}32001234")
    assert entry.notes.count() == 3


def test_only_a_matching_recognition_closes_it(firm):
    srdi = add_to_cultivation_pool(firm, "srdi", "srdi_sme", THIS_YEAR)
    hnte = add_to_cultivation_pool(firm, "hnte", None, THIS_YEAR + 1)
    record_certification(firm, "srdi_innovative", D(THIS_YEAR, 3, 1))   # other tier of the stage
    record_certification(firm, "hnte", D(THIS_YEAR - 2, 11, 1))         # issued before the entry's years
    srdi.refresh_from_db(); hnte.refresh_from_db()
    assert (srdi.status, hnte.status) == ("pooled", "pooled")
    record_certification(firm, "srdi_sme", D(THIS_YEAR, 9, 1))
    srdi.refresh_from_db()
    assert srdi.status == "recognized"


def test_an_earlier_target_year_counts_from_that_year(firm):
    # Pooled this year for last year's round: a recognition issued last year closes it.
    entry = add_to_cultivation_pool(firm, "hnte", None, THIS_YEAR - 1)
    record_certification(firm, "hnte", D(THIS_YEAR - 1, 12, 1))
    entry.refresh_from_db()
    assert entry.status == "recognized"
