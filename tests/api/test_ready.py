"""Loaded rows answer at once (api.schema.ready); list resolvers see what their nodes ask
(api.schema.selection)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
import strawberry
from strawberry.dataloader import DataLoader

from api.schema import ready
from api.schema.selection import selected_below

pytestmark = pytest.mark.anyio


async def test_a_loaded_value_is_answered_without_awaiting() -> None:
    batches: list[list[int]] = []

    async def load(keys: list[int]) -> list[str | None]:
        batches.append(keys)
        return [f"v{k}" if k < 10 else None for k in keys]

    loader: DataLoader[int, str | None] = DataLoader(load_fn=load)
    pending = ready.one(loader, 1, str.upper)
    assert inspect.isawaitable(pending), "not loaded yet: an awaitable"
    assert await pending == "V1"  # type: ignore[misc]
    assert ready.one(loader, 1, str.upper) == "V1", "loaded: the value itself"
    await loader.load_many([2, 3, 11])
    assert ready.many(loader, [1, 2, 3], "".join) == "v1v2v3"
    assert ready.one(loader, 11, lambda v: v) is None, "a loaded None is an answer too"
    later = ready.many(loader, [3, 4], lambda vs: vs)
    assert inspect.isawaitable(later)
    assert await later == ["v3", "v4"]  # type: ignore[misc]
    assert batches == [[1], [2, 3, 11], [4]]


async def test_a_failed_load_is_not_taken_for_an_answer() -> None:
    async def load(keys: list[int]) -> list[Any]:
        raise RuntimeError("database gone")

    loader: DataLoader[int, Any] = DataLoader(load_fn=load)
    with pytest.raises(RuntimeError):
        await loader.load(1)
    again = ready.one(loader, 1, lambda v: v)
    assert inspect.isawaitable(again)
    with pytest.raises(RuntimeError):
        await again  # type: ignore[misc]


SEEN: list[set[str]] = []


@strawberry.type
class Node:
    a: int = 1
    b: int = 2
    c: int = 3


@strawberry.type
class Edge:
    node: Node = strawberry.field(default_factory=Node)


@strawberry.type
class Page:
    edges: list[Edge] = strawberry.field(default_factory=lambda: [Edge()])


@strawberry.type
class Query:
    @strawberry.field
    def page(self, info: strawberry.Info) -> Page:
        SEEN.append(selected_below(info, "edges", "node"))
        return Page()


def test_selected_below_flattens_fragments_and_aliases() -> None:
    schema = strawberry.Schema(query=Query)
    result = schema.execute_sync(
        """{ page { edges { node { a ...More } } ... on Page { edges { node { x: c } } } } }
        fragment More on Node { b }"""
    )
    assert result.errors is None
    assert [{"a", "b", "c"}] == SEEN
