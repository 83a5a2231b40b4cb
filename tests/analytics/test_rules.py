"""Rule sets as versioned data: the rules in force on the evaluation date, regional overrides, firm evaluation."""

import datetime
from decimal import Decimal

import pytest

from registry.eligibility import evaluate_firm, find_candidates
from registry.eligibility.defaults import RULE_SETS
from registry.models import EligibilityRuleSet, Region, Stage, Tier
from registry.services import record_certification, upsert_indicators
from registry.services.qualifications import upsert_indicator_details
from tests.factories import FirmFactory

D = datetime.date
pytestmark = pytest.mark.django_db


def test_migration_loaded_the_national_rule_sets(db):
    assert set(EligibilityRuleSet.objects.filter(jurisdiction__isnull=True).values_list("code", flat=True)) == {
        r["code"] for r in RULE_SETS}


@pytest.fixture
def srdi_firm(db):
    firm = FirmFactory()
    for year, revenue, rd in ((2024, 1400, 60), (2025, 1600, 120)):
        upsert_indicators(firm, year, {"revenue": Decimal(revenue), "rd_expense": Decimal(rd), "debt_ratio": 0.5,
                                       "ip_class1": 1, "new_equity_financing": Decimal(0)})
    upsert_indicator_details(firm, 2025, {"main_business_revenue": Decimal(1400)})  # 87.5 % of 1,600万
    return firm


def test_2022_and_2026_srdi_regimes_switch_on_2026_04_01(srdi_firm):
    record_certification(srdi_firm, "srdi_innovative", D(2025, 5, 1))
    before = evaluate_firm(srdi_firm, "srdi", "srdi_sme", on=D(2026, 3, 31))
    assert before.rule_set == "national-srdi_sme-2022" and before.eligible  # R&D 120万 = 7.5 %, revenue 1,600万
    after = evaluate_firm(srdi_firm, "srdi", "srdi_sme", on=D(2026, 4, 1))
    assert after.rule_set == "national-srdi_sme-2026"
    # 2026: 2024 R&D 60万 < 100万 in one of the two years fails; the prerequisite is 科技和创新型 (or 创新型 still valid)
    assert [u["criterion"] for u in after.unmet] == ["rd_expense_each_year"]
    assert after.unmet[0]["text"] == "R&D expense (each of 2 years) 60万 < 100万"


def test_2026_candidates_come_from_tech_innovative_holders(srdi_firm):
    record_certification(srdi_firm, "tech_innovative_sme", D(2026, 4, 20))
    page = find_candidates("srdi", "srdi_sme", "320583", on=D(2026, 6, 1))
    assert [c.firm.pk for c in page.items] == [srdi_firm.pk]
    assert find_candidates("srdi", "srdi_sme", "320583", on=D(2026, 3, 1)).total == 0  # 2022: from 创新型 holders


def hnte_firm(region):
    # Founded 2025: only 2025 figures are needed (an older firm needs 2023–2025, issue 16).
    firm = FirmFactory(region=Region.objects.get(code=region), founded_on=D(2025, 1, 1))
    upsert_indicators(firm, 2025, {"revenue": Decimal(4000), "rd_expense": Decimal(220), "employees": 50,
                                   "rd_staff": 8, "ip_class1": 1, "hightech_revenue": Decimal(2400)})
    upsert_indicator_details(firm, 2025, {"rd_expense_domestic": Decimal(200), "innovation_ip": 24,
                                          "innovation_conversion": 24, "innovation_rd_management": 14,
                                          "innovation_growth": 10})
    return firm


def test_a_regional_rule_set_overrides_for_the_region_and_below(db):
    kunshan, wuxi = hnte_firm("320583"), hnte_firm("320214")
    national = evaluate_firm(kunshan, "hnte", on=D(2026, 6, 1))
    assert national.eligible and national.rule_set == "national-hnte-2016"  # R&D staff 16 % ≥ 10 %; 5.5 % R&D
    thresholds = EligibilityRuleSet.objects.get(code="national-hnte-2016").thresholds
    for spec in thresholds["criteria"]:
        if spec["criterion"] == "rd_staff_share":
            spec["value"] = 0.20
    EligibilityRuleSet.objects.create(
        code="suzhou-hnte-2025", name="苏州口径（测试）", stage=Stage.objects.get(code="hnte"),
        tier=Tier.objects.get(code="hnte"), jurisdiction=Region.objects.get(code="320500"),
        effective_from=D(2025, 1, 1), thresholds=thresholds)
    local = evaluate_firm(kunshan, "hnte", on=D(2026, 6, 1))
    assert local.rule_set == "suzhou-hnte-2025"
    [item] = local.unmet
    assert item["required"] == 0.2 and item["actual"] == 0.16
    assert item["text"] == "R&D staff share 16 % < 20 %: about 2 more R&D staff"
    assert evaluate_firm(wuxi, "hnte", on=D(2026, 6, 1)).rule_set == "national-hnte-2016"
    # before the regional rule set took effect, the national one applies
    assert evaluate_firm(kunshan, "hnte", on=D(2024, 6, 1)).rule_set == "national-hnte-2016"


def test_missing_year_is_reported_not_zero(db):
    firm = FirmFactory()
    upsert_indicators(firm, 2023, {"revenue": Decimal(100)})
    result = evaluate_firm(firm, "hnte", on=D(2026, 6, 1))
    assert (result.outcome, result.eligible, result.score) == ("missing_data", False, None)
    assert [u["text"] for u in result.unmet] == ["no 2025 indicators"]
