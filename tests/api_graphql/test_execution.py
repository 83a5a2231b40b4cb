"""CultivarExecutionContext answers exactly like the plain deferred execution it replaces — data and errors.

The context plans fields once per request and completes plain leaves inline; every unusual case
(null in a non-null field, a value the scalar cannot serialize, an exception, a loader batch that
fails) must fall back to graphql-core's handling. The reference is graphql-sync-dataloaders'
DeferredExecutionContext with the path shim the project used before.
"""

import datetime
from types import SimpleNamespace

import graphene
from graphql import execute, parse
from graphql_sync_dataloaders import DeferredExecutionContext, SyncDataLoader

from api_graphql.core.execution import CultivarExecutionContext


class Reference(DeferredExecutionContext):
    """The plain deferred execution, with only our fix for graphql-sync-dataloaders' path-less error calls."""

    handle_field_error = CultivarExecutionContext.handle_field_error


class Color(graphene.Enum):
    RED = "red"
    BLUE = "blue"


def batch(keys):
    return [THINGS.get(key) for key in keys]


def failing_batch(keys):
    return [ValueError("batch failed") for _ in keys]


def loader(info, name, fn):
    if not hasattr(info.context, name):
        setattr(info.context, name, SyncDataLoader(fn))
    return getattr(info.context, name)


class Maybe(graphene.Scalar):
    """A scalar whose serializer answers None for some values (graphql-core reports that as an error)."""

    @staticmethod
    def serialize(value):
        return None if value == "nothing" else str(value)


class Thing(graphene.ObjectType):
    name = graphene.String(required=True)
    nickname = graphene.String()
    day = graphene.Date()
    color = graphene.Field(Color)
    count = graphene.Int()
    maybe = graphene.Field(Maybe)
    friend = graphene.Field(lambda: Thing)
    loaded = graphene.Field(lambda: Thing, description="Through a loader (deferred).")
    must = graphene.Field(lambda: Thing, required=True, description="Through a loader; non-null.")
    broken = graphene.String(description="A loader whose batch answers an exception.")
    raises = graphene.String()

    def resolve_loaded(root, info):
        return loader(info, "things", batch).load(root_get(root, "friend_key"))

    def resolve_must(root, info):
        return loader(info, "things", batch).load(root_get(root, "friend_key"))

    def resolve_broken(root, info):
        return loader(info, "failing", failing_batch).load(1)

    def resolve_raises(root, info):
        raise RuntimeError("resolver failed")


def root_get(root, key):
    return root.get(key) if isinstance(root, dict) else getattr(root, key, None)


THINGS = {
    1: SimpleNamespace(name="one", nickname=None, day=datetime.date(2025, 1, 2), color="red", count=3,
                       maybe="x", friend=None, friend_key=2),
    2: {"name": "two", "nickname": "deux", "day": None, "color": "blue", "count": 7, "friend_key": 9},
    3: SimpleNamespace(name=None, count=1, friend_key=1),  # null in a non-null field
    4: SimpleNamespace(name="four", count="many", color="green", day="not a date", maybe="nothing", friend_key=1),  # unserializable
}


class Query(graphene.ObjectType):
    things = graphene.List(Thing)
    thing = graphene.Field(Thing, key=graphene.Int(required=True))

    def resolve_things(root, info):
        return list(THINGS.values())

    def resolve_thing(root, info, key):
        return THINGS.get(key)


SCHEMA = graphene.Schema(query=Query).graphql_schema

QUERIES = [
    "{ things { name nickname day color count maybe } }",
    "{ things { name friend { name } loaded { name count loaded { name } } } }",
    "{ things { count must { name } } }",
    "{ things { name broken raises } }",
    "query($k: Int!) { thing(key: $k) { name a: name count loaded { day color } } }",
]


def run(context_class, query):
    variables = {"k": 1} if "$k" in query else None
    result = execute(SCHEMA, parse(query), context_value=SimpleNamespace(user=None), variable_values=variables,
                     execution_context_class=context_class)
    return result.data, [error.formatted for error in result.errors or []]


def test_same_data_and_errors_as_the_plain_deferred_execution():
    for query in QUERIES:
        assert run(CultivarExecutionContext, query) == run(Reference, query), query


def test_the_fallbacks_are_exercised():
    data, errors = run(CultivarExecutionContext, QUERIES[0])
    messages = " | ".join(error["message"] for error in errors)
    assert data["things"][0] == {"name": "one", "nickname": None, "day": "2025-01-02", "color": "RED", "count": 3,
                                  "maybe": "x"}
    assert data["things"][2] is None and "Cannot return null for non-nullable field Thing.name." in messages
    assert data["things"][3]["count"] is None and "Int cannot represent non-integer value: 'many'" in messages
    assert data["things"][3]["maybe"] is None and "Expected `Maybe.serialize('nothing')`" in messages
    _, errors = run(CultivarExecutionContext, QUERIES[3])
    assert {"batch failed", "resolver failed"} <= {error["message"] for error in errors}
