"""The lean executor answers exactly as graphql-core's own, data and errors alike."""

from __future__ import annotations

from enum import Enum
from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult, execute, parse

from api.fast import shapes
from api.fast.execution import LeanExecutor, is_awaitable, plain_fields
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
    #: Lists read from attributes, with items whose selections fail.
    broken_nodes: list[Node]
    maybe_nodes: list[Node | None]
    holes: list[Node | None]


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
        return Wrapper(
            node=node(),
            nodes=all_nodes()[:2],
            broken_nodes=all_nodes(),
            maybe_nodes=all_nodes(),
            holes=[node(), None],
        )


TOY = strawberry.Schema(Query)


async def both(
    schema: strawberry.Schema, query: str, context: Any = None, variables: Any = None
) -> tuple[Any, Any]:
    document = parse(query)
    results = []
    for options in ({}, {"executor_class": LeanExecutor.for_schema(schema)}):
        outcome = execute(
            schema._schema, document, context_value=context, variable_values=variables, **options
        )
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
        "{ wrap { brokenNodes { label } } }",  # a non-null item fails: the list, then wrap
        "{ wrap { brokenNodes { leaf { count } } nodes { label } } }",
        "{ wrap { maybeNodes { label leaf { name count colour } later { name } } } }",
        "{ wrap { maybeNodes { broken { name } } } }",  # fails once awaited
        "{ wrap { holes { label } nodes @skip(if: false) { label } } }",
    ],
)
async def test_same_answers_as_graphql_core(query: str) -> None:
    expected, lean = await both(TOY, query)
    assert lean == expected


async def test_a_selection_that_depends_on_variables_is_not_compiled() -> None:
    # The same document twice with different variables: a compiled selection cached from
    # the first run would answer the second wrongly.
    executor = LeanExecutor.for_schema(TOY)
    document = parse(
        "query ($x: Boolean!) { wrap { nodes { label leaf @include(if: $x) { name } } } }"
    )
    answers = []
    for x in (True, False, True):
        outcome = execute(TOY._schema, document, variable_values={"x": x}, executor_class=executor)
        result = await outcome if not isinstance(outcome, ExecutionResult) else outcome
        answers.append(result.data["wrap"]["nodes"][0])
    assert answers == [{"label": "n", "leaf": {"name": "a"}}, {"label": "n"}, answers[0]]


async def test_plain_selections_are_compiled_once_per_document(monkeypatch: Any) -> None:
    compiled: list[str] = []
    original = shapes.compile_shape

    def counting(object_type: Any, *args: Any) -> Any:
        compiled.append(object_type.name)
        return original(object_type, *args)

    monkeypatch.setattr(shapes, "compile_shape", counting)
    executor = LeanExecutor.for_schema(TOY)
    document = parse("{ wrap { nodes { label leaf { name count } } node { label } } }")
    for _ in range(3):
        outcome = execute(TOY._schema, document, executor_class=executor)
        result = await outcome if not isinstance(outcome, ExecutionResult) else outcome
        assert result.data["wrap"]["nodes"][1]["leaf"] == {"name": "a", "count": 1}
    assert sorted(compiled) == ["Leaf", "Node", "Node"]  # nodes (with leaf), node: run 1 only


def test_the_plain_fields_are_the_attribute_reads() -> None:
    found = plain_fields(TOY)
    assert set(found) == {
        ("Leaf", "name"), ("Leaf", "count"), ("Leaf", "ratio"), ("Leaf", "colour"),
        ("Node", "leaf"), ("Node", "maybe"), ("Node", "label"), ("Wrapper", "node"),
        ("Wrapper", "nodes"), ("Wrapper", "brokenNodes"), ("Wrapper", "maybeNodes"),
        ("Wrapper", "holes"),
    }  # fmt: skip
    assert found[("Node", "leaf")].object_type is not None
    assert found[("Wrapper", "nodes")].item_object is not None
    app = plain_fields(app_schema)
    assert ("Merchant", "name") in app and ("NearbyMerchantEdge", "distanceM") in app
    assert ("Merchant", "grid") not in app, "a field with a resolver keeps it"
    assert ("Query", "nearbyMerchants") not in app
    assert app[("NearbyMerchantConnection", "edges")].item_object is not None


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
