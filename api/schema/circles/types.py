"""The service circle of a place, a grid's service coverage, and circle codes (一码通)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.schema.common import InvalidArgumentError, Point
from api.schema.context import Info
from api.schema.places.errors import NotFoundError
from api.schema.places.types import (
    CATEGORY_TYPES,
    KIND_TYPES,
    Merchant,
    MerchantCategory,
    ServicePoint,
    ServicePointKindInfo,
    load_grid,
)
from geo.circles.coverage import GridCoverage
from geo.circles.queries import CircleCodeRow
from geo.circles.reach import ServiceCircle
from geo.coords import CoordSystem
from geo.places.walking import DETOUR_FACTOR, WALKING_SPEED_M_PER_MIN

if TYPE_CHECKING:
    from api.schema.grids.types import Grid

GridRef = Annotated["Grid", strawberry.lazy("api.schema.grids.types")]


@strawberry.type(description="A merchant within reach, with its distance.")
class NearMerchant:
    merchant: Merchant
    distance_m: float = strawberry.field(description="Geodesic metres from the centre.")
    walking_minutes: float = strawberry.field(description="distanceM × 1.3 ÷ 80 m/min.")


@strawberry.type(description="A service point within reach, with its distance.")
class NearServicePoint:
    service_point: ServicePoint
    distance_m: float
    walking_minutes: float


@strawberry.type(description="How one merchant category is served within the circle.")
class CategoryReach:
    category: MerchantCategory
    count: int = strawberry.field(description="Open merchants of the category in the circle.")
    nearest: list[NearMerchant] = strawberry.field(description="Up to three, nearest first.")


@strawberry.type(description="How one kind of service point is served within the circle.")
class KindReach:
    kind: ServicePointKindInfo
    count: int
    nearest: list[NearServicePoint]


@strawberry.type(
    name="ServiceCircle",
    description="What is within a walk of a point. Walking time = straight-line distance × "
    "detourFactor ÷ walkingSpeedMPerMin; only merchants trading (OPEN) count.",
)
class ServiceCircleType:
    center: Point
    minutes: float
    radius_m: float = strawberry.field(description="Straight-line reach of `minutes` on foot.")
    walking_speed_m_per_min: float
    detour_factor: float
    categories: list[CategoryReach] = strawberry.field(
        description="Every category, basic ones first (nearest tier first), empty ones too."
    )
    gaps: list[MerchantCategory] = strawberry.field(
        description="Basic categories with no open merchant within their own reach tier "
        "(5, 8 or 15 minutes), whatever `minutes` is."
    )
    service_points: list[KindReach]

    @classmethod
    def from_circle(cls, c: ServiceCircle, system: CoordSystem) -> ServiceCircleType:
        return cls(
            center=Point.from_wgs84(c.center, system),
            minutes=c.minutes,
            radius_m=c.radius_m,
            walking_speed_m_per_min=WALKING_SPEED_M_PER_MIN,
            detour_factor=DETOUR_FACTOR,
            categories=[
                CategoryReach(
                    category=CATEGORY_TYPES[r.category.code],
                    count=r.count,
                    nearest=[
                        NearMerchant(
                            merchant=Merchant.from_row(n.item, system),
                            distance_m=n.distance_m,
                            walking_minutes=n.walking_minutes,
                        )
                        for n in r.nearest
                    ],
                )
                for r in c.categories
            ],
            gaps=[CATEGORY_TYPES[g.code] for g in c.gaps],
            service_points=[
                KindReach(
                    kind=KIND_TYPES[k.kind.value],
                    count=k.count,
                    nearest=[
                        NearServicePoint(
                            service_point=ServicePoint.from_row(n.item, system),
                            distance_m=n.distance_m,
                            walking_minutes=n.walking_minutes,
                        )
                        for n in k.nearest
                    ],
                )
                for k in c.service_points
            ],
        )


@strawberry.type(description="The share of a grid within reach of a basic category.")
class CategoryShare:
    category: MerchantCategory
    covered: int = strawberry.field(description="Lattice points with one within its tier.")
    share: float = strawberry.field(description="covered ÷ samples, from 0 to 1.")


@strawberry.type(
    description="How well a grid is served: the grid is sampled on a regular lattice "
    "spacingM apart (east-west and north-south, anchored at whole multiples of the step; "
    "boundary points count; a grid too small for one gets one point inside it; at most 2,500 "
    "points, the spacing widens for larger grids). A sample is covered for a basic category "
    "when an open merchant of it lies within the category's walking tier."
)
class GridServiceCoverage:
    spacing_m: float = strawberry.field(description="Lattice spacing actually used (metres).")
    samples: int
    shares: list[CategoryShare] = strawberry.field(description="Every basic category.")

    @classmethod
    def from_coverage(cls, c: GridCoverage) -> GridServiceCoverage:
        shares = [
            CategoryShare(
                category=CATEGORY_TYPES[s.category.code], covered=s.covered, share=s.share
            )
            for s in c.shares
        ]
        return cls(spacing_m=c.spacing_m, samples=c.samples, shares=shares)


@strawberry.type(description="A place printed as a QR code (一码通) that opens its service circle.")
class CircleCode:
    grid_id: strawberry.Private[int | None]
    code: str = strawberry.field(description="At most 32 URL-safe characters.")
    name: str
    center: Point
    active: bool
    created_at: datetime
    retired_at: datetime | None
    url: str = strawberry.field(description="The page the QR code opens.")
    qr_svg_url: str
    qr_png_url: str

    @classmethod
    def from_row(cls, r: CircleCodeRow, public_url: str, system: CoordSystem) -> CircleCode:
        base = public_url.rstrip("/")
        return cls(
            grid_id=r.grid_id,
            code=r.code,
            name=r.name,
            center=Point.from_wgs84(r.center, system),
            active=r.active,
            created_at=r.created_at,
            retired_at=r.retired_at,
            url=f"{base}/c/{r.code}",
            qr_svg_url=f"{base}/qr/{r.code}.svg",
            qr_png_url=f"{base}/qr/{r.code}.png",
        )

    @strawberry.field(description="The grid the place belongs to.")
    async def grid(self, info: Info) -> GridRef | None:
        return await load_grid(info, self.grid_id)


@strawberry.type(description="A circle code's place and its service circle.")
class PlaceCircle:
    place: CircleCode
    circle: ServiceCircleType


GridServiceCoverageResult = Annotated[
    GridServiceCoverage | InvalidArgumentError | NotFoundError,
    strawberry.union("GridServiceCoverageResult"),
]
