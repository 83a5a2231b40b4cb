import datetime

import pytest
from django.contrib.auth.models import User

from registry.models import Region, Role, RoleAssignment, Stage
from registry.services import record_certification
from tests.factories import FirmFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def firms():
    kunshan = FirmFactory(name="昆山普瑞生物科技有限公司")
    binhu = FirmFactory(name="无锡芯动生物科技有限公司", region=Region.objects.get(code="320211"))
    record_certification(kunshan, "hnte", datetime.date(2025, 11, 1))
    return kunshan, binhu


def test_admin_lists_firms_with_stage_region_and_expiry_filters(client, firms):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    page = client.get("/admin/registry/firm/", {"region_tree": "320500", "current_stage__id__exact": Stage.objects.get(code="hnte").id})
    assert page.status_code == 200
    assert "昆山普瑞生物科技有限公司" in page.content.decode()
    assert "无锡芯动生物科技有限公司" not in page.content.decode()
    page = client.get("/admin/registry/firm/", {"expiring": "365"})
    assert "昆山普瑞生物科技有限公司" not in page.content.decode()  # valid until 2028
    detail = client.get(f"/admin/registry/firm/{firms[0].pk}/change/")
    assert detail.status_code == 200
    assert "entered" in detail.content.decode()  # the timeline is on the page


def test_an_officer_sees_only_their_districts_in_the_admin(client, firms):
    officer = User.objects.create_user("officer", password="pw", is_staff=True)
    from django.contrib.auth.models import Permission

    officer.user_permissions.add(Permission.objects.get(codename="view_firm"))
    RoleAssignment.objects.create(user=officer, role=Role.OFFICER).regions.add(Region.objects.get(code="320583"))
    client.force_login(officer)
    page = client.get("/admin/registry/firm/").content.decode()
    assert "昆山普瑞生物科技有限公司" in page
    assert "无锡芯动生物科技有限公司" not in page
    assert client.get(f"/admin/registry/firm/{firms[1].pk}/change/").status_code in (302, 404)
