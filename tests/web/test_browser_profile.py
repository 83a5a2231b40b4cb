"""The profile's 补充年度指标 in real Chromium (tests/web/conftest.py): an officer opens a firm of their
district from the firms table and reads its supplementary yearly figures."""

from decimal import Decimal

import pytest

from registry.models import Role
from registry.services.qualifications import upsert_indicator_details
from tests.web.conftest import KS_USCC

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("restore_reference_data")]


def test_officer_reads_the_supplementary_indicators(page, live_server, sign_in, web_registry):
    year = web_registry["year"]
    upsert_indicator_details(web_registry["ks"], year - 1, {
        "rd_expense_domestic": Decimal("6543.21"), "innovation_ip": 24, "innovation_conversion": 22,
        "innovation_rd_management": 15, "innovation_growth": 14})
    sign_in(page, Role.OFFICER, ["320583"], username="ks-officer-details")
    page.click("nav.mainnav >> text=企业")
    page.wait_for_selector("#firm-table")
    page.click(f"#firm-table a[href='/firms/{KS_USCC}/']")
    page.wait_for_url(f"**/firms/{KS_USCC}/")
    details = page.locator("#indicator-details")
    text = details.inner_text()
    assert "境内研发费用（万元）" in text and str(year - 1) in text
    row = details.locator("tbody tr").last.inner_text().split("\t")
    assert row[0] == str(year - 1) and row[1] == "6,543" and row[-1] == "75"  # 24 + 22 + 15 + 14
    assert row[2] == "—"  # 主营业务收入 unknown
