"""registry.services.writes and registry.statements: what the single-write path runs its statements with."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from registry import statements
from registry.eligibility.facts import qualification_holders
from registry.models import CandidateRank, Firm, Qualification
from registry.services.writes import FEW_ROWS, copy_rows, delete_rows_of_firms, prepared_statements
from tests.factories import FirmFactory

pytestmark = pytest.mark.django_db
COLUMNS = ("target", "firm_id", "outcome_rank", "score_key", "gap", "region_path", "rule_set", "unmet")


def rank_rows(firms, targets):
    return [(target, firm.id, k % 3, -1.5 * k, 0.25, "320000/320500/", "rules", f'[{{"gap": {k}, "text": "缺{k}"}}]')
            for k, (firm, target) in enumerate((f, t) for f in firms for t in targets)]


def stored(firm_ids):
    return sorted((r.target, r.firm_id, r.outcome_rank, r.score_key, r.gap, r.region_path, r.rule_set, r.unmet)
                  for r in CandidateRank.objects.filter(firm_id__in=firm_ids))


@pytest.mark.parametrize("n_targets", [1, FEW_ROWS + 2])
def test_copy_rows_stores_a_few_rows_as_many(n_targets):
    """A few rows go in one INSERT, more by COPY (PostgreSQL) or executemany: the same rows either way,
    the JSON column included."""
    firms = FirmFactory.create_batch(2)
    rows = rank_rows(firms, [f"t{k}" for k in range(n_targets)])
    assert (len(rows) < FEW_ROWS) == (n_targets == 1)
    copy_rows(CandidateRank, COLUMNS, rows)
    expected = sorted((*row[:7], json.loads(row[7])) for row in rows)
    assert stored([f.id for f in firms]) == expected


def test_delete_rows_of_firms_returns_what_it_deleted_and_keeps_other_firms():
    kept, gone = FirmFactory.create_batch(2)
    copy_rows(CandidateRank, COLUMNS, rank_rows([kept, gone], ["a", "b"]))
    before_kept = stored([kept.id])
    deleted = delete_rows_of_firms(CandidateRank, [gone.id], returning=("target", "outcome_rank"))
    assert sorted(deleted) == sorted((t, o) for t, _, o, *_ in rank_rows([kept, gone], ["a", "b"])[2:])
    assert stored([gone.id]) == [] and stored([kept.id]) == before_kept
    assert delete_rows_of_firms(CandidateRank, [kept.id]) == [] and stored([kept.id]) == []
    assert delete_rows_of_firms(CandidateRank, []) == []


def test_rows_for_ids_compiles_a_few_ids_once_per_count_and_equals_the_orm(monkeypatch):
    firms = FirmFactory.create_batch(5)
    compiled = []

    def names(ids):
        compiled.append(len(ids))
        return Firm.objects.filter(id__in=ids).order_by("id").values_list("id", "name")

    def expected(ids):
        return list(Firm.objects.filter(id__in=ids).order_by("id").values_list("id", "name"))

    key = ("test names", id(compiled))
    for chosen in ([0, 3], [4, 1], [2]):
        ids = [firms[k].id for k in chosen]
        assert statements.rows_for_ids(key, ids + ids[:1], names) == expected(ids)  # a repeated id counts once
    assert compiled == [2, 1]  # once per count of ids, then kept
    monkeypatch.setattr(statements, "FEW_IDS", 2)
    ids = [f.id for f in firms]
    assert statements.rows_for_ids(key, ids, names) == expected(ids)
    assert statements.rows_for_ids(key, ids, names) == expected(ids)
    assert compiled == [2, 1, 5, 5]  # more than FEW_IDS: compiled each time, not kept
    assert statements.rows_for_ids(key, [], names) == []


def test_a_few_firms_qualifications_equal_the_queryset_path():
    """Fetched raw, SQLite gives dates as text: the route check must see dates either way."""
    firms = FirmFactory.create_batch(3)
    Qualification.objects.create(firm=firms[0], kind="science_award", level="provincial", name="省科技进步奖",
                                 awarded_on=datetime.date(2024, 5, 1))
    Qualification.objects.create(firm=firms[1], kind="science_award", level="provincial", name="省科技进步奖",
                                 awarded_on=datetime.date(2015, 5, 1), valid_until=datetime.date(2016, 5, 1))
    route = 'qualification:{"kinds": ["science_award"], "within_years": 3, "held": true}'
    on = datetime.date(2026, 6, 1)
    few = qualification_holders([f.id for f in firms], [route], on)
    assert few == qualification_holders(Firm.objects.filter(id__in=[f.id for f in firms]).values("id"), [route], on)
    assert few == {route: {firms[0].id}}


def prepared_now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def test_prepared_statements_on_postgresql():
    """Inside: a statement run twice is prepared with server-side parameters; outside, and after an
    error inside, the connection binds client-side again and prepares nothing."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements: PostgreSQL only")
    firm = FirmFactory()
    before = prepared_now()
    factory = connection.connection.cursor_factory
    with prepared_statements():
        assert list(Firm.objects.filter(id=firm.id).values_list("name")) == [(firm.name,)]
        assert prepared_now() == before  # a statement seen once (a savepoint's unique name) is not prepared
        assert list(Firm.objects.filter(id=firm.id).values_list("name")) == [(firm.name,)]
    new = prepared_now() - before
    assert len(new) == 1 and '"registry_firm"."id" = $1' in new.pop()
    assert connection.connection.cursor_factory is factory
    for _ in range(3):
        list(Firm.objects.filter(id=firm.id).values_list("uscc"))
    assert not any('"uscc"' in s and "$1" in s for s in prepared_now())
    with pytest.raises(ZeroDivisionError), prepared_statements():
        1 / 0
    assert connection.connection.cursor_factory is factory


@override_settings(PREPARED_SINGLE_WRITES=False)
def test_prepared_statements_can_be_turned_off():
    firm = FirmFactory()
    if connection.vendor == "postgresql":
        before = prepared_now()
    with prepared_statements(), CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            list(Firm.objects.filter(id=firm.id).values_list("name"))
    assert str(firm.id) in queries[0]["sql"]  # bound client-side: the value is in the statement
    if connection.vendor == "postgresql":
        assert prepared_now() == before
