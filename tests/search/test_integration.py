"""Phase 2: documents from the registry, live indexing on commit, search_reindex (embedded backend)."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import transaction

from registry.services import record_certification, upsert_firm
from search.backends import get_backend
from search.backends.base import SearchError, SearchRequest
from search.indexing import firm_documents, registry_vocabulary, suspend_indexing
from tests.factories import make_uscc

# Plain django_db (a transaction=True flush would drop the ladder/region rows the migrations seed):
# on_commit callbacks run through django_capture_on_commit_callbacks(execute=True), and a rolled-back
# savepoint discards its callbacks exactly as a rolled-back transaction does.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("embedded_index")]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def ids(query, **filters):
    return [hit.id for hit in get_backend().search(SearchRequest(query=query, **filters)).hits]


def make_firm(serial, name, region="320583", **values):
    firm, _ = upsert_firm(make_uscc(region, serial=serial), name=name, region=region, **values)
    return firm


def test_committed_firm_is_searchable_by_name_pinyin_and_place(committed):
    with committed(), transaction.atomic():
        firm = make_firm(910001, "昆山芯动生物科技有限公司", founded_on="2018-05-01", chains=["ic.design"],
                         main_products="合成生物 酶制剂")
        record_certification(firm, "hnte", datetime.date(2025, 11, 20), certificate_no="GR2025001")
    assert ids("芯动生物") == [firm.id]
    assert ids("ksxd") == [firm.id]
    assert ids("合成生物 苏州") == [firm.id]  # the city name comes from region_names
    assert ids("", stage=["hnte"], chain=["ic"]) == [firm.id]  # parent chain code indexed too


def test_document_fields(committed):
    with committed():
        firm = make_firm(910002, "无锡滨湖智造有限公司", region="320211", founded_on="2020-08-01", chains=["ict.iot"])
        record_certification(firm, "tech_sme", datetime.date(2026, 5, 6), certificate_no="X1")
    assert ids("滨湖智造") == [firm.id]
    (doc,) = list(firm_documents([firm.id]))
    assert doc["region_path"] == ["320000", "320200", "320211"]
    assert doc["region_names"][-1] and len(doc["region_names"]) == 3
    assert doc["chains"] == ["ict", "ict.iot"]
    assert (doc["stage"], doc["tier"], doc["founded_year"]) == ("tech_sme", "tech_sme", 2020)
    assert "hnte" in registry_vocabulary().stage


def test_rolled_back_write_leaves_no_document(committed):
    with committed() as callbacks, pytest.raises(RuntimeError):
        with transaction.atomic():
            make_firm(910003, "回滚测试科技有限公司")
            raise RuntimeError("abort")
    assert callbacks == []
    assert ids("回滚测试") == []
    assert get_backend().count() == 0


def test_engine_down_does_not_break_registry_writes(monkeypatch, committed):
    from registry import cache as data_version
    from search.backends.base import SearchUnavailable

    def down(*args, **kwargs):
        raise SearchUnavailable()

    monkeypatch.setattr("search.tasks.index_firms.delay", down)
    with committed() as callbacks:
        firm = make_firm(910004, "引擎宕机科技有限公司")
    indexing = [c for c in callbacks if c is not data_version._bump]  # registry.cache's version change runs too
    assert len(indexing) == 1 and firm.pk and ids("引擎宕机") == []


def test_search_reindex_rebuilds_and_deleted_firms_go():
    with suspend_indexing():
        first = make_firm(910005, "重建索引甲科技有限公司")
        make_firm(910006, "重建索引乙科技有限公司")
    assert get_backend().count() == 0
    out = io.StringIO()
    call_command("search_reindex", "--chunk-size", "1", "--workers", "2", stdout=out)
    assert "Indexed 2 firms" in out.getvalue()
    assert len(ids("重建索引")) == 2
    gone = first.id
    first.delete()
    from search.tasks import index_firms

    assert index_firms([gone]) == {"indexed": 0, "deleted": 1}
    assert len(ids("重建索引")) == 1


def test_search_reindex_fixes_the_allocation_thresholds_before_building(monkeypatch):
    """The build command's process keeps glibc's thresholds fixed (search.backends.embedded)."""
    from search.backends import embedded

    with suspend_indexing():
        make_firm(910007, "阈值甲科技有限公司")
    calls = []
    real_rebuild = embedded.EmbeddedBackend.rebuild
    monkeypatch.setattr(embedded, "fix_allocation_thresholds", lambda: calls.append("fixed") or True)
    monkeypatch.setattr(embedded.EmbeddedBackend, "rebuild",
                        lambda self, *a, **k: calls.append("rebuild") or real_rebuild(self, *a, **k))
    call_command("search_reindex", stdout=io.StringIO())
    assert calls == ["fixed", "rebuild"] and ids("阈值甲") != []


def test_filter_codes_are_read_once_and_a_new_rung_counts_at_once(django_assert_num_queries):
    from registry.models import Stage

    backend = get_backend()
    backend.search(SearchRequest(stage="hnte"))
    with django_assert_num_queries(0):  # the vocabulary (4 queries) is cached
        backend.search(SearchRequest(stage="hnte"))
    with pytest.raises(SearchError, match="^stage: unknown code 'eaglet'"):
        backend.search(SearchRequest(stage="eaglet"))
    Stage.objects.create(code="eaglet", name="雏鹰", rank=Stage.objects.get(code="hnte").rank + 1)
    assert backend.search(SearchRequest(stage="eaglet")).total == 0


def test_scheduled_ids_reach_the_tasks_sorted_once_each_in_chunks(monkeypatch, committed):
    """A large import hands its ids over as a compact array with repeats; tasks get plain int lists."""
    from array import array

    from search import indexing

    sent = []
    monkeypatch.setattr("search.tasks.index_firms.delay", lambda chunk: sent.append(chunk))
    monkeypatch.setattr(indexing, "INDEX_TASK_SIZE", 2)
    with committed() as callbacks:
        with transaction.atomic():
            indexing.schedule_index(array("q", [7, 3, 7, 5, 1]))
    assert len(callbacks) == 1
    assert sent == [[1, 3], [5, 7]] and all(type(i) is int for chunk in sent for i in chunk)


def test_documents_of_every_firm_and_of_some_firms_agree(committed):
    """firm_documents reads a whole chunk's chains and aliases by id range and a list of firms' by
    their ids: the same document either way, chains in code order (parents first), aliases in the
    order they were added."""
    from registry.models import FirmAlias

    with committed():
        first = make_firm(910011, "苏州甲科技有限公司", chains=["ict.iot", "biomed.synbio"], former_names=["苏州旧名有限公司"])
        second = make_firm(910012, "苏州乙科技有限公司")
        third = make_firm(910013, "苏州丙科技有限公司", chains=["ict"])
    FirmAlias.objects.create(firm=first, name="甲品牌", name_normalized="甲品牌")
    FirmAlias.objects.create(firm=first, name="Jia Tech", name_normalized="jia tech")
    every = {doc["id"]: doc for doc in firm_documents(chunk_size=2)}
    some = {doc["id"]: doc for doc in firm_documents([third.id, first.id, 10**9], chunk_size=1)}
    assert set(some) == {first.id, third.id}
    assert every[first.id] == some[first.id] and every[third.id] == some[third.id]
    assert every[first.id]["chains"] == ["biomed", "biomed.synbio", "ict", "ict.iot"]
    assert every[first.id]["aliases"] == ["甲品牌", "Jia Tech"]
    assert every[first.id]["former_names"] == ["苏州旧名有限公司"]
    assert every[second.id]["chains"] == [] and every[second.id]["aliases"] == []
