"""Value parsers and header normalisation, one behaviour per case."""

import datetime as dt
from decimal import Decimal

import pytest

from importers.cleaning import (
    CellError, clean_values, normalize_name, normalize_uscc, parse_count, parse_date, parse_money, parse_percent,
    parse_uscc, parse_year,
)
from importers.columns import FIELD_SYNONYMS, HEADER_LOOKUP, header_score, map_columns, match_header, normalize_header

VALID = "91320571T6748MKWW3"


# ---------------------------------------------------------------------------------------------
# Headers


@pytest.mark.parametrize("header, field, unit", [
    ("企业名称", "name", None),
    ("企业（单位）名称", "name", None),
    ("单位名称", "name", None),
    ("公司名称", "name", None),
    (" 统一社会\n信用代码 ", "uscc", None),
    ("*统一社会信用代码", "uscc", None),
    ("社会信用代码", "uscc", None),
    ("统一代码", "uscc", None),
    ("所属区县", "region", None),
    ("地市", "region", None),
    ("入库登记编号", "certificate_no", None),
    ("编号", "certificate_no", None),
    ("批次", "batch", None),
    ("发文日期", "issued_on", None),
    ("有效期截止", "valid_until", None),
    ("注册日期", "founded_on", None),
    ("主要产品", "main_products", None),
    ("注册资本（万元）", "registered_capital", "万元"),
    ("注册资本(元)", "registered_capital", "元"),
    ("注册资本\n（单位：亿元）", "registered_capital", "亿元"),
    ("省(区、市)", "province", None),
    ("省（区、市）", "province", None),
    ("年份", "year", None),
    ("营业总收入（万元）", "revenue", "万元"),
    ("研究开发费用（万元）", "rd_expense", "万元"),
    ("成本费用总额（万元）", "total_cost", "万元"),
    ("从业人员（人）", "employees", "人"),
    ("职工总数", "employees", None),
    ("科技人员", "rd_staff", None),
    ("研发人员数", "rd_staff", None),
    ("Ⅰ类知识产权（件）", "ip_class1", "件"),
    ("一类知识产权", "ip_class1", None),
    ("Ⅱ类知识产权", "ip_class2", None),
    ("二类知识产权", "ip_class2", None),
    ("发明专利（件）", "invention_patents", "件"),
    ("高新技术产品（服务）收入（万元）", "hightech_revenue", "万元"),
    ("资产总额（万元）", "total_assets", "万元"),
    ("资产负债率（%）", "debt_ratio", "%"),
    ("资产负债率（％）", "debt_ratio", "%"),
    ("股权融资（万元）", "new_equity_financing", "万元"),
    ("估值（美元）", "valuation_usd", "美元"),
    ("region_code", "region_code", None),
    ("Start_Year", "start_year", None),
    ("ＴＡＲＧＥＴ", "target", None),
])
def test_header_synonyms(header, field, unit):
    assert match_header(header)[:2] == (field, unit)


def test_every_synonym_maps_to_its_field():
    for field, synonyms in FIELD_SYNONYMS.items():
        for synonym in synonyms:
            assert HEADER_LOOKUP[normalize_header(synonym)[0]] == field, synonym


def test_normalize_header():
    assert normalize_header("营业收入\n（万元）") == ("营业收入", "万元")
    assert normalize_header("企业（单位）名称") == ("企业名称", None)  # 单位 is not a unit here
    assert normalize_header(None) == ("", None)


def test_index_and_unknown_columns():
    columns, warnings = map_columns(["序号", "企业名称", None, "联系人", "统一社会信用代码"])
    assert [(c.index, c.field, c.is_index) for c in columns] == [
        (0, None, True), (1, "name", False), (3, None, False), (4, "uscc", False),
    ]
    assert warnings == []


def test_header_score_counts_distinct_fields():
    assert header_score(["序号", "企业名称", "统一社会信用代码", "所在地区"]) == 3
    assert header_score(["江苏省2024年第一批拟认定高新技术企业名单", None]) == 0
    assert header_score(["1", "苏州智源智能装备有限公司", VALID, "苏州工业园区"]) == 0


# ---------------------------------------------------------------------------------------------
# USCC


@pytest.mark.parametrize("text", [
    VALID, "９１３２０５７１Ｔ６７４８ＭＫＷＷ３", "91320571t6748mkww3", " 9132 0571-T674 8MKWW3 ", "91320571T6748MKWW3\u200b",
])
def test_uscc_normalised_and_valid(text):
    assert parse_uscc(text) == VALID


def test_uscc_bad_check_digit_goes_to_review():
    with pytest.raises(CellError) as exc:
        parse_uscc("913202116j81j37t60")
    err = exc.value
    assert (err.field, err.code, err.review, err.value) == ("uscc", "checksum", True, "913202116J81J37T60")
    assert "'913202116j81j37t60'" in err.message and "expected U" in err.message


@pytest.mark.parametrize("text, hint", [
    ("9132058", "7 characters"),
    ("91320571T6748MKWW3X", "19 characters"),
    ("9132O571T6748MKWW3", "malformed"),  # letter O among the first 8
    ("91320571T6748MKWI3", "malformed"),  # I is not in the alphabet
])
def test_uscc_malformed_is_an_error(text, hint):
    with pytest.raises(CellError) as exc:
        parse_uscc(text)
    assert exc.value.code == "invalid" and not exc.value.review
    assert hint in exc.value.message and repr(text) in exc.value.message


def test_uscc_empty_is_none():
    assert parse_uscc("  ") is None and parse_uscc(None) is None
    assert normalize_uscc("９１－32") == "9132"


# ---------------------------------------------------------------------------------------------
# Dates


@pytest.mark.parametrize("value", [
    "2024-03-05", "2024/3/5", "2024.3.5", "2024年3月5日", "2024 年 3 月 5 日", "２０２４年３月５日", "20240305",
    "2024-03-05 00:00:00", "2024-03-05T08:30:00", "45356", "45356.0", "二〇二四年三月五日",
    dt.datetime(2024, 3, 5, 10, 0), dt.date(2024, 3, 5),
])
def test_dates(value):
    assert parse_date(value) == dt.date(2024, 3, 5)


def test_more_dates():
    assert parse_date("2024年11月5日") == dt.date(2024, 11, 5)
    assert parse_date("二〇二三年十二月三十一日") == dt.date(2023, 12, 31)
    assert parse_date("") is None and parse_date(None) is None


@pytest.mark.parametrize("value, hint", [
    ("2024/13/40", "not a real date"),
    ("2023-02-29", "not a real date"),
    ("2024", "not a date"),
    ("13/13/2024", "not a real date"),
    ("2024年3月", "not a date"),
    ("尚未发证", "not a date"),
])
def test_bad_dates_name_the_value(value, hint):
    with pytest.raises(CellError) as exc:
        parse_date(value, "issued_on")
    assert exc.value.field == "issued_on"
    assert repr(value) in exc.value.message and hint in exc.value.message


# ---------------------------------------------------------------------------------------------
# Numbers


@pytest.mark.parametrize("value, unit, expected", [
    ("100", None, Decimal("100")),
    ("100", "万元", Decimal("100")),
    ("1234567", "元", Decimal("123.4567")),
    ("1,234,567.8", "元", Decimal("123.45678")),
    ("1.5", "亿元", Decimal("15000")),
    ("120", "千元", Decimal("12")),
    ("120万元", "元", Decimal("120")),  # a unit in the cell wins
    ("３００", "万元", Decimal("300")),
    ("0", "万元", Decimal("0")),
    ("—", "万元", None),
    ("", "万元", None),
])
def test_money(value, unit, expected):
    assert parse_money(value, unit, "revenue") == expected


def test_valuation_is_stored_in_dollars():
    assert parse_money("12", "亿美元", "valuation_usd") == Decimal("1200000000")
    assert parse_money("5000000", None, "valuation_usd") == Decimal("5000000")
    with pytest.raises(CellError, match="expected an amount in 美元"):
        parse_money("12", "亿元", "valuation_usd")


@pytest.mark.parametrize("value", ["-5", "(5)", "-0.1"])
def test_negative_money_is_an_error(value):
    with pytest.raises(CellError) as exc:
        parse_money(value, "万元", "revenue")
    assert exc.value.code == "negative" and repr(value) in exc.value.message


@pytest.mark.parametrize("value", ["约100", "1.2.3", "abc", dt.datetime(2024, 1, 1)])
def test_money_not_a_number(value):
    with pytest.raises(CellError):
        parse_money(value, "万元", "revenue")


@pytest.mark.parametrize("value, unit, expected", [
    ("5%", None, Decimal("0.05")),
    ("5%", "%", Decimal("0.05")),
    ("5", "%", Decimal("0.05")),
    ("0.05", "%", Decimal("0.05")),
    ("0.05", None, Decimal("0.05")),
    ("45.3", "%", Decimal("0.453")),
    ("150%", "%", Decimal("1.5")),
    ("５％", None, Decimal("0.05")),
    ("-", "%", None),
])
def test_percent(value, unit, expected):
    assert parse_percent(value, unit, "debt_ratio") == expected


def test_negative_percent():
    with pytest.raises(CellError):
        parse_percent("-5", "%", "debt_ratio")
    assert parse_percent("-5", "%", "growth", allow_negative=True) == Decimal("-0.05")


@pytest.mark.parametrize("value, expected", [("12", 12), ("12.0", 12), ("1,200", 1200), ("12人", 12), (" 0 ", 0), ("无", None)])
def test_counts(value, expected):
    assert parse_count(value, "employees") == expected


@pytest.mark.parametrize("value, code", [("12.5", "invalid"), ("-3", "negative"), ("十二", "invalid")])
def test_bad_counts(value, code):
    with pytest.raises(CellError) as exc:
        parse_count(value, "employees")
    assert exc.value.code == code and repr(value) in exc.value.message


@pytest.mark.parametrize("value, expected", [("2024", 2024), ("2024年", 2024), ("2024年度", 2024), ("2024.0", 2024), ("", None)])
def test_years(value, expected):
    assert parse_year(value) == expected


@pytest.mark.parametrize("value", ["24", "1800", "二〇二四", "2024-03"])
def test_bad_years(value):
    with pytest.raises(CellError):
        parse_year(value)


# ---------------------------------------------------------------------------------------------
# Names


@pytest.mark.parametrize("a, b", [
    ("苏州智源（苏州）科技有限公司", "苏州智源(苏州)科技有限公司"),
    ("苏州智源科技有限责任公司", "苏州智源科技有限公司"),
    ("苏州 智源 科技 有限公司 ", "苏州智源科技有限公司"),
    ("苏州ＡＢＣ科技有限公司", "苏州abc科技有限公司"),
    ("苏州智源【苏州】科技有限公司", "苏州智源(苏州)科技有限公司"),
    ("苏州智源科技责任有限公司", "苏州智源科技有限公司"),
])
def test_names_that_match(a, b):
    assert normalize_name(a) == normalize_name(b)


def test_name_normal_form():
    assert normalize_name("苏州智源（苏州）科技有限责任公司") == "苏州智源(苏州)科技有限公司"
    assert normalize_name(None) == ""


def test_names_that_differ():
    assert normalize_name("苏州智源科技股份有限公司") != normalize_name("苏州智源科技有限公司")
    assert normalize_name("苏州智源科技有限公司") != normalize_name("苏州智源信息有限公司")


@pytest.mark.parametrize("name", ["苏州智源（苏州）科技有限责任公司", " Ａb　C（中国）有限公司", "X【Y】有限責任公司"])
def test_normalize_name_is_idempotent(name):
    once = normalize_name(name)
    assert normalize_name(once) == once


# ---------------------------------------------------------------------------------------------
# Rows


def test_clean_values_collects_every_error():
    result = clean_values(
        {"name": " 江阴晶微光电科技股份有限公司 ", "uscc": "9132058", "issued_on": "2024/13/40", "region": "江阴市"}
    )
    assert [e.field for e in result.errors] == ["uscc", "issued_on"]
    assert not result.ok and not result.needs_review
    assert result.values == {"name": "江阴晶微光电科技股份有限公司", "region": "江阴市"}
    assert "'9132058'" in result.message() and "'2024/13/40'" in result.message()


def test_clean_values_review_keeps_the_code():
    result = clean_values({"uscc": "913202116J81J37T60", "issued_on": "45356"})
    assert result.needs_review and result.fatal == []
    assert result.values == {"uscc": "913202116J81J37T60", "issued_on": dt.date(2024, 3, 5)}


def test_clean_values_uses_units():
    result = clean_values({"revenue": "25000000", "debt_ratio": "35", "employees": "120"}, {"revenue": "元", "debt_ratio": "%"})
    assert result.values == {"revenue": Decimal("2500"), "debt_ratio": Decimal("0.35"), "employees": 120}


# --- issue 12: amounts with their currency, month-first dates, warnings ---------------------------

from importers.cleaning import detect_date_orders, parse_amount, split_key_errors  # noqa: E402


@pytest.mark.parametrize("value, unit, expected", [
    ("100万元人民币", None, (Decimal(100), "CNY")),
    ("20(万元人民币)", None, (Decimal(20), "CNY")),
    ("20（万元人民币）", None, (Decimal(20), "CNY")),
    ("20万人民币", None, (Decimal(20), "CNY")),
    ("5.8000万元", None, (Decimal("5.8"), "CNY")),
    ("4500万美元", None, (Decimal(4500), "USD")),
    ("300万欧元", None, (Decimal(300), "EUR")),
    ("200万港元", None, (Decimal(200), "HKD")),
    ("3000万日元", None, (Decimal(3000), "JPY")),
    ("1.5亿元", None, (Decimal(15000), "CNY")),
    ("500000元", None, (Decimal(50), "CNY")),
    ("120", "万美元", (Decimal(120), "USD")),  # the header's unit
    ("120", None, (Decimal(120), "CNY")),  # no unit anywhere: 万元
    ("(万元)", None, None), ("N/A", None, None), ("", None, None), ("—", "万元", None),
])
def test_amount_keeps_its_currency(value, unit, expected):
    amount = parse_amount(value, unit, "registered_capital")
    assert amount == expected
    if amount is not None:
        assert "E" not in str(amount[0])


def test_amount_errors_name_the_value():
    with pytest.raises(CellError, match="一百万"):
        parse_amount("一百万", None, "registered_capital")
    with pytest.raises(CellError, match="negative"):
        parse_amount("-5万元", None, "registered_capital")


def test_valuation_units_from_english_and_chinese_headers():
    assert normalize_header("Last Valuation (Billion $)") == ("lastvaluation", "billion$")
    assert match_header("Last Valuation (Billion $)")[0] == "valuation_usd"
    assert normalize_header("估值（亿元人民币）") == ("估值", "亿元")
    assert parse_money("1.70", "billion$", "valuation_usd") == Decimal(1_700_000_000)
    assert parse_money("1000", "亿元", "valuation_usd", rates={"CNY": Decimal("0.14")}) == Decimal(14_000_000_000)
    with pytest.raises(CellError, match="exchange rate"):
        parse_money("1000", "亿元", "valuation_usd")


@pytest.mark.parametrize("value, order, expected", [
    ("01/29/2024", None, dt.date(2024, 1, 29)),
    ("29/01/2024", None, dt.date(2024, 1, 29)),  # a first part above 12 can only be the day
    ("05/03/2024", None, dt.date(2024, 5, 3)),
    ("05/03/2024", "dmy", dt.date(2024, 3, 5)),
    ("2/27/2024, 1:15:09 AM", None, dt.date(2024, 2, 27)),
    ("2024年11月5日", None, dt.date(2024, 11, 5)),
    ("2024-01-05 10:11:12", None, dt.date(2024, 1, 5)),
])
def test_year_last_dates(value, order, expected):
    assert parse_date(value, "founded_on", order) == expected


def test_date_order_detected_per_column():
    rows = [{"founded_on": "01/29/2024", "issued_on": "13/01/2024"}, {"founded_on": "05/03/2024", "issued_on": "1/2/2024"}]
    assert detect_date_orders(rows, ["founded_on", "issued_on"]) == {"founded_on": "mdy", "issued_on": "dmy"}
    assert detect_date_orders([{"founded_on": "05/03/2024"}], ["founded_on"]) == {}  # no evidence, no entry
    mixed = [{"founded_on": "01/29/2024"}, {"founded_on": "29/01/2024"}]
    assert detect_date_orders(mixed, ["founded_on"]) == {}
    row = clean_values({"founded_on": "05/03/2024"}, date_orders={"founded_on": "dmy"})
    assert row.values["founded_on"] == dt.date(2024, 3, 5)


def test_capital_comes_back_with_its_currency_and_bad_optional_values_only_warn():
    row = clean_values({"uscc": None, "name": "某公司", "registered_capital": "4500万美元", "founded_on": "someday"})
    assert row.values["registered_capital"] == Decimal(4500) and row.values["registered_capital_currency"] == "USD"
    fatal, warnings = split_key_errors(row, {"uscc", "name"})
    assert fatal == [] and [w.field for w in warnings] == ["founded_on"] and "someday" in warnings[0].message
    assert "founded_on" not in row.values and row.errors == []
    row = clean_values({"uscc": "9132058312345", "founded_on": "someday"})
    fatal, warnings = split_key_errors(row, {"uscc", "name"})
    assert [e.field for e in fatal] == ["uscc"] and [w.field for w in warnings] == ["founded_on"]
