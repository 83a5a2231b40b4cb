"""The search outbox: registry writes that could not reach the index are recorded, shown and replayed."""

import io

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command

from registry.services import upsert_firm
from search import outbox
from search.backends import get_backend
from search.backends.base import SearchRequest, SearchUnavailable
from search.models import PendingIndex
from tests.factories import make_uscc

pytestmark = pytest.mark.django_db


class Switchable:
    """The real embedded backend, except that writes fail while `down` (Elasticsearch unreachable)."""

    def __init__(self, backend):
        self.backend, self.down = backend, False

    def index(self, docs):
        if self.down:
            raise SearchUnavailable()
        return self.backend.index(docs)

    def delete(self, ids):
        if self.down:
            raise SearchUnavailable()
        return self.backend.delete(ids)

    def __getattr__(self, name):
        return getattr(self.backend, name)


@pytest.fixture
def search(settings, tmp_path, monkeypatch):
    settings.SEARCH_BACKEND = "embedded"
    settings.SEARCH_EMBEDDED_PATH = tmp_path / "search"
    get_backend.cache_clear()
    switchable = Switchable(get_backend())
    monkeypatch.setattr("search.outbox.get_backend", lambda: switchable)
    monkeypatch.setattr("search.tasks.index_firms.max_retries", 0)  # eager mode: no retry loop in the test
    yield switchable
    get_backend.cache_clear()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def ids(query):
    return sorted(hit.id for hit in get_backend().search(SearchRequest(query=query)).hits)


def make_firm(serial, name):
    return upsert_firm(make_uscc("320583", serial=serial), name=name, region="320583")[0]


def status_line():
    out = io.StringIO()
    call_command("search_outbox", stdout=out)
    return out.getvalue().strip()


def test_writes_while_search_is_down_are_recorded_then_replayed_by_the_beat_task(search, committed):
    from search.tasks import replay_outbox

    search.down = True
    with committed():
        first = make_firm(920001, "宕机期间甲科技有限公司")
    with committed():
        second = make_firm(920002, "宕机期间乙科技有限公司")
    with committed():
        upsert_firm(first.uscc, name="宕机期间甲科技有限公司", region="320583", description="再次写入")
    assert ids("宕机期间") == []
    pending = {p.firm_id: p for p in PendingIndex.objects.all()}
    assert set(pending) == {first.id, second.id}
    assert pending[first.id].attempts == 2 and "unavailable" in pending[first.id].reason
    assert status_line().startswith("Search outbox: 2 firm(s) pending since ")

    assert replay_outbox() == {"replayed": 0, "pending": 2, "error": SearchUnavailable().args[0]}  # still down
    assert PendingIndex.objects.get(firm_id=second.id).attempts == 2

    search.down = False
    assert replay_outbox() == {"replayed": 2, "pending": 0, "error": None}
    assert ids("宕机期间") == sorted([first.id, second.id])
    assert status_line() == "Search outbox: 0 firms pending; the index has every registry write."


def test_a_firm_deleted_while_search_was_down_leaves_the_index_on_replay(search, committed):
    with committed():
        firm = make_firm(920003, "删除待同步科技有限公司")
    assert ids("删除待同步") == [firm.id]
    search.down = True
    gone = firm.id
    firm.delete()
    outbox.record_pending([gone], "delete failed")  # as the delete task records it
    search.down = False
    call_command("search_outbox", "--replay", stdout=io.StringIO())
    assert ids("删除待同步") == [] and not PendingIndex.objects.exists()


def test_replay_command_says_when_search_is_still_down(search):
    outbox.record_pending([123456], "boom")
    search.down = True
    with pytest.raises(CommandError, match="Search is still unavailable"):
        call_command("search_outbox", "--replay", stdout=io.StringIO())
    assert PendingIndex.objects.get(firm_id=123456).attempts == 2


def test_broker_down_is_recorded_too(search, committed, monkeypatch):
    def no_broker(*args, **kwargs):
        raise ConnectionRefusedError("redis:6379")

    monkeypatch.setattr("search.tasks.index_firms.delay", no_broker)
    with committed():
        firm = make_firm(920004, "队列宕机科技有限公司")
    (row,) = PendingIndex.objects.all()
    assert row.firm_id == firm.id and row.reason == "ConnectionRefusedError: redis:6379"


def test_a_full_reindex_clears_the_outbox(search):
    make_firm(920005, "重建清空科技有限公司")
    outbox.record_pending([1, 2], "earlier failure")
    out = io.StringIO()
    call_command("search_reindex", stdout=out)
    assert "Cleared 2 firms from the search outbox." in out.getvalue()
    assert not PendingIndex.objects.exists()


def test_admins_see_the_outbox(search, admin_client):
    outbox.record_pending([777], "SearchUnavailable: down")
    assert admin.site.is_registered(PendingIndex)
    page = admin_client.get("/admin/search/pendingindex/")
    assert page.status_code == 200 and "777" in page.content.decode() and "down" in page.content.decode()
