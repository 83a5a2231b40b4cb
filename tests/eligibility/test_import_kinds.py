"""The `qualifications` and `details` import kinds: rows through the audited services, bad rows named."""

import datetime
from decimal import Decimal

import pytest

from importers.services import import_file
from registry.models import AuditEvent, IndicatorDetail, Qualification
from registry.services import upsert_firm
from tests.factories import make_uscc

D = datetime.date
pytestmark = pytest.mark.django_db
USCC = make_uscc("320583", serial=920001)


@pytest.fixture
def firm(db):
    return upsert_firm(USCC, name="昆山资质测试有限公司", region="320583", founded_on="2015-01-01")[0]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_qualifications_import(tmp_path, firm):
    path = write(tmp_path, "quals.csv", (
        "统一社会信用代码,资质类型,级别,奖项名称,认定日期,完成单位排名,有效期至\n"
        f"{USCC},科技奖,国家级,国家科学技术进步奖二等奖,2023-01-10,2,\n"
        f"{USCC},研发机构,省级,江苏省工程技术研究中心,2020-05-01,,2026-12-31\n"
        f"{USCC},奖项,银河级,宇宙奖,2023-01-10,1,\n"
        f"{USCC},科技奖,国家级,国家科学技术进步奖二等奖,2023-01-10,2,\n"))
    job = import_file(path, kind="qualifications")
    rows = sorted(Qualification.objects.values_list("kind", "level", "rank", "valid_until"))
    assert rows == [("rd_institution", "provincial", None, D(2026, 12, 31)), ("science_award", "national", 2, None)]
    errors = list(job.row_errors.order_by("line").values_list("line", "field", "code"))
    assert errors[0][:2] == (4, "level") and errors[1][2] == "duplicate"
    assert AuditEvent.objects.filter(model="qualification", action="create").count() == 2
    again = import_file(path, kind="qualifications")  # idempotent
    assert Qualification.objects.count() == 2 and (again.created, again.unchanged) == (0, 2)


def test_details_import(tmp_path, firm):
    path = write(tmp_path, "details.csv", (
        "统一社会信用代码,年度,境内研发费用（万元）,主营业务收入额（万元）,知识产权得分,科技成果转化得分,研发组织管理得分,成长性得分\n"
        f"{USCC},2025,120,1500,24,24,13,10\n"
        f"{USCC},2024,90,1400,31,,,\n"))
    job = import_file(path, kind="details")
    row = IndicatorDetail.objects.get(year=2025)
    assert (row.rd_expense_domestic, row.main_business_revenue, row.innovation_ip + row.innovation_conversion
            + row.innovation_rd_management + row.innovation_growth) == (Decimal(120), Decimal(1500), 71)
    [error] = job.row_errors.values_list("line", "field")
    assert error == (3, "innovation_ip")
    assert not IndicatorDetail.objects.filter(year=2024).exists()
