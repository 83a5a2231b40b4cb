"""Query limits, driven by settings (NetBox GRAPHQL_MAX_QUERY_DEPTH, Saleor query_cost_map).

graphene-django's view does not add these by itself; `validation_rules(variables)` builds the
rules for one request (variables are bound so `first: $n` is checked like `first: 500`).
Each error names the limit, its value and the setting. Introspection (`__schema`, `__type`) is
not counted, so GraphiQL's standard introspection query passes.
"""

from django.conf import settings
from graphql import GraphQLError, ValidationRule, specified_rules
from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode, OperationDefinitionNode, VariableNode

DEFAULT_PAGE_SIZE = 20
# Estimated size of a list field without `first` (certifications, indicators, chains of a firm).
LIST_FACTOR = 5
PAGE_ARGUMENTS = ("first", "last")


def max_page_size():
    return settings.GRAPHQL_MAX_PAGE_SIZE


def check_page_size(first, argument="first"):
    """The page size to use: the default when missing; an error (not a silent cut) above the cap."""
    if first is None:
        return min(DEFAULT_PAGE_SIZE, max_page_size())
    if first < 0:
        raise GraphQLError(f"'{argument}' must not be negative (got {first}).")
    if first > max_page_size():
        raise GraphQLError(
            f"'{argument}' {first} exceeds the limit of {max_page_size()} (GRAPHQL_MAX_PAGE_SIZE)."
        )
    return first


def is_introspection(node):
    return isinstance(node, FieldNode) and node.name.value.startswith("__")


def argument_value(node, name, variables):
    for argument in node.arguments or ():
        if argument.name.value == name:
            value = argument.value
            if isinstance(value, VariableNode):
                return (variables or {}).get(value.name.value)
            return getattr(value, "value", None)
    return None


class _QueryWalker(ValidationRule):
    """Walks each operation once, following fragments, skipping introspection."""

    variables = None

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args):
        self.fragments = {f.name.value: f for f in self.context.document.definitions if hasattr(f, "type_condition")}
        self.check_operation(node)

    def selections(self, selection_set, seen):
        for selection in (selection_set.selections if selection_set else ()):
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in seen or name not in self.fragments:
                    continue
                yield from self.selections(self.fragments[name].selection_set, seen | {name})
            elif isinstance(selection, InlineFragmentNode):
                yield from self.selections(selection.selection_set, seen)
            elif not is_introspection(selection):
                yield selection, seen

    def check_operation(self, node):  # pragma: no cover - abstract
        raise NotImplementedError


class DepthLimitRule(_QueryWalker):
    def check_operation(self, node):
        limit = settings.GRAPHQL_MAX_DEPTH
        depth = self.depth(node.selection_set, frozenset(), 0)
        if depth > limit:
            self.report_error(GraphQLError(
                f"Query depth {depth} exceeds the limit of {limit} (GRAPHQL_MAX_DEPTH).", node
            ))

    def depth(self, selection_set, seen, level):
        deepest = level
        for field, seen_here in self.selections(selection_set, seen):
            if field.selection_set:
                deepest = max(deepest, self.depth(field.selection_set, seen_here, level + 1))
            else:
                deepest = max(deepest, level + 1)
        return deepest


class AliasLimitRule(_QueryWalker):
    def check_operation(self, node):
        limit = settings.GRAPHQL_MAX_ALIASES
        aliases = self.count(node.selection_set, frozenset())
        if aliases > limit:
            self.report_error(GraphQLError(
                f"Query uses {aliases} aliases, more than the limit of {limit} (GRAPHQL_MAX_ALIASES).", node
            ))

    def count(self, selection_set, seen):
        total = 0
        for field, seen_here in self.selections(selection_set, seen):
            total += 1 if field.alias else 0
            if field.selection_set:
                total += self.count(field.selection_set, seen_here)
        return total


class PageSizeRule(_QueryWalker):
    """Refuses `first`/`last` above GRAPHQL_MAX_PAGE_SIZE before anything runs."""

    def check_operation(self, node):
        self.walk(node.selection_set, frozenset())

    def walk(self, selection_set, seen):
        for field, seen_here in self.selections(selection_set, seen):
            for name in PAGE_ARGUMENTS:
                value = argument_value(field, name, self.variables)
                try:
                    size = int(value) if value is not None else None
                except (TypeError, ValueError):
                    size = None
                if size is not None and size > settings.GRAPHQL_MAX_PAGE_SIZE:
                    self.report_error(GraphQLError(
                        f"'{name}' {size} on '{field.name.value}' exceeds the limit of "
                        f"{settings.GRAPHQL_MAX_PAGE_SIZE} (GRAPHQL_MAX_PAGE_SIZE).", field
                    ))
            if field.selection_set:
                self.walk(field.selection_set, seen_here)


class CostLimitRule(_QueryWalker):
    """Cost = every field selected, multiplied by the page sizes (or list estimates) above it."""

    def check_operation(self, node):
        limit = settings.GRAPHQL_MAX_COST
        cost = self.cost(node.selection_set, frozenset(), 1)
        if cost > limit:
            self.report_error(GraphQLError(
                f"Query cost {cost} exceeds the limit of {limit} (GRAPHQL_MAX_COST).", node
            ))

    def cost(self, selection_set, seen, multiplier):
        total = 0
        for field, seen_here in self.selections(selection_set, seen):
            total += multiplier
            if not field.selection_set:
                continue
            size = argument_value(field, "first", self.variables)
            try:
                size = int(size) if size is not None else None
            except (TypeError, ValueError):
                size = None
            if size is not None:
                child = multiplier * max(size, 1)
            elif any(getattr(s, "name", None) is not None and s.name.value == "edges"
                     for s in field.selection_set.selections):
                child = multiplier * DEFAULT_PAGE_SIZE  # a connection without `first` gets the default page
            elif field.name.value in ("edges", "node", "pageInfo", "hits"):
                child = multiplier
            elif any(a.name.value == "after" for a in field.arguments or ()) or field.name.value in LIST_FIELDS:
                child = multiplier * LIST_FACTOR
            else:
                child = multiplier
            total += self.cost(field.selection_set, seen_here, child)
        return total


# Fields returning lists (without `first`) are costed at LIST_FACTOR items each; connections with no
# explicit `first` at the default page size.
LIST_FIELDS = {"certifications", "timeline", "indicators", "chains", "tiers", "expiringCertificates", "ladder"}


def with_variables(rule, variables):
    return type(rule.__name__, (rule,), {"variables": variables})


def validation_rules(variables=None):
    """graphql-core's standard rules plus ours (passing rules to validate() replaces the defaults)."""
    ours = [DepthLimitRule, AliasLimitRule, PageSizeRule, CostLimitRule]
    return list(specified_rules) + [with_variables(rule, variables) for rule in ours]
