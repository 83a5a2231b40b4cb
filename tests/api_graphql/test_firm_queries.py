"""`firm`, `firms`, `ladder`, `expiringCertificates` through POST /graphql, with hand-checked values."""

import datetime

from registry.services import record_certification
from tests.api_graphql.conftest import BH_USCC, KS_USCC
from tests.factories import FirmFactory

FIRM_FIELDS = """
  uscc name formerNames foundedOn
  region { code name level parent { code } }
  chains { code name }
  currentStage { code name } currentTier { code name }
  certifications { stage { code } tier { code } certificateNo batch issuedOn validUntil status }
  timeline { date kind stage { code } tier { code } }
  indicators { year revenue rdExpense rdIntensity employees rdStaff inventionPatents valuationUsd revenueGrowth }
"""


def test_firm_by_uscc_accepts_full_width_lower_case_and_returns_the_contract_fields(gql, admin, registry_data):
    messy = " " + KS_USCC.lower().translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"}) + " "
    firm = gql.data(f"query($u: String!) {{ firm(uscc: $u) {{ {FIRM_FIELDS} }} }}", {"u": messy}, user=admin)["firm"]
    assert firm == {
        "uscc": KS_USCC,
        "name": "昆山芯微电子科技有限公司",
        "formerNames": ["昆山芯微科技有限公司"],
        "foundedOn": "2016-03-15",
        "region": {"code": "320583", "name": "昆山市", "level": "district", "parent": {"code": "320500"}},
        "chains": [{"code": "ic.design", "name": "芯片设计"}],
        "currentStage": {"code": "srdi", "name": firm["currentStage"]["name"]},
        "currentTier": {"code": "srdi_sme", "name": firm["currentTier"]["name"]},
        "certifications": [
            {"stage": {"code": "srdi"}, "tier": {"code": "srdi_sme"}, "certificateNo": "ZJTX2024-0001", "batch": "",
             "issuedOn": "2024-07-01", "validUntil": "2027-06-30", "status": "ACTIVE"},
            {"stage": {"code": "hnte"}, "tier": {"code": "hnte"}, "certificateNo": "GR202532001234",
             "batch": "2025 第一批", "issuedOn": "2025-11-20", "validUntil": "2028-11-19", "status": "ACTIVE"},
        ],
        "timeline": [
            {"date": "2024-07-01", "kind": "entered", "stage": {"code": "srdi"}, "tier": {"code": "srdi_sme"}},
            {"date": "2025-11-20", "kind": "recognized", "stage": {"code": "hnte"}, "tier": {"code": "hnte"}},
        ],
        "indicators": [
            {"year": 2024, "revenue": "8000.00", "rdExpense": "480.00", "rdIntensity": 0.06, "employees": 120,
             "rdStaff": 30, "inventionPatents": 5, "valuationUsd": None, "revenueGrowth": None},
            {"year": 2025, "revenue": "10000.00", "rdExpense": "700.00", "rdIntensity": 0.07, "employees": 150,
             "rdStaff": 40, "inventionPatents": 8, "valuationUsd": "50000000", "revenueGrowth": 0.25},
        ],
    }
    assert firm["currentStage"]["name"] and firm["currentTier"]["name"]


def test_firm_unknown_uscc_is_null(gql, admin, registry_data):
    assert gql.data('{ firm(uscc: "not a code") { uscc } }', user=admin) == {"firm": None}


def firms(gql, user, args="", fields="uscc"):
    query = f"{{ firms{('(' + args + ')') if args else ''} {{ totalCount edges {{ node {{ {fields} }} }} }} }}"
    data = gql.data(query, user=user)["firms"]
    return data["totalCount"], [edge["node"]["uscc"] for edge in data["edges"]]


def test_firms_filters(gql, admin, registry_data):
    both = [KS_USCC, BH_USCC]
    assert firms(gql, admin) == (2, both)
    assert firms(gql, admin, 'stage: "srdi"') == (1, [KS_USCC])
    assert firms(gql, admin, 'stage: "tech_sme"') == (1, [BH_USCC])
    assert firms(gql, admin, 'tier: "srdi_sme"') == (1, [KS_USCC])
    assert firms(gql, admin, 'region: "320000"') == (2, both)  # province includes districts
    assert firms(gql, admin, 'region: "320500"') == (1, [KS_USCC])  # city includes 昆山
    assert firms(gql, admin, 'region: "320211"') == (1, [BH_USCC])
    assert firms(gql, admin, 'region: "320214"') == (0, [])
    assert firms(gql, admin, 'chain: "ic"') == (1, [KS_USCC])  # parent chain includes ic.design
    assert firms(gql, admin, 'chain: "ict.iot"') == (1, [BH_USCC])
    assert firms(gql, admin, 'foundedAfter: "2016-03-15"') == (1, [BH_USCC])  # strict
    assert firms(gql, admin, 'foundedAfter: "2016-03-14"') == (2, both)
    assert firms(gql, admin, 'foundedBefore: "2020-08-01"') == (1, [KS_USCC])  # strict
    assert firms(gql, admin, 'revenueMin: "10000"') == (1, [KS_USCC])  # latest year (2025) counts, inclusive
    assert firms(gql, admin, 'revenueMax: "1200"') == (1, [BH_USCC])
    assert firms(gql, admin, 'rdIntensityMin: "0.08"') == (1, [BH_USCC])  # 120/1200 = 0.10 vs 700/10000 = 0.07
    assert firms(gql, admin, 'revenueGrowthMin: "0.2"') == (1, [KS_USCC])  # 10000/8000 - 1 = 0.25
    assert firms(gql, admin, 'certificateExpiringBefore: "2027-01-01"') == (1, [BH_USCC])  # tech_sme ends 2026-12-31
    assert firms(gql, admin, 'certificateExpiringBefore: "2027-07-01"') == (2, both)  # srdi_sme ends 2027-06-30
    assert firms(gql, admin, 'stage: "srdi", region: "320500", rdIntensityMin: "0.05"') == (1, [KS_USCC])


def test_decimal_filters_take_variables(gql, admin, registry_data):
    data = gql.data(
        "query($r: Decimal) { firms(rdIntensityMin: $r) { totalCount } }", {"r": "0.08"}, user=admin
    )
    assert data["firms"]["totalCount"] == 1


def test_unknown_codes_are_errors_naming_argument_and_value(gql, admin, registry_data):
    for argument, value in [("stage", "hnt"), ("tier", "gold"), ("region", "999999"), ("chain", "nope")]:
        status, body = gql(f'{{ firms({argument}: "{value}") {{ totalCount }} }}', user=admin)
        assert status == 200 and body["data"]["firms"] is None
        message = body["errors"][0]["message"]
        assert f"'{argument}'" in message and value in message, message


def test_order_by_and_keyset_pagination(gql, admin, registry_data):
    # 25 more Kunshan firms: default page is 20, and cursors walk the rest.
    extra = [FirmFactory(founded_on=datetime.date(2010, 1, 1) + datetime.timedelta(days=i)) for i in range(24)]
    extra.append(FirmFactory(founded_on=None))  # unknown founding dates sort last either way
    page = gql.data("{ firms { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { uscc } } } }",
                    user=admin)["firms"]
    assert page["totalCount"] == 27 and len(page["edges"]) == 20 and page["pageInfo"]["hasNextPage"]
    rest = gql.data("query($a: String) { firms(first: 20, after: $a) { pageInfo { hasNextPage hasPreviousPage } "
                    "edges { node { uscc } } } }", {"a": page["pageInfo"]["endCursor"]}, user=admin)["firms"]
    assert len(rest["edges"]) == 7 and not rest["pageInfo"]["hasNextPage"] and rest["pageInfo"]["hasPreviousPage"]
    seen = [e["node"]["uscc"] for e in page["edges"] + rest["edges"]]
    assert seen == [KS_USCC, BH_USCC] + [f.uscc for f in extra]

    # Oldest founding first, nulls last; walk it two at a time.
    newest_first = []
    after = None
    while True:
        chunk = gql.data("query($a: String) { firms(first: 2, after: $a, orderBy: FOUNDED_ON_DESC) { pageInfo "
                         "{ hasNextPage endCursor } edges { node { uscc } } } }", {"a": after}, user=admin)["firms"]
        newest_first += [e["node"]["uscc"] for e in chunk["edges"]]
        if not chunk["pageInfo"]["hasNextPage"]:
            break
        after = chunk["pageInfo"]["endCursor"]
    assert newest_first == [BH_USCC, KS_USCC] + [f.uscc for f in reversed(extra[:-1])] + [extra[-1].uscc]
    oldest_first = gql.data("{ firms(first: 30, orderBy: FOUNDED_ON) { edges { node { uscc } } } }",
                            user=admin)["firms"]["edges"]
    assert [e["node"]["uscc"] for e in oldest_first] == [f.uscc for f in extra[:-1]] + [KS_USCC, BH_USCC,
                                                                                       extra[-1].uscc]


def test_cursor_of_another_ordering_is_refused(gql, admin, registry_data):
    cursor = gql.data("{ firms(first: 1) { pageInfo { endCursor } } }", user=admin)["firms"]["pageInfo"]["endCursor"]
    status, body = gql("query($a: String) { firms(after: $a, orderBy: NAME) { totalCount } }", {"a": cursor},
                       user=admin)
    assert "Invalid cursor" in body["errors"][0]["message"]


def test_ladder_in_order_with_tiers(gql, admin, db):
    ladder = gql.data('{ ladder(region: "320583") { code tiers { code } } }', user=admin)["ladder"]
    assert [s["code"] for s in ladder] == ["tech_sme", "hnte", "gazelle", "srdi", "unicorn"]
    srdi = next(s for s in ladder if s["code"] == "srdi")
    assert [t["code"] for t in srdi["tiers"]] == ["srdi_innovative", "srdi_sme", "srdi_little_giant"]
    status, body = gql('{ ladder(region: "000000") { code } }', user=admin)
    assert "Unknown region code “000000”" in body["errors"][0]["message"]


def test_expiring_certificates_soonest_first_with_firm(gql, admin, registry_data):
    query = """query($b: Date!, $r: String, $s: String) { expiringCertificates(before: $b, region: $r, stage: $s) {
        tier { code } validUntil status firm { uscc } } }"""
    rows = gql.data(query, {"b": "2027-07-01"}, user=admin)["expiringCertificates"]
    assert rows == [
        {"tier": {"code": "tech_sme"}, "validUntil": "2026-12-31", "status": "ACTIVE", "firm": {"uscc": BH_USCC}},
        {"tier": {"code": "srdi_sme"}, "validUntil": "2027-06-30", "status": "ACTIVE", "firm": {"uscc": KS_USCC}},
    ]
    assert [r["firm"]["uscc"] for r in gql.data(query, {"b": "2027-07-01", "r": "320500"}, user=admin)[
        "expiringCertificates"]] == [KS_USCC]
    assert gql.data(query, {"b": "2027-07-01", "s": "hnte"}, user=admin)["expiringCertificates"] == []
    assert gql.data(query, {"b": "2026-12-31"}, user=admin)["expiringCertificates"] == []  # strict


def test_expiring_certificates_skip_revoked_and_expired(gql, admin, registry_data):
    record_certification(registry_data["bh"], "hnte", datetime.date(2020, 1, 2))  # lapsed → EXPIRED
    rows = gql.data('{ expiringCertificates(before: "2030-01-01") { tier { code } status } }',
                    user=admin)["expiringCertificates"]
    assert {r["status"] for r in rows} == {"ACTIVE"} and len(rows) == 3


def test_node_lookup_by_global_id(gql, admin, registry_data):
    firm_id = gql.data(f'{{ firm(uscc: "{KS_USCC}") {{ id }} }}', user=admin)["firm"]["id"]
    node = gql.data("query($id: ID!) { node(id: $id) { ... on FirmType { uscc } } }", {"id": firm_id}, user=admin)
    assert node == {"node": {"uscc": KS_USCC}}


def test_unexpected_exceptions_are_masked(gql, admin, monkeypatch, db):
    def broken(region=None):
        raise RuntimeError("/srv/secret/path leaked")

    monkeypatch.setattr("api_graphql.registry.schema.ladder_for", broken)
    status, body = gql("{ ladder { code } }", user=admin)
    assert status == 200
    assert body["errors"][0]["message"] == "Internal error while resolving this field; it has been logged."
    assert "secret" not in str(body)


def test_order_by_name_and_newest(gql, admin, registry_data):
    names = [e["node"]["name"] for e in gql.data("{ firms(orderBy: NAME) { edges { node { name } } } }",
                                                 user=admin)["firms"]["edges"]]
    assert names == sorted(names)
    first = gql.data("{ firms(first: 1, orderBy: NEWEST) { pageInfo { endCursor } edges { node { uscc } } } }",
                     user=admin)["firms"]
    assert first["edges"] == [{"node": {"uscc": BH_USCC}}]
    rest = gql.data("query($a: String) { firms(after: $a, orderBy: NEWEST) { edges { node { uscc } } } }",
                    {"a": first["pageInfo"]["endCursor"]}, user=admin)["firms"]
    assert rest["edges"] == [{"node": {"uscc": KS_USCC}}]


def test_registered_capital_comes_with_its_currency(gql, admin, db):
    from registry.services import upsert_firm
    from tests.factories import make_uscc

    uscc = make_uscc("110112")
    upsert_firm(uscc, name="北京外资科技有限公司", region="110112", registered_capital="4500",
                registered_capital_currency="USD")
    firm = gql.data("query($u: String!) { firm(uscc: $u) { registeredCapital registeredCapitalCurrency "
                    "region { code name parent { code } } } }", {"u": uscc}, user=admin)["firm"]
    assert firm == {"registeredCapital": "4500.00", "registeredCapitalCurrency": "USD",
                    "region": {"code": "110112", "name": "通州区", "parent": {"code": "110000"}}}
