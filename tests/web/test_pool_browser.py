"""培育库 board in real Chromium (tests/web/conftest.py): move a card, then hand it to another owner."""

import pytest

from registry.models import CultivationEntry, PoolStatus, Role
from registry.services.cultivation import add_to_cultivation_pool
from tests.web.conftest import KS_CANDIDATE_USCC, make_user

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("restore_reference_data")]


def test_officer_moves_a_card_and_reassigns_it(page, live_server, sign_in, web_registry):
    officer = sign_in(page, Role.OFFICER, ["320583"], username="ks-board")
    make_user("sz-colleague", Role.OFFICER, ["320500"])
    make_user("bh-stranger", Role.OFFICER, ["320211"])
    add_to_cultivation_pool(web_registry["candidate"], "hnte", target_year=web_registry["year"], owner=officer,
                            actor=officer)

    page.click("nav.mainnav >> text=培育库")
    card = page.locator(f"[data-status=pooled] .pcard[data-uscc='{KS_CANDIDATE_USCC}']")
    card.locator("button[value=coaching]").click()
    card = page.locator(f"[data-status=coaching] .pcard[data-uscc='{KS_CANDIDATE_USCC}']")
    card.wait_for()

    options = card.locator("select[name=owner] option").all_inner_texts()
    assert "sz-colleague" in options and "ks-board" in options and "bh-stranger" not in options
    url = page.url
    card.locator("select[name=owner]").select_option("sz-colleague")
    card.locator(".owner-form button[type=submit]").click()
    page.wait_for_selector(f"[data-status=coaching] .pcard[data-uscc='{KS_CANDIDATE_USCC}'] >> text=负责人：sz-colleague")
    assert page.url == url  # swapped in place by htmx, not a reload

    card = page.locator(f"[data-status=coaching] .pcard[data-uscc='{KS_CANDIDATE_USCC}']")
    card.locator("summary").click()
    assert "负责人 owner: ks-board → sz-colleague" in card.locator(".timeline").inner_text()
    entry = CultivationEntry.objects.get(firm=web_registry["candidate"])
    assert entry.status == PoolStatus.COACHING and entry.owner.username == "sz-colleague"
