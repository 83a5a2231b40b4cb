"""graphql-core's standard validation rules, less those that cannot report anything on a given document.

A new document (the first request of a process, a query never sent before) runs every rule of
`specified_rules` over its nodes: ~2 ms for a page of firms, as much as that page's SQL. A rule
whose every check is about a kind of node the document does not contain (fragments, directives,
a second operation, a subscription, an introspection root) can report nothing, yet it still visits
every node. `rules_for` leaves out exactly those rules, judged conservatively:

- from the parsed document where it is exact (how many operations, which kinds, fragment definitions);
- from the query text where the node kind always shows in it: a spread or inline fragment always
  starts with `...`, a directive with `@`, an introspection root is the name `__schema` or `__type`.
  Such text inside a string literal only keeps a rule that was not needed.

So the errors are the same, in the same order, as with every rule: tests/api_graphql/test_validation.py
checks it on valid and invalid documents of each kind.
"""

import re

from graphql import OperationType, specified_rules
from graphql.language import FragmentDefinitionNode, OperationDefinitionNode
from graphql.validation import (FragmentsOnCompositeTypesRule, KnownDirectivesRule, KnownFragmentNamesRule,
                                LoneAnonymousOperationRule, NoFragmentCyclesRule, NoUnusedFragmentsRule,
                                PossibleFragmentSpreadsRule, SingleFieldSubscriptionsRule,
                                UniqueDirectivesPerLocationRule, UniqueFragmentNamesRule, UniqueOperationNamesRule)
from graphql.validation.rules.max_introspection_depth_rule import MaxIntrospectionDepthRule

# Each group checks only the nodes its name says.
FRAGMENT_RULES = (FragmentsOnCompositeTypesRule, UniqueFragmentNamesRule, KnownFragmentNamesRule,
                  NoUnusedFragmentsRule, PossibleFragmentSpreadsRule, NoFragmentCyclesRule)
DIRECTIVE_RULES = (KnownDirectivesRule, UniqueDirectivesPerLocationRule)
SEVERAL_OPERATIONS_RULES = (UniqueOperationNamesRule, LoneAnonymousOperationRule)
SUBSCRIPTION_RULES = (SingleFieldSubscriptionsRule,)
INTROSPECTION_RULES = (MaxIntrospectionDepthRule,)
INTROSPECTION_ROOT = re.compile(r"__(?:schema|type)(?![_0-9A-Za-z])")


def rules_for(query, document):
    """The standard rules in their usual order, without those the document gives nothing to check."""
    definitions = document.definitions
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    idle = set()
    if not any(isinstance(d, FragmentDefinitionNode) for d in definitions) and "..." not in query:
        idle.update(FRAGMENT_RULES)
    if "@" not in query:
        idle.update(DIRECTIVE_RULES)
    if len(operations) <= 1:
        idle.update(SEVERAL_OPERATIONS_RULES)
    if all(o.operation != OperationType.SUBSCRIPTION for o in operations):
        idle.update(SUBSCRIPTION_RULES)
    if not INTROSPECTION_ROOT.search(query):
        idle.update(INTROSPECTION_RULES)
    return [rule for rule in specified_rules if rule not in idle]
