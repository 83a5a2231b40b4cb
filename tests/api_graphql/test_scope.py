"""Each role against each type: officers see their regions only; investors see public fields only."""

import pytest

from tests.api_graphql.conftest import BH_USCC, KS_USCC

EVERYTHING = """{ firms { totalCount edges { node { uscc } } }
  expiringCertificates(before: "2030-01-01") { firm { uscc } } }"""


def visible(gql, user):
    data = gql.data(EVERYTHING, user=user)
    return (
        data["firms"]["totalCount"],
        sorted(e["node"]["uscc"] for e in data["firms"]["edges"]),
        sorted({c["firm"]["uscc"] for c in data["expiringCertificates"]}),
    )


@pytest.mark.parametrize("role_fixture, expected", [
    ("officer", [KS_USCC]),  # 昆山 officer
    ("city_officer", [KS_USCC]),  # 苏州 officer: 昆山 is under 苏州
    ("wuxi_officer", [BH_USCC]),  # 滨湖 officer
    ("analyst", sorted([KS_USCC, BH_USCC])),
    ("investor", sorted([KS_USCC, BH_USCC])),
    ("admin", sorted([KS_USCC, BH_USCC])),
])
def test_row_scope_in_lists_totals_and_expiring(gql, registry_data, request, role_fixture, expected):
    user = request.getfixturevalue(role_fixture)
    assert visible(gql, user) == (len(expected), expected, expected)


def test_kunshan_officer_cannot_reach_binhu_by_any_door(gql, officer, admin, registry_data):
    assert gql.data(f'{{ firm(uscc: "{BH_USCC}") {{ name }} }}', user=officer) == {"firm": None}
    assert gql.data('{ firms(region: "320211") { totalCount edges { node { uscc } } } }', user=officer) == {
        "firms": {"totalCount": 0, "edges": []}}
    assert gql.data('{ firms(region: "320200") { totalCount } }', user=officer)["firms"]["totalCount"] == 0
    bh_id = gql.data(f'{{ firm(uscc: "{BH_USCC}") {{ id certifications {{ id }} }} }}', user=admin)["firm"]
    status, body = gql("query($id: ID!) { node(id: $id) { id } }", {"id": bh_id["id"]}, user=officer)
    assert body["data"]["node"] is None and "无锡" not in json_text(body)
    status, body = gql("query($id: ID!) { node(id: $id) { id } }", {"id": bh_id["certifications"][0]["id"]},
                       user=officer)
    assert body["data"]["node"] is None


def json_text(body):
    import json
    return json.dumps(body, ensure_ascii=False)


def test_kunshan_officer_reads_kunshan_firm_fully(gql, officer, registry_data):
    firm = gql.data(f'{{ firm(uscc: "{KS_USCC}") {{ name indicators {{ year revenue rdIntensity }} }} }}',
                    user=officer)["firm"]
    assert firm["name"] == "昆山芯微电子科技有限公司"
    assert firm["indicators"][1] == {"year": 2025, "revenue": "10000.00", "rdIntensity": 0.07}


PUBLIC = "year employees inventionPatents ipClass1 ipClass2 valuationUsd"


def test_investor_reads_profiles_stages_and_public_indicators(gql, investor, registry_data):
    firm = gql.data(f'{{ firm(uscc: "{KS_USCC}") {{ name currentStage {{ code }} certifications {{ tier {{ code }} }} '
                    f'timeline {{ kind }} indicators {{ {PUBLIC} }} latestIndicators {{ year employees }} }} }}',
                    user=investor)["firm"]
    assert firm["currentStage"] == {"code": "srdi"}
    assert firm["indicators"] == [
        {"year": 2024, "employees": 120, "inventionPatents": 5, "ipClass1": 5, "ipClass2": 2, "valuationUsd": None},
        {"year": 2025, "employees": 150, "inventionPatents": 8, "ipClass1": None, "ipClass2": None,
         "valuationUsd": "50000000"},
    ]
    assert firm["latestIndicators"] == {"year": 2025, "employees": 150}


@pytest.mark.parametrize("field", ["revenue", "rdExpense", "rdIntensity", "totalAssets", "debtRatio",
                                   "newEquityFinancing", "revenueGrowth", "rdStaff", "totalCost"])
def test_investor_gets_null_and_an_error_naming_a_restricted_field(gql, investor, registry_data, field):
    status, body = gql(f'{{ firm(uscc: "{KS_USCC}") {{ name indicators {{ year {field} }} }} }}', user=investor)
    assert status == 200
    assert body["data"]["firm"]["name"] == "昆山芯微电子科技有限公司"
    assert body["data"]["firm"]["indicators"] == [{"year": 2024, field: None}, {"year": 2025, field: None}]
    assert body["errors"][0]["message"] == f"Field '{field}' of IndicatorYearType is not available to the investor role."
    assert body["errors"][0]["path"] == ["firm", "indicators", 0, field]


@pytest.mark.parametrize("argument", ['revenueMin: "1"', 'revenueMax: "1"', 'rdIntensityMin: "0.01"',
                                      'revenueGrowthMin: "0.1"'])
def test_investor_cannot_filter_by_restricted_indicators(gql, investor, registry_data, argument):
    status, body = gql(f"{{ firms({argument}) {{ totalCount }} }}", user=investor)
    assert body["data"]["firms"] is None
    name = argument.split(":")[0]
    assert body["errors"][0]["message"] == f"Argument '{name}' of firms is not available to the investor role."


def test_analyst_and_admin_read_restricted_fields(gql, analyst, admin, registry_data):
    for user in (analyst, admin):
        firm = gql.data(f'{{ firm(uscc: "{BH_USCC}") {{ indicators {{ revenue rdIntensity }} }} }}', user=user)
        assert firm["firm"]["indicators"] == [{"revenue": "1200.00", "rdIntensity": 0.1}]


EVERY_TYPE = f"""{{
  firm(uscc: "{KS_USCC}") {{
    uscc region {{ code parent {{ code }} }} chains {{ code parent {{ code }} }}
    currentStage {{ code tiers {{ code stage {{ code }} }} }} currentTier {{ code stage {{ code }} }}
    certifications {{ id status firm {{ uscc }} }} timeline {{ kind certification {{ certificateNo }} }}
    indicators {{ year employees }} latestIndicators {{ year }} }}
  ladder(region: "320583") {{ code tiers {{ code }} }}
  expiringCertificates(before: "2027-07-01") {{ tier {{ code }} firm {{ uscc }} }}
}}"""


@pytest.mark.parametrize("role_fixture, sees_kunshan", [
    ("officer", True), ("city_officer", True), ("wuxi_officer", False),
    ("analyst", True), ("investor", True), ("admin", True),
])
def test_every_type_for_every_role(gql, registry_data, request, role_fixture, sees_kunshan):
    """FirmType, RegionType, IndustryChainType, StageType, TierType, CertificationType, TimelineEventType and
    IndicatorYearType (public fields) read by each role; scope decides only whether the Kunshan firm exists."""
    data = gql.data(EVERY_TYPE, user=request.getfixturevalue(role_fixture))
    assert [s["code"] for s in data["ladder"]] == ["tech_sme", "hnte", "gazelle", "srdi", "unicorn"]
    if not sees_kunshan:
        assert data["firm"] is None
        assert data["expiringCertificates"] == [{"tier": {"code": "tech_sme"}, "firm": {"uscc": BH_USCC}}]
        return
    firm = data["firm"]
    assert firm["region"] == {"code": "320583", "parent": {"code": "320500"}}
    assert firm["chains"] == [{"code": "ic.design", "parent": {"code": "ic"}}]
    assert firm["currentStage"]["tiers"][1] == {"code": "srdi_sme", "stage": {"code": "srdi"}}
    assert firm["currentTier"] == {"code": "srdi_sme", "stage": {"code": "srdi"}}
    assert [c["firm"]["uscc"] for c in firm["certifications"]] == [KS_USCC, KS_USCC]
    assert [t["certification"]["certificateNo"] for t in firm["timeline"]] == ["ZJTX2024-0001", "GR202532001234"]
    assert firm["indicators"] == [{"year": 2024, "employees": 120}, {"year": 2025, "employees": 150}]
    assert firm["latestIndicators"] == {"year": 2025}
    expected = [BH_USCC, KS_USCC] if role_fixture not in ("officer", "city_officer") else [KS_USCC]
    assert [c["firm"]["uscc"] for c in data["expiringCertificates"]] == expected
