"""The profile's 补充年度指标 (IndicatorDetail): the latest years' values with their units, "—" for an
unknown value, for internal roles within their scope (as the API's indicatorDetails), in one statement."""

import html as html_lib
import re
from decimal import Decimal

import pytest

from registry.models import Role
from registry.services.qualifications import upsert_indicator_details
from tests.web.conftest import BH_USCC, KS_USCC
from tests.web.test_candidates_queries import statements
from tests.web.test_pages import _fresh, client_for  # noqa: F401 - the caches are cleared per test

pytestmark = pytest.mark.django_db


@pytest.fixture
def details(web_registry):
    ks, year = web_registry["ks"], web_registry["year"]
    for back in (4, 3, 2):  # older years: only the latest three are shown
        upsert_indicator_details(ks, year - back, {"rd_expense_domestic": Decimal(f"{100 + back}")})
    upsert_indicator_details(ks, year - 1, {
        "rd_expense_domestic": Decimal("6543.21"), "main_business_revenue": Decimal(98765),
        "innovation_ip": 24, "innovation_conversion": 22, "innovation_rd_management": 15, "innovation_growth": 14})
    upsert_indicator_details(web_registry["bh"], year - 1, {"rd_expense_domestic": Decimal(777)})
    return web_registry


def section(html):
    part = html.split('id="indicator-details"', 1)[1].split("</section>", 1)[0]
    return {cells[0]: cells[1:] for cells in (re.findall(r"<td[^>]*>(.*?)</td>", row)
                                              for row in re.findall(r"<tr>(.*?)</tr>", part, re.DOTALL)) if cells}


@pytest.mark.parametrize("role, regions", [(Role.OFFICER, ("320583",)), (Role.ANALYST, ()), (Role.ADMIN, ())])
def test_latest_years_with_units_and_blanks(details, role, regions):
    client, _ = client_for(role, list(regions))
    html = client.get(f"/firms/{KS_USCC}/").content.decode()
    assert "补充年度指标" in html and "境内研发费用（万元）" in html and "知识产权（分，满分30）" in html
    year = details["year"]
    rows = section(html)
    assert list(rows) == [str(year - 3), str(year - 2), str(year - 1)]  # the fourth year back is left out
    assert rows[str(year - 1)] == ["6,543", "98,765", "24", "22", "15", "14", "75"]  # 24 + 22 + 15 + 14
    assert rows[str(year - 2)] == ["102", "—", "—", "—", "—", "—", "—"]  # unknown: "—", and no total


def test_english_labels(details):
    client, _ = client_for(Role.ANALYST)
    html = html_lib.unescape(client.get(f"/firms/{KS_USCC}/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "Supplementary yearly indicators" in html and "R&D expense in China (10k CNY)" in html
    assert "Innovation score total (points)" in html and "6,543" in html


def test_not_for_investors_nor_outside_scope(details):
    investor, _ = client_for(Role.INVESTOR)
    html = investor.get(f"/firms/{KS_USCC}/").content.decode()
    assert 'id="indicator-details"' not in html and "6,543" not in html and "补充年度指标" not in html
    officer, _ = client_for(Role.OFFICER, ["320583"])
    assert officer.get(f"/firms/{BH_USCC}/").status_code == 404  # Binhu's firm and its 777: not shown
    assert "777" not in section(officer.get(f"/firms/{KS_USCC}/").content.decode()).get(str(details["year"] - 1), [])


def test_one_statement_however_many_years(details):
    """Reading the details is one statement, whether the firm has none, one or four years of them."""
    client, _ = client_for(Role.OFFICER, ["320583"])
    counts = {}
    for name, uscc in [("four years", KS_USCC), ("none", details["candidate"].uscc)]:
        statements(client, f"/firms/{uscc}/")  # warm the per-process names
        _, sql = statements(client, f"/firms/{uscc}/")
        counts[name] = [s for s in sql if "registry_indicatordetail" in s and "registry_firm" not in s.split("FROM", 1)[0]]
        assert len(counts[name]) == 1, counts[name]
