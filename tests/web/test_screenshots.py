"""The README's screenshots, taken in real Chromium over a seeded demo registry (seed_demo, a few
thousand firms, and the plans' policy targets), not the tests' hand-made firms with script tags.

Run on purpose, not with the suite (seeding takes a minute):

    CULTIVAR_SCREENSHOTS=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/web/test_screenshots.py

Each role's main task is walked end to end on the way, so a broken page fails the run rather than
being photographed.
"""

import os
from pathlib import Path

import pytest
from django.core.management import call_command

from registry.models import CultivationEntry, Role
from tests.web.conftest import fill_recognitions_upload, screenshot
from tests.web.test_imports_page import small_list

pytestmark = [
    pytest.mark.skipif(not os.environ.get("CULTIVAR_SCREENSHOTS"),
                       reason="screenshots of the demo: CULTIVAR_SCREENSHOTS=1 (seeds a demo registry, ~1 min)"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("restore_reference_data"),
]

DEMO_FIRMS = 3000  # enough for every chart and table to look like the demo; `make demo` seeds 40,000
OFFICER_REGIONS = ["320583", "320571"]  # demo_setup's officer: 昆山市 and 苏州工业园区


@pytest.fixture
def demo_registry(settings, tmp_path):
    import registry.data as registry_data
    from importers.services import import_file
    from search.backends import get_backend

    settings.SEARCH_BACKEND = "embedded"
    settings.SEARCH_EMBEDDED_PATH = tmp_path / "search"
    get_backend.cache_clear()
    call_command("seed_demo", firms=DEMO_FIRMS, seed=1, quiet=True)  # with its search index
    import_file(Path(registry_data.__file__).with_name("policy_targets.csv"), kind="targets")
    yield
    get_backend.cache_clear()


def sign_out(page):
    page.context.clear_cookies()


def test_demo_screenshots(page, live_server, sign_in, demo_registry, tmp_path):
    page.emulate_media(reduced_motion="reduce")  # charts drawn at once (web/static/web/charts.js), not mid-animation
    page.goto(f"{live_server.url}/")
    screenshot(page, "login")

    # Officer: targets → a candidate → the pool → 辅导; an import with its dry run.
    sign_in(page, Role.OFFICER, OFFICER_REGIONS, username="demo-officer")
    page.wait_for_function("document.querySelector('.target-chart canvas') !== null")
    screenshot(page, "home-officer")
    page.click("nav.mainnav >> text=候选企业")
    page.wait_for_selector("#candidate-table tbody tr td a")
    screenshot(page, "candidates")
    page.locator("#candidate-table tbody tr td a[href^='/firms/']").first.click()
    page.wait_for_selector("#eligibility")
    page.select_option("#pool select[name=target_stage]", "hnte")
    page.click("#pool button[type=submit]")
    page.wait_for_selector("#pool-add-result .pool-added")
    page.wait_for_function("document.querySelector('#indicator-chart canvas') !== null")
    screenshot(page, "firm-profile")
    uscc = CultivationEntry.objects.latest("id").firm.uscc
    page.click("nav.mainnav >> text=培育库")
    page.locator(f"[data-status=pooled] .pcard[data-uscc='{uscc}'] button[value=coaching]").click()
    page.wait_for_selector(f"[data-status=coaching] .pcard[data-uscc='{uscc}']")
    screenshot(page, "pool")
    page.click("nav.mainnav >> text=名单导入")
    sheet = tmp_path / "科小名单.csv"
    sheet.write_bytes(small_list())
    fill_recognitions_upload(page, sheet)
    screenshot(page, "imports")
    page.click(".upload-form button[type=submit]")
    page.wait_for_selector('#job-status[data-status="partial"]')
    screenshot(page, "imports-report")
    sign_out(page)

    # Analyst: the funnel, a cohort's firms, GraphiQL.
    sign_in(page, Role.ANALYST, username="demo-analyst")
    page.wait_for_function("document.querySelector('#funnel-chart canvas') !== null")
    screenshot(page, "home-analyst")
    page.click("nav.mainnav >> text=分析")
    page.wait_for_url("**/analytics/")  # the analyst's home has a funnel too
    page.wait_for_selector("#funnel-chart svg, #funnel-chart canvas")
    screenshot(page, "analytics")
    page.locator("#cohorts tbody a.drill").first.click()
    page.wait_for_selector("#cohort-firms")
    screenshot(page, "analytics-cohort")
    page.goto(f"{live_server.url}/graphql")
    page.wait_for_selector(".graphiql-container")
    page.click(".graphiql-execute-button")
    page.wait_for_function("document.querySelector('.result-window') && "
                           "document.querySelector('.result-window').innerText.includes('totalCount')")
    screenshot(page, "graphiql")
    sign_out(page)

    # Investor: firms by stage and region (the picker), a saved screen, a search.
    sign_in(page, Role.INVESTOR, username="demo-investor")
    page.click("nav.mainnav >> text=企业")
    page.select_option("#id_stage", "hnte")
    picker = page.locator("#firm-filters .region-picker")
    picker.locator(".rp-toggle").click()
    picker.locator(".rp-search").fill("kunshan")
    picker.locator(".rp-results li[data-code='320583']").wait_for()
    screenshot(page, "region-picker")
    picker.locator(".rp-results li[data-code='320583'] .rp-pick").click()
    page.click("#firm-filters button[type=submit]")
    page.wait_for_url("**region=320583**")
    page.fill("input[name=name]", "昆山高企")
    page.click("text=保存筛选")
    page.wait_for_selector("ul.messages")
    assert page.locator("#firm-table tbody tr").count() > 5
    screenshot(page, "firms")
    page.click("nav.mainnav >> text=搜索")
    page.wait_for_url("**/search/")  # loaded: htmx has bound the box
    page.fill("#id_q", "精密")
    page.press("#id_q", "Enter")
    page.wait_for_selector(".hit-name em")  # the query's hits, highlighted (the page before had the browse list)
    assert int(page.locator("#total").get_attribute("data-total")) > 0
    screenshot(page, "search")
    page.click("nav.mainnav >> text=首页")
    page.wait_for_url(f"{live_server.url}/")
    assert "昆山高企" in page.locator("main").inner_text()
    screenshot(page, "home-investor")
