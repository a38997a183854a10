"""DataLoaders: one batch function per relation, each batch in its own short session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from geo.grids import queries as grids
from geo.grids.models import GridWorker
from geo.grids.queries import GridRow

if TYPE_CHECKING:
    from api.context import Context

K = TypeVar("K")
V = TypeVar("V")


class Loaders:
    """The request's loaders; built lazily by Context.loaders, never shared between requests."""

    def __init__(self, context: Context) -> None:
        def batch(
            fetch: Callable[[AsyncSession, Sequence[K]], Awaitable[dict[K, V]]], default: V
        ) -> DataLoader[K, V]:
            async def load(keys: list[K]) -> list[V]:
                async with context.read() as session:
                    found = await fetch(session, keys)
                return [found.get(k, default) for k in keys]

            return DataLoader(load_fn=load)

        self.grid: DataLoader[int, GridRow | None] = batch(grids.grids_by_ids, None)
        self.children: DataLoader[int, list[GridRow]] = batch(grids.children_of, [])
        self.workers: DataLoader[int, list[GridWorker]] = batch(grids.workers_of, [])
        self.geojson: DataLoader[int, str] = batch(grids.boundaries_geojson, "null")
