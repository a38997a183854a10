"""Merchant and ServicePoint types and the taxonomy types."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.schema.common import Point
from api.schema.context import Info
from geo.coords import CoordSystem, LonLat
from geo.merchants.models import MerchantStatus
from geo.merchants.queries import MerchantRow
from geo.merchants.taxonomy import CATEGORIES, Category, CategoryGroup
from geo.places.phones import tel_uri
from geo.places.walking import reach_radius_m
from geo.service_points.kinds import ServicePointKind
from geo.service_points.queries import ServicePointRow

if TYPE_CHECKING:
    from api.schema.grids.types import Grid

GridRef = Annotated["Grid", strawberry.lazy("api.schema.grids.types")]

MerchantStatusType = strawberry.enum(
    MerchantStatus,
    name="MerchantStatus",
    description="OPEN trading; TEMPORARILY_CLOSED; CLOSED for good (kept, left out of lists).",
)
CategoryGroupType = strawberry.enum(
    CategoryGroup,
    name="CategoryGroup",
    description="BASIC: 基本保障类 (basic guarantee); QUALITY: 品质提升类 (quality improvement).",
)


@strawberry.type(
    description="A merchant format of the 15-minute convenience circle "
    "(城市一刻钟便民生活圈建设指南, MOFCOM 2021)."
)
class MerchantCategory:
    code: str = strawberry.field(description="Stable code, used in filters and imports.")
    zh: str
    en: str
    group: CategoryGroupType  # type: ignore[valid-type]
    group_zh: str
    reach_minutes: int | None = strawberry.field(
        description="Walking-time tier of a basic category (5, 8 or 15); null for quality ones."
    )
    reach_m: float | None = strawberry.field(
        description="The tier as straight-line metres: minutes × 80 m/min ÷ detour factor 1.3."
    )

    @classmethod
    def from_category(cls, c: Category) -> MerchantCategory:
        minutes = c.reach_minutes
        return cls(
            code=c.code,
            zh=c.zh,
            en=c.en,
            group=c.group,
            group_zh=c.group.zh,
            reach_minutes=minutes,
            reach_m=None if minutes is None else reach_radius_m(minutes),
        )


#: The taxonomy is static: one object per category, shared by every response.
CATEGORY_TYPES = {code: MerchantCategory.from_category(c) for code, c in CATEGORIES.items()}


@strawberry.type(name="ServicePointKind", description="A kind of community service point.")
class ServicePointKindInfo:
    code: str
    zh: str
    en: str


KIND_TYPES = {
    k.value: ServicePointKindInfo(code=k.value, zh=k.zh, en=k.en) for k in ServicePointKind
}


def _tel(phone: str | None) -> str | None:
    return None if phone is None else tel_uri(phone)


@strawberry.type(description="A shop or business of the service circle.")
class Merchant:
    grid_id: strawberry.Private[int | None]
    hours_text: strawberry.Private[str | None]
    id: strawberry.ID
    name: str
    category: MerchantCategory
    phone: str | None = strawberry.field(description="Canonical form: 13800138000, 0371-67891234.")
    address: str
    location: Point
    status: MerchantStatusType  # type: ignore[valid-type]
    verified: bool
    outside_coverage: bool = strawberry.field(
        description="No grid covers the location: stored all the same, with no grid."
    )
    version: int = strawberry.field(description="Name it as expectedVersion when updating.")
    updated_at: datetime

    @classmethod
    def from_row(cls, r: MerchantRow, system: CoordSystem) -> Merchant:
        return cls(
            grid_id=r.grid_id,
            hours_text=r.hours_text,
            id=strawberry.ID(str(r.id)),
            name=r.name,
            category=CATEGORY_TYPES[r.category],
            phone=r.phone,
            address=r.address,
            location=_point(r.longitude, r.latitude, system),
            status=MerchantStatus(r.status),
            verified=r.verified,
            outside_coverage=r.outside_coverage,
            version=r.version,
            updated_at=r.updated_at,
        )

    @strawberry.field(description="RFC 3966 tap-to-call link, e.g. tel:+86-371-67891234.")
    def tel_uri(self) -> str | None:
        return _tel(self.phone)

    @strawberry.field(
        description="Weekly hours, Asia/Shanghai: 'Mo-Fr 07:00-22:00; Sa 08:00-02:00'."
    )
    def opening_hours(self) -> str | None:
        return self.hours_text

    @strawberry.field(description="The micro-grid covering the merchant (null outside coverage).")
    async def grid(self, info: Info) -> GridRef | None:
        return await load_grid(info, self.grid_id)


@strawberry.type(description="A community service of the circle: service station, clinic, ...")
class ServicePoint:
    grid_id: strawberry.Private[int | None]
    hours_text: strawberry.Private[str | None]
    id: strawberry.ID
    kind: ServicePointKindInfo
    name: str
    phone: str | None
    address: str
    location: Point
    outside_coverage: bool
    version: int
    updated_at: datetime

    @classmethod
    def from_row(cls, r: ServicePointRow, system: CoordSystem) -> ServicePoint:
        return cls(
            grid_id=r.grid_id,
            hours_text=r.hours_text,
            id=strawberry.ID(str(r.id)),
            kind=KIND_TYPES[r.kind],
            name=r.name,
            phone=r.phone,
            address=r.address,
            location=_point(r.longitude, r.latitude, system),
            outside_coverage=r.outside_coverage,
            version=r.version,
            updated_at=r.updated_at,
        )

    @strawberry.field(description="RFC 3966 tap-to-call link.")
    def tel_uri(self) -> str | None:
        return _tel(self.phone)

    @strawberry.field(description="Weekly hours, Asia/Shanghai, OpenStreetMap form.")
    def opening_hours(self) -> str | None:
        return self.hours_text

    @strawberry.field(description="The micro-grid covering it (null outside coverage).")
    async def grid(self, info: Info) -> GridRef | None:
        return await load_grid(info, self.grid_id)


def _point(lon: float, lat: float, system: CoordSystem) -> Point:
    if system is CoordSystem.WGS84:  # the common case, without a conversion
        return Point(longitude=lon, latitude=lat, system=system)
    return Point.from_wgs84(LonLat(lon, lat), system)


async def load_grid(info: Info, grid_id: int | None) -> Grid | None:
    from api.schema.grids.types import Grid

    if grid_id is None:
        return None
    row = await info.context.loaders.grid.load(grid_id)
    return Grid.from_row(row) if row else None
