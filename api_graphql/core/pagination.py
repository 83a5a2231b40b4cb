"""Keyset (cursor) pagination that stays fast at a million rows.

OFFSET pagination reads and throws away every row before the page; a keyset cursor carries the
last row's ordering value and id, so the next page is `WHERE (value, id) > (cursor)` on an index.
Only `first`/`after` (forward) paging is supported. `totalCount` is computed only when selected
(`CountableConnection.resolve_total_count` runs `.count()` on the filtered queryset lazily).
"""

import base64
import datetime
import json

import graphene
from django.db.models import F, Q
from graphene import relay
from graphql import GraphQLError

from api_graphql.core.limits import check_page_size


class CountableConnection(relay.Connection):
    class Meta:
        abstract = True

    total_count = graphene.Int(required=True, description="Rows matching the filters (counted only when asked).")

    def resolve_total_count(self, info):
        return self.queryset.count()


class Ordering:
    """One ordering: a model field (nulls last) with `id` as tie-breaker; `field=None` is plain id."""

    def __init__(self, field=None, descending=False):
        self.field, self.descending = field, descending

    def order_by(self):
        if self.field is None:
            return ("-id",) if self.descending else ("id",)
        expression = F(self.field).desc(nulls_last=True) if self.descending else F(self.field).asc(nulls_last=True)
        return (expression, "id")

    def value_of(self, row):
        value = getattr(row, self.field) if self.field else None
        if isinstance(value, (datetime.date, datetime.datetime)):
            return value.isoformat()
        return None if value is None else str(value) if not isinstance(value, (int, float)) else value

    def after(self, cursor):
        value, last_id = cursor
        if self.field is None:
            return Q(id__lt=last_id) if self.descending else Q(id__gt=last_id)
        f = self.field
        if value is None:
            return Q(**{f"{f}__isnull": True, "id__gt": last_id})
        beyond = Q(**{f"{f}__lt" if self.descending else f"{f}__gt": value})
        return beyond | Q(**{f: value, "id__gt": last_id}) | Q(**{f"{f}__isnull": True})


def encode_cursor(kind, value, row_id):
    raw = json.dumps([kind, value, row_id], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(kind, cursor):
    try:
        cursor_kind, value, row_id = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
        if cursor_kind != kind or not isinstance(row_id, int):
            raise ValueError
    except (ValueError, TypeError, UnicodeDecodeError):
        raise GraphQLError(f"Invalid cursor “{cursor}” for this list and ordering.") from None
    return value, row_id


class _Edge:
    """A connection edge; the cursor is encoded only if the query asks for it."""

    __slots__ = ("node", "_kind", "_ordering")

    def __init__(self, node, kind, ordering):
        self.node, self._kind, self._ordering = node, kind, ordering

    @property
    def cursor(self):
        return encode_cursor(self._kind, self._ordering.value_of(self.node), self.node.id)


def keyset_connection(connection_type, queryset, *, first=None, after=None, ordering=None, kind="id",
                      count_queryset=None):
    """One page of `queryset` as a `connection_type` (a CountableConnection subclass).

    `count_queryset` (default: `queryset`) is what `totalCount` counts — pass the queryset before
    joins and column plans so the COUNT stays lean.
    `kind` names the list and ordering inside the cursor, so a cursor from another ordering is refused.
    """
    ordering = ordering or Ordering()
    size = check_page_size(first)
    page_qs = queryset.order_by(*ordering.order_by())
    if after:
        page_qs = page_qs.filter(ordering.after(decode_cursor(kind, after)))
    rows = list(page_qs[: size + 1])
    has_next = len(rows) > size
    rows = rows[:size]
    edges = [_Edge(row, kind, ordering) for row in rows]
    connection = connection_type(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=has_next,
            has_previous_page=bool(after),
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
    connection.queryset = queryset if count_queryset is None else count_queryset
    return connection
