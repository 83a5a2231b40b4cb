"""The region picker: its endpoint (/regions/: roots, children, search by name, pinyin, initials or code)
kept to the user's regions, and the filters that take its value (the firms, candidates, pool pages)."""

import pytest
from django.test import Client

from registry.models import Role
from tests.web.conftest import BH_USCC, KS_USCC
from tests.web.test_pages import _fresh, client_for  # noqa: F401 - the caches are cleared per test

pytestmark = pytest.mark.django_db


def codes(response):
    assert response.status_code == 200, response.content
    return [r["code"] for r in response.json()["regions"]]


def test_analyst_tree_starts_at_the_provinces_and_opens_lazily():
    client, _ = client_for(Role.ANALYST)
    roots = client.get("/regions/").json()["regions"]
    assert {r["level"] for r in roots} == {"province"} and len(roots) >= 31
    jiangsu = next(r for r in roots if r["code"] == "320000")
    assert jiangsu["name"] == "江苏省" and jiangsu["children"] is True and jiangsu["trail"] == ""
    cities = client.get("/regions/", {"parent": "320000"}).json()["regions"]
    assert "320500" in [r["code"] for r in cities] and all(r["level"] in ("city", "park") for r in cities)
    districts = client.get("/regions/", {"parent": "320500"}).json()["regions"]
    kunshan = next(r for r in districts if r["code"] == "320583")
    assert kunshan["name"] == "昆山市" and kunshan["trail"] == "江苏省 › 苏州市"


@pytest.mark.parametrize("text", ["昆山", "kunshan", "KunShan", "ks", "320583", "昆山市"])
def test_search_finds_kunshan_by_name_pinyin_initials_and_code(text):
    client, _ = client_for(Role.ANALYST)
    found = codes(client.get("/regions/", {"q": text}))
    assert "320583" in found
    if text in ("昆山", "昆山市", "kunshan", "320583"):
        assert found[0] == "320583"


def test_search_orders_exact_names_first_and_caps_the_list():
    client, _ = client_for(Role.ANALYST)
    found = client.get("/regions/", {"q": "su"}).json()["regions"]  # 苏州, 宿迁, 绥化, … many
    assert 0 < len(found) <= 20
    levels = [r["level"] for r in found]
    assert levels == sorted(levels, key=["province", "city", "district", "park"].index)


def test_officer_sees_only_their_regions():
    client, _ = client_for(Role.OFFICER, ["320583"])
    assert codes(client.get("/regions/")) == ["320583"]
    assert codes(client.get("/regions/", {"q": "昆山"}))[0] == "320583"
    assert "320500" not in codes(client.get("/regions/", {"q": "苏州"}))  # the city above theirs is not theirs
    assert codes(client.get("/regions/", {"q": "无锡"})) == []  # outside: not even the name
    assert codes(client.get("/regions/", {"q": "kunshan"}))[0] == "320583"
    # Opening a region above or beside theirs answers 404, the same as an unknown code.
    assert client.get("/regions/", {"parent": "320500"}).status_code == 404
    assert client.get("/regions/", {"parent": "320211"}).status_code == 404
    assert client.get("/regions/", {"parent": "999999"}).status_code == 404
    assert client.get("/regions/", {"parent": "320583"}).status_code == 200


def test_bad_and_anonymous_requests():
    client, _ = client_for(Role.INVESTOR)
    response = client.get("/regions/", {"q": "x" * 41})
    assert response.status_code == 400 and "q" in response.json()["error"]
    assert codes(client.get("/regions/", {"q": "   "})) == []
    anonymous = Client().get("/regions/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_firms_page_has_the_picker_not_a_national_select(web_registry):
    client, _ = client_for(Role.ANALYST)
    html = client.get("/firms/", {"region": "320583"}).content.decode()
    assert 'class="region-picker"' in html and 'name="region"' in html and 'value="320583"' in html
    assert "江苏省 › 苏州市 › 昆山市" in html  # the chosen region, named with its trail
    assert '<option value="320583"' not in html and html.count("<option") < 300
    assert KS_USCC in html and BH_USCC not in html


def test_firms_page_names_a_bad_or_foreign_region_code(web_registry):
    client, _ = client_for(Role.OFFICER, ["320583"])
    for code in ("320211", "999999"):
        html = client.get("/firms/", {"region": code}).content.decode()
        assert '<p class="field-error">地区: ' in html and f"“{code}”" in html
        assert KS_USCC not in html and BH_USCC not in html
    html = client.get("/firms/", {"region": "320583"}).content.decode()
    assert KS_USCC in html and "field-error" not in html


@pytest.mark.parametrize("path", ["/candidates/", "/pool/", "/"])
def test_other_region_filters_use_the_picker(web_registry, path):
    client, _ = client_for(Role.ANALYST)
    html = client.get(path, {"region": "320583"}).content.decode()
    assert 'class="region-picker"' in html and 'value="320583"' in html and '<option value="320583"' not in html


def test_the_picker_speaks_english_on_english_pages(web_registry):
    client, _ = client_for(Role.OFFICER, ["320583"], HTTP_ACCEPT_LANGUAGE="en")
    html = client.get("/firms/", {"region": "320211"}).content.decode()
    assert "Find a region: name, pinyin or code" in html and "All regions" in html
    assert "There is no region with code “320211” in your regions." in html
