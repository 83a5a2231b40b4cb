"""Region names on English pages (web.regions.local_name, the `region_name` filter): Kunshan for 昆山市 on the
firms table, the profile, candidates, the officer's home and the region picker; Chinese stays the default."""

import html as html_lib

import pytest
from django.utils import translation

from registry.models import Region, Role
from web.regions import local_name, tree
from tests.web.conftest import KS_CANDIDATE_USCC, KS_USCC
from tests.web.test_pages import _fresh, client_for, csv_rows  # noqa: F401 - the caches are cleared per test

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("code, english", [
    ("320000", "Jiangsu"), ("320500", "Suzhou"), ("320583", "Kunshan"), ("320214", "Xinwu District"),
    ("320571", "Suzhou Industrial Park"), ("320800", "Huai'an"), ("320322", "Pei County"),
    ("321271", "Taizhou Yiyao Hi-tech Industrial Development Zone"), ("150000", "Inner Mongolia"),
    ("610000", "Shaanxi"), ("222400", "Yanbian Autonomous Prefecture"), ("810000", "Hong Kong"),
])
def test_english_names_from_the_region_table(code, english):
    region = Region.objects.get(code=code)
    with translation.override("en"):
        assert local_name(region) == english
    with translation.override("zh-hans"):
        assert local_name(region) == region.name


def test_every_region_has_a_latin_english_name():
    names = [tree().english_name(name) for name in Region.objects.values_list("name", flat=True)]
    assert all(name and all(ord(c) < 0x2e80 for c in name) for name in names), [n for n in names if not n.isascii()][:5]


def page(client, path, **params):
    return html_lib.unescape(client.get(path, params).content.decode())


def test_firms_table_profile_candidates_and_home_in_english(web_registry):
    english, _ = client_for(Role.OFFICER, ["320583"], username="en-officer", HTTP_ACCEPT_LANGUAGE="en")
    chinese, _ = client_for(Role.OFFICER, ["320583"], username="zh-officer")
    table = page(english, "/firms/").split('id="firm-table"', 1)[1]
    assert "Kunshan" in table and "昆山市" not in table
    assert "昆山市" in page(chinese, "/firms/").split('id="firm-table"', 1)[1]

    identity = page(english, f"/firms/{KS_USCC}/").split("</table>", 1)[0]
    assert "Jiangsu › Suzhou › Kunshan" in identity and "苏州市" not in identity
    assert "江苏省 › 苏州市 › 昆山市" in page(chinese, f"/firms/{KS_USCC}/")

    candidates = page(english, "/candidates/", stage="hnte").split('id="candidate-table"', 1)[1]
    row = candidates.split(KS_CANDIDATE_USCC, 1)[1].split("</tr>", 1)[0]
    assert "<td>Kunshan</td>" in row

    home = page(english, "/").split('id="targets"', 1)[1].split("</section>", 1)[0]
    assert "<h3>Kunshan " in home and "<h3>昆山市" not in home  # (the plans keep their own titles)


def test_the_firms_export_says_what_the_english_page_shows(web_registry):
    client, _ = client_for(Role.ANALYST, HTTP_ACCEPT_LANGUAGE="en")
    regions = {row[2] for row in csv_rows(client.get("/firms/export.csv"))[1:]}
    assert regions == {"Kunshan", "Binhu District"}


def test_the_region_picker_in_english(web_registry):
    client, _ = client_for(Role.ANALYST, HTTP_ACCEPT_LANGUAGE="en")
    found = client.get("/regions/", {"q": "kunshan"}).json()["regions"][0]
    assert (found["name"], found["trail"]) == ("Kunshan", "Jiangsu › Suzhou")
    assert client.get("/regions/", {"q": "huai'an"}).json()["regions"][0]["name"] == "Huai'an"
    suzhou = client.get("/regions/", {"parent": "320500"}).json()["regions"]
    assert {"Suzhou Industrial Park", "Kunshan", "Wuzhong District"} <= {r["name"] for r in suzhou}
    chosen = page(client, "/firms/", region="320583")
    assert "Jiangsu › Suzhou › Kunshan" in chosen
    chinese, _ = client_for(Role.ANALYST, username="zh-analyst")
    assert chinese.get("/regions/", {"q": "kunshan"}).json()["regions"][0]["name"] == "昆山市"
