"""Registry mutations through POST /graphql: outcomes, errors {field message}, and region scope."""

import json

import pytest
from django.db import connection
from graphql_relay import to_global_id

from registry.models import AuditEvent, Certification, CertificationStatus, Firm, IndicatorYear
from tests.api_graphql.conftest import BH_USCC, KS_USCC
from tests.factories import bad_check_digit, make_uscc

UPSERT = """mutation($uscc: String!, $name: String, $region: String, $foundedOn: String, $chains: [String!]) {
  upsertFirm(uscc: $uscc, name: $name, region: $region, foundedOn: $foundedOn, chains: $chains) {
    outcome errors { field message } firm { uscc name formerNames region { code } chains { code } foundedOn } } }"""
RECORD = """mutation($uscc: String!, $tier: String!, $issuedOn: String!, $no: String, $until: String) {
  recordCertification(uscc: $uscc, tier: $tier, issuedOn: $issuedOn, certificateNo: $no, validUntil: $until) {
    outcome errors { field message } certification { id tier { code } validUntil status }
    firm { currentStage { code } } } }"""
REVOKE = """mutation($id: ID!, $reason: String!, $on: String) {
  revokeCertification(id: $id, reason: $reason, revokedOn: $on) {
    errors { field message } certification { status revokedOn } } }"""
INDICATORS = """mutation($uscc: String!, $year: Int!, $revenue: Decimal, $rd: Decimal, $employees: Int, $staff: Int) {
  upsertIndicators(uscc: $uscc, year: $year, revenue: $revenue, rdExpense: $rd, employees: $employees,
                   rdStaff: $staff) {
    outcome errors { field message } indicators { year revenue rdIntensity revenueGrowth }
    firm { latestIndicators { year } } } }"""


def test_upsert_firm_creates_updates_and_is_idempotent(gql, officer):
    code = make_uscc("320583", serial=123456)
    variables = {"uscc": code.lower(), "name": "昆山新材料有限公司", "region": "320583", "foundedOn": "2021-04-01",
                 "chains": ["ic.packaging"]}
    result = gql.data(UPSERT, variables, user=officer)["upsertFirm"]
    assert result == {"outcome": "created", "errors": [], "firm": {
        "uscc": code, "name": "昆山新材料有限公司", "formerNames": [], "region": {"code": "320583"},
        "chains": [{"code": "ic.packaging"}], "foundedOn": "2021-04-01"}}
    assert gql.data(UPSERT, variables, user=officer)["upsertFirm"]["outcome"] == "unchanged"
    renamed = gql.data(UPSERT, {"uscc": code, "name": "昆山新材料科技有限公司"}, user=officer)["upsertFirm"]
    assert renamed["outcome"] == "updated" and renamed["firm"]["formerNames"] == ["昆山新材料有限公司"]
    assert AuditEvent.objects.filter(model="firm", via="api", actor=officer).count() == 2


def test_upsert_firm_invalid_input_is_errors_not_500(gql, admin):
    cases = [
        ({"uscc": "12345"}, "uscc", "18"),
        ({"uscc": bad_check_digit(make_uscc(serial=5)), "name": "x", "region": "320583"}, "uscc", "check"),
        ({"uscc": make_uscc(serial=6), "name": "x", "region": "999999"}, "region", "999999"),
        ({"uscc": make_uscc(serial=7), "name": "x", "region": "320583", "foundedOn": "2021-13-40"}, "foundedOn",
         "2021-13-40"),
        ({"uscc": make_uscc(serial=8), "name": "x", "region": "320583", "chains": ["nope"]}, "chains", "nope"),
        ({"uscc": make_uscc(serial=9), "name": "x"}, "region", "region"),
    ]
    for variables, field, fragment in cases:
        status, body = gql(UPSERT, variables, user=admin)
        assert status == 200 and "errors" not in body, body
        result = body["data"]["upsertFirm"]
        assert result["firm"] is None and result["errors"][0]["field"] == field, result
        assert fragment in result["errors"][0]["message"], result
    assert Firm.objects.count() == 0


def test_officer_cannot_write_outside_regions_and_learns_nothing(gql, officer, registry_data):
    result = gql.data(UPSERT, {"uscc": BH_USCC, "name": "改名"}, user=officer)["upsertFirm"]
    assert result["firm"] is None and result["errors"][0]["field"] == "uscc"
    assert "无锡" not in json.dumps(result, ensure_ascii=False)
    result = gql.data(UPSERT, {"uscc": make_uscc("320211", serial=77), "name": "新公司", "region": "320211"},
                      user=officer)["upsertFirm"]
    assert result["errors"] == [{"field": "region", "message": "Region 320211 is outside your regions."}]
    result = gql.data(RECORD, {"uscc": BH_USCC, "tier": "hnte", "issuedOn": "2025-12-01"}, user=officer)
    assert result["recordCertification"]["errors"] == [
        {"field": "uscc", "message": "No firm with this USCC in your regions."}]
    # The same answer as for a USCC that does not exist at all.
    result = gql.data(RECORD, {"uscc": make_uscc(serial=4242), "tier": "hnte", "issuedOn": "2025-12-01"}, user=officer)
    assert result["recordCertification"]["errors"][0]["message"] == "No firm with this USCC in your regions."
    bh_cert = Certification.objects.get(firm__uscc=BH_USCC)
    result = gql.data(REVOKE, {"id": to_global_id("CertificationType", bh_cert.pk), "reason": "x"}, user=officer)
    assert result["revokeCertification"]["errors"] == [
        {"field": "id", "message": "No recognition with this id in your regions."}]
    result = gql.data(INDICATORS, {"uscc": BH_USCC, "year": 2025, "revenue": "1"}, user=officer)
    assert result["upsertIndicators"]["errors"][0]["field"] == "uscc"
    assert Firm.objects.get(uscc=BH_USCC).name == "无锡滨湖智造有限公司"
    assert Certification.objects.get(pk=bh_cert.pk).status == CertificationStatus.ACTIVE


def test_analyst_and_investor_cannot_write(gql, analyst, investor, registry_data):
    for user in (analyst, investor):
        result = gql.data(UPSERT, {"uscc": KS_USCC, "name": "改名"}, user=user)["upsertFirm"]
        assert result["errors"] == [{"field": None, "message": f"The {user.cultivar_role.role} role may not change "
                                                                 "the registry."}]


def test_record_certification_and_its_errors(gql, officer, registry_data):
    result = gql.data(RECORD, {"uscc": KS_USCC, "tier": "srdi_little_giant", "issuedOn": "2026-07-01",
                               "no": "XJR-2026-01"}, user=officer)["recordCertification"]
    assert result["outcome"] == "created" and result["errors"] == []
    assert result["certification"]["tier"] == {"code": "srdi_little_giant"}
    assert result["certification"]["validUntil"] == "2029-06-30" and result["certification"]["status"] == "ACTIVE"
    assert result["firm"] == {"currentStage": {"code": "srdi"}}
    again = gql.data(RECORD, {"uscc": KS_USCC, "tier": "srdi_little_giant", "issuedOn": "2026-07-01",
                              "no": "XJR-2026-01"}, user=officer)["recordCertification"]
    assert again["outcome"] == "unchanged"
    for variables, field in [
        ({"tier": "gold", "issuedOn": "2026-01-01"}, "tier"),
        ({"tier": "hnte", "issuedOn": "2026-02-30"}, "issuedOn"),
        ({"tier": "hnte", "issuedOn": "2026-02-01", "until": "2025-01-01"}, "validUntil"),
    ]:
        result = gql.data(RECORD, {"uscc": KS_USCC, **variables}, user=officer)["recordCertification"]
        assert result["certification"] is None and result["errors"][0]["field"] == field, result


def test_revoke_certification(gql, officer, registry_data):
    cert = Certification.objects.get(firm__uscc=KS_USCC, tier__code="srdi_sme")
    gid = to_global_id("CertificationType", cert.pk)
    result = gql.data(REVOKE, {"id": gid, "reason": ""}, user=officer)["revokeCertification"]
    assert result["errors"] == [{"field": "reason", "message": "Say why the recognition is revoked."}]
    result = gql.data(REVOKE, {"id": gid, "reason": "数据造假", "on": "2026-09-01"}, user=officer)["revokeCertification"]
    assert result == {"errors": [], "certification": {"status": "REVOKED", "revokedOn": "2026-09-01"}}
    assert Firm.objects.get(uscc=KS_USCC).current_stage.code == "hnte"
    result = gql.data(REVOKE, {"id": gid, "reason": "again"}, user=officer)["revokeCertification"]
    assert result["errors"][0]["field"] == "status"
    result = gql.data(REVOKE, {"id": "garbage", "reason": "x"}, user=officer)["revokeCertification"]
    assert result["errors"][0]["field"] == "id"


def test_upsert_indicators_derives_growth_and_intensity(gql, officer, registry_data):
    result = gql.data(INDICATORS, {"uscc": KS_USCC, "year": 2026, "revenue": "12500", "rd": "1000"},
                      user=officer)["upsertIndicators"]
    assert result == {"outcome": "created", "errors": [], "firm": {"latestIndicators": {"year": 2026}},
                      "indicators": {"year": 2026, "revenue": "12500.00", "rdIntensity": 0.08, "revenueGrowth": 0.25}}
    for variables, field in [
        ({"year": 1800}, "year"),
        ({"year": 2026, "revenue": "-5"}, "revenue"),
        ({"year": 2026, "employees": 5, "staff": 9}, "rdStaff"),
    ]:
        result = gql.data(INDICATORS, {"uscc": KS_USCC, **variables}, user=officer)["upsertIndicators"]
        assert result["indicators"] is None and result["errors"][0]["field"] == field, result
    assert IndicatorYear.objects.get(firm__uscc=KS_USCC, year=2026).revenue == 12500


def test_city_officer_writes_in_sub_regions(gql, city_officer, registry_data):
    """A 苏州市 officer may change a 昆山 firm (昆山 is under 苏州) but not a 无锡 one."""
    result = gql.data(INDICATORS, {"uscc": KS_USCC, "year": 2026, "employees": 160}, user=city_officer)
    assert result["upsertIndicators"]["outcome"] == "created"
    result = gql.data(INDICATORS, {"uscc": BH_USCC, "year": 2026, "employees": 50}, user=city_officer)
    assert result["upsertIndicators"]["errors"][0]["message"] == "No firm with this USCC in your regions."


def test_single_writes_prepare_their_statements_on_postgresql(gql, officer):
    """ServiceMutation runs in registry.services.writes.prepared_statements: a write's statements, seen
    twice in the connection, are prepared; a read through the same endpoint prepares nothing."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements: PostgreSQL only")

    def prepared():
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return {row[0] for row in cursor.fetchall()}

    before = prepared()
    variables = {"uscc": make_uscc("320583", serial=123457), "name": "昆山预备科技有限公司", "region": "320583"}
    for _ in range(3):
        gql.data(UPSERT, variables, user=officer)
    written = prepared() - before
    assert any('"registry_firm"' in statement and "$1" in statement for statement in written), written
    for _ in range(3):
        gql.data('query($uscc: String!) { firm(uscc: $uscc) { name } }', {"uscc": variables["uscc"]}, user=officer)
    assert prepared() - before == written
