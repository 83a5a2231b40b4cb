"""Issue 12, part 1: lists shaped like real published ones land every firm in the right region of the
right province, with capital in its currency and dates in every published form; bad values in columns
a row does not need are warnings, never rejected rows."""

import csv
import datetime
from decimal import Decimal

import pytest

from importers.models import JobStatus
from importers.services import ImportRefused, import_file
from registry.models import Certification, Firm
from registry.regions import uscc_division
from tests.factories import make_uscc

pytestmark = pytest.mark.django_db


def warnings_of(job):
    return {(e.line, e.field): e.message for e in job.row_errors.filter(code="warning")}


def hard_errors(job):
    return list(job.row_errors.exclude(code="warning").values_list("line", "field", "message"))


def test_registry_extract_lands_all_60_firms_in_the_right_district(data_dir):
    path = data_dir / "real_shapes" / "registry_extract_like.csv"
    job = import_file(path, kind="firms")
    assert job.status == JobStatus.SUCCEEDED
    assert (job.total, job.created, job.errors, job.needs_review) == (60, 60, 0, 0), hard_errors(job)
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    firms = {f.uscc: f for f in Firm.objects.select_related("region")}
    for row in rows:
        firm = firms[row["统一社会信用代码"]]
        # Every row's district is the one its USCC was issued in: 通州 with 所在省份 北京 is 110112, never 320612.
        assert firm.region_id == row["统一社会信用代码"][2:8], (row["企业名称"], row["所在省份"], row["地区"])
    tongzhou = {firms[r["统一社会信用代码"]].region_id for r in rows if r["地区"] == "通州"}
    gulou = {(r["所在省份"], firms[r["统一社会信用代码"]].region_id) for r in rows if r["地区"] == "鼓楼"}
    assert tongzhou == {"110112"} and gulou == {("江苏", "320106"), ("福建", "350102")}
    assert not warnings_of(job) or all(f != "region" for _, f in warnings_of(job))


def test_registry_extract_capital_is_stored_with_its_currency_or_left_empty_with_a_warning(data_dir):
    path = data_dir / "real_shapes" / "registry_extract_like.csv"
    job = import_file(path, kind="firms")
    rows = {r["统一社会信用代码"]: r["注册资金"] for r in csv.DictReader(open(path, encoding="utf-8"))}
    stored = {f.uscc: (f.registered_capital, f.registered_capital_currency) for f in Firm.objects.all()}
    expected = {"100万元人民币": (Decimal(100), "CNY"), "20(万元人民币)": (Decimal(20), "CNY"),
                "20万人民币": (Decimal(20), "CNY"), "5.8000万元": (Decimal("5.8"), "CNY"),
                "4500万美元": (Decimal(4500), "USD"), "300万欧元": (Decimal(300), "EUR"),
                "(万元)": (None, ""), "N/A": (None, ""), "1000万元": (Decimal(1000), "CNY"),
                "50.000000万人民币": (Decimal(50), "CNY"), "200万港元": (Decimal(200), "HKD"),
                "3000万日元": (Decimal(3000), "JPY")}
    for uscc, printed in rows.items():
        assert stored[uscc] == expected[printed], printed
    assert job.errors == 0


def test_a_bad_capital_is_a_warning_with_the_value_and_the_firm_is_still_created(tmp_path):
    path = tmp_path / "bad_capital.csv"
    path.write_text("企业名称,统一社会信用代码,所在地区,注册资本\n"
                    f"昆山坏资本科技有限公司,{make_uscc('320583')},昆山市,一百万元\n", encoding="utf-8")
    job = import_file(path, kind="firms")
    assert (job.created, job.errors) == (1, 0)
    message = warnings_of(job)[(2, "registered_capital")]
    assert "一百万元" in message and "left empty" in message
    assert Firm.objects.get().registered_capital is None


def test_a_list_with_only_name_and_uscc_creates_firms_in_the_usccs_division(data_dir):
    job = import_file(data_dir / "formats" / "name_uscc_only.csv", kind="firms")
    with open(data_dir / "formats" / "name_uscc_only.expected.csv", encoding="utf-8") as fh:
        expected = {r["uscc"]: r["region_code"] for r in csv.DictReader(fh)}
    assert (job.created, job.errors) == (len(expected), 0), hard_errors(job)
    assert dict(Firm.objects.values_list("uscc", "region_id")) == expected
    provinces = {code[:2] for code in expected.values()}
    assert len(provinces) == 31  # every province of the mainland
    # retired codes went to their successors (海门市 320684 → 320614; 邯郸县 130421, split → 邯郸市 130400)
    assert {"320614", "110118", "130400", "320500"} <= set(expected.values())


def test_a_recognition_list_without_region_creates_firms_from_the_uscc(tmp_path):
    path = tmp_path / "hnte_names.csv"
    path.write_text("序号,企业名称,统一社会信用代码\n"
                    f"1,北京通州甲科技有限公司,{make_uscc('110112')}\n"
                    f"2,福州鼓楼乙科技有限公司,{make_uscc('350102')}\n", encoding="utf-8")
    job = import_file(path, kind="recognitions", options={"tier": "hnte", "issued_on": "2024-12-01"})
    assert (job.created, job.errors) == (2, 0), hard_errors(job)
    assert sorted(Firm.objects.values_list("region_id", flat=True)) == ["110112", "350102"]
    assert Certification.objects.count() == 2


def test_conflicting_clues_import_with_a_warning_naming_both(tmp_path):
    path = tmp_path / "conflict.csv"
    path.write_text("企业名称,统一社会信用代码,所在省份,地区\n"
                    f"北京通州丙科技有限公司,{make_uscc('320612')},北京,通州\n", encoding="utf-8")
    job = import_file(path, kind="firms")
    assert (job.created, job.errors) == (1, 0)
    assert Firm.objects.get().region_id == "110112"  # the list's own words win
    message = warnings_of(job)[(2, "region")]
    assert "北京市通州区 110112" in message and "江苏省南通市通州区 320612" in message


def test_an_ambiguous_region_with_nothing_to_decide_is_a_row_error(tmp_path):
    path = tmp_path / "ambiguous.csv"
    path.write_text("企业名称,统一社会信用代码,地区\n"
                    f"某某科技有限公司,{make_uscc('441900')},鼓楼\n", encoding="utf-8")
    job = import_file(path, kind="firms")
    assert (job.created, job.errors) == (0, 1)
    (line, field, message), = hard_errors(job)
    assert field == "region" and "ambiguous" in message and "320106" in message and "350102" in message


def test_the_lists_context_option_decides_an_ambiguous_name(tmp_path):
    path = tmp_path / "context.csv"
    path.write_text("企业名称,统一社会信用代码,地区\n"
                    f"朝阳丁科技有限公司,{make_uscc('441900')},朝阳\n", encoding="utf-8")
    job = import_file(path, kind="firms", options={"region_context": "北京市"})
    assert job.created == 1 and Firm.objects.get().region_id == "110105"
    assert "441900" in warnings_of(job)[(2, "region")]  # the USCC (东莞) disagrees: said, not hidden
    with pytest.raises(ImportRefused, match="火星"):
        import_file(path, kind="firms", options={"region_context": "火星"})


def test_dates_in_every_published_form_and_month_first_detected_per_column(data_dir):
    job = import_file(data_dir / "formats" / "firms_mdy_dates.csv", kind="firms")
    assert (job.created, job.errors) == (5, 0), hard_errors(job)
    founded = dict(Firm.objects.values_list("name", "founded_on"))
    assert founded == {
        "昆山月日甲科技有限公司": datetime.date(2024, 1, 29),
        "昆山月日乙科技有限公司": datetime.date(2024, 5, 3),  # month first: the column has 01/29/2024
        "昆山月日丙科技有限公司": datetime.date(2024, 2, 27),  # a date-time with AM/PM
        "昆山月日丁科技有限公司": datetime.date(2024, 11, 5),
        "昆山月日戊科技有限公司": datetime.date(2024, 1, 9),  # an Excel serial
    }
    capital = {f.name: (f.registered_capital, f.registered_capital_currency) for f in Firm.objects.all()}
    assert capital["昆山月日甲科技有限公司"] == (Decimal(100), "USD")
    assert capital["昆山月日丙科技有限公司"] == (None, "")
    assert "不详" in warnings_of(job)[(5, "registered_capital")]


def test_date_order_option_reads_day_first(tmp_path):
    path = tmp_path / "dmy.csv"
    path.write_text("企业名称,统一社会信用代码,所在地区,成立日期\n"
                    f"昆山日月科技有限公司,{make_uscc('320583')},昆山市,05/03/2024\n", encoding="utf-8")
    import_file(path, kind="firms", options={"date_order": "dmy"})
    assert Firm.objects.get().founded_on == datetime.date(2024, 3, 5)
    with pytest.raises(ImportRefused, match="date_order"):
        import_file(path, kind="firms", options={"date_order": "ymd"})


def test_a_known_firm_keeps_its_region_when_the_row_names_none(tmp_path):
    uscc = make_uscc("320500")
    first = tmp_path / "a.csv"
    first.write_text(f"企业名称,统一社会信用代码,所在地区\n园区科技有限公司,{uscc},苏州工业园区\n", encoding="utf-8")
    import_file(first, kind="firms")
    again = tmp_path / "b.csv"
    again.write_text(f"企业名称,统一社会信用代码,所在省份\n园区科技有限公司,{uscc},江苏\n", encoding="utf-8")
    job = import_file(again, kind="firms")
    assert job.unchanged == 1 and Firm.objects.get().region_id == "320571"
    assert uscc_division(uscc) == "320500"


def test_a_province_in_the_file_name_is_the_lists_context(tmp_path):
    path = tmp_path / "北京市2024年高新技术企业名单.csv"
    # 990000 is no division: only the file name can say which 朝阳 and which 通州
    path.write_text(f"企业名称,统一社会信用代码,地区\n朝阳戊科技有限公司,{make_uscc('990000')},朝阳\n"
                    f"通州己科技有限公司,{make_uscc('990000')},通州\n", encoding="utf-8")
    job = import_file(path, kind="recognitions", options={"tier": "hnte", "issued_on": "2024-12-01"})
    assert job.errors == 0 and sorted(Firm.objects.values_list("region_id", flat=True)) == ["110105", "110112"]
    assert not warnings_of(job)


def test_a_valuation_in_renminbi_needs_the_rate_and_is_stored_in_dollars(tmp_path):
    from registry.models import IndicatorYear

    uscc = make_uscc("110108")
    (tmp_path / "firm.csv").write_text(f"企业名称,统一社会信用代码,地区\n云星科技有限公司,{uscc},海淀\n", encoding="utf-8")
    import_file(tmp_path / "firm.csv", kind="firms")
    path = tmp_path / "ranking.csv"
    path.write_text(f"企业名称,统一社会信用代码,估值（亿元人民币）,年度\n云星科技有限公司,{uscc},1000,2024\n", encoding="utf-8")
    job = import_file(path, kind="indicators", options={"usd_per_cny": "0.14"})
    assert job.created == 1 and IndicatorYear.objects.get().valuation_usd == Decimal(14_000_000_000)
    without = import_file(path, kind="indicators")  # no rate: a warning naming the value, nothing guessed
    assert without.errors == 0 and "exchange rate" in warnings_of(without)[(2, "valuation_usd")]
    with pytest.raises(ImportRefused, match="usd_per_cny"):
        import_file(path, kind="indicators", options={"usd_per_cny": "lots"})


def test_the_command_takes_the_new_options(tmp_path):
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / "cli.csv"
    path.write_text(f"企业名称,统一社会信用代码,地区,成立日期\n鼓楼庚科技有限公司,{make_uscc('990000')},鼓楼,05/03/2024\n",
                    encoding="utf-8")
    call_command("import_list", str(path), "--kind", "firms", "--region-context", "福建", "--date-order", "dmy",
                 "--no-progress", stdout=StringIO())
    firm = Firm.objects.get()
    assert (firm.region_id, firm.founded_on) == ("350102", datetime.date(2024, 3, 5))
