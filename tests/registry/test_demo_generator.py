"""The demo generator's invariants: valid codes, ladder-shaped histories, stages the services agree with."""

import datetime

import pytest
from django.core.management import call_command

from registry import uscc
from registry.models import Certification, CertificationStatus, Firm, IndicatorYear
from registry.services import refresh_current_stage
from registry.services.stage import held_on

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 23)


@pytest.fixture
def demo(db):
    call_command("seed_demo", firms=400, seed=7, today=TODAY, no_index=True, chunk_size=150)


def test_every_generated_uscc_is_valid_and_unique(demo):
    codes = list(Firm.objects.values_list("uscc", flat=True))
    assert len(codes) == 400 == len(set(codes))
    assert all(uscc.is_valid(code) for code in codes)


def test_current_stage_is_what_the_recognitions_imply(demo):
    before = dict(Firm.objects.values_list("id", "current_tier_id"))
    assert refresh_current_stage(before, today=TODAY) == []  # nothing to correct
    assert sum(1 for tier in before.values() if tier) > 100  # and most firms do hold something


def test_histories_follow_the_ladder(demo):
    # Nobody is a 小巨人 without having been 专精特新中小企业 first, nor 专精特新中小企业 without 创新型.
    for giant in Certification.objects.filter(tier__code="srdi_little_giant"):
        assert Certification.objects.filter(firm=giant.firm, tier__code="srdi_sme", issued_on__lt=giant.issued_on).exists()
    for sme in Certification.objects.filter(tier__code="srdi_sme"):
        assert Certification.objects.filter(firm=sme.firm, tier__code="srdi_innovative", issued_on__lte=sme.issued_on).exists()
    for gazelle in Certification.objects.filter(tier__code="gazelle_municipal"):
        assert Certification.objects.filter(firm=gazelle.firm, tier__code="hnte", issued_on__lt=gazelle.issued_on).exists()
    statuses = set(Certification.objects.values_list("status", flat=True))
    assert statuses >= {CertificationStatus.ACTIVE, CertificationStatus.EXPIRED, CertificationStatus.SUPERSEDED}


def test_renewals_are_linked_and_superseded(demo):
    renewals = Certification.objects.filter(renews__isnull=False).select_related("renews")
    assert renewals.exists()
    for cert in renewals:
        assert cert.renews.tier_id == cert.tier_id
        assert cert.renews.status == CertificationStatus.SUPERSEDED
        assert cert.renews.valid_from < cert.valid_from


def test_no_active_record_is_past_its_validity(demo):
    assert not Certification.objects.filter(status=CertificationStatus.ACTIVE, valid_until__lt=TODAY).exists()
    assert Certification.objects.filter(held_on(TODAY)).exists()


def test_indicators_are_consistent(demo):
    rows = IndicatorYear.objects.filter(revenue__gt=0)
    assert rows.count() > 500
    for row in rows[:200]:
        assert row.rd_intensity == pytest.approx(float(row.rd_expense) / float(row.revenue), rel=1e-6)
        assert row.rd_staff <= row.employees
    for firm in Firm.objects.filter(latest_indicators__isnull=False)[:100]:
        assert firm.latest_indicators.year == max(firm.indicators.values_list("year", flat=True))


def test_same_seed_same_registry(db):
    call_command("seed_demo", firms=50, seed=3, today=TODAY, no_index=True)
    first = list(Firm.objects.order_by("id").values_list("uscc", "name", "current_tier_id"))
    Firm.objects.all().delete()
    call_command("seed_demo", firms=50, seed=3, today=TODAY, no_index=True)
    assert list(Firm.objects.order_by("id").values_list("uscc", "name", "current_tier_id")) == first


def test_codes_already_in_the_registry_are_redrawn(db):
    # The same seed twice draws the same codes: the second run must find them taken and redraw.
    call_command("seed_demo", firms=30, seed=4, today=TODAY, no_index=True, quiet=True)
    call_command("seed_demo", firms=30, seed=4, today=TODAY, no_index=True, quiet=True)
    codes = list(Firm.objects.values_list("uscc", flat=True))
    assert len(codes) == 60 == len(set(codes))
    assert all(uscc.is_valid(code) for code in codes)


def test_small_sizes_say_the_plans_shrink(db):
    import io

    err = io.StringIO()
    call_command("seed_demo", firms=100, seed=1, today=TODAY, no_index=True, quiet=True, stderr=err)
    assert "shrunk" in err.getvalue()
    # Still the story's shape: 昆山 and 无锡 hold most firms, other cities a few.
    in_story = Firm.objects.filter(region_id__in=("320583", "320214", "320281", "320282", "320206", "320211",
                                                  "320205", "320213")).count()
    assert in_story > Firm.objects.count() / 2
