"""DataLoaders: one batch function per relation, each batch in its own short session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from api.schema.cases.loaders import CaseLoaders
from geo.circles.coverage import GridCoverage, SampleBudget, coverage_of_grids
from geo.errors import DomainError
from geo.grids import queries as grids
from geo.grids.models import GridWorker
from geo.grids.queries import GridRow
from geo.merchants.queries import MerchantRow, merchants_of_grids
from geo.places.by_grid import GridListing
from geo.places.queries import Page
from geo.service_points.queries import ServicePointRow, service_points_of_grids

if TYPE_CHECKING:
    from api.schema.context import Context

K = TypeVar("K")
V = TypeVar("V")

NO_ROWS: Page[Any] = Page((), has_next_page=False)


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
        #: Case relations (grid with ancestors, events, assignees): api.schema.cases.loaders.
        self.cases = CaseLoaders(context, self.grid)
        # Merchants and service points of grid subtrees (geo.places.by_grid), grid coverage.
        self.grid_merchants: DataLoader[GridListing, Page[MerchantRow]] = batch(
            merchants_of_grids, NO_ROWS
        )
        self.grid_service_points: DataLoader[GridListing, Page[ServicePointRow]] = batch(
            service_points_of_grids, NO_ROWS
        )
        self.coverage: DataLoader[tuple[int, float], GridCoverage | DomainError | None] = batch(
            partial(coverage_of_grids, budget=SampleBudget()), None
        )
