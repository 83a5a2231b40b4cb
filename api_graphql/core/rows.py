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
        self.steps, self.lists = [], []
        self.complete = None  # item, groups → its response dict (compile_edge)

    def fetch(self, parent_ids, groups):
        """Read the items of these parents (one query) into `groups[self]` (this request's), then their own lists."""
        mine = groups[self] = defaultdict(list)
        rows = list(self.model._default_manager.filter(**{f"{self.key}__in": parent_ids})
                    .order_by(*self.order).values(*sorted(self.columns)))
        for row in rows:
            mine[row[self.key]].append(row)
        if self.lists and rows:
            ids = [row[self.pk] for row in rows]
            for plan in self.lists:
                plan.fetch(ids, groups)


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
        self._edge = compile_edge(self.edge_steps, self.node_steps, cursor)  # row, groups → edge dict

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

    def edge(self, row, groups=None):
        """The response dict of one edge from its `values()` row (NotPlain: take the ordinary path)."""
        return self._edge(row, groups)

    def edges(self, rows):
        """The page's edges: the lists read for the whole page first (one query each), then row by row.

        The plan is shared by every request of this document and role (`row_page`): what one request
        reads (its lists' rows) stays in `groups`, local to the call."""
        groups = {}
        if self.lists and rows:
            ids = [row["id"] for row in rows]
            for plan in self.lists:
                plan.fetch(ids, groups)
        for _, kind, spec in self.node_steps:
            if kind == "table" and hasattr(spec[1], "preload"):  # the page's keys read at once, not one by one
                spec[1].preload({row[spec[0]] for row in rows})
        return [self.edge(row, groups) for row in rows]


class _Source:
    """Python source of a row → dict function; every value taken from the plan (names, columns, serializers,
    constants) is bound as a global of the function, never written into the source, so nothing a document
    says becomes code."""

    def __init__(self):
        self.lines, self.names, self.count = [], {}, 0

    def bind(self, value):
        name = f"v{len(self.names)}"
        self.names[name] = value
        return name

    def temp(self):
        self.count += 1
        return f"t{self.count}"

    def add(self, depth, line):
        self.lines.append("    " * depth + line)

    def object(self, steps, row, depth):
        """Statements computing the fields of `steps` from the dict `row`; returns the dict display expression."""
        items = []
        for response_name, kind, spec in steps:
            key = self.bind(response_name)
            if kind == "leaf":
                column, serialize, non_null = spec
                t = self.temp()
                self.add(depth, f"{t} = {row}[{self.bind(column)}]")
                self.add(depth, f"if {t} is not None: {t} = {self.bind(serialize)}({t})")
                if non_null:
                    self.add(depth, f"if {t} is None: raise NotPlain")  # the ordinary path reports it
                items.append(f"{key}: {t}")
            elif kind in ("object", "table"):
                column, below, non_null = spec[0], spec[-2], spec[-1]
                t = self.temp()
                self.add(depth, f"if {row}[{self.bind(column)}] is None:")
                self.add(depth + 1, "raise NotPlain" if non_null else f"{t} = None")
                self.add(depth, "else:")
                source = row
                if kind == "table":  # not in the cached table (added since): the loader finds it
                    source = self.temp()
                    self.add(depth + 1, f"{source} = {self.bind(spec[1])}.get({row}[{self.bind(column)}])")
                    self.add(depth + 1, f"if {source} is None: raise NotPlain")
                self.add(depth + 1, f"{t} = {self.object(below, source, depth + 1)}")
                items.append(f"{key}: {t}")
            elif kind == "list":
                pk, plan = spec
                items.append(f"{key}: [{self.bind(plan.complete)}(item, groups) for item in "
                             f"groups[{self.bind(plan)}].get({row}[{self.bind(pk)}], ())]")
            elif kind == "gid":
                pk, node, type_name = spec
                items.append(f"{key}: {self.bind(node.to_global_id)}({self.bind(type_name)}, {row}[{self.bind(pk)}])")
            else:
                items.append(f"{key}: {self.bind(spec)}")
        return "{" + ", ".join(items) + "}"

    def function(self, body_steps, edge_steps=None, cursor=None):
        self.add(0, "def complete(row, groups):")
        self.add(1, "try:")
        if edge_steps is None:
            result = self.object(body_steps, "row", 2)
        else:
            node = self.object(body_steps, "row", 2)
            result = "{" + ", ".join(
                f"{self.bind(name)}: " + (node if kind == "node" else f"{self.bind(cursor)}(row)" if kind == "cursor"
                                          else self.bind(value))
                for name, kind, value in edge_steps) + "}"
        self.add(2, f"return {result}")
        self.add(1, "except NotPlain:")
        self.add(2, "raise")
        self.add(1, "except Exception:")  # a failing serializer: the ordinary path reports it
        self.add(2, "raise NotPlain from None")
        namespace = {"NotPlain": NotPlain, **self.names}
        exec(compile("\n".join(self.lines), "<row page>", "exec"), namespace)  # noqa: S102 - no document text in it
        return namespace["complete"]


def compile_edge(edge_steps, node_steps, cursor):
    """row, groups → the edge's response dict, as one generated function per plan (the steps interpreted
    field by field cost ~2.5x the hand-written dict display): a page plan is kept per document and role
    (`row_page`), so this runs once per plan. The lists' item functions are compiled first."""
    for plan in _lists_in(node_steps):
        plan.complete = _Source().function(plan.steps)
    return _Source().function(node_steps, edge_steps, cursor)


def _lists_in(steps):
    """The ListPlans under `steps`, innermost first."""
    found = []
    for _, kind, spec in steps:
        if kind == "list":
            found += _lists_in(spec[1].steps) + [spec[1]]
        elif kind in ("object", "table"):
            found += _lists_in(spec[-2])
    return found


def columns_of(model):
    return {f.attname for f in model._meta.concrete_fields}


# Plans per (field node, role, …): the parsed document is cached per process (api_graphql/views.py), so
# its field nodes are too, and a dashboard's page is planned once, not per request (~0.1–0.2 ms).
PLAN_CACHE_SIZE = 1024
_plans = {}


def _plan_key(info, node_type, extra_columns, cursor):
    cursor_key = (cursor.func, cursor.args, tuple(cursor.keywords.items())) if isinstance(cursor, partial) else cursor
    key = (id(info.field_nodes[0]), len(info.field_nodes), request_role(info), node_type, tuple(extra_columns),
           cursor_key, info.return_type)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def row_page(info, node_type, extra_columns=(), cursor=None):
    """A RowPage for the connection field being resolved, or None when its selection needs the ordinary path.

    `cursor`: row → its cursor, for pages whose edges may select `cursor`. The verdict (a plan, or None)
    is kept per field node and role: a plan reads only the role's field scope and the selection, and
    keeps nothing of a request (ListPlan.fetch writes the rows it reads into the caller's `groups`)."""
    key = _plan_key(info, node_type, extra_columns, cursor)
    cached = _plans.get(key) if key is not None else None
    if cached is not None and cached[0] is info.field_nodes[0]:  # the same node, not a new one at a reused id
        return cached[1]
    try:
        plan = RowPage(info, node_type, extra_columns, cursor)
    except NotPlain:
        plan = None
    if key is not None:
        _plans[key] = (info.field_nodes[0], plan)
        if len(_plans) > PLAN_CACHE_SIZE:
            try:
                del _plans[next(iter(_plans))]
            except (KeyError, StopIteration, RuntimeError):  # another thread changed it meanwhile
                pass
    return plan
