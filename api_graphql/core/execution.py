"""The execution context of the view: per-request dataloaders, field scope, and a fast path for plain leaves.

- Dataloaders batch because this is a DeferredExecutionContext (graphql-sync-dataloaders).
- Field scope (core/permissions.FieldScope) is asked before any field resolves — once per field of
  the query, not once per row, unlike a graphene middleware that wraps all ~1,100 fields of a page.
- Plain leaves — a scalar or enum field without arguments whose resolver is graphene's default
  attribute lookup (uscc, name, code, year, …) — are read and serialized inline, without a
  ResolveInfo, Path and completion chain each. Anything unusual (null in a non-null field, a
  failing serializer, an exception) falls back to the ordinary path, which reports it as usual.

graphql-sync-dataloaders 0.1.1 calls `handle_field_error(error, return_type)`, while graphql-core
3.2.14 expects a third `path` argument; without the shim below any field error inside a deferred
resolver turns the whole response into "missing 1 required positional argument: 'path'".
"""

from functools import partial

from graphene.types.resolver import attr_resolver, dict_or_attr_resolver
from graphql import GraphQLError, get_named_type, is_leaf_type, is_list_type, is_non_null_type, located_error
from graphql.execution.execute import get_field_def
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined
from graphql_sync_dataloaders import DeferredExecutionContext, SyncFuture
from graphql_sync_dataloaders.execution_context import PENDING_FUTURE

from api_graphql.core.permissions import FieldScope, request_role

DEFAULT_RESOLVERS = (dict_or_attr_resolver, attr_resolver)


def plain_leaf(field_def, node):
    """A function source → serialized value (Undefined: take the ordinary path), or None if the field is not plain."""
    resolve, field_type = field_def.resolve, field_def.type
    if not (isinstance(resolve, partial) and resolve.func in DEFAULT_RESOLVERS and len(resolve.args) == 2):
        return None
    if field_def.args or node.arguments or is_list_type(getattr(field_type, "of_type", field_type)) \
            or not is_leaf_type(get_named_type(field_type)):
        return None
    attname, default = resolve.args
    serialize, non_null = get_named_type(field_type).serialize, is_non_null_type(field_type)
    from_dict = resolve.func is dict_or_attr_resolver

    def complete(source):
        try:
            value = source.get(attname, default) if from_dict and isinstance(source, dict) \
                else getattr(source, attname, default)
            if value is None:
                return Undefined if non_null else None
            if isinstance(value, Exception):
                return Undefined
            serialized = serialize(value)
            return Undefined if serialized is None else serialized
        except Exception:  # noqa: BLE001 - the ordinary path resolves again and reports the error
            return Undefined

    return complete


class CultivarExecutionContext(DeferredExecutionContext):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = FieldScope(request_role(self.context_value))
        self._plans = {}

    def field_plan(self, parent_type, fields):
        """[(response name, field nodes, plain-leaf function or None)] for one selection set, made once per request."""
        key = (parent_type.name, id(fields))
        cached = self._plans.get(key)
        if cached is not None and cached[0] is fields:
            return cached[1]
        plan = []
        for response_name, field_nodes in fields.items():
            field_def = get_field_def(self.schema, parent_type, field_nodes[0])
            leaf = None
            if field_def is not None and self.scope.field_refusal(parent_type.name, field_nodes[0].name.value) is None:
                leaf = plain_leaf(field_def, field_nodes[0])
            plan.append((response_name, field_nodes, leaf))
        self._plans[key] = (fields, plan)
        return plan

    def execute_fields(self, parent_type, source_value, path, fields):
        """DeferredExecutionContext.execute_fields with plain leaves completed inline (same futures handling)."""
        results = {}
        unresolved = 0
        future = None

        def process_result(response_name, result):
            nonlocal unresolved
            value = result.result()
            if value is not Undefined:
                results[response_name] = value
            else:
                del results[response_name]
            unresolved -= 1
            if not unresolved:
                future.set_result(results)

        for response_name, field_nodes, leaf in self.field_plan(parent_type, fields):
            if leaf is not None:
                value = leaf(source_value)
                if value is not Undefined:
                    results[response_name] = value
                    continue
            result = self.execute_field(parent_type, source_value, field_nodes, Path(path, response_name, parent_type.name))
            if isinstance(result, SyncFuture):
                if result.done():
                    result = result.result()
                    if result is not Undefined:
                        results[response_name] = result
                else:
                    results[response_name] = PENDING_FUTURE  # keeps the field order
                    unresolved += 1
                    result.add_done_callback(partial(process_result, response_name, result))
            elif result is not Undefined:
                results[response_name] = result

        if not unresolved:
            return results
        future = SyncFuture()
        return future

    def execute_field(self, parent_type, source, field_nodes, path):
        """Field scope first: a refused field (or argument) is null with an error naming it and the role."""
        field_name = field_nodes[0].name.value
        refusal = self.scope.field_refusal(parent_type.name, field_name)
        if refusal is None and self.scope.restricts_arguments(parent_type.name, field_name):
            field_def = get_field_def(self.schema, parent_type, field_nodes[0])
            try:
                args = get_argument_values(field_def, field_nodes[0], self.variable_values)
            except GraphQLError:
                args = {}  # the ordinary path reports the bad argument
            refusal = self.scope.argument_refusal(parent_type.name, field_name, args)
        if refusal is not None:
            field_def = get_field_def(self.schema, parent_type, field_nodes[0])
            error = located_error(GraphQLError(refusal), field_nodes, path.as_list())
            self.handle_field_error(error, field_def.type if field_def else None, path)
            return None
        return super().execute_field(parent_type, source, field_nodes, path)

    def handle_field_error(self, error, return_type, path=None):
        if return_type is not None and is_non_null_type(return_type):
            raise error
        if path is not None:
            self.collected_errors.add(error, path)
        else:  # called by graphql-sync-dataloaders: the error is located already (error.path)
            self.collected_errors.errors.append(error)
        return None
