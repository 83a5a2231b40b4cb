"""The region picker in real Chromium: an analyst finds 昆山 by typing pinyin, then by opening the tree
(江苏省 → 苏州市 → 昆山市), and the firms table follows; a Kunshan officer's tree starts at Kunshan."""

import re

import pytest
from playwright.sync_api import expect

from registry.models import Role
from tests.web.conftest import BH_USCC, KS_USCC

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("restore_reference_data")]


def test_analyst_picks_kunshan_by_pinyin_and_through_the_tree(page, live_server, sign_in, web_registry):
    sign_in(page, Role.ANALYST)
    page.click("nav.mainnav >> text=企业")
    picker = page.locator("#firm-filters .region-picker")
    picker.locator(".rp-toggle").click()  # the script has replaced the code box with the tree
    assert picker.locator(".rp-value").get_attribute("type") == "hidden"
    page.wait_for_selector("#firm-filters .rp-tree li[data-code='320000']")
    picker.locator(".rp-search").fill("kunshan")
    first = picker.locator(".rp-results li").first
    first.wait_for()
    assert first.get_attribute("data-code") == "320583" and "昆山市" in first.inner_text()
    first.locator(".rp-pick").click()
    expect(picker.locator(".rp-toggle")).to_have_text(re.compile("昆山市$"))
    page.click("#firm-filters button[type=submit]")
    page.wait_for_url("**region=320583**")
    table = page.locator("#firm-table").inner_text()
    assert KS_USCC in table and BH_USCC not in table

    # The tree, lazily: province → city → district.
    picker = page.locator("#firm-filters .region-picker")
    picker.locator(".rp-toggle").click()
    page.wait_for_selector("#firm-filters .rp-tree li[data-code='320000']")
    picker.locator("li[data-code='320000'] > .rp-open").click()
    picker.locator("li[data-code='320500'] > .rp-open").click()
    picker.locator("li[data-code='320500'] li[data-code='320583'] > .rp-pick").click()
    expect(picker.locator(".rp-value")).to_have_value("320583")
    picker.locator(".rp-toggle").click()
    picker.locator(".rp-all").click()  # back to every region
    expect(picker.locator(".rp-value")).to_have_value("")
    page.click("#firm-filters button[type=submit]")
    page.wait_for_url(lambda url: "region=320583" not in url)  # the page before it is loaded already
    table = page.locator("#firm-table").inner_text()
    assert KS_USCC in table and BH_USCC in table


def test_officer_tree_starts_at_their_region(page, live_server, sign_in, web_registry):
    sign_in(page, Role.OFFICER, ["320583"], username="ks-picker")
    page.click("nav.mainnav >> text=候选企业")
    picker = page.locator(".region-picker")
    picker.locator(".rp-toggle").click()
    page.wait_for_selector(".rp-tree li[data-code='320583']")
    assert picker.locator(".rp-tree > li").count() == 1
    picker.locator(".rp-search").fill("无锡")
    page.wait_for_selector(".rp-empty:not([hidden])")  # outside their regions: nothing, not even the name
    assert picker.locator(".rp-results li").count() == 0
