"""End to end in real Chromium (tests/web/conftest.py). The README's screenshots come from the demo run
(tests/web/test_screenshots.py), not from these hand-made firms."""

import pytest

from registry.models import CultivationEntry, PoolStatus, Role
from tests.web.conftest import KS_CANDIDATE_USCC, SCRIPT_NAME

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("restore_reference_data")]


def test_officer_sees_targets_opens_a_candidate_pools_it_and_moves_it_to_coaching(page, live_server, sign_in,
                                                                                   web_registry):
    sign_in(page, Role.OFFICER, ["320583"], username="ks-officer")
    targets = page.locator("#targets")
    assert "昆山市" in targets.inner_text() and "昆山市祖冲之攻关计划三年行动方案" in targets.inner_text()
    page.wait_for_function("document.querySelector('.target-chart canvas') !== null")

    page.click("nav.mainnav >> text=候选企业")
    page.wait_for_selector("#candidate-table")
    assert SCRIPT_NAME in page.locator("#candidate-table").inner_text()  # shown as text, not run

    page.click(f"#candidate-table a[href='/firms/{KS_CANDIDATE_USCC}/']")
    page.wait_for_selector("#eligibility")
    page.select_option("#pool select[name=target_stage]", "hnte")
    page.click("#pool button[type=submit]")
    page.wait_for_selector("#pool-add-result .pool-added")
    assert CultivationEntry.objects.get(firm=web_registry["candidate"]).status == PoolStatus.POOLED

    page.click("nav.mainnav >> text=培育库")
    card = page.locator(f"[data-status=pooled] .pcard[data-uscc='{KS_CANDIDATE_USCC}']")
    card.locator("button[value=coaching]").click()
    page.wait_for_selector(f"[data-status=coaching] .pcard[data-uscc='{KS_CANDIDATE_USCC}']")
    assert CultivationEntry.objects.get(firm=web_registry["candidate"]).status == PoolStatus.COACHING


def test_investor_signs_in_and_screens_firms(page, live_server, sign_in, web_registry):
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    sign_in(page, Role.INVESTOR)
    nav = page.locator("nav.mainnav").inner_text()
    assert "企业" in nav and "候选企业" not in nav and "培育库" not in nav and "名单导入" not in nav
    page.click("nav.mainnav >> text=企业")
    page.select_option("#id_stage", "tech_sme")
    page.click("#firm-filters button[type=submit]")
    page.wait_for_url("**stage=tech_sme**")
    table = page.locator("#firm-table").inner_text()
    assert "营业收入" not in table and SCRIPT_NAME in table
    page.fill("input[name=name]", "科小企业")
    page.click("text=保存筛选")
    page.wait_for_selector("ul.messages")
    page.click("nav.mainnav >> text=首页")
    page.wait_for_url(f"{live_server.url}/")  # else main may still be the firms page's
    assert "科小企业" in page.locator("main").inner_text()


@pytest.mark.parametrize(("role", "english", "width"), [(Role.INVESTOR, False, 1366), (Role.ANALYST, True, 1200)])
def test_the_filter_buttons_stay_together_when_the_filter_row_wraps(page, live_server, sign_in, web_registry, role,
                                                                   english, width):
    """At these widths the row used to break between 筛选 and 清除 (Apply and Clear), leaving one alone."""
    sign_in(page, role)
    page.goto(f"{live_server.url}/firms/")
    if english:
        page.click("text=EN")
    page.set_viewport_size({"width": width, "height": 768})
    page.goto(f"{live_server.url}/firms/")
    apply = page.locator("#firm-filters button[type=submit]").bounding_box()
    clear = page.locator("#firm-filters a.button").bounding_box()
    assert abs(apply["y"] - clear["y"]) < 2 and clear["x"] > apply["x"]


def test_outside_requests_are_caught(browser_context, live_server):
    """The guard itself: a page asking for a non-local address has the request aborted and recorded."""
    guard = browser_context.outside_guard
    guard.seen.clear()
    probe = browser_context.new_page()
    try:
        probe.goto(f"{live_server.url}/accounts/login/")
        # evaluate waits for the fetch to settle, so the guard has answered it by then (no fixed wait)
        outcome = probe.evaluate("fetch('http://example.com/x.js').then(() => 'loaded', () => 'aborted')")
    finally:
        probe.close()
    assert outcome == "aborted" and guard.seen == ["http://example.com/x.js"]
    guard.seen.clear()


def test_analyst_home_and_offline_graphiql(page, live_server, sign_in, web_registry):
    sign_in(page, Role.ANALYST)
    page.goto(f"{live_server.url}/?year={web_registry['year']}")
    assert "科技型中小企业" in page.locator("#funnel").inner_text()
    page.wait_for_function("document.querySelector('#funnel-chart canvas') !== null")
    page.goto(f"{live_server.url}/graphql")
    page.wait_for_selector(".graphiql-container")
    page.click(".graphiql-execute-button")
    page.wait_for_function("document.querySelector('.result-window') && "
                           "document.querySelector('.result-window').innerText.includes('totalCount')")


def test_charts_keep_still_for_readers_who_ask_for_less_motion(page, live_server, sign_in, web_registry):
    """prefers-reduced-motion turns the charts' animation off (the README's screenshots are taken so)."""
    sign_in(page, Role.ANALYST)
    animated = "echarts.getInstanceByDom(document.getElementById('funnel-chart')).getOption().animation"
    page.goto(f"{live_server.url}/?year={web_registry['year']}")
    page.wait_for_function("document.querySelector('#funnel-chart canvas') !== null")
    assert page.evaluate(animated) is True
    page.emulate_media(reduced_motion="reduce")
    page.goto(f"{live_server.url}/analytics/?year={web_registry['year']}")
    page.wait_for_selector("#funnel-chart svg")
    assert page.evaluate(animated) is False
    page.goto(f"{live_server.url}/?year={web_registry['year']}")
    page.wait_for_function("document.querySelector('#funnel-chart canvas') !== null")
    assert page.evaluate(animated) is False
