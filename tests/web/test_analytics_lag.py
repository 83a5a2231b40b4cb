"""The note shown while the precomputed tables are behind a large write (PipelineState.behind_since):
on the analytics page, the homes and the candidates page, for admins, analysts and officers, with
the time of the last complete rebuild; not for investors, and gone once the rebuild clears the mark."""

import datetime
import html as html_lib

import pytest
from django.utils import timezone

from registry.models import PipelineState, Role
from tests.web.test_pages import _fresh, client_for  # noqa: F401 - the caches are cleared per test

REBUILT = datetime.datetime(2026, 12, 1, 8, 30, tzinfo=datetime.UTC)
PAGES = ["/", "/analytics/", "/candidates/?stage=hnte"]


@pytest.fixture
def behind(web_registry):
    for name in ("pipeline", "candidates"):
        PipelineState.objects.update_or_create(name=name, defaults={
            "complete": True, "rebuilt_at": REBUILT, "evaluated_on": timezone.localdate()})
        PipelineState.objects.mark_behind(name, "100,000 firms changed at once; rebuilding after commit")


@pytest.mark.parametrize("role, regions", [(Role.ANALYST, ()), (Role.OFFICER, ("320583",)), (Role.ADMIN, ())])
def test_note_while_behind_then_gone(behind, role, regions):
    client, _ = client_for(role, list(regions))
    when = timezone.localtime(REBUILT).strftime("%Y-%m-%d %H:%M")
    for url in PAGES if role != Role.ADMIN else PAGES[:2]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert f"分析数据正在更新（截至 {when}）" in response.content.decode(), url
    english = html_lib.unescape(client.get("/analytics/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert f"Analytics are being updated (figures as of {when})" in english
    PipelineState.objects.update(behind_since=None, note="")  # what a rebuild's commit does
    for url in PAGES[:2]:
        assert "分析数据正在更新" not in client.get(url).content.decode(), url


def test_no_note_for_investors_or_when_current(behind, web_registry):
    investor, _ = client_for(Role.INVESTOR)
    assert "分析数据正在更新" not in investor.get("/").content.decode()
    PipelineState.objects.update(behind_since=None)
    analyst, _ = client_for(Role.ANALYST)
    assert "分析数据正在更新" not in analyst.get("/analytics/").content.decode()


def test_admin_lists_the_freshness(behind, admin_client):
    body = admin_client.get("/admin/registry/pipelinestate/").content.decode()
    assert "100,000 firms changed at once" in body and "pipeline" in body
