"""List pages completed straight from rows, when the selection only reads columns.

A page of 100 firms through graphql-core is ~500 object completions (edge, node, stage, region,
indicators), each with its resolver, ResolveInfo and Path, plus 100 model instances: several times
the cost of the SQL. When everything selected under `edges { node { … } }` can be read from rows,
the page is read with one `values()` query, each to-many list the type declares with one more
`values()` query for the whole page, and each edge is built as the response dict directly; the
execution context passes that `Completed` value through unchanged. What "read from rows" means,
per field of an object:

- a plain column (a scalar or enum with graphene's default resolver), or a field the type lists in
  `ROW_FIELDS` (its resolver returns that column as is);
- the relay global `id` (encoded here from the primary key);
- a to-one relation the type lists in `ROW_RELATIONS` (joined; its own fields by the same rules),
  or read from the related type's `ROW_TABLE` (reference data cached per process: `get(key)` → row,
  optionally `preload(keys)` for a page's keys at once);
- a to-many relation the type lists in `ROW_LISTS` (model, foreign key to this row, order), at the
  node or inside another list (not under a to-one relation);
- `__typename`; and on the edge, `cursor` when the resolver passes its cursor function.

Rows are the resolver's scoped queryset (the page) and the page's own children (lists), the same
rows the loaders read. Anything else — fragments, directives, arguments, aliases used twice, a
field the role may not read, a null in a non-null field — gives `None`/`NotPlain` and the ordinary
path, which answers the same JSON (tests/api_graphql/test_row_pages.py compares both, per role).
"""

from collections import defaultdict
from functools import partial

from graphene.relay.node import GlobalID
from graphql import FieldNode, get_named_type, is_leaf_type, is_list_type, is_non_null_type

from api_graphql.core.execution import leaf_spec
from api_graphql.core.permissions import FieldScope, request_role

TYPENAME = "__typename"


class NotPlain(Exception):
    """This selection or row needs the ordinary execution path."""


def _fields(node):
    """The sub-fields of a field node; NotPlain unless they are plain fields with distinct response names."""
    fields = {}
    for selection in node.selection_set.selections if node.selection_set else ():
        if not isinstance(selection, FieldNode) or selection.directives:
            raise NotPlain
        name = (selection.alias or selection.name).value
        if name in fields:
            raise NotPlain
        fields[name] = selection
    return fields


def _only(fields, name):
    """The one field called `name` among `fields` (NotPlain if there are several)."""
    found = [node for node in fields.values() if node.name.value == name]
    if len(found) != 1:
        raise NotPlain
    return found[0]


def _global_id(field_def):
    """(node, type name or None) when the field is relay's `id` (GlobalID over the primary key), else None."""
    resolve = field_def.resolve
    if isinstance(resolve, partial) and resolve.func is GlobalID.id_resolver and len(resolve.args) == 2:
        return resolve.args[1], resolve.keywords.get("parent_type_name")
    return None


class ListPlan:
    """One to-many list: its `values()` columns, the steps completing each item, and its rows per parent."""

    def __init__(self, model, key, order):
        self.model, self.key, self.order = model, key, order
        self.pk = model._meta.pk.attname
        self.columns = {key, self.pk}
        self.steps, self.lists, self.groups = [], [], {}

    def fetch(self, parent_ids):
        """Read the items of these parents (one query), then their own lists."""
        groups = defaultdict(list)
        rows = list(self.model._default_manager.filter(**{f"{self.key}__in": parent_ids})
                    .order_by(*self.order).values(*sorted(self.columns)))
        for row in rows:
            groups[row[self.key]].append(row)
        self.groups = groups
        if self.lists and rows:
            ids = [row[self.pk] for row in rows]
            for plan in self.lists:
                plan.fetch(ids)


class RowPage:
    """How to read and complete one page: the `values()` columns, the lists, and row → edge dict."""

    def __init__(self, info, node_type, extra_columns=(), cursor=None):
        self.model = node_type._meta.model
        self.scope = FieldScope(request_role(info))
        self.columns = {"id", *extra_columns}
        self.lists = []
        edges = _only(_fields(info.field_nodes[0]) if len(info.field_nodes) == 1 else {}, "edges")
        edge_type = get_named_type(info.return_type.fields["edges"].type)
        self.edge_steps, self.node_steps, self.cursor = [], None, cursor
        for response_name, node in _fields(edges).items():
            if node.name.value == TYPENAME:
                self.edge_steps.append((response_name, "const", edge_type.name))
            elif node.name.value == "node" and self.node_steps is None:
                self.node_steps = self._object_steps(get_named_type(edge_type.fields["node"].type), node, node_type,
                                                     "", self.columns, self.lists)
                self.edge_steps.append((response_name, "node", None))
            elif node.name.value == "cursor" and cursor is not None and not node.arguments:
                self.edge_steps.append((response_name, "cursor", None))
            else:
                raise NotPlain  # node twice, or a cursor the resolver cannot encode from rows
        if self.node_steps is None:
            raise NotPlain

    def _object_steps(self, graphql_type, node, graphene_type, prefix, columns, lists):
        """[(response name, kind, spec)] for the fields selected on an object read from `columns` under
        `prefix`; its to-many lists go to `lists` (None: none allowed here)."""
        model = graphene_type._meta.model
        relations = getattr(graphene_type, "ROW_RELATIONS", {})
        row_fields = getattr(graphene_type, "ROW_FIELDS", {})
        row_lists = getattr(graphene_type, "ROW_LISTS", {}) if lists is not None else {}
        steps = []
        for response_name, field in _fields(node).items():
            name = field.name.value
            if name == TYPENAME:
                steps.append((response_name, "const", graphql_type.name))
                continue
            field_def = graphql_type.fields.get(name)
            if field_def is None or field.arguments or self.scope.field_refusal(graphql_type.name, name) is not None:
                raise NotPlain
            named, non_null = get_named_type(field_def.type), is_non_null_type(field_def.type)
            leaf = leaf_spec(field_def, field)
            global_id = _global_id(field_def) if name == "id" else None
            if field.selection_set is None and leaf is not None and leaf[0] in columns_of(model):
                columns.add(prefix + leaf[0])
                steps.append((response_name, "leaf", (prefix + leaf[0], leaf[3], leaf[4])))
            elif field.selection_set is None and name in row_fields and is_leaf_type(named) \
                    and not is_list_type(getattr(field_def.type, "of_type", field_def.type)):
                columns.add(prefix + row_fields[name])
                steps.append((response_name, "leaf", (prefix + row_fields[name], named.serialize, non_null)))
            elif global_id is not None and field.selection_set is None:
                pk = prefix + model._meta.pk.attname
                columns.add(pk)
                steps.append((response_name, "gid", (pk, global_id[0], global_id[1] or graphql_type.name)))
            elif name in relations and field.selection_set is not None:
                relation = model._meta.get_field(relations[name])
                key = prefix + relation.attname  # null foreign key: null relation
                columns.add(key)
                table = getattr(named.graphene_type, "ROW_TABLE", None)
                if table is not None:  # whole rows from the table: no columns to read below
                    below = self._object_steps(named, field, named.graphene_type, "", set(), None)
                    pk = relation.related_model._meta.pk.attname
                    if all(kind == "const" or kind == "leaf" and spec[0] == pk for _, kind, spec in below):
                        # Only the key (`region { code }`): the foreign key column holds it, no table needed.
                        below = [(rn, kind, (key, *spec[1:]) if kind == "leaf" else spec) for rn, kind, spec in below]
                        steps.append((response_name, "object", (key, below, non_null)))
                    else:
                        steps.append((response_name, "table", (key, table(), below, non_null)))
                    continue
                below = self._object_steps(named, field, named.graphene_type, f"{prefix}{relation.name}__", columns,
                                           None)
                steps.append((response_name, "object", (key, below, non_null)))
            elif name in row_lists and field.selection_set is not None:
                plan = ListPlan(*row_lists[name])
                plan.steps = self._object_steps(named, field, named.graphene_type, "", plan.columns, plan.lists)
                lists.append(plan)
                steps.append((response_name, "list", (prefix + model._meta.pk.attname, plan)))
            else:
                raise NotPlain
        return steps

    @staticmethod
    def _complete(steps, row):
        result = {}
        for response_name, kind, spec in steps:
            if kind == "leaf":
                column, serialize, non_null = spec
                value = row[column]
                if value is not None:
                    try:
                        value = serialize(value)
                    except Exception:  # noqa: BLE001 - the ordinary path reports it
                        raise NotPlain from None
                if value is None and non_null:
                    raise NotPlain  # the ordinary path reports the error
                result[response_name] = value
            elif kind == "object":
                key, below, non_null = spec
                if row[key] is None:
                    if non_null:
                        raise NotPlain
                    result[response_name] = None
                else:
                    result[response_name] = RowPage._complete(below, row)
            elif kind == "table":
                key, table, below, non_null = spec
                if row[key] is None:
                    if non_null:
                        raise NotPlain
                    result[response_name] = None
                else:
                    related = table.get(row[key])
                    if related is None:
                        raise NotPlain  # not in the cached table (added since): the loader finds it
                    result[response_name] = RowPage._complete(below, related)
            elif kind == "list":
                pk, plan = spec
                result[response_name] = [RowPage._complete(plan.steps, item) for item in plan.groups.get(row[pk], ())]
            elif kind == "gid":
                pk, node, type_name = spec
                result[response_name] = node.to_global_id(type_name, row[pk])
            else:
                result[response_name] = spec
        return result

    def edge(self, row):
        """The response dict of one edge from its `values()` row (NotPlain: take the ordinary path)."""
        edge = {}
        for name, kind, value in self.edge_steps:
            edge[name] = (self._complete(self.node_steps, row) if kind == "node"
                          else self.cursor(row) if kind == "cursor" else value)
        return edge

    def edges(self, rows):
        """The page's edges: the lists read for the whole page first (one query each), then row by row."""
        if self.lists and rows:
            ids = [row["id"] for row in rows]
            for plan in self.lists:
                plan.fetch(ids)
        for _, kind, spec in self.node_steps:
            if kind == "table" and hasattr(spec[1], "preload"):  # the page's keys read at once, not one by one
                spec[1].preload({row[spec[0]] for row in rows})
        return [self.edge(row) for row in rows]


def columns_of(model):
    return {f.attname for f in model._meta.concrete_fields}


def row_page(info, node_type, extra_columns=(), cursor=None):
    """A RowPage for the connection field being resolved, or None when its selection needs the ordinary path.

    `cursor`: row → its cursor, for pages whose edges may select `cursor`."""
    try:
        return RowPage(info, node_type, extra_columns, cursor)
    except NotPlain:
        return None
