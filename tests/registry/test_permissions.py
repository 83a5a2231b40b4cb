"""registry.permissions: roles, region scope (sub-regions included) and field scope."""

import pytest

from registry import permissions
from registry.models import Certification, Firm, IndicatorYear, Region, Role
from tests.api_graphql.conftest import make_user
from tests.factories import FirmFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def firms():
    return {
        "ks": FirmFactory(region=Region.objects.get(code="320583")),
        "bh": FirmFactory(region=Region.objects.get(code="320211")),
        "xw": FirmFactory(region=Region.objects.get(code="320214")),
    }


def codes(qs):
    return sorted(f.region_id for f in qs)


def test_officer_scope_includes_sub_regions_only(firms):
    wuxi = make_user("wx", Role.OFFICER, regions=["320200"])
    binhu = make_user("bh", Role.OFFICER, regions=["320211"])
    assert codes(permissions.firms_visible_to(wuxi)) == ["320211", "320214"]
    assert codes(permissions.firms_visible_to(binhu)) == ["320211"]
    assert permissions.can_read_firm(binhu, firms["bh"]) and not permissions.can_read_firm(binhu, firms["xw"])
    assert permissions.can_write_firm(wuxi, firms["xw"]) and not permissions.can_write_firm(wuxi, firms["ks"])


def test_roles_without_region_scope(firms):
    for role in (Role.ANALYST, Role.INVESTOR, Role.ADMIN):
        user = make_user(f"u_{role}", role)
        assert permissions.region_paths(user) is None
        assert permissions.firms_visible_to(user).count() == 3
        assert permissions.can_write_firm(user, firms["ks"]) is (role == Role.ADMIN)


def test_no_role_sees_nothing(firms):
    user = make_user("nobody")
    assert permissions.firms_visible_to(user).count() == 0
    assert permissions.certifications_visible_to(user).count() == 0
    assert not permissions.can_read_firm(user, firms["ks"])


def test_child_rows_follow_firm_scope(firms):
    officer = make_user("ks", Role.OFFICER, regions=["320583"])
    assert str(permissions.certifications_visible_to(officer, Certification.objects.all()).query).count("region") >= 1
    assert permissions.indicators_visible_to(officer, IndicatorYear.objects.all()).count() == 0
    assert list(permissions.firms_visible_to(officer, Firm.objects.all())) == [firms["ks"]]


def test_region_paths_are_cached_per_user_object(firms, django_assert_num_queries):
    officer = make_user("ks2", Role.OFFICER, regions=["320583"])
    permissions.region_paths(officer)
    with django_assert_num_queries(0):
        permissions.region_paths(officer)


def test_investor_field_scope():
    investor, analyst = make_user("inv", Role.INVESTOR), make_user("ana", Role.ANALYST)
    for field in ("year", "employees", "invention_patents", "ip_class1", "ip_class2", "valuation_usd"):
        assert permissions.can_read_indicator_field(investor, field)
    for field in ("revenue", "rd_expense", "rd_intensity", "total_assets", "debt_ratio", "new_equity_financing"):
        assert not permissions.can_read_indicator_field(investor, field)
        assert permissions.can_read_indicator_field(analyst, field)
    assert not permissions.can_read_cultivation(investor) and permissions.can_read_cultivation(analyst)
