"""The demo carries 补充年度指标 (IndicatorDetail), so the 高企 and 专精特新 criteria that read them are
exercised by the demo's candidates (registry/demo/generator.py: plan_details)."""

import datetime

import pytest
from django.core.management import call_command

from registry.eligibility import find_candidates
from registry.models import Certification, Firm, IndicatorDetail, IndicatorYear

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 23)
DETAIL_CRITERIA = {"rd_domestic_share", "innovation_score", "main_business_share"}


@pytest.fixture
def demo(db):
    call_command("seed_demo", firms=400, seed=7, today=TODAY, no_index=True, chunk_size=150, quiet=True)


def detail_rows():
    return list(IndicatorDetail.objects.order_by("firm_id", "year").values_list(
        "firm_id", "year", "rd_expense_domestic", "main_business_revenue", "innovation_ip", "innovation_conversion",
        "innovation_rd_management", "innovation_growth"))


def test_a_realistic_share_of_firms_carries_details_beside_their_indicators(demo):
    with_indicators = set(IndicatorYear.objects.values_list("firm_id", flat=True))
    with_details = set(IndicatorDetail.objects.values_list("firm_id", flat=True))
    assert with_details <= with_indicators
    assert 0.1 < len(with_details) / len(with_indicators) < 0.6
    hnte = set(Certification.objects.filter(tier__code="hnte").values_list("firm_id", flat=True)) & with_indicators
    assert len(hnte & with_details) / len(hnte) > 0.5  # 高企 applicants file them most
    years = dict(((f, y), (rd, rev)) for f, y, rd, rev in
                 IndicatorYear.objects.values_list("firm_id", "year", "rd_expense", "revenue"))
    points = 0
    for firm_id, year, domestic, main, *items in detail_rows():
        rd_expense, revenue = years[(firm_id, year)]  # a detail row only beside that year's indicators
        assert 0 < domestic <= rd_expense and 0 < main <= revenue
        if items[0] is not None:
            points += 1
            assert all(0 <= item <= top for item, top in zip(items, (30, 30, 20, 20)))
    assert 0 < points < IndicatorDetail.objects.count()  # some firms never reported the points: unknown, not 0


def test_same_seed_same_details(demo):
    first = detail_rows()
    Firm.objects.all().delete()
    call_command("seed_demo", firms=400, seed=7, today=TODAY, no_index=True, chunk_size=400, quiet=True)
    again = detail_rows()
    offset = again[0][0] - first[0][0]  # new firm ids after the delete
    assert [(f + offset, *rest) for f, *rest in first] == again


def test_candidates_are_judged_on_the_details(demo):
    page = find_candidates("hnte", None, None, on=TODAY, first=100)
    explained = [u for c in page.items for u in c.unmet if u["criterion"] in DETAIL_CRITERIA and not u["missing"]]
    assert explained, "no 高企 candidate's explanation names a recorded 补充年度指标 figure"
    assert any("创新能力评价得分" in u["text_zh"] or "境内研发费用" in u["text_zh"] for u in explained)
    # and a recorded figure can pass: a candidate with details whose score criterion is met
    detailed = set(IndicatorDetail.objects.filter(innovation_ip__isnull=False).values_list("firm_id", flat=True))
    passing = [c for c in page.items if c.firm.id in detailed
               and not any(u["criterion"] == "innovation_score" for u in c.unmet)]
    assert passing
