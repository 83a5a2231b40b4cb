"""Region names on English pages (web.regions.local_name, the `region_name` filter): Kunshan for 昆山市 on the
firms table, the profile, candidates, the officer's home, the region picker, the search suggestions, the
import review card and the analytics page with its drill-down and export; Chinese stays the default."""

import html as html_lib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from importers.models import ImportReviewItem
from registry.models import PolicyTarget, Region, Role, Stage
from tests.web.conftest import KS_CANDIDATE_USCC, KS_USCC
from tests.web.pages_data import BH, KS, indexed, pages_registry  # noqa: F401
from tests.web.test_imports_page import small_list
from tests.web.test_pages import _fresh, client_for, csv_rows  # noqa: F401 - the caches are cleared per test
from web.regions import local_name, tree

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
    # The recognitions' status in the page's language, not the model's bilingual label
    def recognitions(client):
        return page(client, f"/firms/{KS_USCC}/").split('id="recognitions"', 1)[1].split("</table>", 1)[0]

    assert ">Active</span>" in recognitions(english) and "有效" not in recognitions(english)
    assert '<span class="tag">Chip design</span>' in identity  # its industry chain, by the chain's English name
    assert '<span class="tag">芯片设计</span>' in page(chinese, f"/firms/{KS_USCC}/")
    assert ">有效</span>" in recognitions(chinese) and "active" not in recognitions(chinese)

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


def test_search_suggestions_in_english(indexed):
    english, _ = client_for(Role.ANALYST, username="en-analyst", HTTP_ACCEPT_LANGUAGE="en")
    body = page(english, reverse("web:search_suggest"), q="昆山")
    assert "昆山碳化硅材料有限公司" in body and "Kunshan" in body and "昆山市" not in body
    officer, _ = client_for(Role.OFFICER, [BH], username="en-officer", HTTP_ACCEPT_LANGUAGE="en")
    body = page(officer, reverse("web:search_suggest"), q="无锡")
    assert "Binhu District" in body and "滨湖区" not in body
    chinese, _ = client_for(Role.ANALYST, username="zh-analyst")
    assert "昆山市" in page(chinese, reverse("web:search_suggest"), q="昆山")


def test_search_hits_and_their_export_in_english(indexed):
    english, _ = client_for(Role.OFFICER, [KS], username="en-officer", HTTP_ACCEPT_LANGUAGE="en")
    hits = page(english, reverse("web:search"), q="碳化硅").split('id="total"', 1)[1]
    assert "Kunshan" in hits and "昆山市" not in hits
    export = csv_rows(english.get(reverse("web:search_export", args=["csv"]), {"q": "碳化硅"}))
    assert {row[3] for row in export[1:]} == {"Kunshan"}  # as the firms export: what the page shows
    chinese, _ = client_for(Role.OFFICER, [KS], username="zh-officer")
    assert "昆山市" in page(chinese, reverse("web:search"), q="碳化硅").split('id="total"', 1)[1]


def test_search_facets_in_english(indexed):
    english, _ = client_for(Role.ANALYST, username="en-analyst", HTTP_ACCEPT_LANGUAGE="en")
    facets = page(english, reverse("web:search"), q="碳化硅").split('class="facets"', 1)[1].split("</aside>", 1)[0]
    stage = Stage.objects.get(code="hnte")
    assert stage.name_en in facets and f"> {stage.name} " not in facets  # stages and tiers by their English names
    assert "> Suzhou " in facets and "苏州市" not in facets  # a city by its English name
    chinese, _ = client_for(Role.ANALYST, username="zh-analyst")
    facets = page(chinese, reverse("web:search"), q="碳化硅").split('class="facets"', 1)[1].split("</aside>", 1)[0]
    assert f"> {stage.name} " in facets and "> 苏州市 " in facets


def test_import_review_card_in_english(pages_registry):
    officer, _ = client_for(Role.OFFICER, [KS], username="en-officer", HTTP_ACCEPT_LANGUAGE="en")
    officer.post(reverse("web:imports"), {"kind": "recognitions", "stage": "tech_sme", "tier": "tech_sme",
                                          "file": SimpleUploadedFile("list.csv", small_list(), content_type="text/csv")})
    assert ImportReviewItem.objects.get().candidate_firm == pages_registry["ks1"]

    def candidate_side(client):
        body = page(client, reverse("web:import_review"))
        return body.split("<section>", 2)[2].split("</section>", 1)[0]  # the list's row, then the candidate

    card = candidate_side(officer)
    assert pages_registry["ks1"].uscc in card and "Kunshan" in card and "昆山市" not in card
    assert "(SRDI)" in card and "专精特新" not in card  # its stage in the page's language too
    officer.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"  # the review queue is the officer's own
    assert "昆山市" in candidate_side(officer)


def test_analytics_and_its_drill_down_in_english(pages_registry):
    PolicyTarget.objects.create(region_id=KS, stage=Stage.objects.get(code="hnte"), kind="stock", year=2023,
                                target=4, source="测试方案")
    english, _ = client_for(Role.ANALYST, username="en-analyst", HTTP_ACCEPT_LANGUAGE="en")
    response = english.get(reverse("web:analytics"), {"year": 2023, "stage": "tech_sme", "region": KS})
    body = html_lib.unescape(response.content.decode())
    chooser = body.split('<select name="region">', 1)[1].split("</select>", 1)[0]
    assert "Kunshan" in chooser and "Suzhou" in chooser and "苏州市" not in chooser and "昆山市" not in chooser
    targets = body.split('id="targets"', 1)[1].split("</h2>", 1)[0]
    assert "· Kunshan" in targets and "昆山市" not in targets

    row = next(r for r in response.context["cohort_rows"] if r["entry_year"] == 2023)
    drill = html_lib.unescape(english.get(row["link"]).content.decode())
    heading = drill.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert heading.endswith("· Kunshan")
    table = drill.split('id="cohort-firms"', 1)[1]
    assert table.count("<td>Kunshan</td>") == 3 and "昆山市" not in table
    export = csv_rows(english.get(reverse("web:analytics_export", args=["cohort-firms", "csv"]) + row["link"][row["link"].index("?"):]))
    assert {r[3] for r in export[1:]} == {"Kunshan"}  # as the firms export: what the page shows

    chinese, _ = client_for(Role.ANALYST, username="zh-analyst")
    drill = html_lib.unescape(chinese.get(row["link"]).content.decode())
    assert drill.split("<h1>", 1)[1].split("</h1>", 1)[0].endswith("· 昆山市") and "<td>昆山市</td>" in drill
