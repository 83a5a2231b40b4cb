"""The --small demo tells the plans' story, read through registry/analytics/targets.py like a user would."""

import datetime
from pathlib import Path

import pytest
from django.core.management import call_command

import registry.data as registry_data
from importers.services import import_file
from registry.analytics.targets import stock_actual, target_progress
from registry.models import Certification, Firm, Region, Stage

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 23)


def rows_for(code, years):
    return [dict(row, region=code, shown_for=year) for year in years for row in target_progress(code, year)]


def test_small_demo_tells_the_story():
    # One test, one generation (about 11,000 firms): the checks below read the same registry.
    call_command("seed_demo", small=True, seed=1, today=TODAY, no_index=True, quiet=True)
    import_file(Path(registry_data.__file__).with_name("policy_targets.csv"), kind="targets")
    plans_read_met_and_behind()
    kunshan_rungs_in_their_orders_of_magnitude()
    histories_run_every_year_to_today()


def plans_read_met_and_behind():
    kunshan_2025 = [r for r in target_progress("320583", 2025) if r["stage"] == "tech_sme" and r["kind"] == "STOCK"]
    assert len(kunshan_2025) == 1
    assert 0.7 <= kunshan_2025[0]["ratio"] <= 1.3, kunshan_2025  # 4,300 科技型中小企业 planned for 2025

    # Plans whose year has come: some met, some clearly behind (a story, not all green or all red).
    ended = [r for r in rows_for("320583", (2022, 2023, 2024, 2025)) if r["year"] == r["shown_for"]]
    assert len(ended) >= 8
    assert any(r["ratio"] >= 1 for r in ended), ended
    assert any(r["ratio"] < 0.9 for r in ended), ended


def kunshan_rungs_in_their_orders_of_magnitude():
    kunshan = Region.objects.get(code="320583")
    end_2025 = {s.code: stock_actual(kunshan, s.id, None, 2025) for s in Stage.objects.all()}
    assert 1000 <= end_2025["tech_sme"] < 10000  # thousands
    assert 1000 <= end_2025["hnte"] < 10000
    assert 100 <= end_2025["gazelle"] < 1000  # hundreds
    assert 100 <= end_2025["srdi"] < 1000
    assert 10 <= end_2025["unicorn"] < 100  # tens
    # Most firms are in 昆山 in the small variant; the other story regions are thin but present.
    assert Firm.objects.filter(region_id="320583").count() > Firm.objects.exclude(region_id="320583").count()
    assert Firm.objects.filter(region_id="320214").exists()


def histories_run_every_year_to_today():
    years = set(Certification.objects.filter(firm__region_id="320583").values_list("issued_on__year", flat=True))
    assert set(range(2019, TODAY.year + 1)) <= years
    # Lapses and renewals both happen each year (yearly transitions are not all entries).
    expired = set(Certification.objects.filter(status="expired").values_list("valid_until__year", flat=True))
    assert set(range(2019, TODAY.year)) <= expired
