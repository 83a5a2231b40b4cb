"""Data shared by the search, analytics and imports page tests: a small registry across two districts
(Kunshan 320583, Binhu 320211), indexed for search, and users per role."""

import datetime

import pytest
from django.core.management import call_command
from django.test import Client

from registry.models import Role
from registry.services import record_certification, upsert_firm
from search.backends import get_backend
from tests.factories import make_uscc
from tests.web.conftest import make_user

D = datetime.date
KS = "320583"  # 昆山市
BH = "320211"  # 无锡市滨湖区


def client_for(role, regions=(), username=None, **client_kwargs):
    """A signed-in test client of a new user of this role (HTTP_ACCEPT_LANGUAGE="en" etc. go to the Client)."""
    user = make_user(username or f"p-{role}-{'-'.join(regions)}", role, regions)
    client = Client(**client_kwargs)
    client.force_login(user)
    return client, user


def make_firm(serial, name, region, **fields):
    firm, _ = upsert_firm(make_uscc(region, serial=serial), name=name, region=region, **fields)
    return firm


@pytest.fixture
def pages_registry(db):
    """Kunshan: 3 碳化硅 firms (tech_sme 2023; two reach hnte in 2024, one of those srdi 2025) and a firm
    named like a formula; Binhu: 2 碳化硅 firms (tech_sme 2023, one reaching hnte 2024)."""
    firms = {
        "ks1": make_firm(700001, "昆山碳化硅材料有限公司", KS, main_products="碳化硅衬底"),
        "ks2": make_firm(700002, "昆山晶合碳化硅科技有限公司", KS, main_products="碳化硅外延片"),
        "ks3": make_firm(700003, "昆山碳化硅器件有限公司", KS),
        "evil": make_firm(700004, "=cmd|' /C calc'!A0 <script>alert(1)</script>碳化硅公司", KS),
        "bh1": make_firm(700011, "无锡碳化硅半导体有限公司", BH),
        "bh2": make_firm(700012, "无锡滨湖碳化硅装备有限公司", BH),
    }
    for key in ("ks1", "ks2", "ks3", "bh1", "bh2"):
        record_certification(firms[key], "tech_sme", D(2023, 5, 10), certificate_no=f"TS-{key}")
    for key in ("ks1", "ks2", "bh1"):
        record_certification(firms[key], "hnte", D(2024, 11, 20), certificate_no=f"GR-{key}")
    record_certification(firms["ks1"], "srdi_sme", D(2025, 7, 1), certificate_no="ZJTX-ks1")
    return firms


@pytest.fixture
def indexed(settings, tmp_path, pages_registry):
    settings.SEARCH_BACKEND = "embedded"
    settings.SEARCH_EMBEDDED_PATH = tmp_path / "search"
    get_backend.cache_clear()
    call_command("search_reindex", stdout=open("/dev/null", "w"))
    yield pages_registry
    get_backend.cache_clear()
