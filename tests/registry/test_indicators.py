from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from registry.models import Firm, IndicatorYear
from registry.services import upsert_indicators

pytestmark = pytest.mark.django_db


def test_rd_intensity_is_derived_in_the_database(firm):
    row, outcome = upsert_indicators(firm, 2024, {"revenue": "12000", "rd_expense": "600"})
    assert outcome == "created"
    assert row.rd_intensity == pytest.approx(0.05)
    assert IndicatorYear.objects.filter(rd_intensity__gte=0.05).count() == 1
    assert IndicatorYear.objects.filter(rd_intensity__gt=0.0501).count() == 0


def test_no_revenue_means_no_intensity_not_zero(firm):
    row, _ = upsert_indicators(firm, 2024, {"rd_expense": 80})
    assert row.rd_intensity is None


def test_growth_is_derived_from_the_previous_year_in_either_order(firm):
    upsert_indicators(firm, 2024, {"revenue": 12000})
    upsert_indicators(firm, 2023, {"revenue": 10000})
    assert IndicatorYear.objects.get(firm=firm, year=2024).revenue_growth == pytest.approx(0.2)
    assert IndicatorYear.objects.get(firm=firm, year=2023).revenue_growth is None


def test_latest_year_is_the_one_firm_filters_use(firm):
    upsert_indicators(firm, 2024, {"revenue": 12000})
    upsert_indicators(firm, 2023, {"revenue": 10000})
    assert Firm.objects.get(pk=firm.pk).latest_indicators.year == 2024


def test_same_values_twice_is_unchanged(firm):
    upsert_indicators(firm, 2024, {"revenue": "12000.00", "employees": 80})
    row, outcome = upsert_indicators(firm, 2024, {"revenue": Decimal("12000"), "employees": "80"})
    assert outcome == "unchanged"


@pytest.mark.parametrize(
    "values, field",
    [({"revenue": -1}, "revenue"), ({"employees": -3}, "employees"), ({"employees": 10, "rd_staff": 11}, "rd_staff"),
     ({"revenue": "abc"}, "revenue")],
)
def test_bad_values_name_the_field_and_write_nothing(firm, values, field):
    with pytest.raises(ValidationError) as caught:
        upsert_indicators(firm, 2024, values)
    assert field in caught.value.message_dict
    assert not IndicatorYear.objects.exists()
