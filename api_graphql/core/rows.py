"""List pages completed straight from rows, when the selection only reads columns.

A page of 100 firms through graphql-core is ~500 object completions (edge, node, stage, region,
indicators), each with its resolver, ResolveInfo and Path, plus 100 model instances: several times
the cost of the SQL. When everything selected under `edges { node { … } }` is a plain column of the
node (a scalar with graphene's default resolver) or a plain column of a to-one relation the type
declares (`ROW_RELATIONS`), the page is read with one `values()` query and each edge is built as
the response dict directly; the execution context passes that `Completed` value through unchanged.

Anything else — fragments, directives, arguments, aliases used twice, cursors, a field the role
may not read, a null in a non-null field — gives `None`/`NotPlain` and the ordinary path, which
answers the same JSON (tests/api_graphql/test_row_pages.py compares both).
"""

from graphql import FieldNode, get_named_type, is_non_null_type

from api_graphql.core.execution import Completed, leaf_spec
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


class RowPage:
    """How to read and complete one page: the `values()` columns and row → edge dict."""

    def __init__(self, info, node_type, extra_columns=()):
        self.model = node_type._meta.model
        self.scope = FieldScope(request_role(info))
        self.columns = {"id", *extra_columns}
        edges = _only(_fields(info.field_nodes[0]) if len(info.field_nodes) == 1 else {}, "edges")
        edge_type = get_named_type(info.return_type.fields["edges"].type)
        self.edge_steps, self.node_steps = [], None
        for response_name, node in _fields(edges).items():
            if node.name.value == TYPENAME:
                self.edge_steps.append((response_name, edge_type.name))
            elif node.name.value == "node" and self.node_steps is None:
                self.node_steps = self._object_steps(get_named_type(edge_type.fields["node"].type), node,
                                                     self.model, node_type.ROW_RELATIONS, prefix="")
                self.edge_steps.append((response_name, None))
            else:
                raise NotPlain  # a cursor, or node twice
        if self.node_steps is None:
            raise NotPlain

    def _object_steps(self, graphql_type, node, model, relations, prefix):
        """[(response name, kind, …)] for the fields selected on an object read from columns under `prefix`."""
        steps = []
        for response_name, field in _fields(node).items():
            name = field.name.value
            if name == TYPENAME:
                steps.append((response_name, "const", graphql_type.name))
                continue
            field_def = graphql_type.fields.get(name)
            if field_def is None or self.scope.field_refusal(graphql_type.name, name) is not None:
                raise NotPlain
            leaf = leaf_spec(field_def, field)
            if leaf is not None and field.selection_set is None and leaf[0] in columns_of(model):
                attname, _, _, serialize, non_null = leaf
                self.columns.add(prefix + attname)
                steps.append((response_name, "leaf", (prefix + attname, serialize, non_null)))
            elif name in relations and not field.arguments and field.selection_set is not None:
                relation = relations[name]
                key = model._meta.get_field(relation).attname  # null foreign key: null relation
                self.columns.add(key)
                below = self._object_steps(get_named_type(field_def.type), field,
                                           model._meta.get_field(relation).related_model, {}, prefix=f"{relation}__")
                steps.append((response_name, "object", (key, below, is_non_null_type(field_def.type))))
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
            else:
                result[response_name] = spec
        return result

    def edge(self, row):
        """The response dict of one edge from its `values()` row (NotPlain: take the ordinary path)."""
        return {name: (value if value is not None else self._complete(self.node_steps, row))
                for name, value in self.edge_steps}


def columns_of(model):
    return {f.attname for f in model._meta.concrete_fields}


def row_page(info, node_type, extra_columns=()):
    """A RowPage for the connection field being resolved, or None when its selection needs the ordinary path."""
    try:
        return RowPage(info, node_type, extra_columns)
    except NotPlain:
        return None
