"""End to end in real Chromium: the analyst's funnel and cohort drill-down, the investor's search with a
stage filter and an export, the officer's dry-run import."""

import csv
import io

import pytest

from registry.models import Role
from tests.web.conftest import fill_recognitions_upload
from tests.web.pages_data import KS, indexed, pages_registry  # noqa: F401
from tests.web.test_imports_page import NEW_USCC, small_list

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("restore_reference_data")]


def test_analyst_opens_the_funnel_and_drills_into_a_cohort(page, live_server, sign_in, pages_registry):
    sign_in(page, Role.ANALYST)
    page.click("nav.mainnav >> text=分析")
    page.select_option("select[name=stage]", "tech_sme")
    page.fill("input[name=year]", "2023")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**year=2023**")  # the page before it has a funnel too
    page.wait_for_selector("#funnel-chart svg")  # ECharts drew the funnel (served locally)
    assert page.locator("#funnel table tbody tr").first.locator("td").nth(1).inner_text() == "5"
    row = page.locator("#cohorts tbody tr", has_text="2023")
    row.locator("td").nth(2).locator("a.drill").click()  # year 1: those that became 高企 within a year
    page.wait_for_selector("#cohort-firms")
    names = sorted(page.locator("#cohort-firms tbody tr td:nth-child(2)").all_inner_texts())
    assert names == ["无锡碳化硅半导体有限公司", "昆山晶合碳化硅科技有限公司", "昆山碳化硅材料有限公司"]


def test_investor_searches_filters_by_stage_and_exports(page, live_server, sign_in, indexed):
    sign_in(page, Role.INVESTOR)
    page.click("nav.mainnav >> text=搜索")
    # loaded, so htmx (deferred) has bound the box: typing before that sends nothing. Waiting for the URL,
    # not the load state, which the page before it is already in.
    page.wait_for_url("**/search/")
    page.fill("#id_q", "昆山碳")
    page.wait_for_selector("#suggestions a", state="attached")  # as-you-type suggestions
    assert "昆山碳化硅材料有限公司" in page.locator("#suggestions").inner_text()
    page.fill("#id_q", "碳化硅")
    page.press("#id_q", "Enter")
    page.wait_for_selector('#total[data-total="6"]')
    page.click("fieldset[data-facet=stage] input[value=hnte]")  # htmx swaps the results (and this box)
    page.wait_for_selector('#total[data-total="2"]')
    assert "stage=hnte" in page.url
    with page.expect_download() as info:
        page.click("#export-csv")
    text = open(info.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(text)))
    assert sorted(r[1] for r in rows[1:]) == ["无锡碳化硅半导体有限公司", "昆山晶合碳化硅科技有限公司"]


def test_suggestions_stay_closed_once_enter_has_run_the_search(page, live_server, sign_in, indexed):
    """Enter before the suggestions came (they follow the last key by 250 ms): their late answer must not
    open the list over the hits."""
    sign_in(page, Role.INVESTOR)
    page.goto(f"{live_server.url}/search/")
    page.evaluate("""window.suggestAnswers = 0; document.addEventListener("htmx:afterRequest", function (e) {
        if (e.detail.target && e.detail.target.id === "suggestions") { window.suggestAnswers += 1; } });""")
    with page.expect_response("**/search/suggest/**"):
        page.fill("#id_q", "碳化硅")
        page.press("#id_q", "Enter")
    page.wait_for_selector('#total[data-total="6"]')
    page.wait_for_function("window.suggestAnswers > 0")  # the late answer has been handled
    assert page.locator("#suggestions a").count() == 0
    page.fill("#id_q", "昆山碳")  # typing again brings them back
    page.wait_for_selector("#suggestions a", state="attached")


def test_officer_uploads_a_list_with_dry_run_and_imports(page, live_server, sign_in, pages_registry, tmp_path):
    from registry.models import Firm

    sign_in(page, Role.OFFICER, [KS])
    page.click("nav.mainnav >> text=名单导入")
    sheet = tmp_path / "科小名单.csv"
    sheet.write_bytes(small_list())
    fill_recognitions_upload(page, sheet)
    page.click(".upload-form button[type=submit]")
    page.wait_for_selector('#job-status[data-status="partial"]')  # some rows were rejected
    assert "out_of_scope" in page.locator("#report").inner_text()
    assert not Firm.objects.filter(uscc=NEW_USCC).exists()
    page.click("#import-for-real")
    page.wait_for_selector("#import-for-real", state="detached")
    page.wait_for_selector('#job-status[data-status="partial"]')
    assert Firm.objects.filter(uscc=NEW_USCC).exists()
