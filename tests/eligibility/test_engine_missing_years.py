"""Issue 16: a multi-year criterion needs every year the firm existed in; a missing one is missing_data
naming the year and the figure — never averaged away over the years present, never counted as zero.
Hand-computed cases; no database."""

import datetime

import pandas as pd
import pytest

from registry.eligibility.defaults import RULE_SETS
from registry.eligibility.engine import evaluate

D = datetime.date
ON = D(2025, 6, 30)  # evaluation year 2024
YEAR = 2024
RULES = {r["code"]: r["thresholds"] for r in RULE_SETS}
HNTE = RULES["national-hnte-2016"]
SRDI_2022 = RULES["national-srdi_sme-2022"]


def run(thresholds, **row):
    ev = evaluate(thresholds, pd.DataFrame([row]), ON, YEAR)
    return ev, ev.table.iloc[0]


def hnte_row(founded, years, **changes):
    """`years`: {back: (revenue, rd)}; R&D all spent in China; other 高企 criteria met."""
    row = dict(has_year=True, founded_on=pd.Timestamp(founded), employees=100, rd_staff=20, ip_class1=1,
               hightech_revenue=3000, innovation_ip=24, innovation_conversion=24, innovation_rd_management=14,
               innovation_growth=10, listing_status="unlisted")
    for back, (revenue, rd) in years.items():
        suffix = "" if back == 0 else f"_p{back}"
        row[f"revenue{suffix}"], row[f"rd_expense{suffix}"], row[f"rd_expense_domestic{suffix}"] = revenue, rd, rd
    return {**row, **changes}


def test_firm_from_2015_lacking_2022_is_missing_data_not_averaged():
    # 2023 and 2024 at exactly 5 % of 4,000万 — the old engine averaged these two and said eligible.
    ev, row = run(HNTE, **hnte_row(D(2015, 3, 1), {0: (4000, 200), 1: (4000, 200)}))
    assert row["outcome"] == "missing_data" and not row["eligible"]
    by_criterion = {i["criterion"]: i for i in ev.unmet(0)}
    assert by_criterion["rd_intensity"]["text"] == "no 2022 R&D expense, 2022 revenue"
    assert by_criterion["rd_intensity"]["text_zh"].startswith("缺少2022年研发费用、2022年营业收入")
    assert by_criterion["rd_intensity"]["gaps"] == [
        {"year": 2022, "figure": "rd_expense", "label_zh": "研发费用", "label_en": "R&D expense"},
        {"year": 2022, "figure": "revenue", "label_zh": "营业收入", "label_en": "revenue"}]
    assert by_criterion["rd_domestic_share"]["gaps"] == [
        {"year": 2022, "figure": "rd_expense_domestic", "label_zh": "境内研发费用", "label_en": "R&D inside China"},
        {"year": 2022, "figure": "rd_expense", "label_zh": "研发费用", "label_en": "R&D expense"}]


@pytest.mark.parametrize("missing_back, year", [(0, 2024), (1, 2023), (2, 2022)])
def test_each_missing_year_is_named(missing_back, year):
    years = {back: (4000, 200) for back in range(3) if back != missing_back}
    ev, row = run(HNTE, **hnte_row(D(2015, 3, 1), years))
    assert row["outcome"] == "missing_data"
    gaps = {(g["year"], g["figure"]) for i in ev.unmet(0) for g in i["gaps"]}
    assert (year, "rd_expense") in gaps and (year, "revenue") in gaps
    assert {y for y, _ in gaps} == {year}


@pytest.mark.parametrize("rd_2022, eligible", [
    (200, True),      # 600 / 12,000 = 5 % exactly: on the boundary, eligible
    (199.99, False),  # 599.99 / 12,000 = 4.99992 %: one unit (0.01万) below
    (200.01, True),   # one unit above
])
def test_three_full_years_at_the_boundary(rd_2022, eligible):
    ev, row = run(HNTE, **hnte_row(D(2015, 3, 1), {0: (4000, 200), 1: (4000, 200), 2: (4000, rd_2022)}))
    assert bool(row["eligible"]) is eligible
    if not eligible:
        [item] = ev.unmet(0)
        assert item["text"] == ("R&D intensity (3 years) 4.9999 % < 5 % for revenue ≤ 5,000万: "
                                "about 0.01万 more R&D")


def test_a_firm_too_young_for_a_year_is_judged_on_the_years_it_has():
    # Founded 2023: 2022 is not needed; 2023–2024 at 5 % → eligible.
    _, row = run(HNTE, **hnte_row(D(2023, 3, 1), {0: (4000, 200), 1: (4000, 200)}))
    assert row["eligible"]
    # Founded 2023-12-31 still existed in 2023, so 2023 is needed.
    ev, row = run(HNTE, **hnte_row(D(2023, 12, 31), {0: (4000, 200)}))
    assert row["outcome"] == "missing_data"
    assert {g["year"] for i in ev.unmet(0) for g in i["gaps"]} == {2023}
    # Founded 2024-07-01: only 2024 is needed, and nothing is missing; it fails on age alone.
    ev, row = run(HNTE, **hnte_row(D(2024, 7, 1), {0: (4000, 200)}))
    assert row["outcome"] == "not_eligible"
    assert [i["text"] for i in ev.unmet(0)] == ["registered 11 months 29 days < 1 year"]


def test_unknown_founding_date_needs_every_year():
    row = hnte_row(D(2015, 3, 1), {0: (4000, 200), 1: (4000, 200)})
    row["founded_on"] = pd.NaT
    _, out = run(HNTE, **row)
    assert out["outcome"] == "missing_data"


# ---------------------------------------------------------------- 专精特新 2022: equity over two years
def srdi_row(**changes):
    row = dict(has_year=True, founded_on=pd.Timestamp(D(2015, 1, 1)), holds__srdi_innovative=True,
               revenue=800, rd_expense=120, new_equity_financing=1500, listing_status="unlisted")
    return {**row, **changes}


def test_srdi_equity_with_an_unrecorded_year_is_missing_not_zero():
    ev, row = run(SRDI_2022, **srdi_row())  # 2024: 1,500万, 2023 not recorded
    assert row["outcome"] == "missing_data"
    [item] = ev.unmet(0)
    assert item["criterion"] == "revenue_or_equity" and item["missing"]
    assert item["gaps"] == [{"year": 2023, "figure": "new_equity_financing", "label_zh": "新增股权融资",
                             "label_en": "new equity financing"}]


@pytest.mark.parametrize("equity_2023, eligible", [(500, True), (499.99, False), (500.01, True)])
def test_srdi_equity_boundary_over_two_recorded_years(equity_2023, eligible):
    ev, row = run(SRDI_2022, **srdi_row(new_equity_financing_p1=equity_2023))
    assert bool(row["eligible"]) is eligible
    if not eligible:
        [item] = ev.unmet(0)
        assert item["text"] == ("revenue ≥ 1,000万 or new equity ≥ 2,000万: last-year revenue 800万 < 1,000万; "
                                "new equity financing (2 years) 1,999.99万 < 2,000万")


def test_srdi_equity_for_a_firm_founded_last_year_needs_only_that_year():
    _, row = run(SRDI_2022, **srdi_row(founded_on=pd.Timestamp(D(2024, 2, 1)), new_equity_financing=2000))
    assert row["eligible"]


def test_revenue_cagr_needs_its_base_year():
    gazelle = RULES["national-gazelle-typical"]
    base = dict(has_year=True, founded_on=pd.Timestamp(D(2018, 1, 1)), holds__hnte=True, revenue=1728,
                revenue_p1=1500, revenue_p2=1200, listing_status="unlisted")
    ev, row = run(gazelle, **base)  # 2021 (the base) not recorded: no CAGR over the 2 years present
    assert row["outcome"] == "missing_data"
    assert [g["year"] for i in ev.unmet(0) for g in i["gaps"]] == [2021]
    # 1,728 / 1,000 = 1.728 = 1.2³ → exactly 20 %: eligible; a base of 1,000.01 is just below
    _, row = run(gazelle, **{**base, "revenue_p3": 1000})
    assert row["eligible"]
    ev, row = run(gazelle, **{**base, "revenue_p3": 1000.01})
    assert not row["eligible"]
    # 1.2 × (1/1.00001)^(1/3) − 1 ≈ 0.2 − 4e-6
    assert ev.unmet(0)[0]["text"] == "revenue CAGR (3 years) 19.9996 % < 20 %"
