"""search.consistency and `manage.py search_check`: firms without a document, documents without a firm."""

import io
import logging

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from registry.models import Firm
from registry.services import upsert_firm
from search import consistency
from search.backends import get_backend
from search.backends.base import SearchRequest, SearchUnavailable
from search.consistency import check_index
from search.indexing import firm_documents
from search.models import PendingIndex
from tests.factories import make_uscc

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("embedded_index")]


@pytest.fixture
def firms(django_capture_on_commit_callbacks):
    """Eight firms, each indexed on commit as a registry write is."""
    made = []
    for serial in range(8):
        with django_capture_on_commit_callbacks(execute=True):
            made.append(upsert_firm(make_uscc("320583", serial=930000 + serial), name=f"核对{serial}号科技有限公司",
                                    region="320583")[0])
    return made


def check(*args):
    out = io.StringIO()
    call_command("search_check", *args, stdout=out)
    return out.getvalue()


def found(query):
    return [hit.id for hit in get_backend().search(SearchRequest(query=query)).hits]


def a_document_for(firm, firm_id):
    """The firm's document under another id: what a firm deleted behind the index's back leaves."""
    (document,) = firm_documents([firm.pk])
    return {**document, "id": firm_id}


def test_an_index_in_step_with_the_registry_passes(firms):
    assert check() == (f"Search index: {len(firms)} firm(s) in the registry, {len(firms)} document(s).\n"
                       "Every firm has a document and every document a firm.\n")


def test_a_lost_document_is_reported_then_repaired(firms):
    lost = firms[3]
    assert found("核对3号科技有限公司") == [lost.pk]
    get_backend().delete([lost.pk])  # lost inside the engine: nothing in the registry changed
    assert found("核对3号科技有限公司") == []

    with pytest.raises(CommandError, match="search_check --repair"):
        check()
    report = check_index()
    assert (report.missing, report.missing_sample, report.left_behind) == (1, [lost.pk], 0)
    assert found("核对3号科技有限公司") == []  # a check alone writes nothing

    output = check("--repair")
    assert f"1 firm(s) without a document (firm ids {lost.pk})." in output
    assert "Repaired: 1 firm id(s)" in output
    assert found("核对3号科技有限公司") == [lost.pk]
    assert check_index().differences == 0


def test_documents_without_a_firm_are_found_in_the_middle_and_above_every_id_and_deleted(firms):
    pks = [f.pk for f in firms]
    gone, above = pks[2], max(pks) + 1000
    firms[2].delete()  # the delete's index update never ran (no commit callbacks here): its document stays
    get_backend().index([a_document_for(firms[0], above)])

    report = check_index(chunk=3)
    assert (report.firms, report.documents) == (7, 9)
    assert (report.missing, report.left_behind, report.left_behind_sample) == (0, 2, [gone, above])

    check_index(repair=True, chunk=3)
    assert get_backend().ids_between(0, None) == pks[:2] + pks[3:]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 8, 100])
def test_every_chunk_size_finds_the_same_differences(firms, chunk):
    get_backend().delete([firms[0].pk, firms[7].pk])  # the first and the last firm
    Firm.objects.filter(pk=firms[4].pk).delete()
    report = check_index(chunk=chunk)
    assert (report.missing_sample, report.left_behind_sample) == ([firms[0].pk, firms[7].pk], [firms[4].pk])
    assert (report.firms, report.documents) == (7, 6)


def test_the_report_names_a_bounded_sample(firms, monkeypatch):
    monkeypatch.setattr(consistency, "SAMPLE", 3)
    get_backend().delete([f.pk for f in firms[:5]])
    report = check_index(chunk=2)
    assert report.missing == 5 and report.missing_sample == [f.pk for f in firms[:3]]
    with pytest.raises(CommandError):
        check()


def test_a_firm_written_while_the_check_runs_is_indexed_not_deleted(firms, django_capture_on_commit_callbacks,
                                                                    monkeypatch):
    backend = get_backend()
    real_ids_between, written = backend.ids_between, []

    def meanwhile(low, high):  # a firm is created and indexed after the registry's ids were read
        if not written:
            with django_capture_on_commit_callbacks(execute=True):
                written.append(upsert_firm(make_uscc("320583", serial=939999), name="核对期间新建科技有限公司",
                                           region="320583")[0])
        return real_ids_between(low, high)

    monkeypatch.setattr(backend, "ids_between", meanwhile)
    report = check_index(repair=True)
    assert report.left_behind_sample == [written[0].pk]  # it looked left behind...
    assert found("核对期间新建") == [written[0].pk]  # ...and the repair, reading the registry again, kept it


def test_a_repair_while_search_is_down_leaves_the_firms_in_the_outbox(firms, monkeypatch):
    get_backend().delete([firms[1].pk])

    def down(docs):
        raise SearchUnavailable()

    monkeypatch.setattr(get_backend(), "index", down)
    with pytest.raises(CommandError, match="Search is unavailable.*search_outbox"):
        check("--repair")
    assert list(PendingIndex.objects.values_list("firm_id", flat=True)) == [firms[1].pk]


def test_the_nightly_task_repairs_and_says_what_it_found(firms, caplog):
    from search.tasks import check_index as nightly

    get_backend().delete([firms[5].pk])
    with caplog.at_level(logging.WARNING, logger="search.tasks"):
        assert nightly() == {"firms": 8, "documents": 7, "missing": 1, "left_behind": 0}
    assert f"1 firm(s) without a document (first ids [{firms[5].pk}])" in caplog.text
    assert check_index().differences == 0
    assert django_settings.CELERY_BEAT_SCHEDULE["check-search-index"]["task"] == "search.tasks.check_index"


def test_a_chunk_below_one_is_refused():
    with pytest.raises(CommandError, match="--chunk: must be at least 1"):
        check("--chunk", "0")
