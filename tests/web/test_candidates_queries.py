"""The candidates page's statements when the stored ranking is current: read_page's two (the ranking's
state with the total, then the page) and the page's own (session, user, pool check) — the lag note
({% analytics_lag %}) takes the state read_page read rather than a PipelineState query of its own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry.eligibility import precomputed
from registry.models import PipelineState, Role
from tests.web.test_pages import _fresh, client_for  # noqa: F401 - the caches are cleared per test

pytestmark = pytest.mark.django_db
URL = "/candidates/?stage=hnte"


def statements(client, url=URL):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in captured.captured_queries]


def tables(sql):
    """The outer table each statement reads (its last FROM: the state's total is a subquery before it)."""
    import re

    return [re.findall(r'FROM "?(\w+)"?', s)[-1] for s in sql]


@pytest.mark.parametrize("behind", [False, True])
def test_candidates_page_reads_the_state_once(web_registry, behind):
    precomputed.rebuild(timezone.localdate())
    if behind:
        PipelineState.objects.mark_behind(precomputed.STATE, "a large write; rebuilding after commit")
    client, _ = client_for(Role.OFFICER, ["320583"])
    statements(client)  # the first page reads the names kept per rebuild (target, region path, stages)
    html, sql = statements(client)
    assert tables(sql) == [
        "django_session", "auth_user", "registry_roleassignment", "registry_region",  # who asks, their regions
        "registry_pipelinestate",  # read_page: the ranking's state with the total …
        "registry_candidaterank",  # … and the page
        "registry_cultivationentry",  # which rows are already pooled
    ], sql
    rebuilt = timezone.localtime(PipelineState.objects.get(name=precomputed.STATE).rebuilt_at)
    note = f"分析数据正在更新（截至 {rebuilt:%Y-%m-%d %H:%M}）"
    assert (note in html) is behind
    assert "昆山" in html and 'class="tag' in html  # the candidates themselves are shown


def test_refused_parameter_still_reads_the_note(web_registry):
    """No result (a bad page number): the tag reads the state itself, and the note still shows."""
    precomputed.rebuild(timezone.localdate())
    PipelineState.objects.mark_behind(precomputed.STATE, "a large write")
    client, _ = client_for(Role.ANALYST)
    html, _ = statements(client, URL + "&page=x")
    assert "分析数据正在更新" in html and "不是页码" in html

