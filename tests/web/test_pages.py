"""The pages over a small hand-checked registry (tests/web/conftest.py: web_registry): scope, field
rules, exports, escaping, the pool, refusals and errors."""

import csv
import io
import json
import re

import pytest
from django.core.cache import cache

from registry.models import CultivationEntry, PoolStatus, Role
from tests.web.conftest import (
    BH_USCC, FORMULA_NAME, KS_CANDIDATE_USCC, KS_FORMULA_USCC, KS_USCC, SCRIPT_NAME,
)
from tests.web.pages_data import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh():
    cache.clear()
    from registry.filtersets import codes

    codes.clear()


@pytest.fixture
def officer_client(web_registry):
    return client_for(Role.OFFICER, ["320583"])[0]


def csv_rows(response):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def json_scripts(html):
    return [json.loads(m) for m in re.findall(r'<script[^>]*type="application/json"[^>]*>(.*?)</script>', html, re.S)]


# --- home -------------------------------------------------------------------------------------------

def test_officer_home_shows_only_kunshan_targets_counts_and_lapsing(officer_client, web_registry):
    html = officer_client.get("/").content.decode()
    assert "昆山市祖冲之攻关计划三年行动方案" in html and "昆山市高企培育计划" in html
    assert "滨湖区计划" not in html
    charts = json_scripts(html)
    assert len(charts) == 1 and len(charts[0]["labels"]) == 2  # Kunshan's two targets, none of Binhu's
    assert 9 not in charts[0]["target"] and sorted(charts[0]["target"]) == [4, 6]
    stages = html.split('id="stages"', 1)[1].split("</section>", 1)[0]
    # Kunshan: two 科技型中小企业 (the Binhu one is outside), one 高新技术企业.
    counts = dict(re.findall(r'<div class="n">(\d+)</div><div class="l">([^<]+)</div>', stages)[i][::-1]
                  for i in range(len(re.findall(r'<div class="n">', stages))))
    assert counts["科技型中小企业"] == "2" and counts["高新技术企业"] == "1"
    lapsing = html.split('id="lapsing"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r'<div class="n">(\d+)</div>', lapsing) == ["1", "2"]  # 90 days: the candidate; 180: + formula firm
    assert "无锡滨湖智造" not in html


def test_admin_home_counts_every_region(web_registry):
    client, _ = client_for(Role.ADMIN)
    html = client.get("/").content.decode()
    lapsing = html.split('id="lapsing"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r'<div class="n">(\d+)</div>', lapsing) == ["2", "3"]
    assert "滨湖区计划" in html


def test_analyst_home_funnel_and_bad_year_named(web_registry):
    client, _ = client_for(Role.ANALYST)
    year = web_registry["year"]
    html = client.get(f"/?year={year}").content.decode()
    funnel = html.split('id="funnel"', 1)[1].split("</section>", 1)[0]
    # Cohort of this year's first 科技型中小企业 recognitions: the three tech_sme firms.
    assert re.search(r"<td>科技型中小企业</td><td class=\"num\">3</td>", funnel)
    bad = client.get("/?year=20x6").content.decode()
    assert "年度: " in bad and "20x6" in bad


# --- firms ------------------------------------------------------------------------------------------

def test_officer_firm_list_and_export_stay_in_scope(officer_client):
    html = officer_client.get("/firms/").content.decode()
    assert KS_USCC in html and KS_CANDIDATE_USCC in html and BH_USCC not in html
    rows = csv_rows(officer_client.get("/firms/export.csv"))
    assert len(rows) == 4  # header + the three Kunshan firms
    assert BH_USCC not in {r[0] for r in rows}


def test_firm_filters_sort_and_export_match_the_screen(officer_client):
    page = officer_client.get("/firms/?stage=tech_sme&sort=-name").content.decode()
    assert KS_USCC not in page and KS_CANDIDATE_USCC in page
    rows = csv_rows(officer_client.get("/firms/export.csv?stage=tech_sme&sort=-name"))
    assert [r[0] for r in rows[1:]] == sorted([KS_CANDIDATE_USCC, KS_FORMULA_USCC],
                                              key=lambda u: {KS_CANDIDATE_USCC: SCRIPT_NAME,
                                                             KS_FORMULA_USCC: FORMULA_NAME}[u], reverse=True)


def test_export_guards_formulas_in_csv_and_xlsx(officer_client):
    rows = csv_rows(officer_client.get(f"/firms/export.csv?stage=tech_sme"))
    names = [r[1] for r in rows[1:]]
    assert "'" + FORMULA_NAME in names and FORMULA_NAME not in names
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(officer_client.get("/firms/export.xlsx?stage=tech_sme").content))
    cells = [c.value for row in book.active.iter_rows() for c in row]
    assert "'" + FORMULA_NAME in cells and FORMULA_NAME not in cells


def test_invalid_filters_are_named(officer_client):
    html = officer_client.get("/firms/?founded_after=2020-13-01&stage=nope").content.decode()
    assert "成立晚于: " in html and "阶段: " in html


def test_names_with_script_render_as_text(officer_client):
    for url in ("/firms/", f"/firms/{KS_CANDIDATE_USCC}/", "/candidates/?stage=hnte"):
        html = officer_client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_investor_never_gets_a_restricted_figure(web_registry):
    client, _ = client_for(Role.INVESTOR)
    html = client.get("/firms/").content.decode()
    assert "营业收入" not in html and "研发强度" not in html and "从业人员" in html
    refused = client.get("/firms/?revenue_min=1").content.decode()
    assert "revenue_min" in refused and KS_USCC not in refused
    header = csv_rows(client.get("/firms/export.csv"))[0]
    assert not any("营业收入" in h or "研发" in h for h in header)
    profile = client.get(f"/firms/{KS_USCC}/").content.decode()
    assert "10,000" not in profile and "营业收入" not in profile
    assert 'id="eligibility"' not in profile and 'id="pool"' not in profile
    assert "150" in profile  # employees are public


@pytest.mark.parametrize("path", ["/candidates/", "/pool/"])
def test_investor_refused_internal_pages(web_registry, path):
    client, _ = client_for(Role.INVESTOR)
    assert client.get(path).status_code == 403
    assert client.post("/pool/add/", {"uscc": KS_USCC, "target_stage": "hnte", "target_year": 2026}).status_code == 403


def test_profile_of_another_district_is_404(officer_client):
    assert officer_client.get(f"/firms/{BH_USCC}/").status_code == 404
    response = officer_client.get(f"/firms/{KS_USCC.lower()}/")  # normalised like the API
    assert response.status_code == 200


def test_profile_shows_identity_ladder_and_eligibility(officer_client):
    html = officer_client.get(f"/firms/{KS_USCC}/").content.decode()
    assert "昆山芯微科技有限公司" in html  # former name
    ladder = html.split('class="ladder"', 1)[1].split("</div></div>", 1)[0]
    assert re.search(r'rung here"[^>]*>高新技术企业<', ladder)
    assert len(re.findall(r'class="rung', ladder)) == 5
    eligibility = html.split('id="eligibility"', 1)[1].split("</section>", 1)[0]
    assert "瞪羚企业" in eligibility and "科技型中小企业" not in eligibility  # only rungs above the current one


# --- candidates and the pool ---------------------------------------------------------------------------

def test_candidates_in_scope_and_one_click_pooling(officer_client, web_registry):
    html = officer_client.get("/candidates/?stage=hnte").content.decode()
    assert KS_CANDIDATE_USCC in html and BH_USCC not in html
    year = web_registry["year"]
    response = officer_client.post("/pool/add/", {"uscc": KS_CANDIDATE_USCC, "target_stage": "hnte",
                                                  "target_year": year}, HTTP_HX_REQUEST="true")
    assert "已加入培育库" in response.content.decode()
    entry = CultivationEntry.objects.get(firm=web_registry["candidate"])
    assert entry.status == PoolStatus.POOLED and entry.owner.username.startswith("p-officer")
    again = officer_client.post("/pool/add/", {"uscc": KS_CANDIDATE_USCC, "target_stage": "hnte",
                                               "target_year": year}, HTTP_HX_REQUEST="true").content.decode()
    assert "target_year" in again and "already" in again
    assert "已在培育库" in officer_client.get("/candidates/?stage=hnte").content.decode()


def test_how_many_candidates_are_eligible_now_on_the_page_and_the_home(officer_client, web_registry):
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from registry.eligibility import find_candidates
    from registry.services import upsert_firm, upsert_indicators
    from tests.factories import make_uscc

    for serial in (700101, 700102, 700103):  # three firms off the ladder; two meet the tech SME criteria
        firm, _ = upsert_firm(make_uscc("320583", serial=serial), name=f"昆山候选{serial}科技有限公司", region="320583")
        if serial != 700103:  # the third has no indicators: missing data, not eligible
            upsert_indicators(firm, 2025, {"revenue": Decimal(1000), "rd_expense": Decimal(60), "employees": 100,
                                           "rd_staff": 30, "ip_class1": 1, "total_assets": Decimal(3000)})
    officer = get_user_model().objects.get(username__startswith="p-officer")
    found = find_candidates("tech_sme", user=officer, first=0)
    assert found.eligible == 2 < found.total
    page = officer_client.get("/candidates/?stage=tech_sme").content.decode()
    assert f'{found.total:,} 家 · <span id="eligible-count">其中符合条件 {found.eligible:,} 家</span>' in page
    home = officer_client.get("/").content.decode().split('id="candidates"', 1)[1].split("</section>", 1)[0]
    row = home.split("?stage=tech_sme", 1)[1].split("</tr>", 1)[0]
    assert f'{found.total:,} <span class="muted eligible">（符合 {found.eligible:,}）</span>' in row


def test_officer_cannot_pool_or_move_outside_scope(officer_client, web_registry):
    response = officer_client.post("/pool/add/", {"uscc": BH_USCC, "target_stage": "hnte", "target_year": 2026},
                                   HTTP_HX_REQUEST="true")
    assert "您的辖区内没有此统一社会信用代码的企业" in response.content.decode()
    assert not CultivationEntry.objects.exists()
    from registry.services.cultivation import add_to_cultivation_pool

    entry = add_to_cultivation_pool(web_registry["bh"], "hnte", target_year=2026)
    officer_client.post(f"/pool/{entry.id}/", {"status": "coaching"})
    entry.refresh_from_db()
    assert entry.status == PoolStatus.POOLED
    assert "无锡滨湖智造" not in officer_client.get("/pool/").content.decode()


def test_pool_board_moves_cards_through_the_service(officer_client, web_registry):
    from registry.services.cultivation import add_to_cultivation_pool

    entry = add_to_cultivation_pool(web_registry["candidate"], "hnte", target_year=web_registry["year"])
    html = officer_client.post(f"/pool/{entry.id}/", {"status": "coaching"}, HTTP_HX_REQUEST="true").content.decode()
    entry.refresh_from_db()
    assert entry.status == PoolStatus.COACHING
    coaching = html.split('data-status="coaching"', 1)[1].split("</section>", 1)[0]
    assert KS_CANDIDATE_USCC in coaching
    bad = officer_client.post(f"/pool/{entry.id}/", {"status": "recognized"}, HTTP_HX_REQUEST="true").content.decode()
    assert "status: " in bad and "Cannot move" in bad
    empty = officer_client.post(f"/pool/{entry.id}/", {"note": "  "}, HTTP_HX_REQUEST="true").content.decode()
    assert "备注: " in empty
    officer_client.post(f"/pool/{entry.id}/", {"note": "走访企业，确认研发费用"})
    assert entry.notes.filter(text="走访企业，确认研发费用").exists()


def test_analyst_sees_the_pool_but_cannot_change_it(web_registry):
    from registry.services.cultivation import add_to_cultivation_pool

    entry = add_to_cultivation_pool(web_registry["candidate"], "hnte", target_year=web_registry["year"])
    client, _ = client_for(Role.ANALYST)
    html = client.get("/pool/").content.decode()
    assert KS_CANDIDATE_USCC in html and "pool_update" not in html and f"/pool/{entry.id}/" not in html
    assert client.post(f"/pool/{entry.id}/", {"status": "coaching"}).status_code == 403


def test_every_form_post_needs_csrf(web_registry):
    client, _ = client_for(Role.OFFICER, ["320583"], enforce_csrf_checks=True)
    assert client.post("/pool/add/", {"uscc": KS_CANDIDATE_USCC, "target_stage": "hnte",
                                      "target_year": 2026}).status_code == 403
    assert client.post("/firms/screens/", {"name": "x", "query": "stage=hnte"}).status_code == 403
    assert not CultivationEntry.objects.exists()


def test_saved_screen_round_trip_on_the_investor_home(web_registry):
    client, user = client_for(Role.INVESTOR)
    response = client.post("/firms/screens/", {"name": "昆山科小", "query": "stage=tech_sme&region=320583&page=2"})
    assert response.status_code == 302 and response["Location"].endswith("?stage=tech_sme&region=320583")
    home = client.get("/").content.decode()
    assert "昆山科小" in home and "stage=tech_sme&amp;region=320583" in home
    named = client.post("/firms/screens/", {"name": "", "query": "stage=hnte"}, follow=True).content.decode()
    assert "请填写筛选方案名称" in named


def test_server_error_shows_no_traceback(web_registry, monkeypatch):
    from web.views import home

    def broken(request):
        raise RuntimeError("secret detail /etc/passwd")

    monkeypatch.setattr(home, "officer_context", broken)
    client, _ = client_for(Role.OFFICER, ["320583"], raise_request_exception=False)
    response = client.get("/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "服务器错误" in body and "secret detail" not in body and "Traceback" not in body


def test_officer_home_in_english(officer_client):
    officer_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = officer_client.get("/").content.decode()
    assert "Target progress" in html and "Recognitions lapsing soon" in html and "目标任务进度" not in html
    assert "Tech-based SME" in html and "科技型中小企业" not in html  # the ladder's English names
    firms = officer_client.get("/firms/").content.decode()
    assert "High-tech enterprise" in firms and "Current stage" in firms


def test_candidate_export_linked_from_the_page_is_refused_to_investors(web_registry):
    investor, _ = client_for(Role.INVESTOR)
    assert investor.get("/exports/candidates.csv?stage=hnte").status_code == 403
    officer, _ = client_for(Role.OFFICER, ["320583"])
    rows = csv_rows(officer.get("/exports/candidates.csv?stage=hnte"))
    assert KS_CANDIDATE_USCC in {r[0] for r in rows} and BH_USCC not in {r[0] for r in rows}


def test_export_with_a_bad_filter_names_it(officer_client):
    response = officer_client.get("/firms/export.csv?founded_before=not-a-date")
    assert response.status_code == 400 and "成立早于" in response.content.decode()


def test_candidate_gaps_are_explained_in_the_page_language(officer_client, web_registry):
    import html as html_lib

    from registry.eligibility.candidates import find_candidates

    candidate = next(c for c in find_candidates("hnte").items if c.firm.uscc == KS_CANDIDATE_USCC)
    item = candidate.unmet[0]
    assert item["text_zh"] != item["text_en"]
    chinese = html_lib.unescape(officer_client.get("/candidates/?stage=hnte").content.decode())
    english = html_lib.unescape(officer_client.get("/candidates/?stage=hnte", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert item["text_zh"] in chinese and item["text_en"] not in chinese
    assert item["text_en"] in english and item["text_zh"] not in english
