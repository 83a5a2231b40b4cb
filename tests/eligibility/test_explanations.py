"""Explanations at the boundary, asserted exactly: the value printed at the precision that decides the
comparison, in English and Chinese, with the rule set and the clause. No database."""

import datetime
from types import SimpleNamespace

import pandas as pd
import pytest

from registry.eligibility.defaults import RULE_SETS
from registry.eligibility.engine import age_text, decisive_pair, evaluate

D = datetime.date
ON = D(2026, 6, 30)
YEAR = 2025
SPECS = {r["code"]: r for r in RULE_SETS}


def run(code, **row):
    spec = SPECS[code]
    rule = SimpleNamespace(code=code, name=spec["name"])
    ev = evaluate(spec["thresholds"], pd.DataFrame([row]), ON, YEAR, rule_set=rule)
    return ev, ev.table.iloc[0]


@pytest.mark.parametrize("actual, required, unit, expected", [
    (0.049998, 0.05, "ratio", ("4.9998 %", "5 %")),
    (0.05, 0.05, "ratio", ("5 %", "5 %")),
    (0.032, 0.04, "ratio", ("3.2 %", "4 %")),
    (99.99, 100, "money", ("99.99万", "100万")),
    (20000.01, 20000, "money", ("20,000.01万", "20,000万")),
    (30000, 20000, "money", ("3亿", "2亿")),
    (25000, 20000, "money", ("2.5亿", "2亿")),
    (70, 71, "points", ("70", "71")),
])
def test_decisive_pair(actual, required, unit, expected):
    assert decisive_pair(actual, required, unit) == expected


@pytest.mark.parametrize("founded, en, zh", [
    (D(2025, 7, 30), "11 months", "11个月"),
    (D(2025, 7, 1), "11 months 29 days", "11个月29天"),
    (D(2016, 6, 26), "10 years 4 days", "10年4天"),
    (D(2025, 6, 30), "1 year", "1年"),
])
def test_age_text(founded, en, zh):
    assert age_text(founded, ON) == en and age_text(founded, ON, "zh") == zh


# ---------------------------------------------------------------- 高企, whole explanations at the boundary
HNTE = dict(has_year=True, founded_on=pd.Timestamp(D(2025, 1, 1)), employees=100, rd_staff=10, ip_class1=1,
            revenue=4000, rd_expense=200, rd_expense_domestic=200, hightech_revenue=2400, innovation_ip=24,
            innovation_conversion=24, innovation_rd_management=13, innovation_growth=10, listing_status="unlisted")


def test_hnte_on_every_boundary_is_eligible():
    _, row = run("national-hnte-2016", **HNTE)  # 5 %, 10 %, 60 %, 60 % domestic, 71 points, 1 year 5 months
    assert row["eligible"]


def test_hnte_rd_one_unit_below_five_percent():
    ev, row = run("national-hnte-2016", **{**HNTE, "rd_expense": 199.99, "rd_expense_domestic": 199.99})
    [item] = ev.unmet(0)
    assert item["text"] == "R&D intensity (3 years) 4.9998 % < 5 % for revenue ≤ 5,000万: about 0.01万 more R&D"
    assert item["text_en"] == item["text"] + " [高新技术企业认定管理办法（2016） 第十一条（五）]"
    assert item["text_zh"] == ("近三年研发费用占销售收入比例 4.9998 % < 5 %（revenue ≤ 5,000万）：约需增加研发费用 0.01万"
                               "【高新技术企业认定管理办法（2016） 第十一条（五）】")
    assert item["rule_set"] == "national-hnte-2016" and item["clause"] == "第十一条（五）"


def test_hnte_registered_one_day_short_of_a_year():
    ev, _ = run("national-hnte-2016", **{**HNTE, "founded_on": pd.Timestamp(D(2025, 7, 1))})
    [item] = ev.unmet(0)
    assert item["text"] == "registered 11 months 29 days < 1 year"
    assert item["text_zh"].startswith("注册成立 11个月29天 < 1年")
    _, row = run("national-hnte-2016", **{**HNTE, "founded_on": pd.Timestamp(D(2025, 6, 30))})
    assert row["eligible"]  # exactly one year on the evaluation date


@pytest.mark.parametrize("growth, eligible", [(9, False), (10, True), (11, True)])  # total 70 / 71 / 72
def test_hnte_innovation_score_above_70(growth, eligible):
    ev, row = run("national-hnte-2016", **{**HNTE, "innovation_growth": growth})
    assert bool(row["eligible"]) is eligible
    if not eligible:
        assert [i["text"] for i in ev.unmet(0)] == ["innovation-capability score 70 < 71"]


def test_hnte_innovation_item_missing_is_named():
    ev, row = run("national-hnte-2016", **{**HNTE, "innovation_conversion": None})
    assert row["outcome"] == "missing_data"
    [item] = ev.unmet(0)
    assert item["gaps"] == [{"year": 2025, "figure": "innovation_conversion", "label_zh": "创新能力·科技成果转化",
                             "label_en": "innovation score: conversion"}]


@pytest.mark.parametrize("domestic, eligible", [(120, True), (119.99, False), (120.01, True)])  # 60 % of 200万
def test_hnte_rd_inside_china(domestic, eligible):
    ev, row = run("national-hnte-2016", **{**HNTE, "rd_expense_domestic": domestic})
    assert bool(row["eligible"]) is eligible
    if not eligible:
        assert [i["text"] for i in ev.unmet(0)] == ["R&D inside China (3 years) 59.995 % < 60 %"]


# ---------------------------------------------------------------- 科小 size cap: "2亿 > 2亿" never again
TECH = dict(has_year=True, founded_on=pd.Timestamp(D(2015, 1, 1)), employees=100, rd_staff=30, revenue=20000,
            rd_expense=1200, total_cost=800, total_assets=5000, ip_class1=1, ip_class2=0, listing_status="unlisted")


@pytest.mark.parametrize("revenue, eligible", [(20000, True), (19999.99, True), (20000.01, False)])
def test_tech_sme_revenue_cap(revenue, eligible):
    ev, row = run("national-tech_sme-2017", **{**TECH, "revenue": revenue})
    assert bool(row["eligible"]) is eligible
    if not eligible:
        texts = [i["text"] for i in ev.unmet(0)]
        assert texts[0] == "营业收入 revenue 20,000.01万 > 20,000万"
        assert ev.unmet(0)[0]["text_zh"].startswith("营业收入 20,000.01万 > 20,000万")


# ---------------------------------------------------------------- 专精特新 2026: "R&D 100万 < 100万" never again
SRDI = dict(has_year=True, founded_on=pd.Timestamp(D(2015, 1, 1)), holds__tech_innovative_sme=True, revenue=3000,
            main_business_revenue=2400, debt_ratio=0.5, rd_expense=100, rd_expense_p1=100, revenue_p1=3000,
            ip_class1=1, listing_status="unlisted")


@pytest.mark.parametrize("rd, eligible", [(100, True), (99.99, False), (100.01, True)])
def test_srdi_2026_rd_each_year(rd, eligible):
    ev, row = run("national-srdi_sme-2026", **{**SRDI, "rd_expense_p1": rd})
    assert bool(row["eligible"]) is eligible
    if not eligible:
        assert [i["text"] for i in ev.unmet(0)] == ["R&D expense (each of 2 years) 99.99万 < 100万"]


@pytest.mark.parametrize("main, eligible", [(2400, True), (2399.99, False), (2400.01, True)])  # 80 % of 3,000万
def test_srdi_2026_main_business_share(main, eligible):
    ev, row = run("national-srdi_sme-2026", **{**SRDI, "main_business_revenue": main})
    assert bool(row["eligible"]) is eligible
    if not eligible:
        [item] = ev.unmet(0)
        assert item["text"] == "main-business share of revenue 79.9997 % < 80 %"
        assert item["text_zh"] == "主营业务收入占营业收入比重 79.9997 % < 80 %【专精特新中小企业认定标准（2026） 附件1 营收与结构】"


def test_srdi_2026_main_business_revenue_missing_is_named():
    ev, row = run("national-srdi_sme-2026", **{**SRDI, "main_business_revenue": None})
    assert row["outcome"] == "missing_data"
    assert [g["figure"] for i in ev.unmet(0) for g in i["gaps"]] == ["main_business_revenue"]


def test_srdi_2026_ip_waived_by_a_qualification():
    from registry.eligibility.defaults import AWARD_PROVINCIAL_3Y_TOP3
    from registry.eligibility.engine import qualification_key

    _, row = run("national-srdi_sme-2026", **{**SRDI, "ip_class1": 0})
    assert not row["eligible"]
    _, row = run("national-srdi_sme-2026", **{**SRDI, "ip_class1": 0, qualification_key(AWARD_PROVINCIAL_3Y_TOP3): True})
    assert row["eligible"]
