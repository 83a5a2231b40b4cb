"""培育库 board: handing a card to another owner (改派), with the region rule of registry.pool."""

import pytest
from django.core.cache import cache
from django.test import Client

from registry.models import Role
from registry.services.cultivation import add_to_cultivation_pool
from tests.web.conftest import KS_CANDIDATE_USCC, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(web_registry):
    """A 昆山 card owned by the 昆山 officer; officers of 苏州市 (covers 昆山) and 滨湖 (does not); an admin."""
    cache.clear()
    people = {
        "ks": make_user("ks-owner", Role.OFFICER, ["320583"]),
        "sz": make_user("sz-city", Role.OFFICER, ["320500"]),
        "bh": make_user("bh-wuxi", Role.OFFICER, ["320211"]),
        "admin": make_user("the-admin", Role.ADMIN),
        "analyst": make_user("an-analyst", Role.ANALYST),
    }
    entry = add_to_cultivation_pool(web_registry["candidate"], "hnte", target_year=web_registry["year"],
                                    owner=people["ks"], actor=people["ks"])
    bh_entry = add_to_cultivation_pool(web_registry["bh"], "hnte", target_year=web_registry["year"], owner=people["bh"])
    return {"entry": entry, "bh_entry": bh_entry, **people}


def client_of(user, **kwargs):
    client = Client(**kwargs)
    client.force_login(user)
    return client


def card(html, uscc):
    return html.split(f'data-uscc="{uscc}"', 1)[1].split("</article>", 1)[0]


def test_the_select_lists_the_regions_officers_and_admins_only(board):
    html = client_of(board["ks"]).get("/pool/").content.decode()
    options = card(html, KS_CANDIDATE_USCC).split('name="owner"', 1)[1].split("</select>", 1)[0]
    assert '<option value="ks-owner" selected>' in options
    for username in ("sz-city", "the-admin"):
        assert f'<option value="{username}">' in options
    # another district's officer is named nowhere on the 昆山 officer's board, nor is the analyst
    assert "bh-wuxi" not in html and "an-analyst" not in html


def test_reassigning_updates_the_card_and_its_history(board):
    client = client_of(board["ks"])
    html = client.post(f"/pool/{board['entry'].id}/owner/", {"owner": "sz-city"}, HTTP_HX_REQUEST="true").content.decode()
    entry = board["entry"]
    entry.refresh_from_db()
    assert entry.owner == board["sz"]
    mine = card(html, KS_CANDIDATE_USCC)
    assert "负责人：sz-city" in mine and "负责人 owner: ks-owner → sz-city" in mine
    assert '<option value="sz-city" selected>' in mine
    assert html.startswith('<div id="board">') and "<html" not in html  # an htmx fragment, not a page
    # the same owner again writes nothing; "" clears the owner (written to the history too)
    client.post(f"/pool/{entry.id}/owner/", {"owner": "sz-city"}, HTTP_HX_REQUEST="true")
    assert entry.notes.count() == 2
    client.post(f"/pool/{entry.id}/owner/", {"owner": ""})
    entry.refresh_from_db()
    assert entry.owner is None and entry.notes.order_by("-id").first().text == "负责人 owner: sz-city → —"


def test_an_officer_cannot_assign_outside_the_region_nor_touch_another_districts_card(board):
    client = client_of(board["ks"])
    entry, bh_entry = board["entry"], board["bh_entry"]
    html = client.post(f"/pool/{entry.id}/owner/", {"owner": "bh-wuxi"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'role="alert"' in html and "owner: " in html
    unknown = client.post(f"/pool/{entry.id}/owner/", {"owner": "no-such-user"}, HTTP_HX_REQUEST="true").content.decode()
    alert = lambda page, name: page.split('role="alert">', 1)[1].split("</div>", 1)[0].replace(name, "X")  # noqa: E731
    assert alert(html, "bh-wuxi") == alert(unknown, "no-such-user")  # existing or not: the same answer
    entry.refresh_from_db()
    assert entry.owner == board["ks"] and entry.notes.count() == 1
    foreign = client.post(f"/pool/{bh_entry.id}/owner/", {"owner": "ks-owner"}, HTTP_HX_REQUEST="true").content.decode()
    assert "您的辖区内没有这条培育记录" in foreign
    missing = client.post("/pool/999999/owner/", {"owner": "ks-owner"}, HTTP_HX_REQUEST="true").content.decode()
    assert alert(foreign, "") == alert(missing, "")
    bh_entry.refresh_from_db()
    assert bh_entry.owner == board["bh"]
    assert "owner: " in client.post(f"/pool/{entry.id}/owner/", {}, HTTP_HX_REQUEST="true").content.decode()


def test_an_admin_hands_a_card_across_districts_to_that_districts_officer(board):
    client = client_of(board["admin"])
    client.post(f"/pool/{board['bh_entry'].id}/owner/", {"owner": "the-admin"})
    board["bh_entry"].refresh_from_db()
    assert board["bh_entry"].owner == board["admin"]
    client.post(f"/pool/{board['bh_entry'].id}/owner/", {"owner": "ks-owner"})  # 昆山's officer: not for 滨湖
    board["bh_entry"].refresh_from_db()
    assert board["bh_entry"].owner == board["admin"]


def test_readers_get_no_select_and_cannot_post(board):
    client = client_of(board["analyst"])
    html = client.get("/pool/").content.decode()
    assert KS_CANDIDATE_USCC in html and 'name="owner"' not in html
    assert client.post(f"/pool/{board['entry'].id}/owner/", {"owner": "an-analyst"}).status_code == 403
    board["entry"].refresh_from_db()
    assert board["entry"].owner == board["ks"]


def test_reassigning_needs_csrf(board):
    client = client_of(board["ks"], enforce_csrf_checks=True)
    assert client.post(f"/pool/{board['entry'].id}/owner/", {"owner": "sz-city"}).status_code == 403
    board["entry"].refresh_from_db()
    assert board["entry"].owner == board["ks"]
