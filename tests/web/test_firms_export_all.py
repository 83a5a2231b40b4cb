"""The firms page's 导出全部: every firm of the screen (not just the page on screen), in the screen's
order, within the user's scope and columns, up to EXPORT_PAGE_ROWS — the page says so when there are more."""

import html as html_lib
import re

import pytest

from registry.models import Firm, Role
from tests.web.conftest import BH_USCC
from tests.web.test_pages import _fresh, client_for, csv_rows  # noqa: F401 - the caches are cleared per test

pytestmark = pytest.mark.django_db


def export_all_links(html):
    return [html_lib.unescape(h) for h in re.findall(r'class="button small export-all" href="([^"]+)"', html)]


def test_every_firm_of_the_screen_in_order_and_scope(web_registry, monkeypatch):
    import web.views.firms as firms_view

    monkeypatch.setattr(firms_view, "PAGE_SIZE", 2)  # the page shows two; the export must hold all
    client, _ = client_for(Role.OFFICER, ["320583"])
    page = client.get("/firms/?sort=-name").content.decode()
    links = export_all_links(page)
    assert len(links) == 2 and all("all=1" in link for link in links) and "导出全部" in page
    rows = csv_rows(client.get(links[0]))
    expected = list(Firm.objects.filter(region__path__startswith="320000/320500/320583/")
                    .order_by("-name_normalized", "-id").values_list("uscc", flat=True))
    assert len(expected) == 3 and [r[0] for r in rows[1:]] == expected  # Kunshan's three, sorted as on screen
    assert BH_USCC not in {r[0] for r in rows}
    assert "营业收入（万元）" in rows[0]  # an officer's columns
    xlsx = client.get(links[1])
    assert xlsx.status_code == 200 and xlsx["Content-Disposition"].endswith('-all.xlsx"')


def test_investors_get_their_columns_and_the_cap_is_said(web_registry, settings):
    settings.EXPORT_PAGE_ROWS = 2
    client, _ = client_for(Role.INVESTOR)
    page = client.get("/firms/").content.decode()
    assert "导出前 2 家" in page
    rows = csv_rows(client.get(export_all_links(page)[0]))
    assert len(rows) == 3 and "营业收入（万元）" not in rows[0]  # header + the first two; no restricted column
    refused = client.get("/firms/export.csv?all=1&revenue_min=5")
    assert refused.status_code == 400 and "revenue_min" in refused.content.decode()
