"""Lists of merchants and service points: nearest first (with distances) or by id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import strawberry

from api.schema.common import InvalidArgumentError, InvalidCoordinateError, PageInfo
from api.schema.places.errors import (
    NotFoundError,
    UnknownCategoryError,
    UnknownServicePointKindError,
)
from api.schema.places.types import Merchant, ServicePoint
from geo.coords import CoordSystem
from geo.merchants.queries import MerchantRow
from geo.places.cursor import encode_distance_cursor, encode_id_cursor
from geo.places.queries import Nearby, Page
from geo.places.walking import walking_minutes
from geo.service_points.queries import ServicePointRow


@strawberry.type
class NearbyMerchantEdge:
    node_id: strawberry.Private[int]
    node: Merchant
    distance_m: float = strawberry.field(description="Geodesic metres (WGS 84) from the point.")
    walking_minutes: float = strawberry.field(
        description="distanceM × 1.3 (detour factor) ÷ 80 m/min (walking speed)."
    )

    @strawberry.field
    def cursor(self) -> str:
        """Encoded only when asked for: most nearby lists page with pageInfo.endCursor."""
        return encode_distance_cursor(self.distance_m, self.node_id)


@strawberry.type(description="Nearest first by geodesic distance, then by id.")
class NearbyMerchantConnection:
    edges: list[NearbyMerchantEdge]
    page_info: PageInfo

    @classmethod
    def from_nearby(cls, page: Page[Nearby[MerchantRow]], system: CoordSystem) -> Any:
        return _nearby(cls, NearbyMerchantEdge, Merchant.from_row, page, system)


def _nearby(
    connection: Any,
    edge: Any,
    node_of: Callable[[Any, CoordSystem], Any],
    page: Page[Nearby[Any]],
    system: CoordSystem,
) -> Any:
    edges = [
        edge(
            node_id=n.item.id,
            node=node_of(n.item, system),
            distance_m=n.distance_m,
            walking_minutes=walking_minutes(n.distance_m),
        )
        for n in page.items
    ]
    return connection(edges=edges, page_info=nearby_page_info(page))


@strawberry.type
class NearbyServicePointEdge:
    node_id: strawberry.Private[int]
    node: ServicePoint
    distance_m: float
    walking_minutes: float

    @strawberry.field
    def cursor(self) -> str:
        return encode_distance_cursor(self.distance_m, self.node_id)


@strawberry.type(description="Nearest first by geodesic distance, then by id.")
class NearbyServicePointConnection:
    edges: list[NearbyServicePointEdge]
    page_info: PageInfo

    @classmethod
    def from_nearby(cls, page: Page[Nearby[ServicePointRow]], system: CoordSystem) -> Any:
        return _nearby(cls, NearbyServicePointEdge, ServicePoint.from_row, page, system)


@strawberry.type
class MerchantEdge:
    cursor: str
    node: Merchant


@strawberry.type(description="Merchants by id.")
class MerchantConnection:
    edges: list[MerchantEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[MerchantRow], system: CoordSystem) -> Any:
        edges = [
            MerchantEdge(cursor=encode_id_cursor(r.id), node=Merchant.from_row(r, system))
            for r in page.items
        ]
        return cls(edges=edges, page_info=_page_info(page, edges))


@strawberry.type
class ServicePointEdge:
    cursor: str
    node: ServicePoint


@strawberry.type(description="Service points by id.")
class ServicePointConnection:
    edges: list[ServicePointEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[ServicePointRow], system: CoordSystem) -> Any:
        edges = [
            ServicePointEdge(cursor=encode_id_cursor(r.id), node=ServicePoint.from_row(r, system))
            for r in page.items
        ]
        return cls(edges=edges, page_info=_page_info(page, edges))


def _page_info(page: Page[Any], edges: list[Any]) -> PageInfo:
    end = edges[-1].cursor if edges else None
    return PageInfo(has_next_page=page.has_next_page, end_cursor=end)


def nearby_page_info(page: Page[Nearby[Any]]) -> PageInfo:
    return _NearbyPageInfo(page)  # type: ignore[return-value]


class _NearbyPageInfo:
    """A PageInfo whose end cursor is encoded only when asked for: most nearby lists are
    read one page at a time, without it."""

    __slots__ = ("_page", "has_next_page")

    def __init__(self, page: Page[Nearby[Any]]) -> None:
        self._page = page
        self.has_next_page = page.has_next_page

    @property
    def end_cursor(self) -> str | None:
        last = self._page.items[-1] if self._page.items else None
        return encode_distance_cursor(last.distance_m, last.item.id) if last else None


NearbyMerchantsResult = Annotated[
    NearbyMerchantConnection | InvalidArgumentError | InvalidCoordinateError | UnknownCategoryError,
    strawberry.union("NearbyMerchantsResult"),
]
NearbyServicePointsResult = Annotated[
    NearbyServicePointConnection
    | InvalidArgumentError
    | InvalidCoordinateError
    | UnknownServicePointKindError,
    strawberry.union("NearbyServicePointsResult"),
]
MerchantsResult = Annotated[
    MerchantConnection | InvalidArgumentError | UnknownCategoryError | NotFoundError,
    strawberry.union("MerchantsResult"),
]
ServicePointsResult = Annotated[
    ServicePointConnection | InvalidArgumentError | UnknownServicePointKindError | NotFoundError,
    strawberry.union("ServicePointsResult"),
]
