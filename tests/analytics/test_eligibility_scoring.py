"""Eligibility scoring at every band edge, with hand-computed points (no database needed)."""

import datetime

import pandas as pd
import pytest

from registry.eligibility.defaults import RULE_SETS
from registry.eligibility.engine import evaluate

D = datetime.date
ON = D(2026, 6, 30)
YEAR = 2025
RULES = {r["code"]: r["thresholds"] for r in RULE_SETS}
TECH = RULES["national-tech_sme-2017"]
HNTE = RULES["national-hnte-2016"]

# A 科小 applicant that scores exactly 20 + 50 + 30 = 100 and meets the size caps.
TECH_BASE = dict(employees=100, rd_staff=30, revenue=1000, rd_expense=60, total_cost=800, total_assets=5000,
                 ip_class1=1, ip_class2=0, has_year=True, founded_on=D(2015, 1, 1), listing_status="unlisted")


def run(thresholds, **values):
    row = {**values}
    ev = evaluate(thresholds, pd.DataFrame([row]), ON, YEAR)
    return ev, ev.table.iloc[0]


def tech(**changes):
    return run(TECH, **{**TECH_BASE, **changes})


def component(ev, name):
    return float(ev.score.extra["components"][name][0].iloc[0])


@pytest.mark.parametrize("rd_staff, points", [
    (30, 20), (29.999, 16), (25, 16), (24.999, 12), (20, 12), (19.999, 8), (15, 8), (14.999, 4), (10, 4), (9.999, 0),
])
def test_tech_staff_share_bands(rd_staff, points):
    # employees 100 → share = rd_staff %
    ev, _ = tech(rd_staff=rd_staff)
    assert component(ev, "staff") == points


@pytest.mark.parametrize("rd, points", [
    (60, 50), (59.99, 40), (50, 40), (49.99, 30), (40, 30), (39.99, 20), (30, 20), (29.99, 10), (20, 10), (19.99, 0),
])
def test_tech_rd_to_revenue_bands(rd, points):
    # revenue 1,000万, total cost huge so the cost ratio stays below 10 % (0 points)
    ev, _ = tech(rd_expense=rd, total_cost=100000)
    assert component(ev, "rd") == points


def test_rd_exactly_six_percent_is_50_and_5_999_is_40():
    assert component(tech(revenue=100000, rd_expense=6000, total_cost=10**7)[0], "rd") == 50
    assert component(tech(revenue=100000, rd_expense=5999, total_cost=10**7)[0], "rd") == 40


@pytest.mark.parametrize("cost, points", [
    # rd 30万, revenue huge (ratio < 2 %): only the cost ratio scores
    (100, 50), (100.01, 40), (120, 40), (120.01, 30), (150, 30), (150.01, 20), (200, 20), (200.01, 10),
    (300, 10), (300.01, 0),
])
def test_tech_rd_to_total_cost_bands(cost, points):
    ev, _ = tech(rd_expense=30, revenue=100000, total_cost=cost)
    assert component(ev, "rd") == points


def test_rd_takes_the_better_of_the_two_ratios():
    # R&D/revenue 3 % → 20; R&D/cost 25 % → 40: the better one counts
    ev, _ = tech(rd_expense=30, revenue=1000, total_cost=120)
    assert component(ev, "rd") == 40


@pytest.mark.parametrize("class1, class2, points", [
    (1, 0, 30), (3, 9, 30), (0, 4, 24), (0, 7, 24), (0, 3, 18), (0, 2, 12), (0, 1, 6), (0, 0, 0),
])
def test_tech_ip_points(class1, class2, points):
    ev, _ = tech(ip_class1=class1, ip_class2=class2)
    assert component(ev, "ip") == points


def test_tech_qualifies_at_exactly_60_points():
    # staff 20 % → 12; R&D 4 % → 30; two Class II → 12: 54 … add one Class II → 18: 60
    ev, row = tech(rd_staff=20, rd_expense=40, total_cost=100000, ip_class1=0, ip_class2=3)
    assert row["score"] == 60 and row["outcome"] == "eligible"
    ev, row = tech(rd_staff=20, rd_expense=40, total_cost=100000, ip_class1=0, ip_class2=2)
    assert row["score"] == 54 and row["outcome"] == "not_eligible"
    [item] = ev.unmet(0)
    assert item["criterion"] == "score" and item["gap"] == 6
    assert item["text"].startswith("score 54 < 60")


def test_tech_needs_a_nonzero_staff_subscore_even_with_80_points():
    ev, row = tech(rd_staff=9)  # 0 + 50 + 30 = 80
    assert row["score"] == 80 and row["outcome"] == "not_eligible"
    assert [i["criterion"] for i in ev.unmet(0)] == ["score_staff"]


@pytest.mark.parametrize("field, value, ok", [
    ("employees", 500, True), ("employees", 501, False),
    ("revenue", 20000, True), ("revenue", 20000.01, False),
    ("total_assets", 20000, True), ("total_assets", 20000.01, False),
])
def test_tech_size_caps(field, value, ok):
    changes = {field: value}
    if field == "employees":
        changes["rd_staff"] = value * 0.3
    if field == "revenue":
        changes["rd_expense"] = value * 0.06
    _, row = tech(**changes)
    assert (row["outcome"] == "eligible") is ok


def test_valid_hnte_qualifies_directly_but_not_past_the_size_caps():
    _, row = tech(rd_staff=0, rd_expense=0, ip_class1=0, holds__hnte=True)
    assert row["outcome"] == "eligible" and row["score"] == 0
    _, row = tech(rd_staff=0, holds__hnte=True, employees=600)
    assert row["outcome"] == "not_eligible"


def test_missing_indicators_are_their_own_outcome():
    ev, row = run(TECH, has_year=False, founded_on=D(2015, 1, 1), listing_status="unlisted")
    assert row["outcome"] == "missing_data" and not row["eligible"]
    assert ev.unmet(0) == [{"criterion": "indicators", "required": None, "actual": None, "gap": None, "unit": None,
                            "missing": True, "text": "no 2025 indicators", "text_en": "no 2025 indicators",
                            "text_zh": "缺少2025年度指标", "rule_set": None, "clause": "",
                            "gaps": [{"year": 2025, "figure": "indicators", "label_zh": "年度指标", "label_en": "indicators"}]}]


def test_an_unknown_item_that_could_lift_the_score_is_missing_not_zero():
    # staff 12, R&D 30 (cost unknown, could be 50), IP unknown: 42 known points, up to 92 possible
    ev, row = tech(rd_staff=20, rd_expense=40, total_cost=None, ip_class1=None, ip_class2=None)
    assert row["outcome"] == "missing_data" and row["score"] == 42
    texts = [i["text"] for i in ev.unmet(0)]
    assert any("no 2025 Class I IP count" in t for t in texts)
    # …but known items alone reaching 60 are enough
    _, row = tech(total_cost=None)
    assert row["outcome"] == "eligible" and row["score"] == 100


# ------------------------------------------------------------------------------------- 高企
# Founded in 2025: the evaluation year 2025 is the only year it must have (issue 16: older firms need three).
HNTE_BASE = dict(has_year=True, founded_on=D(2025, 1, 1), employees=100, rd_staff=10, ip_class1=1, ip_class2=0,
                 listing_status="unlisted", innovation_ip=20, innovation_conversion=25, innovation_rd_management=14,
                 innovation_growth=12)


def hnte(revenue, rd, **changes):
    values = {**HNTE_BASE, "revenue": revenue, "rd_expense": rd, "hightech_revenue": revenue * 0.6,
              "rd_expense_domestic": rd, **changes}
    return run(HNTE, **values)


@pytest.mark.parametrize("revenue, rd, eligible", [
    (5000, 250, True),          # ≤ 5,000万 → 5 %: exactly 5 %
    (5000, 249.99, False),
    (5000.01, 200.0004, True),  # just above 5,000万 → 4 %
    (20000, 800, True),         # ≤ 2亿 → 4 %: exactly 4 %
    (20000, 799.99, False),
    (20000.01, 600.0003, True),  # above 2亿 → 3 %
    (30000, 899.99, False),
])
def test_hnte_rd_intensity_bands(revenue, rd, eligible):
    _, row = hnte(revenue, rd)
    assert bool(row["eligible"]) is eligible


def test_hnte_gap_text_in_user_units():
    # revenue 8,000万 in the 4 % band, R&D 256万 = 3.2 %: 64万 short
    ev, row = hnte(8000, 256)
    [item] = ev.unmet(0)
    assert item["criterion"] == "rd_intensity"
    assert item["required"] == 0.04 and item["actual"] == pytest.approx(0.032)
    assert item["text"] == "R&D intensity (3 years) 3.2 % < 4 % for revenue 5,000万–2亿: about 64万 more R&D"


def test_hnte_three_year_intensity_uses_the_years_known():
    # 2025: 8,000万/256万; 2024: 6,000万/300万; 2023: 6,000万/264万 → 820/20,000 = 4.1 %
    _, row = hnte(8000, 256, revenue_p1=6000, rd_expense_p1=300, revenue_p2=6000, rd_expense_p2=264,
                  rd_expense_domestic_p1=300, rd_expense_domestic_p2=264, founded_on=D(2020, 1, 1))
    assert row["eligible"]


@pytest.mark.parametrize("changes, criterion", [
    ({"rd_staff": 9.99}, "rd_staff_share"),
    ({"hightech_revenue": 2999.99}, "hightech_revenue_share"),
    ({"founded_on": D(2025, 7, 1)}, "registered_years"),
    ({"ip_class1": 0, "ip_class2": 0}, "ip"),
])
def test_hnte_other_criteria(changes, criterion):
    ev, row = hnte(5000, 250, **changes)
    assert not row["eligible"]
    assert [i["criterion"] for i in ev.unmet(0)] == [criterion]


def test_hnte_registered_exactly_one_year_counts():
    _, row = hnte(5000, 250, founded_on=D(2025, 6, 30))
    assert row["eligible"]


def test_hnte_missing_field_is_reported_by_name():
    ev, row = hnte(5000, 250, hightech_revenue=None)
    assert row["outcome"] == "missing_data"
    assert ev.unmet(0)[0]["text"] == "no 2025 high-tech revenue"


def test_vectorised_age_matches_anniversaries():
    from registry.eligibility.engine import age_in_years, ages_in_years

    on = D(2026, 2, 28)
    founded = [D(2016, 2, 28), D(2016, 3, 1), D(2016, 2, 29), D(2025, 2, 28), D(2025, 3, 1), None]
    got = list(ages_in_years(pd.to_datetime(pd.Series(founded)), on))
    assert got[0] == 10 and got[1] < 10 and got[2] == 10 and got[3] == 1 and got[4] < 1
    assert pd.isna(got[5])
    assert got[:5] == pytest.approx([age_in_years(f, on) for f in founded[:5]])
