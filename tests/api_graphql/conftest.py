"""Fixtures for the GraphQL API: users per role, a small hand-checked registry, and a POST helper."""

import datetime
import json
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from registry.models import Region, Role, RoleAssignment
from registry.services import record_certification, upsert_firm, upsert_indicators
from tests.factories import make_uscc

D = datetime.date


def make_user(username, role=None, regions=(), **extra):
    user = get_user_model().objects.create_user(username=username, password="pw", **extra)
    if role:
        assignment = RoleAssignment.objects.create(user=user, role=role)
        assignment.regions.set(Region.objects.filter(code__in=regions))
    return user


class GQL:
    """POST /graphql as a given user (session) or token; returns (status, body)."""

    def __init__(self, client=None):
        self.client = client or Client()

    def __call__(self, query, variables=None, user=None, token=None, client=None):
        client = client or self.client
        if user is not None:
            client.force_login(user)
        headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
        response = client.post(
            "/graphql", data=json.dumps({"query": query, "variables": variables or {}}),
            content_type="application/json", **headers,
        )
        return response.status_code, response.json()

    def data(self, query, variables=None, **kwargs):
        status, body = self(query, variables, **kwargs)
        assert status == 200 and "errors" not in body, body
        return body["data"]


@pytest.fixture
def gql():
    return GQL()


@pytest.fixture(autouse=True)
def cold_code_cache():
    """Reference-code lookups are cached per process; start each test cold so query counts are worst case."""
    from registry.filtersets import codes

    codes.clear()
    yield
    codes.clear()


@pytest.fixture(autouse=True)
def no_verified_tokens():
    """Verified tokens are cached per process too; no test sees another's."""
    from api_graphql.core.auth import verified_tokens

    verified_tokens.clear()
    yield
    verified_tokens.clear()


@pytest.fixture
def officer(db):
    return make_user("ks_officer", Role.OFFICER, regions=["320583"])


@pytest.fixture
def city_officer(db):
    return make_user("sz_officer", Role.OFFICER, regions=["320500"])


@pytest.fixture
def wuxi_officer(db):
    return make_user("bh_officer", Role.OFFICER, regions=["320211"])


@pytest.fixture
def analyst(db):
    return make_user("analyst", Role.ANALYST)


@pytest.fixture
def investor(db):
    return make_user("investor", Role.INVESTOR)


@pytest.fixture
def admin(db):
    return make_user("admin", Role.ADMIN)


KS_USCC = make_uscc("320583", serial=900001)
BH_USCC = make_uscc("320211", serial=900002)


@pytest.fixture
def registry_data(db):
    """Two firms, hand-checked: 昆山芯微 (Kunshan, hnte + srdi_sme, two indicator years) and 滨湖智造 (Binhu)."""
    ks, _ = upsert_firm(
        KS_USCC, name="昆山芯微科技有限公司", region="320583", founded_on="2016-03-15", chains=["ic.design"],
        registered_capital="500",
    )
    upsert_firm(KS_USCC, name="昆山芯微电子科技有限公司")  # renamed: the old name becomes a former name
    record_certification(ks, "hnte", D(2025, 11, 20), certificate_no="GR202532001234", batch="2025 第一批")
    record_certification(ks, "srdi_sme", D(2024, 7, 1), certificate_no="ZJTX2024-0001")
    upsert_indicators(ks, 2024, {"revenue": Decimal("8000"), "rd_expense": Decimal("480"), "employees": 120,
                                 "rd_staff": 30, "invention_patents": 5, "ip_class1": 5, "ip_class2": 2})
    upsert_indicators(ks, 2025, {"revenue": Decimal("10000"), "rd_expense": Decimal("700"), "employees": 150,
                                 "rd_staff": 40, "invention_patents": 8, "valuation_usd": Decimal("50000000")})
    bh, _ = upsert_firm(BH_USCC, name="无锡滨湖智造有限公司", region="320211", founded_on="2020-08-01",
                        chains=["ict.iot"])
    record_certification(bh, "tech_sme", D(2026, 5, 6), certificate_no="202632021100000001")
    upsert_indicators(bh, 2025, {"revenue": Decimal("1200"), "rd_expense": Decimal("120"), "employees": 40,
                                 "rd_staff": 12})
    return {"ks": ks, "bh": bh}


@pytest.fixture
def more_firms(registry_data):
    """A third firm with no stage, tier or indicators (null relations), in 苏州 too."""
    upsert_firm(make_uscc("320505", serial=900003), name="苏州无级企业", region="320505", founded_on="2019-01-01")
    return registry_data
