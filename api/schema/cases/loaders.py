"""DataLoaders of the case relations: one statement per relation for a whole page of cases.

A page of 100 cases with grid, ancestors and last event costs three statements: the page,
:func:`geo.cases.queries.grids_with_ancestors` (which primes the grid loader with every
ancestor, so `Grid.ancestors` and `Grid.parent` cost nothing more) and the last events.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from geo.accounts.actor import CaseScope
from geo.accounts.models import User
from geo.cases import queries
from geo.cases.models import CaseEvent
from geo.grids.models import GridWorker
from geo.grids.queries import GridRow

if TYPE_CHECKING:
    from api.schema.context import Context

K = TypeVar("K")
V = TypeVar("V")


class CaseLoaders:
    """Built by api.schema.loaders.Loaders, once per request."""

    def __init__(self, context: Context, grid: DataLoader[int, GridRow | None]) -> None:
        def batch(
            fetch: Callable[[AsyncSession, Sequence[K]], Awaitable[dict[K, V]]], default: V
        ) -> DataLoader[K, V]:
            async def load(keys: list[K]) -> list[V]:
                async with context.read() as session:
                    found = await fetch(session, keys)
                return [found.get(k, default) for k in keys]

            return DataLoader(load_fn=load)

        async def with_ancestors(session: AsyncSession, ids: Sequence[int]) -> dict[int, GridRow]:
            rows = await queries.grids_with_ancestors(session, ids)
            grid.prime_many(rows)
            return rows

        #: A case's grid; its ancestors land in the plain grid loader.
        self.grid: DataLoader[int, GridRow | None] = batch(with_ancestors, None)
        self.last_event: DataLoader[int, CaseEvent | None] = batch(queries.last_events_of, None)
        self.events: DataLoader[int, list[CaseEvent]] = batch(queries.events_of, [])
        self.worker: DataLoader[int, GridWorker | None] = batch(queries.workers_by_ids, None)
        self.user: DataLoader[int, User | None] = batch(queries.users_by_ids, None)
        #: What access rules need to know about a case, by case id.
        self.scope: DataLoader[int, CaseScope | None] = batch(queries.case_scopes, None)
