"""Merchant and service point queries: nearby, by grid subtree, by id, the taxonomy, circles."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from api.schema.circles.types import ServiceCircleType
from api.schema.common import (
    DEFAULT_PAGE,
    CoordSystemType,
    InvalidArgumentError,
    InvalidCoordinateError,
    PointInput,
)
from api.schema.context import Info
from api.schema.places.args import after_distance, after_id, local_time, no_nul
from api.schema.places.connections import (
    MerchantConnection,
    MerchantsResult,
    NearbyMerchantConnection,
    NearbyMerchantsResult,
    NearbyServicePointConnection,
    NearbyServicePointsResult,
    ServicePointConnection,
    ServicePointsResult,
)
from api.schema.places.errors import known_id
from api.schema.places.types import (
    CATEGORY_TYPES,
    KIND_TYPES,
    CategoryGroupType,
    Merchant,
    MerchantCategory,
    ServicePoint,
    ServicePointKindInfo,
)
from geo.circles import reach as circle
from geo.circles.service import UnknownGrid
from geo.coords import CoordSystem, LonLat
from geo.grids.queries import get_grid
from geo.merchants import queries
from geo.service_points import queries as points

WGS84 = CoordSystem.WGS84
RADIUS = strawberry.argument(description="Metres, geodesic; at most 5000.")
NEAR_TEXT = strawberry.argument(description="Part of the name (Chinese substring), ≤ 50 chars.")
OPEN_AT = strawberry.argument(
    description="Only what is open then (Asia/Shanghai when no offset is given)."
)

ServiceCircleResult = Annotated[
    ServiceCircleType | InvalidArgumentError | InvalidCoordinateError,
    strawberry.union("ServiceCircleResult"),
]


@strawberry.type
class MerchantQuery:
    @strawberry.field(description="Merchants within radiusM, nearest first (geodesic), paged.")
    async def nearby_merchants(
        self,
        info: Info,
        near: PointInput,
        radius_m: Annotated[float, RADIUS] = 1000.0,
        categories: list[str] | None = None,
        text: Annotated[str | None, NEAR_TEXT] = None,
        open_at: Annotated[datetime | None, OPEN_AT] = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
        output: CoordSystemType = WGS84,  # type: ignore[valid-type]
    ) -> NearbyMerchantsResult:
        point, search = merchant_search(near, radius_m, categories, text, open_at, first, after)
        async with info.context.connect() as connection:
            page = await queries.nearby_merchants(connection, point, **search)
        return NearbyMerchantConnection.from_nearby(page, CoordSystem(output))

    @strawberry.field(description="Service points within radiusM, nearest first, paged.")
    async def nearby_service_points(
        self,
        info: Info,
        near: PointInput,
        radius_m: Annotated[float, RADIUS] = 1000.0,
        kinds: list[str] | None = None,
        text: Annotated[str | None, NEAR_TEXT] = None,
        open_at: Annotated[datetime | None, OPEN_AT] = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
        output: CoordSystemType = WGS84,  # type: ignore[valid-type]
    ) -> NearbyServicePointsResult:
        point, search = service_point_search(near, radius_m, kinds, text, open_at, first, after)
        async with info.context.connect() as connection:
            page = await points.nearby_service_points(connection, point, **search)
        return NearbyServicePointConnection.from_nearby(page, CoordSystem(output))

    @strawberry.field(description="Merchants of a grid and every grid below it, by id.")
    async def merchants(
        self,
        info: Info,
        grid: str,
        categories: list[str] | None = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
        output: CoordSystemType = WGS84,  # type: ignore[valid-type]
    ) -> MerchantsResult:
        async with info.context.read() as session:
            grid_id = await _grid_id(session, grid)
            page = await queries.merchants_in_grid_subtree(
                session, grid_id, categories=categories, limit=first, after_id=after_id(after)
            )
        return MerchantConnection.from_page(page, CoordSystem(output))

    @strawberry.field(description="Service points of a grid and every grid below it, by id.")
    async def service_points(
        self,
        info: Info,
        grid: str,
        kinds: list[str] | None = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
        output: CoordSystemType = WGS84,  # type: ignore[valid-type]
    ) -> ServicePointsResult:
        async with info.context.read() as session:
            grid_id = await _grid_id(session, grid)
            page = await points.service_points_in_grid_subtree(
                session, grid_id, kinds=kinds, limit=first, after_id=after_id(after)
            )
        return ServicePointConnection.from_page(page, CoordSystem(output))

    @strawberry.field(description="A merchant by id, whatever its status.")
    async def merchant(
        self,
        info: Info,
        id: strawberry.ID,
        output: CoordSystemType = WGS84,  # type: ignore[valid-type]
    ) -> Merchant | None:
        if (merchant_id := known_id(id)) is None:
            return None
        async with info.context.read() as session:
            row = await queries.get_merchant(session, merchant_id)
        return Merchant.from_row(row, CoordSystem(output)) if row else None

    @strawberry.field(description="A service point by id.")
    async def service_point(
        self,
        info: Info,
        id: strawberry.ID,
        output: CoordSystemType = WGS84,  # type: ignore[valid-type]
    ) -> ServicePoint | None:
        if (point_id := known_id(id)) is None:
            return None
        async with info.context.read() as session:
            row = await points.get_service_point(session, point_id)
        return ServicePoint.from_row(row, CoordSystem(output)) if row else None

    @strawberry.field(
        description="The merchant categories: basic-guarantee ones (with their walking tier) "
        "first, then quality-improvement ones."
    )
    def merchant_categories(
        self,
        group: CategoryGroupType | None = None,  # type: ignore[valid-type]
    ) -> list[MerchantCategory]:
        return [c for c in CATEGORY_TYPES.values() if group is None or c.group == group]

    @strawberry.field(description="The kinds of community service point.")
    def service_point_kinds(self) -> list[ServicePointKindInfo]:
        return list(KIND_TYPES.values())

    @strawberry.field(
        description="What is within `minutes` on foot of a point, per category, with the "
        "basic categories missing from their own walking tier (gaps)."
    )
    async def service_circle(
        self,
        info: Info,
        near: PointInput,
        minutes: float = 15.0,
        output: CoordSystemType = WGS84,  # type: ignore[valid-type]
    ) -> ServiceCircleResult:
        point = near.to_wgs84()
        async with info.context.connect() as connection:
            found = await circle.service_circle(connection, point, minutes)
        return ServiceCircleType.from_circle(found, CoordSystem(output))


Search = tuple[LonLat, dict[str, Any]]


def merchant_search(
    near: PointInput,
    radius_m: float = 1000.0,
    categories: list[str] | None = None,
    text: str | None = None,
    open_at: datetime | None = None,
    first: int = DEFAULT_PAGE,
    after: str | None = None,
) -> Search:
    """Query.nearbyMerchants's arguments as geo.merchants.queries.nearby_merchants takes
    them (the point, then the keywords); raises the DomainError of a bad argument."""
    point, cursor, when = near.to_wgs84(), after_distance(after), local_time(open_at)
    no_nul(text=text)
    return point, {
        "radius_m": radius_m, "categories": categories, "text": text,
        "open_at": when, "limit": first, "after": cursor,
    }  # fmt: skip


def service_point_search(
    near: PointInput,
    radius_m: float = 1000.0,
    kinds: list[str] | None = None,
    text: str | None = None,
    open_at: datetime | None = None,
    first: int = DEFAULT_PAGE,
    after: str | None = None,
) -> Search:
    """Query.nearbyServicePoints's arguments, as :func:`merchant_search`."""
    point, cursor, when = near.to_wgs84(), after_distance(after), local_time(open_at)
    no_nul(text=text)
    return point, {
        "radius_m": radius_m, "kinds": kinds, "text": text,
        "open_at": when, "limit": first, "after": cursor,
    }  # fmt: skip


async def _grid_id(session: AsyncSession, code: str) -> int:
    """The id of the grid with this code; raises UnknownGrid."""
    grid = await get_grid(session, code)
    if grid is None:
        raise UnknownGrid(code)
    return grid.id
