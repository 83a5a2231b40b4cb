"""A page of rows answered without graphql-core's executor, for the documents that allow it.

Measured at 1,000,000 firms (bench/graphql_firms.py): the plain firms page costs the hand-written
ORM code ~2 ms of CPU, the endpoint ~4.5 ms, of which ~0.6 ms is graphql-core building its execution
context, collecting fields and completing the connection around edges the row path
(core/rows.py) has already built. For a query whose only root field is a connection answered from
rows, this module calls that field's resolver itself and completes the few connection fields
around the edges (`pageInfo`, `totalCount`, `__typename`), with the same field scope, argument
scope and variable coercion as the executor.

It answers only when everything went the plain way; otherwise it says `None` and the view runs
the ordinary executor, which answers the same JSON or the same errors:
- the document: one query operation, one root field, no fragments or directives at the top
  (limits and validation already passed: api_graphql/views.checked_document);
- the resolver: declared with `answers_from_rows` (no other root field is tried), it must return the
  connection with `Completed` edges; a resolver that cannot
  (a selection not plain, or a role that may not read a field) raises `NotFast` *before* its
  page query when `fast_requested(info)`, so nothing is read twice;
- any exception, refusal, coercion error or null in a non-null field: `None`.
"""

from graphql import GraphQLResolveInfo, OperationType, get_named_type, is_leaf_type, is_non_null_type, is_object_type
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.language import FieldNode
from graphql.pyutils import Path, Undefined, is_awaitable

from api_graphql.core.execution import Completed, plain_leaf
from api_graphql.core.permissions import FieldScope, request_role

FAST_ATTR = "_cultivar_fast_path"
TYPENAME = "__typename"


class NotFast(Exception):
    """Raised by a resolver on the fast path when it cannot answer from rows (before reading any)."""


class Abandon(Exception):
    """This request needs the ordinary executor."""


# Root fields whose resolver may answer from rows (and raises NotFast before reading when it cannot):
# any other root field goes straight to the executor, so nothing is resolved twice.
ROW_ROOT_FIELDS = set()


def answers_from_rows(type_name, field_name):
    """Declare a root field whose resolver follows the fast path's contract (see the module docstring)."""
    ROW_ROOT_FIELDS.add((type_name, field_name))


def fast_requested(info):
    """True while the fast path runs this resolver: it must answer from rows or raise NotFast."""
    return getattr(info.context, FAST_ATTR, False)


def root_field(document, operation):
    """The single root field node of a query eligible for the fast path, else None (decided once per document)."""
    if operation is None or operation.operation != OperationType.QUERY or len(document.definitions) != 1 \
            or operation.directives:
        return None
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode) or selections[0].directives \
            or selections[0].name.value.startswith("__"):
        return None
    return selections[0]


class FastPage:
    """One request on the fast path: `run()` → the `data` dict, or None (take the ordinary executor)."""

    def __init__(self, schema, operation, node, request, root_value, variables):
        self.schema, self.operation, self.node = schema, operation, node
        self.request, self.root_value, self.variables = request, root_value, variables
        self.scope = FieldScope(request_role(request))

    def info(self, field_def, node, parent_type, path):
        return GraphQLResolveInfo(node.name.value, [node], field_def.type, parent_type, path, self.schema, {},
                                  self.root_value, self.operation, self.variables, self.request, is_awaitable)

    def arguments(self, parent_type, field_def, node):
        if self.scope.field_refusal(parent_type.name, node.name.value) is not None:
            raise Abandon
        args = get_argument_values(field_def, node, self.variables)
        if self.scope.argument_refusal(parent_type.name, node.name.value, args) is not None:
            raise Abandon
        return args

    def run(self):
        query_type = self.schema.query_type
        node = self.node
        field_def = query_type.fields.get(node.name.value)
        if field_def is None or field_def.resolve is None \
                or (query_type.name, node.name.value) not in ROW_ROOT_FIELDS:
            return None
        coerced = get_variable_values(self.schema, self.operation.variable_definitions or [], self.variables or {})
        if isinstance(coerced, list):  # variable errors: the executor reports them
            return None
        self.variables = coerced
        response_name = (node.alias or node.name).value
        try:
            args = self.arguments(query_type, field_def, node)
            info = self.info(field_def, node, query_type, Path(None, response_name, query_type.name))
            setattr(self.request, FAST_ATTR, True)
            try:
                value = field_def.resolve(self.root_value, info, **args)
            finally:
                setattr(self.request, FAST_ATTR, False)
            return {response_name: self.complete(field_def.type, node, value, info.path)}
        except (Abandon, NotFast):
            return None
        except Exception:  # noqa: BLE001 - the ordinary executor runs again and reports it as usual
            return None

    def complete(self, return_type, node, value, path):
        """A connection (or an object under it) whose edges came back `Completed`; leaves via their resolvers."""
        if type(value) is Completed:
            return value.value
        if value is None:
            if is_non_null_type(return_type):
                raise Abandon
            return None
        object_type = return_type.of_type if is_non_null_type(return_type) else return_type
        if not is_object_type(object_type) or node.selection_set is None:
            raise Abandon  # lists (not Completed) and abstract types: the executor
        result = {}
        for selection in node.selection_set.selections:
            if not isinstance(selection, FieldNode) or selection.directives:
                raise Abandon
            name, response_name = selection.name.value, (selection.alias or selection.name).value
            if response_name in result:
                raise Abandon  # the same response name twice: the executor merges them
            if name == TYPENAME:
                result[response_name] = object_type.name
                continue
            field_def = object_type.fields.get(name)
            if field_def is None:
                raise Abandon
            args = self.arguments(object_type, field_def, selection)  # the role's field and argument scope
            read_leaf = plain_leaf(field_def, selection)
            if read_leaf is not None:  # the executor's own plain-leaf path: read and serialize, or Undefined
                serialized = read_leaf(value)
                if serialized is Undefined:
                    raise Abandon
                result[response_name] = serialized
                continue
            if field_def.resolve is None:
                raise Abandon
            field_path = Path(path, response_name, object_type.name)
            raw = field_def.resolve(value, self.info(field_def, selection, object_type, field_path), **args)
            if is_leaf_type(get_named_type(field_def.type)) and selection.selection_set is None:
                if isinstance(raw, Exception) or hasattr(raw, "add_done_callback"):  # an error, a loader future
                    raise Abandon
                serialized = None if raw is None else get_named_type(field_def.type).serialize(raw)
                if serialized is None and is_non_null_type(field_def.type):
                    raise Abandon
                result[response_name] = serialized
            else:
                result[response_name] = self.complete(field_def.type, selection, raw, field_path)
        return result
