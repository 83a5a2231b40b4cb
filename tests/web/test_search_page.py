"""搜索 page: officer scope on hits, totals, facets, suggestions and export; errors; history; escaping."""

import csv
import io

import pytest
from django.urls import reverse

from registry.models import Role
from tests.web.pages_data import BH, KS, client_for, indexed, pages_registry  # noqa: F401
from web.history import recent_searches

pytestmark = pytest.mark.django_db


def hits(response):
    return response.context["result"]


def test_officer_sees_only_their_district(indexed):
    client, _ = client_for(Role.OFFICER, [KS])
    response = client.get(reverse("web:search"), {"q": "碳化硅"})
    assert response.status_code == 200
    result = hits(response)
    assert result.total == 4
    assert {h.firm.region_id for h in result.hits} == {KS}
    facets = {name: {b.key: b.count for b in buckets} for name, buckets in result.facets.items()}
    assert set(facets["region"]) == {"320500"}  # city-level buckets: Suzhou only, no Wuxi
    assert facets["stage"] == {"hnte": 1, "srdi": 1}  # ks2, ks1 (the 2023 科小 numbers have lapsed)
    body = response.content.decode()
    assert "无锡" not in body and 'data-total="4"' in body

    analyst, _ = client_for(Role.ANALYST)
    everyone = hits(analyst.get(reverse("web:search"), {"q": "碳化硅"}))
    assert everyone.total == 6
    assert {b.key for b in everyone.facets["region"]} == {"320500", "320200"}


def test_stage_facet_filters_and_keeps_alternatives(indexed):
    client, _ = client_for(Role.INVESTOR)
    response = client.get(reverse("web:search"), {"q": "碳化硅", "stage": "hnte"})
    result = hits(response)
    assert sorted(h.firm.name for h in result.hits) == ["无锡碳化硅半导体有限公司", "昆山晶合碳化硅科技有限公司"]
    stage = {b.key: b.count for b in result.facets["stage"]}
    assert stage == {"hnte": 2, "srdi": 1}  # counted without its own filter (multi-select)
    assert 'value="hnte" checked' in response.content.decode().replace("\n", " ").replace("  ", " ")


def test_suggestions_are_scoped(indexed):
    officer, _ = client_for(Role.OFFICER, [BH])
    body = officer.get(reverse("web:search_suggest"), {"q": "无锡"}).content.decode()
    assert "无锡碳化硅半导体有限公司" in body
    body = officer.get(reverse("web:search_suggest"), {"q": "昆山"}).content.decode()
    assert "昆山" not in body
    analyst, _ = client_for(Role.ANALYST)
    assert "昆山碳化硅材料有限公司" in analyst.get(reverse("web:search_suggest"), {"q": "昆山"}).content.decode()


def test_pinyin_and_uscc_input(indexed):
    client, _ = client_for(Role.ANALYST)
    firm = indexed["ks2"]
    by_code = hits(client.get(reverse("web:search"), {"q": firm.uscc}))
    assert [h.firm.pk for h in by_code.hits] == [firm.pk]
    by_initials = hits(client.get(reverse("web:search"), {"q": "ksjh"}))
    assert firm.pk in [h.firm.pk for h in by_initials.hits]


def test_export_has_exactly_the_officers_hits_and_is_formula_safe(indexed):
    client, _ = client_for(Role.OFFICER, [KS])
    response = client.get(reverse("web:search_export", args=["csv"]), {"q": "碳化硅"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0].startswith("统一社会信用代码")
    assert sorted(r[0] for r in rows[1:]) == sorted(f.uscc for k, f in indexed.items() if k.startswith(("ks", "evil")))
    names = [r[1] for r in rows[1:]]
    assert any(n.startswith("'=cmd") for n in names) and not any(n.startswith("=") for n in names)

    xlsx = client.get(reverse("web:search_export", args=["xlsx"]), {"q": "碳化硅", "stage": "hnte"})
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["昆山晶合碳化硅科技有限公司"]


def test_names_render_as_text(indexed):
    client, _ = client_for(Role.ANALYST)
    body = client.get(reverse("web:search"), {"q": "碳化硅公司"}).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_search_is_remembered_for_the_home(indexed):
    client, user = client_for(Role.INVESTOR)
    client.get(reverse("web:search"), {"q": "碳化硅"})
    client.get(reverse("web:search"), {"q": ""})
    assert [s.text for s in recent_searches(user)] == ["碳化硅"]


def test_bad_input_names_the_field(indexed):
    client, _ = client_for(Role.ANALYST)
    response = client.get(reverse("web:search"), {"q": "芯" * 201})
    assert response.status_code == 200 and "关键词" in response.content.decode()
    assert response.context["form"].errors["q"]
    response = client.get(reverse("web:search"), {"q": "碳化硅", "stage": "no_such_stage"})
    body = response.content.decode()
    assert "阶段筛选条件无效" in body and "no_such_stage" in body
    response = client.get(reverse("web:search"), {"q": "碳化硅", "after": "garbage"})
    assert "分页位置已失效" in response.content.decode()
    assert client.get(reverse("web:search_export", args=["pdf"]), {"q": "x"}).status_code == 400


def test_engine_down_is_a_message_not_a_traceback(indexed, monkeypatch):
    from search.backends.base import SearchUnavailable

    def down(*args, **kwargs):
        raise SearchUnavailable()

    monkeypatch.setattr("search.queries.search_firms", down)
    client, _ = client_for(Role.ANALYST)
    response = client.get(reverse("web:search"), {"q": "碳化硅"})
    assert response.status_code == 200 and "搜索服务暂时不可用" in response.content.decode()


def test_htmx_request_gets_the_results_only(indexed):
    client, _ = client_for(Role.ANALYST)
    body = client.get(reverse("web:search"), {"q": "碳化硅"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in body and 'data-total="6"' in body


def test_anonymous_is_sent_to_sign_in(db):
    from django.test import Client

    response = Client().get(reverse("web:search"), {"q": "x"})
    assert response.status_code == 302 and "login" in response["Location"]
