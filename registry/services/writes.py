"""Writing primitives: COPY/executemany and reserved ids for set-based services, prepared
statements for single writes."""

from contextlib import contextmanager

from django.conf import settings
from django.db import connection


# Fewer rows than this go in one INSERT: a COPY waits for the server twice (a single write's rows).
FEW_ROWS = 10


def copy_rows(model, columns, rows):
    """A few rows in one INSERT; more by COPY on PostgreSQL, executemany elsewhere (bulk_create
    spends most of its time building SQL)."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    one_row = f"({', '.join(['%s'] * len(columns))})"
    with connection.cursor() as cursor:
        if len(rows) < FEW_ROWS:
            cursor.execute(f"INSERT INTO {table} ({names}) VALUES {', '.join([one_row] * len(rows))}",
                           [value for row in rows for value in row])
        elif connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES {one_row}", rows)


def delete_rows_of_firms(model, firm_ids, returning=()):
    """Delete the rows of these firms from a table nothing references, in one plain statement (the
    ORM's delete compiles its query and looks for related rows first); with `returning`, the listed
    columns of the rows deleted."""
    if not firm_ids:
        return []
    quote = connection.ops.quote_name
    sql = f"DELETE FROM {quote(model._meta.db_table)} WHERE firm_id IN ({', '.join(['%s'] * len(firm_ids))})"
    if returning:
        sql += " RETURNING " + ", ".join(quote(column) for column in returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, list(firm_ids))
        return cursor.fetchall() if returning else []


def reserve_ids(model, n):
    """n fresh primary keys, in increasing order (PostgreSQL sequence; elsewhere max(id)+1…)."""
    if n <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n])
            return sorted(r[0] for r in cursor.fetchall())
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + n))


# Prepared on the second use: a statement seen once (a savepoint's unique name) is never prepared.
PREPARE_THRESHOLD = 1


@contextmanager
def prepared_statements():
    """PostgreSQL (PREPARED_SINGLE_WRITES): the statements run inside are bound server-side and
    prepared on their second use in the connection, so PostgreSQL plans each once per connection
    rather than once per write. Recording a recognition at 1,000,000 firms runs ~35 short
    statements that took longer to plan than to run (docs/registry.md).

    For single writes only: a server-side bound statement takes at most 65,535 parameters, which
    the set-based paths (imports, rebuilds) would pass. Elsewhere a no-op; nesting is harmless."""
    if connection.vendor != "postgresql" or not settings.PREPARED_SINGLE_WRITES:
        yield
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    raw = connection.connection
    before = raw.cursor_factory, raw.prepare_threshold
    raw.cursor_factory, raw.prepare_threshold = ServerBindingCursor, PREPARE_THRESHOLD
    try:
        yield
    finally:
        raw.cursor_factory, raw.prepare_threshold = before
