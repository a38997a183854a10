"""The lean executor answers exactly as graphql-core's own, data and errors alike."""

from __future__ import annotations

from enum import Enum
from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult, execute, parse

from api.execution import LeanExecutor, is_awaitable, plain_fields
from api.schema import schema as app_schema

pytestmark = pytest.mark.anyio


@strawberry.enum
class Colour(Enum):
    RED = "red"


@strawberry.type
class Leaf:
    name: str
    count: int
    ratio: float | None
    colour: Colour


@strawberry.type
class Node:
    leaf: Leaf
    maybe: Leaf | None
    label: str

    @strawberry.field
    async def later(self) -> Leaf:
        return self.leaf

    @strawberry.field
    async def broken(self) -> Leaf:
        raise ValueError("boom")


@strawberry.type
class Wrapper:
    node: Node
    nodes: list[Node]


def node(**overrides: Any) -> Node:
    leaf = Leaf(name="a", count=1, ratio=0.5, colour=Colour.RED)
    values: dict[str, Any] = {"leaf": leaf, "maybe": None, "label": "n", **overrides}
    return Node(**values)


def all_nodes() -> list[Node]:
    return [
        node(),
        node(maybe=Leaf(name="b", count=2, ratio=None, colour=Colour.RED)),
        node(label=None),  # a null in a non-null leaf
        node(leaf=None),  # a null in a non-null object
        node(leaf=Leaf(name="c", count="many", ratio=1.0, colour=Colour.RED)),  # not an Int
        node(leaf=Leaf(name="d", count=2**40, ratio=1.0, colour="blue")),  # out of range
    ]


@strawberry.type
class Query:
    @strawberry.field
    def nodes(self) -> list[Node]:
        return all_nodes()

    @strawberry.field
    def one(self, index: int) -> Node | None:
        return all_nodes()[index]

    @strawberry.field
    def wrap(self) -> Wrapper | None:
        return Wrapper(node=node(), nodes=all_nodes()[:2])


TOY = strawberry.Schema(Query)


async def both(schema: strawberry.Schema, query: str, context: Any = None) -> tuple[Any, Any]:
    document = parse(query)
    results = []
    for options in ({}, {"executor_class": LeanExecutor.for_schema(schema)}):
        outcome = execute(schema._schema, document, context_value=context, **options)
        result = await outcome if not isinstance(outcome, ExecutionResult) else outcome
        errors = sorted((e.formatted for e in result.errors or []), key=str)
        results.append((result.data, errors))
    return results[0], results[1]


@pytest.mark.parametrize(
    "query",
    [
        "{ one(index: 0) { label leaf { name count ratio colour } maybe { name } } }",
        "{ one(index: 1) { maybe { name ratio } later { name } } }",
        "{ one(index: 2) { label leaf { name } } }",
        "{ one(index: 3) { label leaf { name } } }",
        "{ one(index: 4) { leaf { name count } } }",
        "{ one(index: 5) { leaf { count colour } } }",
        "{ one(index: 0) { broken { name } label } }",
        "{ nodes { label leaf { name count ratio colour } maybe { name } later { count } } }",
        "{ nodes { a: label b: label leaf { ... on Leaf { name } n: name } } }",
        "{ one(index: 0) { leaf { name @skip(if: true) count @include(if: true) } } }",
        "{ __typename one(index: 0) { __typename leaf { __typename } } }",
        "{ wrap { node { later { name } label } nodes { leaf { name } later { count } } } }",
        "{ wrap { node { broken { name } later { name } } } }",
    ],
)
async def test_same_answers_as_graphql_core(query: str) -> None:
    expected, lean = await both(TOY, query)
    assert lean == expected


def test_the_plain_fields_are_the_attribute_reads() -> None:
    found = plain_fields(TOY)
    assert set(found) == {
        ("Leaf", "name"), ("Leaf", "count"), ("Leaf", "ratio"), ("Leaf", "colour"),
        ("Node", "leaf"), ("Node", "maybe"), ("Node", "label"), ("Wrapper", "node"),
    }  # fmt: skip
    assert found[("Node", "leaf")].object_type is not None
    app = plain_fields(app_schema)
    assert ("Merchant", "name") in app and ("NearbyMerchantEdge", "distanceM") in app
    assert ("Merchant", "grid") not in app, "a field with a resolver keeps it"
    assert ("Query", "nearbyMerchants") not in app


def test_is_awaitable() -> None:
    async def coroutine() -> None:
        return None

    pending = coroutine()
    assert is_awaitable(pending) and not is_awaitable("x") and not is_awaitable(None)
    pending.close()


async def test_same_answers_on_the_app_schema(seeded_context: Any) -> None:
    query = """{ grids(level: L3, first: 5) { __typename ... on GridConnection {
        edges { cursor node { code name level parent { code } ancestors { code level }
                              workers { name role } } }
        pageInfo { hasNextPage endCursor } } } merchantCategories { code zh reachMinutes } }"""
    expected, lean = await both(app_schema, query, seeded_context)
    assert lean == expected and expected[1] == []
