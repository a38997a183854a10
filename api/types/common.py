"""Types shared by every feature: points in a named coordinate system, paging, JSON."""

from __future__ import annotations

import base64
import binascii
from typing import NewType

import strawberry

from api.errors import Error
from geo.coords import CoordSystem, InvalidCoordinate, LonLat, from_wgs84, to_wgs84

CoordSystemType = strawberry.enum(
    CoordSystem,
    name="CoordSystem",
    description=(
        "WGS84: GPS. GCJ02: the offset system of WeChat, Tencent and Amap maps. "
        "BD09: Baidu maps. Points are stored in WGS-84; conversion round trips stay under 1 mm."
    ),
)

MAX_PAGE = 100

PageSize = NewType("PageSize", int)
Cursor = NewType("Cursor", str)


def _page_size(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_PAGE:
        raise ValueError(f"a page size must be an integer from 1 to {MAX_PAGE}")
    return value


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(f"c1:{key}".encode()).decode().rstrip("=")


def decode_cursor(value: object) -> str:
    """The key inside a cursor; raises ValueError (a clear GraphQL error) when malformed."""
    if not isinstance(value, str) or len(value) > 200:
        raise ValueError("malformed cursor")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("malformed cursor") from None
    if not raw.startswith("c1:"):
        raise ValueError("malformed cursor")
    return raw[3:]


#: Custom scalars, registered on the schema (StrawberryConfig.scalar_map). Bad values fail
#: validation with the parser's message, before any resolver runs.
SCALARS = {
    PageSize: strawberry.scalar(
        name="PageSize",
        description=f"A page size from 1 to {MAX_PAGE}.",
        serialize=int,
        parse_value=_page_size,
    ),
    Cursor: strawberry.scalar(
        name="Cursor",
        description="An opaque position in a list, as returned in pageInfo.endCursor.",
        serialize=str,
        parse_value=decode_cursor,
    ),
}


@strawberry.type(description="Where a list continues.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.input(description="A point as the caller's map gives it.")
class PointInput:
    longitude: float
    latitude: float
    system: CoordSystemType = CoordSystem.WGS84  # type: ignore[valid-type]
    accuracy_m: float | None = strawberry.field(
        default=None, description="How far off the caller's position may be, in metres."
    )

    def to_wgs84(self) -> LonLat:
        """The point in WGS-84; raises InvalidCoordinate for out-of-range or non-finite input."""
        return to_wgs84(LonLat(self.longitude, self.latitude), CoordSystem(self.system))


@strawberry.type(description="A point in the coordinate system that was asked for.")
class Point:
    longitude: float
    latitude: float
    system: CoordSystemType  # type: ignore[valid-type]

    @classmethod
    def from_wgs84(cls, p: LonLat, system: CoordSystem) -> Point:
        out = from_wgs84(p, system)
        return cls(longitude=out.lon, latitude=out.lat, system=system)


@strawberry.type(description="The coordinates are out of range or not finite numbers.")
class InvalidCoordinateError(Error):
    longitude: float | None
    latitude: float | None

    @classmethod
    def from_exception(cls, error: InvalidCoordinate) -> InvalidCoordinateError:
        def finite(x: object) -> float | None:
            return x if isinstance(x, float) and abs(x) < float("inf") else None

        return cls(
            message=str(error), longitude=finite(error.longitude), latitude=finite(error.latitude)
        )
