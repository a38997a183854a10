"""Answers that are already loaded need no await: resolvers that return them synchronously.

A list resolver that knows what its items will ask for (api.schema.selection) loads it in bulk
before returning the items; the items' resolvers then find their rows in the DataLoaders'
caches. Returning a plain value instead of a coroutine spares graphql-core a task and a
gather per field: on a page of 100 cases with grid, ancestors, worker and last event that
is about 700 awaitables. When the row is not loaded yet, the resolver returns an awaitable,
which graphql-core awaits as usual.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from inspect import isawaitable
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")

_MISSING: Any = object()


def cached(loader: DataLoader[K, V], key: K) -> V:
    """The loaded value of ``key``, or _MISSING when it is not loaded (or failed)."""
    future = loader.cache_map.get(key)
    if future is None or not future.done() or future.cancelled() or future.exception():
        return _MISSING  # type: ignore[no-any-return]
    return future.result()


def one(loader: DataLoader[K, V], key: K, convert: Callable[[V], R]) -> R | Awaitable[R]:
    """``convert(value of key)``: at once when loaded, else an awaitable of it."""
    value = cached(loader, key)
    if value is not _MISSING:
        return convert(value)
    return _later(loader.load(key), convert)


def many(
    loader: DataLoader[K, V], keys: Sequence[K], convert: Callable[[list[V]], R]
) -> R | Awaitable[R]:
    """``convert(values of keys)``: at once when all are loaded, else an awaitable of it."""
    values = [cached(loader, key) for key in keys]
    if all(v is not _MISSING for v in values):
        return convert(values)
    return _later(loader.load_many(keys), convert)


async def _later(pending: Awaitable[Any], convert: Callable[[Any], R]) -> R:
    return convert(await pending)


def then(value: V | Awaitable[V], convert: Callable[[V], R]) -> R | Awaitable[R]:
    """``convert(value)``, at once when ``value`` is not an awaitable."""
    if isawaitable(value):
        return _later(value, convert)
    return convert(value)  # type: ignore[arg-type]


async def value(pending: V | Awaitable[V]) -> V:
    """The value, awaited when it is an awaitable."""
    return await pending if isawaitable(pending) else pending  # type: ignore[return-value]
