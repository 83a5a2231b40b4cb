"""The execution context of the view: per-request dataloaders, field scope, and less work per field.

A page of 100 firms resolves ~1,100 fields; graphql-core's generic path costs ~10 µs a field,
more than the SQL of the page. This context keeps graphql-core's semantics and does less:

- Dataloaders batch because this is a DeferredExecutionContext (graphql-sync-dataloaders):
  resolvers may return SyncFutures, completed after the deferred batch loads run.
- Each selection set is planned once per request (`FieldPlan`): field definition, resolver,
  coerced arguments and the field-scope verdict (core/permissions.FieldScope) — not once per row.
  There is no graphene middleware; field scope lives here.
- Plain leaves — a scalar or enum field without arguments whose resolver is graphene's default
  attribute lookup (uscc, name, code, year, …) — are read and serialized inline, without a
  ResolveInfo, Path and completion chain each. Anything unusual (null in a non-null field, a
  failing serializer, an exception) falls back to the ordinary path, which reports it as usual.
- Object values go straight to their sub-selection (no scalar/list/abstract type tests first).
- A resolver may return `Completed(value)`: a value already in response form (core/rows.py).
"""

from functools import partial

from graphene.types.resolver import attr_resolver, dict_or_attr_resolver
from graphql import (GraphQLError, GraphQLNonNull, get_named_type, is_leaf_type, is_list_type, is_non_null_type,
                     is_object_type, located_error)
from graphql.execution.execute import get_field_def
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined
from graphql_sync_dataloaders import DeferredExecutionContext, SyncFuture
from graphql_sync_dataloaders.execution_context import PENDING_FUTURE

from api_graphql.core.permissions import FieldScope, request_role

DEFAULT_RESOLVERS = (dict_or_attr_resolver, attr_resolver)


class Completed:
    """A field value already in its response form, returned as is (see core/rows.py)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def leaf_spec(field_def, node):
    """(attribute, default, from_dict, serialize, non_null) of a plain leaf — a scalar or enum field without
    arguments read by graphene's default resolver — else None."""
    resolve, field_type = field_def.resolve, field_def.type
    if not (isinstance(resolve, partial) and resolve.func in DEFAULT_RESOLVERS and len(resolve.args) == 2):
        return None
    if field_def.args or node.arguments or is_list_type(getattr(field_type, "of_type", field_type)) \
            or not is_leaf_type(get_named_type(field_type)):
        return None
    attname, default = resolve.args
    return (attname, default, resolve.func is dict_or_attr_resolver, get_named_type(field_type).serialize,
            is_non_null_type(field_type))


def plain_leaf(field_def, node):
    """A function source → serialized value (Undefined: take the ordinary path), or None if the field is not plain."""
    spec = leaf_spec(field_def, node)
    if spec is None:
        return None
    attname, default, from_dict, serialize, non_null = spec

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


class FieldPlan:
    """How to execute one field of a selection set, worked out once per request."""

    __slots__ = ("field_def", "resolve", "args", "args_error", "refusal", "leaf")

    def __init__(self, context, parent_type, field_nodes):
        node, name = field_nodes[0], field_nodes[0].name.value
        self.field_def = field_def = get_field_def(context.schema, parent_type, node)
        self.args, self.args_error, self.leaf = {}, None, None
        if field_def is None:
            return
        self.resolve = field_def.resolve or context.field_resolver
        try:
            self.args = get_argument_values(field_def, node, context.variable_values)
        except GraphQLError as error:
            self.args_error = error
        scope = context.scope
        self.refusal = scope.field_refusal(parent_type.name, name) or scope.argument_refusal(parent_type.name, name,
                                                                                              self.args)
        if self.refusal is None:
            self.leaf = plain_leaf(field_def, node)


class CultivarExecutionContext(DeferredExecutionContext):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = FieldScope(request_role(self.context_value))
        self._plans = {}

    def field_plans(self, parent_type, fields):
        """[(response name, field nodes, FieldPlan)] for one selection set.

        graphql-core builds `fields` once per (object type, field nodes) and request and keeps it,
        so its id is a stable key for the request.
        """
        cached = self._plans.get(id(fields))
        if cached is None or cached[0] is not fields:
            cached = self._plans[id(fields)] = (fields, [(name, nodes, FieldPlan(self, parent_type, nodes))
                                                         for name, nodes in fields.items()])
        return cached[1]

    def execute_fields(self, parent_type, source_value, path, fields):
        """DeferredExecutionContext.execute_fields with planned fields and plain leaves completed inline."""
        results = {}
        pending = None
        for response_name, field_nodes, plan in self.field_plans(parent_type, fields):
            if plan.leaf is not None:
                value = plan.leaf(source_value)
                if value is not Undefined:
                    results[response_name] = value
                    continue
            result = self.execute_planned(parent_type, source_value, field_nodes,
                                          Path(path, response_name, parent_type.name), plan)
            if isinstance(result, SyncFuture):
                if result.done():
                    result = result.result()
                else:
                    results[response_name] = PENDING_FUTURE  # keeps the field order
                    pending = pending or []
                    pending.append((response_name, result))
                    continue
            if result is not Undefined:
                results[response_name] = result
        return results if pending is None else self.gather(results, pending)

    @staticmethod
    def gather(results, pending):
        """A future for `results` once every pending field has its value (Undefined drops the field)."""
        future = SyncFuture()
        unresolved = len(pending)

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

        for response_name, result in pending:
            result.add_done_callback(partial(process_result, response_name, result))
        return future

    def execute_field(self, parent_type, source, field_nodes, path):
        """Entry for graphql-core and graphql-sync-dataloaders (root mutation fields): plan, then execute."""
        return self.execute_planned(parent_type, source, field_nodes, path, FieldPlan(self, parent_type, field_nodes))

    def execute_planned(self, parent_type, source, field_nodes, path, plan):
        """Resolve and complete one field; errors become null plus a located error (or propagate if non-null)."""
        field_def = plan.field_def
        if field_def is None:
            return Undefined
        return_type = field_def.type
        try:
            if plan.refusal is not None:
                raise GraphQLError(plan.refusal)
            if plan.args_error is not None:
                raise plan.args_error
            info = self.build_resolve_info(field_def, field_nodes, parent_type, path)
            result = plan.resolve(source, info, **plan.args)
            if isinstance(result, SyncFuture):
                if not result.done():
                    return self.complete_later(result, return_type, field_nodes, info, path)
                result = result.result()
            completed = self.complete_value(return_type, field_nodes, info, path, result)
            if isinstance(completed, SyncFuture):
                return self.settle(completed, return_type, field_nodes, path)
            return completed
        except Exception as raw_error:
            self.handle_field_error(located_error(raw_error, field_nodes, path.as_list()), return_type, path)
            return None

    def complete_later(self, pending, return_type, field_nodes, info, path):
        """A future for a field whose resolver is waiting on a loader batch (run as a deferred callback)."""
        if pending.deferred_callback:
            self._deferred_callbacks.append(pending.deferred_callback)
        future = SyncFuture()

        def process_result():
            try:
                completed = self.complete_value(return_type, field_nodes, info, path, pending.result())
                if isinstance(completed, SyncFuture):
                    completed = self.settle(completed, return_type, field_nodes, path)
                if isinstance(completed, SyncFuture):
                    completed.add_done_callback(lambda: future.set_result(completed.result()))
                    return
            except Exception as raw_error:
                self.handle_field_error(located_error(raw_error, field_nodes, path.as_list()), return_type, path)
                completed = None
            future.set_result(completed)

        pending.add_done_callback(process_result)
        return future

    def settle(self, completed, return_type, field_nodes, path):
        """A completed value still waiting on deeper loads: its value now if done, else a future with errors handled."""
        def outcome():
            try:
                return completed.result()
            except Exception as raw_error:
                self.handle_field_error(located_error(raw_error, field_nodes, path.as_list()), return_type, path)
                return None

        if completed.done():
            return outcome()
        future = SyncFuture()
        completed.add_done_callback(lambda: future.set_result(outcome()))
        return future

    def complete_value(self, return_type, field_nodes, info, path, result):
        """Completed values as they are; objects (nullable or not) straight to their sub-selection; the rest the usual way."""
        if type(result) is Completed:
            return result.value
        if result is not None and not isinstance(result, Exception):
            object_type = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
            if is_object_type(object_type):
                return self.complete_object_value(object_type, field_nodes, info, path, result)
        return super().complete_value(return_type, field_nodes, info, path, result)

    def complete_object_value(self, return_type, field_nodes, info, path, result):
        """graphql-core's, without the awaitable test of a plain True from is_type_of."""
        is_type_of = return_type.is_type_of
        if is_type_of is not None and is_type_of(result, info) is not True:
            return super().complete_object_value(return_type, field_nodes, info, path, result)
        return self.execute_fields(return_type, result, path, self.collect_subfields(return_type, field_nodes))

    def handle_field_error(self, error, return_type, path=None):
        # graphql-sync-dataloaders calls this without `path` (graphql-core 3.2 requires it): the error
        # is located already then.
        if is_non_null_type(return_type):
            raise error
        if path is not None:
            self.collected_errors.add(error, path)
        else:
            self.collected_errors.errors.append(error)
        return None
