"""The new facts through their services (audited, validated) and into the engine; local schemes by
region; what-if recomputation and smallest changes. Database tests, hand-computed values."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from registry.eligibility import evaluate_firm
from registry.eligibility.rules import schemes_in_force
from registry.eligibility.whatif import evaluate_scheme, what_if
from registry.models import AuditEvent, IndicatorDetail, Qualification, Region
from registry.services import record_certification, upsert_indicators
from registry.services.qualifications import delete_qualification, record_qualification, upsert_indicator_details
from tests.factories import FirmFactory

D = datetime.date
pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- services
def test_record_qualification_is_audited_and_idempotent(db):
    firm = FirmFactory()
    row, outcome = record_qualification(firm, kind="science_award", level="national", name="国家科学技术进步奖二等奖",
                                        awarded_on="2023-01-10", rank=2, issuer="国务院", via="test")
    assert outcome == "created" and row.rank == 2
    assert record_qualification(firm, kind="science_award", level="national", name="国家科学技术进步奖二等奖",
                                awarded_on=D(2023, 1, 10), rank=2, issuer="国务院")[1] == "unchanged"
    assert record_qualification(firm, kind="science_award", level="national", name="国家科学技术进步奖二等奖",
                                awarded_on=D(2023, 1, 10), rank=1, issuer="国务院")[1] == "updated"
    events = list(AuditEvent.objects.filter(model="qualification").order_by("id").values_list("action", "changes"))
    assert [a for a, _ in events] == ["create", "update"]
    assert events[1][1] == {"rank": [2, 1]}
    delete_qualification(row)
    assert not Qualification.objects.exists()
    assert AuditEvent.objects.filter(model="qualification", action="delete").count() == 1


@pytest.mark.parametrize("values, field", [
    ({"kind": "prize", "level": "national", "name": "x", "awarded_on": "2024-01-01"}, "kind"),
    ({"kind": "science_award", "level": "galactic", "name": "x", "awarded_on": "2024-01-01"}, "level"),
    ({"kind": "science_award", "level": "national", "name": "x", "awarded_on": "2024-13-01"}, "awarded_on"),
    ({"kind": "science_award", "level": "national", "name": "x"}, "awarded_on"),
    ({"kind": "rd_institution", "level": "provincial", "name": "x", "awarded_on": "2024-01-01",
      "valid_until": "2023-01-01"}, "valid_until"),
    ({"kind": "science_award", "level": "national", "name": "x", "awarded_on": "2024-01-01", "rank": 0}, "rank"),
])
def test_bad_qualification_names_the_field(db, values, field):
    with pytest.raises(ValidationError) as error:
        record_qualification(FirmFactory(), **values)
    assert list(error.value.message_dict) == [field]


def test_indicator_details_upsert_validate_and_audit(db):
    firm = FirmFactory()
    row, outcome = upsert_indicator_details(firm, 2025, {"main_business_revenue": "1200.5", "innovation_ip": 30})
    assert outcome == "created" and row.main_business_revenue == Decimal("1200.50")
    assert upsert_indicator_details(firm, 2025, {"innovation_ip": 30})[1] == "unchanged"
    for values, field in (({"innovation_ip": 31}, "innovation_ip"), ({"innovation_growth": 21}, "innovation_growth"),
                          ({"rd_expense_domestic": -1}, "rd_expense_domestic"), ({"profit": 1}, "profit")):
        with pytest.raises(ValidationError) as error:
            upsert_indicator_details(firm, 2025, values)
        assert list(error.value.message_dict) == [field]
    with pytest.raises(ValidationError) as error:
        upsert_indicator_details(firm, "twenty", {})
    assert list(error.value.message_dict) == ["year"]
    assert IndicatorDetail.objects.get().innovation_ip == 30
    assert AuditEvent.objects.filter(model="indicatordetail").count() == 1


# ---------------------------------------------------------------- qualifications decide direct routes
def tech_sme_firm():
    """Fails the 科小 score (no tech staff, no IP) but meets the size caps: only a direct route can pass it."""
    firm = FirmFactory(founded_on=D(2015, 1, 1))
    upsert_indicators(firm, 2025, {"revenue": Decimal(1000), "rd_expense": Decimal(10), "employees": 50,
                                   "rd_staff": 0, "total_assets": Decimal(800), "total_cost": Decimal(900),
                                   "ip_class1": 0, "ip_class2": 0})
    return firm


@pytest.mark.parametrize("awarded_on, rank, eligible", [
    (D(2021, 6, 30), 3, True),   # exactly 5 years before 2026-06-30, third unit: on both boundaries
    (D(2021, 6, 29), 3, False),  # one day too early
    (D(2021, 7, 1), 3, True),
    (D(2024, 1, 1), 4, False),   # fourth unit
    (D(2024, 1, 1), None, False),  # rank unknown never qualifies
    (D(2026, 7, 1), 1, False),   # after the evaluation date
])
def test_tech_sme_national_award_route(db, awarded_on, rank, eligible):
    firm = tech_sme_firm()
    assert not evaluate_firm(firm, "tech_sme", on=D(2026, 6, 30)).eligible
    record_qualification(firm, kind="science_award", level="national", name="国家技术发明奖", awarded_on=awarded_on,
                         rank=rank)
    assert evaluate_firm(firm, "tech_sme", on=D(2026, 6, 30)).eligible is eligible


@pytest.mark.parametrize("level, valid_until, eligible", [
    ("provincial", None, True), ("provincial", D(2026, 6, 30), True), ("provincial", D(2026, 6, 29), False),
    ("municipal", None, False),
])
def test_tech_sme_rd_institution_route(db, level, valid_until, eligible):
    firm = tech_sme_firm()
    record_qualification(firm, kind="rd_institution", level=level, name="江苏省工程技术研究中心",
                         awarded_on=D(2020, 5, 1), valid_until=valid_until)
    assert evaluate_firm(firm, "tech_sme", on=D(2026, 6, 30)).eligible is eligible


@pytest.mark.parametrize("level, rank, eligible", [("industry", 1, True), ("national", 2, False),
                                                   ("provincial", 1, False)])
def test_tech_sme_standard_led_route(db, level, rank, eligible):
    firm = tech_sme_firm()
    record_qualification(firm, kind="standard_led", level=level, name="GB/T 00000-2024", awarded_on=D(2024, 3, 1),
                         rank=rank)
    assert evaluate_firm(firm, "tech_sme", on=D(2026, 6, 30)).eligible is eligible


def test_hnte_reads_indicator_details_and_names_the_missing_year(db):
    firm = FirmFactory(founded_on=D(2015, 1, 1))
    for year in (2023, 2024, 2025):
        upsert_indicators(firm, year, {"revenue": Decimal(4000), "rd_expense": Decimal(200), "employees": 50,
                                       "rd_staff": 5, "ip_class1": 1, "hightech_revenue": Decimal(2400)})
    for year in (2024, 2025):
        upsert_indicator_details(firm, year, {"rd_expense_domestic": Decimal(120)})
    upsert_indicator_details(firm, 2025, {"innovation_ip": 24, "innovation_conversion": 24,
                                          "innovation_rd_management": 13, "innovation_growth": 10})
    result = evaluate_firm(firm, "hnte", on=D(2026, 6, 30))
    assert result.outcome == "missing_data"
    [item] = result.unmet
    assert item["criterion"] == "rd_domestic_share"
    assert [(g["year"], g["figure"]) for g in item["gaps"]] == [(2023, "rd_expense_domestic")]
    upsert_indicator_details(firm, 2023, {"rd_expense_domestic": Decimal(120)})  # 360 / 600 = 60 %
    assert evaluate_firm(firm, "hnte", on=D(2026, 6, 30)).eligible


# ---------------------------------------------------------------- local schemes
def test_schemes_in_force_by_region(db):
    sip = Region.objects.get(code="320571")
    codes = [r.code for r in schemes_in_force(sip.path, D(2026, 6, 30))]
    # by stage, then the wider jurisdiction first (city before park)
    assert codes == ["suzhou-gazelle-2020", "sip-gazelle", "sip-gazelle-cultivation", "suzhou-unicorn-cultivation-2024"]
    wuxi = Region.objects.get(code="320214")
    assert [r.code for r in schemes_in_force(wuxi.path, D(2026, 6, 30))] == [
        "wuxi-eaglet-pool-2020", "wuxi-gazelle-pool-2020", "wuxi-quasi-unicorn-2024"]
    assert "suzhou-unicorn-cultivation-2023" in [r.code for r in schemes_in_force(sip.path, D(2023, 6, 30))]
    kunshan = Region.objects.get(code="320583")
    assert [r.code for r in schemes_in_force(kunshan.path, D(2026, 6, 30))] == [
        "suzhou-gazelle-2020", "suzhou-unicorn-cultivation-2024"]


def test_local_schemes_never_enter_the_national_ranking(db):
    from registry.eligibility.rules import rule_sets_for, resolve_target

    stage, tier = resolve_target("gazelle", "gazelle_municipal")
    assert [r.code for r in rule_sets_for(stage, tier, D(2026, 6, 30))] == ["national-gazelle-typical"]


def sip_firm(founded=D(2015, 1, 1), revenues=(5000, 4000, 3500, 3000)):
    firm = FirmFactory(region=Region.objects.get(code="320571"), founded_on=founded)
    for back, revenue in enumerate(revenues):
        if revenue is not None:
            upsert_indicators(firm, 2025 - back, {"revenue": Decimal(str(revenue))})
    record_certification(firm, "hnte", D(2024, 12, 1))
    return firm


def test_sip_gazelle_boundaries(db):
    # 5,000 / 3,000 over 3 years = 18.56 % ≥ 15 %; sales 5,000万 on the lower bound
    assert evaluate_scheme(sip_firm(), "sip-gazelle", on=D(2026, 6, 30)).eligible
    below = evaluate_scheme(sip_firm(revenues=(4999.99, 4000, 3500, 3000)), "sip-gazelle", on=D(2026, 6, 30))
    assert [u["text"] for u in below.unmet] == ["last-year sales 4,999.99万 < 5,000万"]
    late = evaluate_scheme(sip_firm(founded=D(2018, 7, 1)), "sip-gazelle", on=D(2026, 6, 30))
    assert [u["text"] for u in late.unmet] == ["founded on 2018-07-01 > 2018-06-30"]
    assert evaluate_scheme(sip_firm(founded=D(2018, 6, 30)), "sip-gazelle", on=D(2026, 6, 30)).eligible
    gap = evaluate_scheme(sip_firm(revenues=(5000, 4000, 3500, None)), "sip-gazelle", on=D(2026, 6, 30))
    assert gap.outcome == "missing_data"
    assert [(g["year"], g["figure"]) for u in gap.unmet for g in u["gaps"]] == [(2022, "revenue")]


def test_scheme_outside_its_jurisdiction_is_refused(db):
    firm = FirmFactory(region=Region.objects.get(code="320214"))
    with pytest.raises(ValidationError) as error:
        evaluate_scheme(firm, "sip-gazelle", on=D(2026, 6, 30))
    assert list(error.value.message_dict) == ["scheme"]
    with pytest.raises(ValidationError):
        evaluate_scheme(firm, "no-such-scheme", on=D(2026, 6, 30))


@pytest.mark.parametrize("valuation, founded, eligible", [
    (50_000_000, D(2021, 6, 30), True),      # exactly 5 years old: young route, US$50 m
    (49_999_999, D(2021, 6, 30), False),
    (50_000_000, D(2021, 6, 29), False),     # 5 years 1 day: needs US$100 m
    (100_000_000, D(2016, 6, 30), True),     # exactly 10 years
    (100_000_000, D(2016, 6, 29), False),
])
def test_wuxi_quasi_unicorn(db, valuation, founded, eligible):
    firm = FirmFactory(region=Region.objects.get(code="320214"), founded_on=founded)
    upsert_indicators(firm, 2025, {"valuation_usd": Decimal(valuation)})
    assert evaluate_scheme(firm, "wuxi-quasi-unicorn-2024", on=D(2026, 6, 30)).eligible is eligible


# ---------------------------------------------------------------- what-if
def srdi_firm():
    firm = FirmFactory(founded_on=D(2015, 1, 1))
    for year, rd in ((2024, 90), (2025, 120)):
        upsert_indicators(firm, year, {"revenue": Decimal(3000), "rd_expense": Decimal(rd), "debt_ratio": 0.5,
                                       "ip_class1": 1})
    upsert_indicator_details(firm, 2025, {"main_business_revenue": Decimal(2100)})  # 70 % < 80 %
    record_certification(firm, "tech_innovative_sme", D(2026, 4, 20))
    return firm


def test_what_if_smallest_changes_and_recomputation_never_stored(db):
    firm = srdi_firm()
    result = what_if(firm, "srdi", "srdi_sme", on=D(2026, 6, 30))
    assert not result.evaluation.eligible
    changes = {c.criterion: c for c in result.changes}
    assert set(changes) == {"main_business_share", "rd_expense_each_year"}  # 2024: 90 / 3,000 = 3 % is met
    assert changes["main_business_share"].figure == "main_business_revenue"
    assert changes["main_business_share"].figure_change == pytest.approx(300)  # 80 % × 3,000 − 2,100
    rd = changes["rd_expense_each_year"]
    assert (rd.figure, rd.figure_year, rd.figure_actual, rd.figure_change) == ("rd_expense", 2024, 90, pytest.approx(10))
    typed = [{"figure": "main_business_revenue", "year": 2025, "value": 2400},
             {"figure": "rd_expense", "year": 2024, "value": 100}]
    after = what_if(firm, "srdi", "srdi_sme", on=D(2026, 6, 30), figures=typed)
    assert after.evaluation.eligible and after.changes == []
    one_below = what_if(firm, "srdi", "srdi_sme", on=D(2026, 6, 30), figures=[
        {"figure": "main_business_revenue", "year": 2025, "value": 2399.99},
        {"figure": "rd_expense", "year": 2024, "value": 100}])
    assert [u["text"] for u in one_below.evaluation.unmet] == ["main-business share of revenue 79.9997 % < 80 %"]
    # nothing was stored
    assert IndicatorDetail.objects.get(firm=firm).main_business_revenue == Decimal(2100)
    assert not evaluate_firm(firm, "srdi", "srdi_sme", on=D(2026, 6, 30)).eligible


@pytest.mark.parametrize("figure, message", [
    ({"figure": "profit", "year": 2025, "value": 1}, "figures[1]: “profit” is not a figure the rules read."),
    ({"figure": "revenue", "year": 2020, "value": 1}, "figures[1]: year 2020 is outside 2024–2025, the years these rules read."),
    ({"figure": "revenue", "year": 2025, "value": "lots"}, "figures[1]: revenue “lots” is not a number."),
    ({"figure": "revenue", "year": 2025, "value": -5}, "figures[1]: revenue cannot be negative."),
])
def test_what_if_bad_figures_are_named(db, figure, message):
    with pytest.raises(ValidationError) as error:
        what_if(srdi_firm(), "srdi", "srdi_sme", on=D(2026, 6, 30), figures=[figure])
    assert error.value.message_dict == {"figures": [message]}


@pytest.mark.parametrize("main_2025, eligible", [("2300", True), ("2299.99", False), ("2300.01", True)])
def test_suzhou_gazelle_main_business_growth(db, main_2025, eligible):
    # 2024 main-business revenue 2,000万: 15 % growth is 2,300万 exactly.
    firm = FirmFactory(region=Region.objects.get(code="320583"), founded_on=D(2015, 1, 1))
    upsert_indicators(firm, 2025, {"revenue": Decimal(2500), "rd_expense": Decimal(75), "employees": 100,
                                   "rd_staff": 15, "invention_patents": 1})
    upsert_indicator_details(firm, 2024, {"main_business_revenue": Decimal(2000)})
    upsert_indicator_details(firm, 2025, {"main_business_revenue": Decimal(main_2025)})
    record_certification(firm, "hnte", D(2024, 12, 1))
    result = evaluate_scheme(firm, "suzhou-gazelle-2020", on=D(2026, 6, 30))
    assert result.eligible is eligible
    if not eligible:
        [item] = result.unmet
        assert item["text"] == "main-business revenue growth 14.9995 % < 15 %"
        assert item["text_zh"] == "主营业务收入增长率 14.9995 % < 15 %【苏州市瞪羚计划（2020年度） 条件4】"


def test_suzhou_gazelle_missing_previous_main_business_revenue(db):
    firm = FirmFactory(region=Region.objects.get(code="320583"), founded_on=D(2015, 1, 1))
    upsert_indicators(firm, 2025, {"revenue": Decimal(2500), "rd_expense": Decimal(75), "employees": 100,
                                   "rd_staff": 15, "invention_patents": 1})
    upsert_indicator_details(firm, 2025, {"main_business_revenue": Decimal(2300)})
    record_certification(firm, "hnte", D(2024, 12, 1))
    result = evaluate_scheme(firm, "suzhou-gazelle-2020", on=D(2026, 6, 30))
    assert result.outcome == "missing_data"
    assert [(g["year"], g["figure"]) for u in result.unmet for g in u["gaps"]] == [(2024, "main_business_revenue")]


def test_a_recorded_qualification_moves_the_precomputed_ranking(db):
    from registry.eligibility import find_candidates
    from registry.eligibility import precomputed

    firm = tech_sme_firm()
    on = D(2026, 6, 30)
    precomputed.rebuild(on)
    [before] = find_candidates("tech_sme", region="320583", on=on).items
    assert before.firm.pk == firm.pk and not before.eligible
    record_qualification(firm, kind="rd_institution", level="provincial", name="江苏省企业技术中心",
                         awarded_on=D(2022, 1, 1))
    assert precomputed.ready_for(on)
    from registry.models import CandidateRank

    assert CandidateRank.objects.get(target="tech_sme", firm_id=firm.pk).outcome_rank == 0  # re-judged in the write
    [after] = find_candidates("tech_sme", region="320583", on=on).items
    assert after.eligible and after.outcome == "eligible"
