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


def selection_tree(info, path=()):
    """The fields selected under the current field, following `path` (e.g. ("edges", "node")), as a tree
    {name: {sub-field name: {...}}} (leaves map to {})."""
    nodes = list(info.field_nodes)
    for step in path:
        nodes = [f for node in nodes for f in _fields(node.selection_set, info.fragments) if f.name.value == step]
    return _tree(nodes, info.fragments)


def _tree(nodes, fragments):
    children = {}
    for node in nodes:
        for field in _fields(node.selection_set, fragments):
            children.setdefault(field.name.value, []).append(field)
    return {name: _tree(fields, fragments) for name, fields in children.items()}
