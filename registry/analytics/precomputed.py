"""The precomputed pipeline tables (registry.models.pipeline): full rebuild and per-firm refresh.

- FirmStageReach: per firm and stage, the first non-revoked issue date — what the funnel and the
  cohort table aggregate from every recognition.
- FirmYearTransition: per firm and year, the stage rank held at the start and end of the year and
  whether a start-rank recognition was revoked during it — the per-firm row of stage_transitions.

Both are filled by the same grouped queries the live computation runs (funnel/transitions
modules), wrapped in INSERT … SELECT, so the numbers cannot differ by construction; tests compare
both paths anyway. Freshness:
- every registry write path sends `firms_changed` inside its transaction (record/revoke, bulk
  imports, firm edits — a firm's region is copied into its rows —, the expiry sweep); the
  receiver re-derives those firms' rows in the same transaction, so a reader never sees
  recognitions and tables disagree;
- writes that bypass the services (the demo generator's COPY, raw SQL, a data migration) leave
  the tables stale: the generator calls `rebuild()`, anything else must run
  `manage.py analytics_rebuild`. Editing a stage's rank marks them incomplete too;
- the analytics read the tables only while PipelineState says complete; otherwise they compute
  live (same numbers, slower). `state()` shows which and since when;
- a write too large to refresh inline (registry.services.effects.rebuild_instead) leaves them
  complete but *behind*: readers keep the answers of the last rebuild (stale-while-rebuilding:
  live answers were 10–50× slower while the rebuild loaded the database) and see a note; single
  writes meanwhile still refresh their firms, and the rebuild queued on commit replaces every row
  in one transaction (readers see the old rows until it commits) and clears the mark. On
  PostgreSQL a rebuild holds an advisory lock (hold_for_rebuild): a single write during it does
  not wait minutes for its row locks but skips the refresh and queues one more rebuild
  (rebuild_running, registry.services.effects.queue_rebuild).
"""

import gc
import zlib
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import F, Max, Min
from django.utils import timezone

from registry import cache as data_version
from registry.analytics.scope import NOT_REVOKED, counted_certifications, firm_scope
from registry.models import Certification, Firm, FirmStageReach, FirmYearTransition, PipelineState, Region
from registry.services.firms import resolve_region
from registry.services.writes import delete_rows_of_firms
from registry.statements import statement_for_ids

STATE = "pipeline"
CHUNK = 5000
# Up to this many firms a refresh writes the transition rows of every year in one statement, and its
# statements are compiled once per number of firms (statement_for_ids).
ONE_STATEMENT_MAX_FIRMS = 200


@contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector while many acyclic rows are read and converted: rows
    kept alive while a result is fetched survive its young collections, reach the oldest
    generation and make the next full collection walk every object of the process. Tuples of
    numbers form no cycles, so nothing is lost by collecting after they are gone."""
    if not gc.isenabled():  # already paused by a caller
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _with_region(firm_ids):
    """(SQL, params) of a join that gives row t its firm's region path (fr.region_path): the given
    firms only, or every firm for a rebuild. Spelled as a join of those firms, not a lookup per row:
    PostgreSQL planned the per-row lookup as a scan of every region, 3/4 of a refresh's time, and a
    plain join to registry_firm as a scan of every firm for a chunk of 5,000."""
    def paths(firms):
        return firms.order_by().values("id").annotate(region_path=F("region__path"))

    if firm_ids is not None and len(firm_ids) <= ONE_STATEMENT_MAX_FIRMS:  # a few firms: compiled once
        sql, params = statement_for_ids(("region paths",), firm_ids, lambda ids: paths(Firm.objects.filter(id__in=ids)))
    else:
        firms = Firm.objects.all() if firm_ids is None else Firm.objects.filter(id__in=firm_ids)
        sql, params = paths(firms).query.sql_with_params()
    return f"JOIN ({sql}) fr ON fr.id = t.firm_id", params


def state():
    return PipelineState.objects.of(STATE)


def is_complete():
    return PipelineState.objects.is_complete(STATE)


def mark_stale(note):
    PipelineState.objects.mark_stale(STATE, note)


def mark_behind(note):
    PipelineState.objects.mark_behind(STATE, note)


def _lock_key(group):
    return zlib.crc32(f"cultivar.precomputed.{group}".encode())


def hold_for_rebuild(group):
    """PostgreSQL: taken by a rebuild of `group` (inside its transaction, until it commits), after
    any single write refreshing the group has committed."""
    if connection.vendor == "postgresql":
        _execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(group)])


def rebuild_running(group):
    """True when another transaction is rebuilding `group` (PostgreSQL; SQLite serialises writers).
    Otherwise this transaction holds the group's shared lock until it ends, so a rebuild starting
    now waits for this write and then sees it."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock_shared(%s)", [_lock_key(group)])
        return not cursor.fetchone()[0]


def refreshable(group):
    """The state row of `group` when a single write should refresh its firms in it now (else None):
    the group is complete (behind or not) and no rebuild holds it. A write during a rebuild of a
    complete group is left to one more rebuild, queued on commit. The lock comes first, so the row
    read after it is the last rebuild's."""
    if rebuild_running(group):
        if PipelineState.objects.is_complete(group):
            from registry.services.effects import queue_rebuild

            queue_rebuild("changes during a rebuild", after_commit=True)
        return None
    # Plain SQL, no ORM compile per write. Columns named, not *: a prepared statement
    # (registry.services.writes.prepared_statements) fails once a migration changes what * returns.
    table = connection.ops.quote_name(PipelineState._meta.db_table)
    return next(iter(PipelineState.objects.raw(
        f"SELECT name, complete, rebuilt_at, evaluated_on FROM {table} WHERE name = %s AND complete = %s",
        [group, True])), None)


def _execute(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _insert_reach(firm_ids=None):
    def first_issued(ids):
        query = Certification.objects.filter(NOT_REVOKED)
        if ids is not None:
            query = query.filter(firm_id__in=ids)
        return query.values("firm_id", "stage_id").annotate(first=Min("issued_on")).order_by()

    if firm_ids is not None and len(firm_ids) <= ONE_STATEMENT_MAX_FIRMS:  # a few firms: compiled once
        sql, params = statement_for_ids(("reach",), firm_ids, first_issued)
    else:
        sql, params = first_issued(firm_ids).query.sql_with_params()
    table = FirmStageReach._meta.db_table
    region_join, region_params = _with_region(firm_ids)
    _execute(f"INSERT INTO {table} (firm_id, stage_id, issued_on, region_path) "
             f"SELECT t.firm_id, t.stage_id, t.first, fr.region_path FROM ({sql}) t {region_join}",
             [*params, *region_params])


def _insert_transitions(firm_ids=None):
    from registry.analytics.transitions import per_firm_query

    scope = Certification.objects.all() if firm_ids is None else Certification.objects.filter(firm_id__in=firm_ids)
    span = scope.aggregate(first=Min("valid_from"), last=Max("valid_until"))
    if span["first"] is None:
        return
    table = FirmYearTransition._meta.db_table
    region_join, region_params = _with_region(firm_ids)
    # A firm has a row in year Y when it held something on 31 Dec Y−1 or 31 Dec Y: from the first
    # year any recognition starts to the year after the last one ends.
    years = range(span["first"].year, span["last"].year + 2)
    if firm_ids is not None and len(firm_ids) <= ONE_STATEMENT_MAX_FIRMS:
        # A few firms (a single write): every year in one statement, not one round trip a year.
        selects, params = [], []
        for year in years:
            sql, year_params = statement_for_ids(("transitions", year), firm_ids,
                                                 lambda ids: per_firm_query(year).filter(firm_id__in=ids))
            selects.append(f"SELECT %s AS year, y.* FROM ({sql}) y")
            params += [year, *year_params]
        _execute(
            f"INSERT INTO {table} (firm_id, year, from_rank, to_rank, revoked, region_path) "
            f"SELECT t.firm_id, t.year, t.from_rank, t.to_rank, CASE WHEN t.revoked_rank = t.from_rank THEN %s ELSE %s END, "
            f"fr.region_path FROM ({' UNION ALL '.join(selects)}) t {region_join} "
            f"WHERE t.from_rank IS NOT NULL OR t.to_rank IS NOT NULL",
            [True, False, *params, *region_params],
        )
        return
    for year in years:
        query = per_firm_query(year)
        if firm_ids is not None:
            query = query.filter(firm_id__in=firm_ids)
        sql, params = query.query.sql_with_params()
        _execute(
            f"INSERT INTO {table} (firm_id, year, from_rank, to_rank, revoked, region_path) "
            f"SELECT t.firm_id, %s, t.from_rank, t.to_rank, CASE WHEN t.revoked_rank = t.from_rank THEN %s ELSE %s END, "
            f"fr.region_path FROM ({sql}) t {region_join} WHERE t.from_rank IS NOT NULL OR t.to_rank IS NOT NULL",
            [year, True, False, *params, *region_params],
        )


def analyze(*models):
    """PostgreSQL: refresh planner statistics (allowed inside a transaction, unlike VACUUM)."""
    if connection.vendor == "postgresql":
        _execute("ANALYZE " + ", ".join(m._meta.db_table for m in models), [])


def rebuild():
    """Recompute both tables from all recognitions in one transaction, then mark them complete."""
    with transaction.atomic():  # one transaction: readers see the old rows until the new ones commit
        hold_for_rebuild(STATE)
        analyze(Certification, Firm, Region)  # after a bulk load the planner has no statistics yet
        for model in (FirmStageReach, FirmYearTransition):
            _execute(f"DELETE FROM {model._meta.db_table}", [])
        _insert_reach()
        _insert_transitions()
        analyze(FirmStageReach, FirmYearTransition)
        PipelineState.objects.update_or_create(
            name=STATE, defaults={"complete": True, "rebuilt_at": timezone.now(), "note": "", "behind_since": None})
        data_version.changed()  # a rebuild follows raw loads (seed_demo's COPY): remembered answers are old
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Fresh statistics and visibility map: the planner picks index-only scans on the new rows.
        with connection.cursor() as cursor:
            for model in (FirmStageReach, FirmYearTransition):
                cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")


def refresh_firms(firm_ids):
    """Re-derive the rows of these firms (set-based, CHUNK firms per statement); no-op while incomplete
    (also while behind, but not while a rebuild runs: refreshable)."""
    firm_ids = sorted(set(firm_ids))
    if not firm_ids or not refreshable(STATE):
        return
    with transaction.atomic(savepoint=False):  # all or nothing with the write that called it
        for start in range(0, len(firm_ids), CHUNK):
            chunk = firm_ids[start : start + CHUNK]
            delete_rows_of_firms(FirmStageReach, chunk)
            delete_rows_of_firms(FirmYearTransition, chunk)
            _insert_reach(chunk)
            _insert_transitions(chunk)


def use_live(live=None):
    """The analytics' switch: `live` as given, else live only while the tables are incomplete (never
    built, or made wrong by a rank edit); tables that are only behind a large write still answer."""
    return (not is_complete()) if live is None else live


def in_scope(rows, region=None, chain=None, user=None):
    """A precomputed table's rows in scope: region on the copied path, chain and user through firm."""
    rows = rows.filter(firm_scope(None, chain, user))
    if region not in (None, ""):
        rows = rows.filter(region_path__startswith=resolve_region(region).path)
    return rows


def reach_rows(region=None, chain=None, user=None, live=None):
    """Rows with firm, stage, issued_on whose MIN(issued_on) per firm and stage is the first
    non-revoked recognition at that stage: the precomputed table, or every counted recognition."""
    if use_live(live):
        return counted_certifications(region, chain, user)
    return in_scope(FirmStageReach.objects.all(), region, chain, user)
