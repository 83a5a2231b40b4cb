"""分析 page: funnel, transitions, cohort table with drill-down, targets; officer scope; exports; errors."""

import csv
import io

import pytest
from django.urls import reverse

from registry.models import PolicyTarget, Region, Role, Stage, Tier
from tests.web.pages_data import BH, KS, client_for, pages_registry  # noqa: F401

pytestmark = pytest.mark.django_db
PARAMS = {"year": 2023, "stage": "tech_sme"}


def rows_of(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_funnel_counts_for_analyst_and_officer(pages_registry):
    analyst, _ = client_for(Role.ANALYST)
    response = analyst.get(reverse("web:analytics"), PARAMS)
    assert response.status_code == 200
    steps = {s["stage"]: s["count"] for s in response.context["funnel"]["steps"]}
    assert steps == {"tech_sme": 5, "hnte": 3, "gazelle": 1, "srdi": 1, "unicorn": 0}  # srdi skips 瞪羚: counts
    officer, _ = client_for(Role.OFFICER, [KS])
    response = officer.get(reverse("web:analytics"), PARAMS)
    steps = {s["stage"]: s["count"] for s in response.context["funnel"]["steps"]}
    assert steps["tech_sme"] == 3 and steps["hnte"] == 2
    assert '"value": 3' in response.content.decode()  # the chart's data: officer's points only


def test_cohort_drill_down_lists_the_firms(pages_registry):
    officer, _ = client_for(Role.OFFICER, [KS])
    page = officer.get(reverse("web:analytics"), PARAMS)
    row = next(r for r in page.context["cohort_rows"] if r["entry_year"] == 2023)
    assert row["size"] == 3
    year1 = next(link for cell, link in row["cells"] if cell["years_since_entry"] == 1)
    response = officer.get(year1)
    assert response.status_code == 200
    names = sorted(r["name"] for r in response.context["page_obj"])
    assert names == ["昆山晶合碳化硅科技有限公司", "昆山碳化硅材料有限公司"]
    csv_rows = rows_of(officer.get(reverse("web:analytics_export", args=["cohort-firms", "csv"]) + year1[year1.index("?"):]))
    assert sorted(r[1] for r in csv_rows[1:]) == names


def test_officer_cannot_ask_for_another_district(pages_registry):
    officer, _ = client_for(Role.OFFICER, [KS])
    response = officer.get(reverse("web:analytics"), {**PARAMS, "region": BH})
    assert response.status_code == 400 and "不在您的辖区内" in response.content.decode()
    drill = officer.get(reverse("web:analytics_cohort"), {"stage": "tech_sme", "entry_year": 2023, "region": BH})
    assert drill.status_code == 400 and "无锡" not in drill.content.decode()
    export = officer.get(reverse("web:analytics_export", args=["funnel", "csv"]), {**PARAMS, "region": BH})
    assert export.status_code == 400


def test_exports_match_the_screen_and_the_scope(pages_registry):
    officer, _ = client_for(Role.OFFICER, [KS])
    funnel = rows_of(officer.get(reverse("web:analytics_export", args=["funnel", "csv"]), PARAMS))
    assert funnel[0][0].startswith("阶段") and [r[1] for r in funnel[1:3]] == ["3", "2"]
    transitions = rows_of(officer.get(reverse("web:analytics_export", args=["transitions", "csv"]), {"year": 2024}))
    assert sum(int(r[3]) for r in transitions[1:]) == 3  # Kunshan's three firms, nothing of Binhu
    from openpyxl import load_workbook

    xlsx = officer.get(reverse("web:analytics_export", args=["cohorts", "xlsx"]), PARAMS)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:2] == ("入选年份 entry year", "企业数 firms") and values[1][:2] == (2023, 3)


def test_transition_matrix(pages_registry):
    analyst, _ = client_for(Role.ANALYST)
    matrix = analyst.get(reverse("web:analytics"), {"year": 2024}).context["matrix"]
    cells = {(f, t): c for f, row in matrix["rows"] for t, c in zip(matrix["tos"], row)}
    tech, hnte = Stage.objects.get(code="tech_sme").name, Stage.objects.get(code="hnte").name
    # All five held 科小 at the start of 2024; three became 高企, two lapsed.
    assert sum(cells.values()) == 5
    assert cells[(tech, hnte)] == 3 and cells[(tech, "未入梯")] == 2
    assert all(c == 0 for (f, t), c in cells.items() if f == "未入梯")


def test_target_progress_over_the_years(pages_registry):
    ks = Region.objects.get(code=KS)
    hnte = Stage.objects.get(code="hnte")
    PolicyTarget.objects.create(region=ks, stage=hnte, kind="stock", year=2024, target=4, source="测试方案")
    PolicyTarget.objects.create(region=ks, stage=hnte, kind="stock", year=2025, target=5, source="测试方案")
    officer, _ = client_for(Role.OFFICER, [KS])
    response = officer.get(reverse("web:analytics"), {"year": 2025})
    header, rows = response.context["targets"]
    by_year = {r[0]: (r[5], r[6]) for r in rows if r[1] == hnte.name and r[3].startswith("存量")}
    assert by_year[2024] == (4, 2) and by_year[2025] == (5, 2)   # 高企 certificates run three years
    chart = response.context["target_chart"]
    line = next(s for s in chart["series"] if s["name"] == f"{hnte.name} · 存量")
    points = dict(zip(chart["years"], line["data"]))
    assert points[2024] == {"value": 50.0, "actual": 2, "target": 4}  # completion rates: 2 of 4, 2 of 5
    assert points[2025] == {"value": 40.0, "actual": 2, "target": 5}
    export = rows_of(officer.get(reverse("web:analytics_export", args=["targets", "csv"]), {"year": 2025}))
    assert len(export) - 1 == len(rows)


def test_bad_input_names_the_field(pages_registry):
    analyst, _ = client_for(Role.ANALYST)
    response = analyst.get(reverse("web:analytics"), {"year": "abc"})
    assert response.status_code == 400 and 'data-field="year"' in response.content.decode()
    response = analyst.get(reverse("web:analytics"), {"year": 2999})
    assert response.status_code == 400 and "年份不能晚于" in response.content.decode()
    response = analyst.get(reverse("web:analytics"), {"stage": "unicorn"})
    assert response.status_code == 400 and 'data-field="stage"' in response.content.decode()
    response = analyst.get(reverse("web:analytics_cohort"), {"stage": "tech_sme", "entry_year": 2023, "next_stage": "nope"})
    assert response.status_code == 400 and "nope" in response.content.decode()
    assert analyst.get(reverse("web:analytics_export", args=["nothing", "csv"])).status_code == 404


def test_investor_is_refused(pages_registry):
    investor, _ = client_for(Role.INVESTOR)
    assert investor.get(reverse("web:analytics")).status_code == 403
    assert investor.get(reverse("web:analytics_export", args=["funnel", "csv"])).status_code == 403
    assert investor.get(reverse("web:analytics_cohort"), {"stage": "tech_sme", "entry_year": 2023}).status_code == 403


def test_an_analytics_refusal_names_its_field(pages_registry, monkeypatch):
    from registry.services.errors import field_error

    def refuse(*args, **kwargs):
        raise field_error("stage", "No rules in force for this rung.", code="no_rules")

    monkeypatch.setattr("registry.analytics.funnel", refuse)
    analyst, _ = client_for(Role.ANALYST)
    response = analyst.get(reverse("web:analytics"), PARAMS)
    assert response.status_code == 400 and 'data-field="stage"' in response.content.decode()
    assert "No rules in force" in response.content.decode()


def test_pages_speak_english_when_asked(pages_registry):
    analyst, _ = client_for(Role.ANALYST)
    body = analyst.get(reverse("web:analytics"), PARAMS, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Cohort table" in body and "Funnel of the firms that entered in 2023" in body
    assert "队列表" not in body
    funnel = body.split('id="funnel"', 1)[1].split("</table>", 1)[0]
    assert "High and new technology enterprise" in funnel and "高新技术企业" not in funnel  # the stages' English names
    choosers = body.split('name="stage"', 1)[1].split("</select>", 1)[0]
    cohorts = body.split('id="cohorts"', 1)[1].split("</h2>", 1)[0]
    matrix = body.split('id="transitions"', 1)[1].split("</table>", 1)[0]
    for part in (choosers, cohorts, matrix):
        assert "Tech-based SME" in part and "科技型中小企业" not in part, part
    assert "Not on the ladder" in matrix and "（无）" not in matrix


def test_the_targets_table_speaks_the_page_language_and_groups_thousands(pages_registry):
    PolicyTarget.objects.create(region_id=KS, stage=Stage.objects.get(code="tech_sme"), kind="stock", year=2025,
                                target=4300, source="测试方案")
    for language, words, kind in (("zh-hans", ("目标年份", "口径"), "存量"), ("en", ("Target year", "Kind"), "Stock")):
        officer, _ = client_for(Role.OFFICER, [KS], username=f"targets-{language}")
        body = officer.get(reverse("web:analytics"), {"year": 2025}, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        table = body.split('id="targets"', 1)[1].split("</table>", 1)[0]
        header = table.split("</thead>", 1)[0]
        assert all(f"<th>{w}</th>" in header for w in words) and " year</th>" not in header.replace("Target year", "")
        row = next(r for r in table.split("<tr>") if "4,300" in r)  # grouped as the other tables are
        assert f"<td>{kind}</td>" in row and "STOCK" not in row


def test_the_target_chart_names_tiers_and_kinds_in_the_page_language(pages_registry):
    municipal = Tier.objects.get(code="gazelle_municipal")
    PolicyTarget.objects.create(region_id=KS, stage=municipal.stage, tier=municipal, kind="flow", year=2025,
                                target=80, source="测试方案")
    for language, kind in (("zh-hans", "新增"), ("en", "New")):
        officer, _ = client_for(Role.OFFICER, [KS], username=f"chart-{language}")
        response = officer.get(reverse("web:analytics"), {"year": 2025}, HTTP_ACCEPT_LANGUAGE=language)
        names = [s["name"] for s in response.context["target_chart"]["series"]]
        name = municipal.name_en if language == "en" and municipal.name_en else municipal.name
        assert f"{name} · {kind}" in names
        assert not any("gazelle_municipal" in n for n in names)  # a code is never shown


def test_yearly_flow_targets_make_one_line_and_a_window_a_line_of_its_own(pages_registry):
    hnte = Stage.objects.get(code="hnte")
    for year in (2024, 2025):  # a plan's yearly targets: the window of each is its own year
        PolicyTarget.objects.create(region_id=KS, stage=hnte, kind="flow", start_year=year, year=year, target=10,
                                    source="测试方案")
    PolicyTarget.objects.create(region_id=KS, stage=hnte, kind="flow", start_year=2024, year=2026, target=30,
                                source="测试方案")
    officer, _ = client_for(Role.OFFICER, [KS])
    chart = officer.get(reverse("web:analytics"), {"year": 2025}).context["target_chart"]
    lines = {s["name"]: dict(zip(chart["years"], s["data"])) for s in chart["series"]}
    assert set(lines) == {f"{hnte.name} · 新增", f"{hnte.name} · 新增 2024–2026"}
    assert lines[f"{hnte.name} · 新增"][2024]["target"] == lines[f"{hnte.name} · 新增"][2025]["target"] == 10
    assert lines[f"{hnte.name} · 新增 2024–2026"][2025]["target"] == 30
