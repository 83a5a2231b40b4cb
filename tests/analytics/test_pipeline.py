"""Funnel, transitions, cohort table and target progress on a small hand-computed registry.

The firms (all recorded through record_certification; default validity: 科小 to 31 Dec of its
year, 高企 36 months, 瞪羚 24 months):

  F1 昆山  科小 2022-03-01, 高企 2023-03-01, 瞪羚 2025-03-01
  F2 昆山  科小 2022-05-10, 高企 2024-05-10
  F3 昆山  科小 2022-06-01, 瞪羚 2024-06-01            (skips 高企)
  F4 昆山  科小 2022-07-01
  F5 昆山  科小 2021-04-01, 科小 2022-04-01, 高企 2022-12-01, 高企 renewal 2025-11-15
  F6 吴中  科小 2022-08-01, 高企 2023-08-01 revoked 2024-01-15
  F7 昆山  科小 2022-09-01 revoked 2022-10-01, 科小 2023-03-01
  F8 吴江  科小 2023-04-01, 科小 2024-04-01, 高企 2024-10-01
  F9 无锡新吴  高企 2024-02-01                           (outside 苏州)
"""

import datetime

import pytest

from registry.analytics import cohort_firms, cohort_table, firms_csv, funnel, stage_transitions, target_progress
from registry.analytics import precomputed
from registry.models import FirmYearTransition, PolicyTarget, Region, Stage, Tier
from registry.services import record_certification, revoke_certification
from tests.factories import FirmFactory

D = datetime.date
TODAY = D(2026, 11, 23)
pytestmark = pytest.mark.django_db


def rec(firm, tier, day):
    cert, _ = record_certification(firm, tier, day, today=TODAY)
    return cert


@pytest.fixture(params=["live", "refreshed", "rebuilt"])
def registry_firms(request, db):
    """Every test below runs three ways, and must get the same hand-computed numbers each time:
    live (no precomputed tables), refreshed (tables built empty first, then kept current by the
    services' firms_changed as the firms are recorded), rebuilt (tables built after recording)."""
    if request.param == "refreshed":
        precomputed.rebuild()
    f = _record_firms()
    if request.param == "rebuilt":
        precomputed.rebuild()
    assert precomputed.is_complete() == (request.param != "live")
    assert FirmYearTransition.objects.exists() == (request.param != "live")
    return f


def _record_firms():
    region = {code: Region.objects.get(code=code) for code in ("320583", "320506", "320509", "320214")}
    f = {n: FirmFactory(region=region["320583"]) for n in (1, 2, 3, 4, 5, 7)}
    f[6] = FirmFactory(region=region["320506"])
    f[8] = FirmFactory(region=region["320509"])
    f[9] = FirmFactory(region=region["320214"])
    rec(f[1], "tech_sme", D(2022, 3, 1)); rec(f[1], "hnte", D(2023, 3, 1)); rec(f[1], "gazelle_municipal", D(2025, 3, 1))
    rec(f[2], "tech_sme", D(2022, 5, 10)); rec(f[2], "hnte", D(2024, 5, 10))
    rec(f[3], "tech_sme", D(2022, 6, 1)); rec(f[3], "gazelle_municipal", D(2024, 6, 1))
    rec(f[4], "tech_sme", D(2022, 7, 1))
    rec(f[5], "tech_sme", D(2021, 4, 1)); rec(f[5], "tech_sme", D(2022, 4, 1)); rec(f[5], "hnte", D(2022, 12, 1))
    rec(f[5], "hnte", D(2025, 11, 15))
    rec(f[6], "tech_sme", D(2022, 8, 1))
    revoke_certification(rec(f[6], "hnte", D(2023, 8, 1)), "年报连续两年未报", revoked_on=D(2024, 1, 15), today=TODAY)
    revoke_certification(rec(f[7], "tech_sme", D(2022, 9, 1)), "弄虚作假", revoked_on=D(2022, 10, 1), today=TODAY)
    rec(f[7], "tech_sme", D(2023, 3, 1))
    rec(f[8], "tech_sme", D(2023, 4, 1)); rec(f[8], "tech_sme", D(2024, 4, 1)); rec(f[8], "hnte", D(2024, 10, 1))
    rec(f[9], "hnte", D(2024, 2, 1))
    return f


def steps(result):
    return [(s["stage"], s["count"], s["conversion_from_previous"], s["conversion_from_first"],
             s["median_years_from_previous"]) for s in result["steps"]]


def test_funnel_of_the_2022_tech_sme_cohort(registry_firms):
    # Cohort: F1 F2 F3 F4 F6 (F5 first entered in 2021; F7's 2022 entry was revoked).
    # 高企: F1 (365 d = 1.00 y), F2 (731 d), F3 via its 瞪羚 (731 d); F6's was revoked → 3, median 2.0
    # 瞪羚: F1 (731 d after its 高企), F3 (0 d: same day as its skipped 高企) → 2, median 1.0
    result = funnel(["tech_sme", "hnte", "gazelle"], 2022, region="320500")
    assert steps(result) == [
        ("tech_sme", 5, None, 1.0, None),
        ("hnte", 3, 0.6, 0.6, 2.0),
        ("gazelle", 2, pytest.approx(2 / 3), 0.4, 1.0),
    ]


def test_funnel_window_and_region(registry_firms):
    # Within 2 years of entry: F1's 瞪羚 (2025-03-01 > 2024-03-01) drops out; F2's 高企 lands on the last day.
    assert steps(funnel(["tech_sme", "hnte", "gazelle"], 2022, region="320500", window_years=2)) == [
        ("tech_sme", 5, None, 1.0, None), ("hnte", 3, 0.6, 0.6, 2.0), ("gazelle", 1, pytest.approx(1 / 3), 0.2, 0.0),
    ]
    # 昆山 alone: F6 (吴中) leaves the cohort.
    assert [s["count"] for s in funnel(["tech_sme", "hnte", "gazelle"], 2022, region="320583")["steps"]] == [4, 3, 2]


def test_funnel_rejects_stages_out_of_order(registry_firms):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        funnel(["hnte", "tech_sme"], 2022)


def test_stage_transitions_in_2024(registry_firms):
    # Start = held on 2023-12-31, end = held on 2024-12-31.
    rows = stage_transitions(2024, region="320500")
    assert {(r["from_stage"], r["to_stage"], r["kind"]): r["count"] for r in rows} == {
        (None, "hnte", "entry"): 1,            # F2
        (None, "gazelle", "entry"): 1,         # F3
        ("tech_sme", None, "lapse"): 1,        # F7
        ("tech_sme", "hnte", "upgrade"): 1,    # F8
        ("hnte", "hnte", "stay"): 2,           # F1, F5
        ("hnte", None, "revocation"): 1,       # F6
    }
    assert rows[0]["from_stage"] is None  # entries first
    # F9 is in 无锡: only visible without the region filter
    everywhere = {(r["from_stage"], r["to_stage"]): r["count"] for r in stage_transitions(2024)}
    assert everywhere[(None, "hnte")] == 2


def test_cohort_table_and_drill_down(registry_firms):
    table = cohort_table("tech_sme", region="320500", as_of=TODAY)
    assert table["next_stage"] == "hnte"
    got = {row["entry_year"]: (row["size"], [(c["years_since_entry"], c["reached"]) for c in row["cells"]])
           for row in table["rows"]}
    assert got == {
        2021: (1, [(0, 0), (1, 1), (2, 1), (3, 1), (4, 1), (5, 1)]),  # F5
        2022: (5, [(0, 0), (1, 1), (2, 3), (3, 3), (4, 3)]),          # F1 2023; F2, F3 2024
        2023: (2, [(0, 0), (1, 1), (2, 1), (3, 1)]),                  # F8 2024; F7 never
    }
    assert table["rows"][1]["cells"][2]["share"] == 0.6
    f = registry_firms
    behind = cohort_firms("tech_sme", 2022, years_since_entry=2, reached=True, region="320500")
    assert [row["firm"].pk for row in behind] == [f[1].pk, f[2].pk, f[3].pk]
    assert behind[2]["reached_on"] == D(2024, 6, 1)
    rest = cohort_firms("tech_sme", 2022, years_since_entry=2, reached=False, region="320500")
    assert [row["firm"].pk for row in rest] == [f[4].pk, f[6].pk]


def test_csv_export_neutralises_formulas(registry_firms):
    firm = registry_firms[1]
    firm.name = "=HYPERLINK(\"http://x\")科技"
    firm.save()
    rows = cohort_firms("tech_sme", 2022, region="320500")
    text = firms_csv(rows)
    assert text.startswith("\ufeffuscc,name,region,region_name,entered_on,reached_on")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert len(text.strip().splitlines()) == 6


def target(region, stage, kind, year, value, tier=None, start_year=None):
    return PolicyTarget.objects.create(
        region_id=region, stage=Stage.objects.get(code=stage), tier=Tier.objects.get(code=tier) if tier else None,
        kind=kind, year=year, start_year=start_year, target=value)


def test_target_progress_stock_and_flow_city_over_districts(registry_firms):
    target("320500", "hnte", "stock", 2024, 8)
    target("320500", "hnte", "flow", 2024, 6, start_year=2023)
    target("320500", "gazelle", "flow", 2024, 2, tier="gazelle_municipal")
    target("320500", "hnte", "flow", 2025, 2)
    target("320583", "hnte", "stock", 2024, 3)
    target("320500", "hnte", "stock", 2025, 99)  # another year: not shown for 2024
    suzhou = {(r["stage"], r["tier"], r["kind"], r["year"]): (r["target"], r["actual"], r["ratio"])
              for r in target_progress("320500", 2024)}
    assert suzhou == {
        # held on 2024-12-31: F1 F2 F5 F8 (F6 revoked in January, F9 in 无锡)
        ("hnte", None, "STOCK", 2024): (8, 4, 0.5),
        # first 高企 in 2023–2024: F1, F2, F8 (F5 first in 2022; F6 revoked)
        ("hnte", None, "FLOW", 2024): (6, 3, 0.5),
        # F3's 2024 瞪羚 (F1's is 2025)
        ("gazelle", "gazelle_municipal", "FLOW", 2024): (2, 1, 0.5),
    }
    # 2025 FLOW: F5's renewal is not new; nobody gained a first 高企 in 2025
    assert [(r["actual"], r["ratio"]) for r in target_progress("320500", 2025) if r["kind"] == "FLOW"] == [(0, 0.0)]
    # the district alone: F1 F2 F5
    assert [(r["target"], r["actual"]) for r in target_progress("320583", 2024)] == [(3, 3)]


def test_running_flow_target_shows_interim_progress(registry_firms):
    target("320500", "hnte", "flow", 2027, 10, start_year=2023)
    [row] = target_progress("320500", 2024)
    assert (row["start_year"], row["year"], row["actual"], row["ratio"]) == (2023, 2027, 3, 0.3)


def test_funnel_by_industry_chain_includes_sub_chains(registry_firms):
    from registry.models import IndustryChain

    ic = IndustryChain.objects.get(code="ic")
    child = IndustryChain.objects.filter(path__startswith=ic.path).exclude(pk=ic.pk).first()
    registry_firms[1].chains.add(child)
    registry_firms[4].chains.add(ic)
    assert [s["count"] for s in funnel(["tech_sme", "hnte"], 2022, chain="ic")["steps"]] == [2, 1]
    assert [s["count"] for s in funnel(["tech_sme", "hnte"], 2022, chain=child.code)["steps"]] == [1, 1]
