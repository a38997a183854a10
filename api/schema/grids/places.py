"""What the Grid type says about merchants and service points (fields added in grid.py)."""

from __future__ import annotations

from typing import Any

from api.schema.circles.types import GridServiceCoverage
from api.schema.context import Info
from api.schema.places.args import after_id, check_first
from api.schema.places.connections import MerchantConnection, ServicePointConnection
from geo.coords import CoordSystem
from geo.merchants.queries import category_keys
from geo.places.by_grid import GridListing
from geo.service_points.queries import kind_codes


async def grid_merchants(
    info: Info,
    grid_id: int,
    depth: int,
    categories: list[str] | None,
    first: int,
    after: str | None,
    output: Any,
) -> Any:
    category_keys(categories or ())  # a bad code is the caller's error, not the batch's
    listing = GridListing(
        grid_id, check_first(first), after_id(after), tuple(categories or ()), depth
    )
    page = await info.context.loaders.grid_merchants.load(listing)
    return MerchantConnection.from_page(page, CoordSystem(output))


async def grid_service_points(
    info: Info,
    grid_id: int,
    depth: int,
    kinds: list[str] | None,
    first: int,
    after: str | None,
    output: Any,
) -> Any:
    kind_codes(kinds or ())
    listing = GridListing(grid_id, check_first(first), after_id(after), tuple(kinds or ()), depth)
    page = await info.context.loaders.grid_service_points.load(listing)
    return ServicePointConnection.from_page(page, CoordSystem(output))


async def grid_coverage(info: Info, grid_id: int, spacing_m: float) -> Any:
    found = await info.context.loaders.coverage.load((grid_id, spacing_m))
    return None if found is None else GridServiceCoverage.from_coverage(found)
