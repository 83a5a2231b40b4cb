"""Current stage across overlapping, renewed, expired, revoked and future recognitions."""

import datetime

import pytest

from registry.models import AuditEvent, Certification, CertificationStatus, Firm
from registry.services import expire_lapsed, record_certification, refresh_current_stage, revoke_certification

D = datetime.date
pytestmark = pytest.mark.django_db


def stage_of(firm):
    firm = Firm.objects.select_related("current_stage", "current_tier").get(pk=firm.pk)
    return (firm.current_stage.code if firm.current_stage else None, firm.current_tier.code if firm.current_tier else None)


def test_no_recognition_means_no_stage(firm):
    assert stage_of(firm) == (None, None)


def test_highest_valid_stage_wins_when_recognitions_overlap(firm, today):
    record_certification(firm, "tech_sme", D(2026, 5, 1), certificate_no="202632058300000001", today=today)
    assert stage_of(firm) == ("tech_sme", "tech_sme")
    record_certification(firm, "hnte", D(2025, 11, 20), certificate_no="GR202532001234", today=today)
    assert stage_of(firm) == ("hnte", "hnte")


def test_tiers_inside_a_stage_are_ordered(firm, today):
    record_certification(firm, "srdi_little_giant", D(2025, 7, 1), today=today)
    record_certification(firm, "srdi_sme", D(2025, 9, 1), today=today)
    assert stage_of(firm) == ("srdi", "srdi_little_giant")


def test_default_validity_follows_the_tier(firm, today):
    tech, _ = record_certification(firm, "tech_sme", D(2026, 5, 1), today=today)
    hnte, _ = record_certification(firm, "hnte", D(2024, 12, 2), today=today)
    assert tech.valid_until == D(2026, 12, 31)  # the registration number lapses on 31 December
    assert hnte.valid_until == D(2027, 12, 1)  # three years from issue


def test_an_expired_record_is_not_current_and_the_sweep_marks_it(firm):
    cert, _ = record_certification(firm, "hnte", D(2023, 11, 6), today=D(2026, 10, 1))
    assert cert.valid_until == D(2026, 11, 5)
    assert stage_of(firm) == ("hnte", "hnte")
    assert expire_lapsed(today=D(2026, 11, 5)) == 0  # still valid on its last day
    assert expire_lapsed(today=D(2026, 11, 6)) == 1
    cert.refresh_from_db()
    assert cert.status == CertificationStatus.EXPIRED
    assert stage_of(firm) == (None, None)
    assert AuditEvent.objects.filter(action="expire", object_id=str(cert.pk), via="expiry sweep").exists()
    assert expire_lapsed(today=D(2026, 11, 7)) == 0  # idempotent


def test_recording_a_lapsed_record_stores_it_as_expired(firm, today):
    cert, _ = record_certification(firm, "hnte", D(2019, 11, 1), today=today)
    assert cert.status == CertificationStatus.EXPIRED
    assert stage_of(firm) == (None, None)


def test_renewal_supersedes_the_old_certificate_in_either_import_order(today):
    from tests.factories import FirmFactory

    for order in ((D(2021, 12, 2), D(2024, 11, 6)), (D(2024, 11, 6), D(2021, 12, 2))):
        firm = FirmFactory()
        for issued in order:
            record_certification(firm, "hnte", issued, certificate_no=f"GR{issued.year}32000001", today=today)
        old, new = firm.certifications.order_by("issued_on")
        assert (old.status, new.status) == (CertificationStatus.SUPERSEDED, CertificationStatus.ACTIVE)
        assert new.renews_id == old.id
        assert stage_of(firm) == ("hnte", "hnte")


def test_a_renewal_starting_later_keeps_the_old_certificate_counting_until_then(firm):
    record_certification(firm, "hnte", D(2023, 12, 1), today=D(2026, 11, 1))
    record_certification(firm, "hnte", D(2026, 11, 20), valid_from=D(2026, 12, 1), today=D(2026, 11, 21))
    refresh_current_stage([firm.id], today=D(2026, 11, 21))
    assert stage_of(firm) == ("hnte", "hnte")


def test_revocation_drops_the_stage_to_the_next_valid_record(firm, today):
    record_certification(firm, "tech_sme", D(2026, 3, 1), today=today)
    hnte, _ = record_certification(firm, "hnte", D(2025, 11, 1), today=today)
    revoke_certification(hnte, "申报材料弄虚作假", revoked_on=D(2026, 6, 1), today=today)
    hnte.refresh_from_db()
    assert hnte.status == CertificationStatus.REVOKED
    assert stage_of(firm) == ("tech_sme", "tech_sme")
    event = AuditEvent.objects.get(action="revoke", object_id=str(hnte.pk))
    assert event.changes["status"] == ["active", "revoked"]


def test_revoking_twice_is_a_clear_error(firm, today):
    cert, _ = record_certification(firm, "hnte", D(2025, 11, 1), today=today)
    revoke_certification(cert, "reason", today=today)
    with pytest.raises(Exception) as caught:
        revoke_certification(cert, "reason", today=today)
    assert "already revoked" in str(caught.value)


def test_a_record_dated_in_the_future_becomes_current_on_its_day(firm):
    record_certification(firm, "hnte", D(2026, 12, 1), today=D(2026, 11, 28))
    assert stage_of(firm) == (None, None)
    expire_lapsed(today=D(2026, 12, 1))
    assert stage_of(firm) == ("hnte", "hnte")


def test_recording_the_same_certificate_twice_changes_nothing(firm, today):
    first, outcome = record_certification(firm, "hnte", D(2025, 11, 1), certificate_no="GR202532000007", batch="2025 第一批", today=today)
    assert outcome == "created"
    again, outcome = record_certification(firm, "hnte", "2025-11-01", certificate_no="GR202532000007", batch="2025 第一批", today=today)
    assert (again.pk, outcome) == (first.pk, "unchanged")
    corrected, outcome = record_certification(firm, "hnte", D(2025, 11, 1), certificate_no="GR202532000007", batch="2025 第二批", today=today)
    assert (corrected.pk, outcome, corrected.batch) == (first.pk, "updated", "2025 第二批")
    assert Certification.objects.count() == 1


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"tier": "hnte_gold"}, "tier"),
        ({"valid_until": D(2025, 1, 1)}, "valid_until"),
        ({"issued_on": "2024-13-40"}, "issued_on"),
    ],
)
def test_bad_recognitions_name_the_field_and_write_nothing(firm, today, kwargs, field):
    from django.core.exceptions import ValidationError

    args = {"tier": "hnte", "issued_on": D(2025, 11, 1), **kwargs}
    with pytest.raises(ValidationError) as caught:
        record_certification(firm, args.pop("tier"), args.pop("issued_on"), today=today, **args)
    assert field in caught.value.message_dict
    assert Certification.objects.count() == 0
    assert AuditEvent.objects.count() == 0
