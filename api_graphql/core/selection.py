"""What the query selected, for planning SQL (column lists) from the selection set."""

from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode


def _fields(selection_set, fragments):
    for selection in (selection_set.selections if selection_set else ()):
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            yield from _fields(fragments[selection.name.value].selection_set, fragments)


def selected_names(info, path=()):
    """GraphQL field names selected under the current field, following `path` (e.g. ("edges", "node"))."""
    nodes = list(info.field_nodes)
    for step in path:
        nodes = [f for node in nodes for f in _fields(node.selection_set, info.fragments) if f.name.value == step]
    return {f.name.value for node in nodes for f in _fields(node.selection_set, info.fragments)}
