"""Query limits, driven by settings (NetBox GRAPHQL_MAX_QUERY_DEPTH, Saleor query_cost_map).

Checked in this order, each refusal naming its limit, its value and the setting:
1. document size in bytes, before parsing (`GRAPHQL_MAX_DOCUMENT_BYTES`);
2. tokens, while parsing (graphql-core's `max_tokens`, `GRAPHQL_MAX_TOKENS`);
3. operations in the document (`GRAPHQL_MAX_OPERATIONS`);
4. ONE walk over the document with the schema (`check_document`): depth, aliases, cost, page sizes,
   introspection fields and their depth, repeated fields. Each fragment is summarised once and the
   summary reused at every spread, so the walk is linear in the document: the old per-rule walks
   expanded fragments at each spread (2^22 paths for a 1.3 KB document) and rebuilt the fragment
   table for every operation (quadratic in operations).
graphql-core's standard rules run only on a document that passed, so none of their super-linear
corners (OverlappingFieldsCanBeMerged on thousands of repeated fields) can be reached.

Introspection (`__schema`, `__type`) has its own count, depth and list-nesting limits instead of the cost limit,
so GraphiQL's standard introspection query passes while 300 aliased `__schema` do not; aliases are
counted everywhere, `__typename` included.
"""

from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from graphql import GraphQLError, get_named_type, is_list_type, parse
from graphql.language import (FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode,
                              OperationDefinitionNode, VariableNode)
from graphql.type import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef
from graphql.type.definition import get_nullable_type

DEFAULT_PAGE_SIZE = 20
# Estimated size of a list field without `first` (certifications, indicators, chains of a firm).
LIST_FACTOR = 5
PAGE_ARGUMENTS = ("first", "last")
INTROSPECTION_ROOTS = ("__schema", "__type")
# Spreads within spreads, however few fields they hold: bounds the walk's recursion (no setting; real queries nest 2-3).
MAX_FRAGMENT_NESTING = 50

LIMIT_SETTINGS = ("GRAPHQL_MAX_DOCUMENT_BYTES", "GRAPHQL_MAX_TOKENS", "GRAPHQL_MAX_OPERATIONS", "GRAPHQL_MAX_DEPTH",
                  "GRAPHQL_MAX_ALIASES", "GRAPHQL_MAX_PAGE_SIZE", "GRAPHQL_MAX_COST", "GRAPHQL_MAX_INTROSPECTION",
                  "GRAPHQL_MAX_INTROSPECTION_DEPTH", "GRAPHQL_MAX_INTROSPECTION_LISTS", "GRAPHQL_MAX_REPEATED_FIELDS")


@dataclass(frozen=True)
class Cost:
    """What one field costs: `complexity` for itself, and how many times its selection counts
    (`multiplier`: "page" = its `first`/`last`, or DEFAULT_PAGE_SIZE without; a number = that many)."""

    complexity: int = 1
    multiplier: object = None  # None: derived from the schema (DocumentLimits.multiplier)


# The cost map, keyed by (type, field) as in Saleor's query_cost_map.py. Fields not listed are derived
# from the schema: 1 each; a field with a `first` argument multiplies its selection by the page size, a
# list field by LIST_FACTOR. Listed here: what the schema cannot tell (a connection's edges are the page
# already; analytics resolvers that scan a cohort or a region cost more than a row).
COST_MAP = {
    ("FirmConnection", "edges"): Cost(multiplier=1),
    ("CandidateConnection", "edges"): Cost(multiplier=1),
    ("SearchResults", "hits"): Cost(multiplier=1),
    ("SearchResults", "facets"): Cost(complexity=5, multiplier=1),
    ("CohortFirmsType", "firms"): Cost(multiplier=1),
    ("CohortFirmsType", "csv"): Cost(complexity=20),
    ("Query", "search"): Cost(complexity=10, multiplier="page"),
    ("Query", "searchSuggest"): Cost(complexity=5, multiplier="page"),
    ("Query", "funnel"): Cost(complexity=50),
    ("Query", "stageTransitions"): Cost(complexity=50, multiplier=1),
    ("Query", "targetProgress"): Cost(complexity=20, multiplier=1),
    ("Query", "cohortTable"): Cost(complexity=50),
    ("Query", "cohortFirms"): Cost(complexity=20, multiplier="page"),
    ("Query", "candidates"): Cost(complexity=20, multiplier="page"),
    ("Query", "eligibility"): Cost(complexity=10),
}


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


def limits_key():
    """The current limit settings (part of the parsed-document cache key)."""
    return tuple(getattr(settings, name) for name in LIMIT_SETTINGS)


def parse_limited(query):
    """The parsed document, or GraphQLError when it is too large or has too many tokens."""
    limit = settings.GRAPHQL_MAX_DOCUMENT_BYTES
    size = len(query.encode("utf-8", "surrogatepass")) if len(query) * 4 > limit else len(query)
    if size > limit:
        raise GraphQLError(f"Query document is {size} bytes, more than the limit of {limit} "
                           f"(GRAPHQL_MAX_DOCUMENT_BYTES).")
    tokens = settings.GRAPHQL_MAX_TOKENS
    try:
        return parse(query, max_tokens=tokens)
    except GraphQLError as error:
        if "tokens" in error.message and "Parsing aborted" in error.message:
            raise GraphQLError(f"Query document has more than {tokens} tokens, the limit (GRAPHQL_MAX_TOKENS).") from None
        raise


def _int_argument(node, name, variables):
    for argument in node.arguments or ():
        if argument.name.value == name:
            value = argument.value
            if isinstance(value, VariableNode):
                value = (variables or {}).get(value.name.value)
            else:
                value = getattr(value, "value", None)
            try:
                return int(value) if value is not None else None
            except (TypeError, ValueError):
                return None
    return None


class _TooNested(Exception):
    pass


@dataclass
class Summary:
    """What a selection set adds up to, relative to itself (multiplier 1).

    `depth` follows paths that do not enter introspection; `full_depth` all paths (what counts once
    inside `__schema`); `intro_depth` the deepest `__schema`/`__type` subtree; `lists` the most list
    fields nested on one path, `intro_lists` the same inside introspection (each multiplies the answer
    by a type or field count: `types { fields { type { fields ... } } }` grows geometrically); `fields` the response
    names collected at this level (through fragments), `repeat` the most repeated name at any level.
    """

    depth: int = 0
    full_depth: int = 0
    aliases: int = 0
    cost: int = 0
    introspection: int = 0
    intro_depth: int = 0
    lists: int = 0
    intro_lists: int = 0
    fields: Counter = field(default_factory=Counter)
    repeat: tuple = (0, "")

    def add(self, other, *, level=True):
        """Fold in a fragment's summary (level=True: its fields are collected at this level)."""
        self.depth = max(self.depth, other.depth)
        self.full_depth = max(self.full_depth, other.full_depth)
        self.aliases += other.aliases
        self.cost += other.cost
        self.introspection += other.introspection
        self.intro_depth = max(self.intro_depth, other.intro_depth)
        self.lists = max(self.lists, other.lists)
        self.intro_lists = max(self.intro_lists, other.intro_lists)
        self.repeat = max(self.repeat, other.repeat)
        if level:
            self.fields.update(other.fields)


class DocumentLimits:
    """One walk over a parsed document; `errors()` lists every limit it exceeds."""

    def __init__(self, schema, document, variables=None):
        self.schema = schema
        self.variables = variables if isinstance(variables, dict) else {}
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        self.memo = {}
        self.page_errors = []
        self.nesting = 0

    def errors(self):
        limit = settings.GRAPHQL_MAX_OPERATIONS
        if len(self.operations) > limit:
            return [GraphQLError(f"Query document has {len(self.operations)} operations, more than the limit of "
                                 f"{limit} (GRAPHQL_MAX_OPERATIONS).")]
        errors = []
        for operation in self.operations:
            root = self.schema.get_root_type(operation.operation)
            try:
                summary = self.selection_set(operation.selection_set, root)
            except _TooNested:
                return [GraphQLError(f"Query nests fragments more than {MAX_FRAGMENT_NESTING} deep, the limit.")]
            errors.extend(self.verdicts(summary, operation))
        return self.page_errors + errors

    def verdicts(self, s, node):
        checks = (
            (s.depth, "GRAPHQL_MAX_DEPTH", "Query depth {n} exceeds the limit of {limit} (GRAPHQL_MAX_DEPTH)."),
            (s.aliases, "GRAPHQL_MAX_ALIASES", "Query uses {n} aliases, more than the limit of {limit} "
                                                 "(GRAPHQL_MAX_ALIASES)."),
            (s.cost, "GRAPHQL_MAX_COST", "Query cost {n} exceeds the limit of {limit} (GRAPHQL_MAX_COST)."),
            (s.introspection, "GRAPHQL_MAX_INTROSPECTION", "Query selects __schema/__type {n} times, more than the "
                                                           "limit of {limit} (GRAPHQL_MAX_INTROSPECTION)."),
            (s.intro_depth, "GRAPHQL_MAX_INTROSPECTION_DEPTH", "Introspection depth {n} exceeds the limit of "
                                                               "{limit} (GRAPHQL_MAX_INTROSPECTION_DEPTH)."),
            (s.intro_lists, "GRAPHQL_MAX_INTROSPECTION_LISTS", "Introspection nests {n} lists, more than the limit "
                                                               "of {limit} (GRAPHQL_MAX_INTROSPECTION_LISTS)."),
            (s.repeat[0], "GRAPHQL_MAX_REPEATED_FIELDS", "Field '" + s.repeat[1] + "' is selected {n} times in one "
                                                         "selection, more than the limit of {limit} "
                                                         "(GRAPHQL_MAX_REPEATED_FIELDS)."),
        )
        for n, name, message in checks:
            limit = getattr(settings, name)
            if n > limit:
                yield GraphQLError(message.format(n=n, limit=limit), node)

    def fragment(self, name):
        """A fragment's summary, computed once; a cycle (refused later by the standard rules) counts nothing."""
        if name not in self.memo:
            definition = self.fragments.get(name)
            if definition is None:
                return Summary()
            self.memo[name] = Summary()  # in progress: a spread of itself adds nothing
            self.nesting += 1
            if self.nesting > MAX_FRAGMENT_NESTING:
                raise _TooNested
            parent = self.schema.get_type(definition.type_condition.name.value)
            self.memo[name] = self.selection_set(definition.selection_set, parent)
            self.nesting -= 1
        return self.memo[name]

    def selection_set(self, selection_set, parent):
        summary = Summary()
        for selection in (selection_set.selections if selection_set else ()):
            if isinstance(selection, FragmentSpreadNode):
                summary.add(self.fragment(selection.name.value))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                summary.add(self.selection_set(selection.selection_set, inner))
            elif isinstance(selection, FieldNode):
                self.field(selection, parent, summary)
        if summary.fields:
            name, count = summary.fields.most_common(1)[0]
            summary.repeat = max(summary.repeat, (count, name))
        return summary

    def field(self, node, parent, summary):
        name = node.name.value
        summary.fields[node.alias.value if node.alias else name] += 1
        summary.aliases += 1 if node.alias else 0
        if name == "__typename":
            return
        definition = self.field_definition(parent, name)
        child_type = get_named_type(definition.type) if definition is not None else None
        child = self.selection_set(node.selection_set, child_type) if node.selection_set else Summary()
        summary.aliases += child.aliases
        summary.introspection += child.introspection
        summary.intro_depth = max(summary.intro_depth, child.intro_depth)
        summary.intro_lists = max(summary.intro_lists, child.intro_lists)
        summary.repeat = max(summary.repeat, child.repeat)
        summary.full_depth = max(summary.full_depth, child.full_depth + 1)
        is_list = definition is not None and is_list_type(get_nullable_type(definition.type))
        summary.lists = max(summary.lists, child.lists + is_list)
        if name in INTROSPECTION_ROOTS:  # its own limits (count, depth, lists within lists); no part of depth or cost
            summary.introspection += 1
            summary.intro_depth = max(summary.intro_depth, child.full_depth + 1)
            summary.intro_lists = max(summary.intro_lists, child.lists)
            return
        summary.depth = max(summary.depth, child.depth + 1)
        self.check_page_arguments(node)
        cost = COST_MAP.get((getattr(parent, "name", None), name), Cost())
        summary.cost += cost.complexity + self.multiplier(node, cost, definition) * child.cost

    def field_definition(self, parent, name):
        if name == "__schema":
            return SchemaMetaFieldDef
        if name == "__type":
            return TypeMetaFieldDef
        if name == "__typename":
            return TypeNameMetaFieldDef
        fields = getattr(parent, "fields", None)
        return fields.get(name) if fields else None

    def multiplier(self, node, cost, definition):
        rule = cost.multiplier
        if rule is None and definition is not None:
            if any(a in definition.args for a in PAGE_ARGUMENTS):
                rule = "page"
            elif is_list_type(get_nullable_type(definition.type)):
                rule = LIST_FACTOR
        if rule == "page":
            sizes = [_int_argument(node, a, self.variables) for a in PAGE_ARGUMENTS]
            sizes = [s for s in sizes if s is not None]
            return max(max(sizes), 1) if sizes else DEFAULT_PAGE_SIZE
        return rule or 1

    def check_page_arguments(self, node):
        """`first`/`last` above GRAPHQL_MAX_PAGE_SIZE is refused before anything runs (never cut)."""
        for name in PAGE_ARGUMENTS:
            size = _int_argument(node, name, self.variables)
            if size is not None and size > settings.GRAPHQL_MAX_PAGE_SIZE:
                self.page_errors.append(GraphQLError(
                    f"'{name}' {size} on '{node.name.value}' exceeds the limit of "
                    f"{settings.GRAPHQL_MAX_PAGE_SIZE} (GRAPHQL_MAX_PAGE_SIZE).", node
                ))


def page_variables(document):
    """The names of the variables given as `first`/`last` anywhere in `document`, sorted: the only
    variables `check_document`'s verdict depends on (see `_int_argument`)."""
    names, stack = set(), list(document.definitions)
    while stack:
        node = stack.pop()
        if isinstance(node, FieldNode):
            names.update(a.value.name.value for a in node.arguments or ()
                         if a.name.value in PAGE_ARGUMENTS and isinstance(a.value, VariableNode))
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)
    return tuple(sorted(names))


def check_document(schema, document, variables=None):
    """Every limit `document` exceeds, as GraphQLErrors (empty: run the standard rules next)."""
    return DocumentLimits(schema, document, variables).errors()
