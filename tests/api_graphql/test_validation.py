"""The standard rules left out of a document's validation could not have reported anything (core/validation.py)."""

import pytest
from graphql import parse, specified_rules, validate

from api_graphql.core.validation import (DIRECTIVE_RULES, FRAGMENT_RULES, INTROSPECTION_RULES,
                                         SEVERAL_OPERATIONS_RULES, rules_for)
from api_graphql.schema import schema
from api_graphql.warmup import DOCUMENTS

PAGE = """query($stage: String, $region: String) {
  firms(first: 50, stage: $stage, region: $region) {
    pageInfo { hasNextPage endCursor } edges { cursor node { id uscc name region { code name } } } } }"""

# Valid and invalid documents of every kind the left-out rules check, and look-alikes in strings and names.
DOCUMENTS_TO_CHECK = [
    PAGE,
    *(query for query, _ in DOCUMENTS),
    "{ firms(first: 2) { edges { node { uscc nope } } } }",  # unknown field
    "{ firms(first: 2) { edges { node { region } } } }",  # object without a selection
    "query($unused: Int) { firms(first: 2) { totalCount } }",
    "{ firms(first: $undefined) { totalCount } }",
    "{ firms(first: 2, nope: 1) { totalCount } }",
    '{ firms(first: "two") { totalCount } }',
    # fragments
    "fragment F on FirmType { uscc } { firms(first: 2) { edges { node { ...F } } } }",
    "{ firms(first: 2) { edges { node { ...Missing } } } }",
    "fragment Unused on FirmType { uscc } { firms(first: 2) { totalCount } }",
    "fragment A on FirmType { ...B } fragment B on FirmType { ...A } { firms(first: 1) { edges { node { ...A } } } }",
    "fragment F on FirmType { uscc } fragment F on FirmType { name } { firms(first: 1) { edges { node { ...F } } } }",
    "{ firms(first: 2) { edges { node { ... on FirmType { uscc } } } } }",
    "{ firms(first: 2) { edges { node { uscc ... on String { x } } } } }",
    "{ firms(first: 2) { edges { node { ... on RegionType { code } } } } }",
    '{ firms(first: 2, name: "...") { totalCount } }',  # the text of a spread inside a string
    # directives
    "{ firms(first: 2) { totalCount @include(if: true) } }",
    "{ firms(first: 2) { totalCount @nope } }",
    "{ firms(first: 2) { totalCount @skip(if: false) @skip(if: true) } }",
    '{ firms(first: 2, name: "a@b") { totalCount } }',
    # several operations
    "query A { firms(first: 1) { totalCount } } query A { firms(first: 2) { totalCount } }",
    "{ firms(first: 1) { totalCount } } query B { firms(first: 2) { totalCount } }",
    "query A { firms(first: 1) { totalCount } } query B { firms(first: 2) { totalCount } }",
    # subscriptions and mutations
    "subscription { a: firms(first: 1) { totalCount } b: firms(first: 1) { totalCount } }",
    "mutation { nope }",
    # introspection
    "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
    '{ __type(name: "FirmType") { name fields { name } } }',
    "{ firms(first: 1) { __typename totalCount } }",
    '{ firms(first: 1, name: "__schema") { totalCount } }',
    # not executable at all
    "type Extra { a: Int } { firms(first: 1) { totalCount } }",
    "directive @x on FIELD { firms(first: 1) { totalCount @x @x } }",
]


def messages(errors):
    return [(e.message, e.locations) for e in errors]


@pytest.mark.parametrize("query", DOCUMENTS_TO_CHECK)
def test_the_rules_left_out_change_no_verdict(query):
    document = parse(query)
    graphql_schema = schema.graphql_schema
    assert messages(validate(graphql_schema, document, rules_for(query, document))) == \
        messages(validate(graphql_schema, document, specified_rules))


def test_a_plain_page_skips_the_rules_it_gives_nothing_to_check_and_keeps_order():
    rules = rules_for(PAGE, parse(PAGE))
    for group in (FRAGMENT_RULES, DIRECTIVE_RULES, SEVERAL_OPERATIONS_RULES, INTROSPECTION_RULES):
        assert not set(group) & set(rules)
    assert rules == [rule for rule in specified_rules if rule in rules]
    assert len(rules) < len(specified_rules)


@pytest.mark.parametrize(("query", "group"), [
    ("{ firms(first: 2) { edges { node { ...F } } } }", FRAGMENT_RULES),
    ("fragment F on FirmType { uscc } { firms(first: 1) { totalCount } }", FRAGMENT_RULES),
    ("{ firms(first: 2) { totalCount @nope } }", DIRECTIVE_RULES),
    ("query A { firms(first: 1) { totalCount } } query A { firms(first: 1) { totalCount } }",
     SEVERAL_OPERATIONS_RULES),
    ("{ __type(name: \"FirmType\") { name } }", INTROSPECTION_RULES),
])
def test_a_document_with_the_nodes_a_rule_checks_keeps_it(query, group):
    assert set(group) <= set(rules_for(query, parse(query)))
