"""Investor-safe screening: bands at their edges (on, one unit below, one above), band filters and sort
keys, and no raw figure anywhere in an investor's response — data, errors or CSV export."""

import datetime
import json
from decimal import Decimal

import pytest

from registry.eligibility.screening import BANDS, screen
from registry.models import Region
from registry.permissions import BANDED, HIDDEN, RAW, field_access
from registry.services import upsert_firm, upsert_indicators
from tests.factories import make_uscc

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("band, value, code", [
    ("revenue_band", 999.99, "lt_1000w"), ("revenue_band", 1000, "1000w_5000w"), ("revenue_band", 1000.01, "1000w_5000w"),
    ("revenue_band", 19999.99, "5000w_2yi"), ("revenue_band", 20000, "2yi_10yi"), ("revenue_band", 100000, "ge_10yi"),
    ("growth_band", -0.0001, "negative"), ("growth_band", 0, "0_10pct"), ("growth_band", 0.0999, "0_10pct"),
    ("growth_band", 0.10, "10_20pct"), ("growth_band", 0.5, "ge_50pct"),
    ("rd_intensity_band", 0.0299, "lt_3pct"), ("rd_intensity_band", 0.03, "3_5pct"), ("rd_intensity_band", 0.10, "ge_10pct"),
    ("headcount_band", 19, "lt_20"), ("headcount_band", 20, "20_100"), ("headcount_band", 21, "20_100"),
    ("headcount_band", 999, "300_1000"), ("headcount_band", 1000, "ge_1000"),
])
def test_band_edges(band, value, code):
    assert BANDS[band].code_of(value) == code


def test_field_policy_is_one_table():
    from registry.models import Role

    assert field_access(Role.INVESTOR, "revenue") == BANDED
    assert field_access(Role.INVESTOR, "rd_expense") == HIDDEN
    assert field_access(Role.INVESTOR, "employees") == RAW
    assert field_access(Role.ANALYST, "revenue") == RAW
    assert field_access(None, "revenue") == HIDDEN


# Revenues chosen on and around the 5,000万 edge; growth from the previous year; founded on anniversaries.
FIRMS = [  # serial, revenue 2025, revenue 2024, employees, R&D, founded
    (910001, "4999.99", "4000", 19, "150", "2016-06-30"),
    (910002, "5000", "4000", 20, "150", "2016-07-01"),
    (910003, "5000.01", "5000", 21, "250", "2021-06-30"),
    (910004, "30000", "20000", 1000, "3000", "2023-01-01"),
]
SECRET_VALUES = ("4999.99", "5000.01", "4999", "30000", "0.2", "0.25", "1.5", "0.03", "0.05", "0.1", "150", "250")
USCCS = [make_uscc("320583", serial=f[0]) for f in FIRMS]


def without_identifiers(body):
    """The response text with the USCCs taken out (their digits are not figures)."""
    text = json.dumps(body, ensure_ascii=False)
    for code in USCCS:
        text = text.replace(code, "")
    return text


@pytest.fixture
def screened(db):
    for serial, rev, prev, staff, rd, founded in FIRMS:
        firm, _ = upsert_firm(make_uscc("320583", serial=serial), name=f"筛选测试{serial}", region="320583",
                              founded_on=founded)
        upsert_indicators(firm, 2024, {"revenue": Decimal(prev)})
        upsert_indicators(firm, 2025, {"revenue": Decimal(rev), "employees": staff, "rd_expense": Decimal(rd)})


def test_screen_filters_and_sorts_on_bands(screened, analyst):
    total, rows = screen(analyst, bands={"revenue_band": ["5000w_2yi"]}, on=D(2026, 6, 30))
    assert total == 2 and [r["uscc"][-8:] for r in rows] == [make_uscc("320583", serial=s)[-8:] for s in (910002, 910003)]
    assert rows[0]["revenue"] == 5000  # analysts read raw
    total, rows = screen(analyst, order=["-headcount_band"], on=D(2026, 6, 30))
    assert [r["headcount_band"] for r in rows] == ["ge_1000", "20_100", "20_100", "lt_20"]
    total, rows = screen(analyst, years_min=10, on=D(2026, 6, 30))  # founded 2016-06-30: exactly 10 years
    assert [r["years_since_founding"] for r in rows] == [10]
    total, _ = screen(analyst, years_max=9, years_min=9, on=D(2026, 6, 30))  # 2016-07-01: 9 years 364 days
    assert total == 1
    _, rows = screen(analyst, bands={"growth_band": ["0_10pct"]}, on=D(2026, 6, 30))  # 5,000.01 / 5,000
    assert [r["revenue_band"] for r in rows] == ["5000w_2yi"]


SCREEN = """query($band: [String!], $order: [ScreenOrder!]) {
  firmScreen(revenueBand: $band, orderBy: $order, first: 10) {
    total csv items { uscc name yearsSinceFounding revenueBand growthBand rdIntensityBand headcountBand %s } } }"""


def test_investor_screen_holds_no_raw_figure_anywhere(gql, investor, analyst, screened):
    status, body = gql(SCREEN % "", {"band": ["5000w_2yi", "2yi_10yi"], "order": ["REVENUE_BAND_DESC"]}, user=investor)
    assert status == 200 and "errors" not in body
    page = body["data"]["firmScreen"]
    assert page["total"] == 3
    assert [i["revenueBand"] for i in page["items"]] == ["2yi_10yi", "5000w_2yi", "5000w_2yi"]
    assert (page["items"][0]["growthBand"], page["items"][0]["rdIntensityBand"]) == ("ge_50pct", "ge_10pct")
    text = without_identifiers(body)
    for secret in SECRET_VALUES:
        assert secret not in text, secret
    assert "5,000万–2亿" in page["csv"] and "revenue\r\n" not in page["csv"]
    # asking for the raw columns: refused by name, still no figure
    status, body = gql(SCREEN % "revenue revenueGrowth rdIntensity", {"band": ["5000w_2yi"]}, user=investor)
    messages = sorted(e["message"] for e in body["errors"])
    assert messages[0] == "Field 'rdIntensity' of ScreenedFirmType is not available to the investor role."
    assert all(i["revenue"] is None for i in body["data"]["firmScreen"]["items"])
    text = without_identifiers(body)
    for secret in SECRET_VALUES:
        assert secret not in text, secret
    # a bad band names the filter and the band codes, never a figure
    status, body = gql(SCREEN % "", {"band": ["about 5000"]}, user=investor)
    assert body["errors"][0]["message"].startswith("Invalid argument 'revenueBand': Unknown band “about 5000”")
    # analysts read the raw figures through the same query
    data = gql.data(SCREEN % "revenue", {"band": ["5000w_2yi"]}, user=analyst)
    assert sorted(i["revenue"] for i in data["firmScreen"]["items"]) == [5000, 5000.01]
    assert "5000.01" in data["firmScreen"]["csv"]


def test_firms_band_filters_are_open_to_investors_raw_ones_are_not(gql, investor, screened):
    data = gql.data('{ firms(revenueBand: "lt_1000w,1000w_5000w", foundedYearsMin: 10) { totalCount } }', user=investor)
    assert data["firms"]["totalCount"] == 1
    status, body = gql('{ firms(revenueMin: 4999) { totalCount } }', user=investor)
    assert body["errors"][0]["message"] == "Argument 'revenueMin' of firms is not available to the investor role."
