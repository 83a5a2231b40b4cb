"""ORM statements compiled once per process: compiling a query costs a few milliseconds, as much as
running it for one firm or a district. The readers and single writes that run the same shape again
and again (analytics pages, a write's side effects) keep its SQL here, with stand-ins for the values
that change, and put the values in place on each use."""

import datetime

from django.core.exceptions import EmptyResultSet
from django.db import connection

FEW_IDS = 200  # rows_for_ids keeps a statement per count of ids up to this many
_statements = {}  # key -> (SQL, params, {param position: position in the ids})


def statement_for_ids(key, ids, build):
    """(SQL, params) of `build(ids)` — a queryset filtered on these ids (firms' or other rows'), e.g.
    id__in — compiled once per `key` and number of ids and kept in the process: compiling an ORM
    query costs a few milliseconds, as much as running it for one firm. `ids`: distinct, sorted."""
    cache_key = (key, len(ids))
    if cache_key not in _statements:
        if len(_statements) > 1024:
            _statements.clear()
        stand_ins = [-1 - k for k in range(len(ids))]  # never real ids, so found again among the params
        sql, params = build(stand_ins).query.sql_with_params()
        where = {at: stand_ins.index(p) for at, p in enumerate(params) if type(p) is int and p in stand_ins}
        if sorted(where.values()) != list(range(len(ids))):
            raise RuntimeError(f"{key}: the ids are not plain parameters of the statement")
        _statements[cache_key] = (sql, list(params), where)
    sql, params, where = _statements[cache_key]
    return sql, [ids[where[at]] if at in where else p for at, p in enumerate(params)]


def rows_for_ids(key, ids, build):
    """The rows of `build(ids)` — a values_list queryset filtered on these ids — fetched raw: values
    as the driver gives them, without the ORM's converters (SQLite returns dates as ISO text).
    A few ids (a list of up to FEW_IDS; repeats count once) use a statement compiled once per `key`
    and count (statement_for_ids); more ids, or a queryset of them, are compiled now."""
    if isinstance(ids, (list, tuple)):
        ids = sorted(set(ids))
        if not ids:
            return []
    if not (isinstance(ids, list) and len(ids) <= FEW_IDS):
        return raw_rows(build(ids))
    sql, params = statement_for_ids(key, ids, build)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def raw_rows(queryset):
    """Rows of a values_list queryset straight from the cursor: no per-value Python converters.

    Money is cast to float and dates to ISO text in SQL (registry.eligibility.facts), so a million
    values cost one C-level fetch instead of a Decimal or date construction each.
    """
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # e.g. firms id__in an empty page
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def statement_for(key, build, values):
    """(SQL, params) of `build(**values)` — an ORM query — compiled once per `key` (everything that
    changes its shape) and kept in the process, with `values` put in place of stand-ins: compiling
    the analytics' read queries costs milliseconds, as much as running them for a district.

    Each value is passed to `build` as a stand-in that must reach the SQL as a parameter: an int no
    other parameter of these queries takes (within a small integer's range, so that no lookup drops
    it), a date (as itself or as ISO text, per database) or a marker string, alone or inside a LIKE
    pattern (startswith), where the value is then escaped as Django escapes it."""
    names = sorted(values)
    stand_ins = {}
    for k, name in enumerate(names):
        value = values[name]
        stand_ins[name] = (datetime.date(1800, 1, 1) + datetime.timedelta(days=k) if isinstance(value, datetime.date)
                           else 32_700 + k if isinstance(value, int) else f"\x01{k}\x02")
    cache_key = ("values", key, tuple(names))
    if cache_key not in _statements:
        if len(_statements) > 1024:
            _statements.clear()
        sql, params = build(**stand_ins).query.sql_with_params()
        where = {}
        for at, param in enumerate(params):
            for name, stand_in in stand_ins.items():
                if isinstance(stand_in, datetime.date):
                    kind = "value" if param == stand_in else "iso" if param == stand_in.isoformat() else None
                elif isinstance(stand_in, int):  # PostgreSQL's compiler may wrap ints (psycopg's Int4): kept
                    kind = "int" if isinstance(param, int) and not isinstance(param, bool) and param == stand_in else None
                else:
                    kind = ("value" if param == stand_in else "pattern" if isinstance(param, str) and stand_in in param
                            else None)
                if kind:
                    where[at] = (name, kind)
        if {name for name, _ in where.values()} != set(names):
            raise RuntimeError(f"{key}: not every value is a parameter of the statement")
        _statements[cache_key] = (sql, list(params), where)
    sql, params, where = _statements[cache_key]
    out = list(params)
    for at, (name, kind) in where.items():
        value = values[name]
        out[at] = (value if kind == "value" else type(params[at])(value) if kind == "int" else value.isoformat() if kind == "iso"
                   else params[at].replace(stand_ins[name], connection.ops.prep_for_like_query(value)))
    return sql, out
