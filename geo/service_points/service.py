"""Writing service points: create and update, with validation and grid assignment.

The rules are every place's (``geo.places.writes``): every write routes the location to its
grid, a location no grid covers is stored and flagged ``outside_coverage``, and an update
names the version it read (VersionConflict otherwise). Nothing here commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from geo.coords import LonLat
from geo.places.hours import OpeningHours
from geo.places.writes import UNSET, Unset, create_place, place_values, update_place
from geo.service_points.kinds import get_kind
from geo.service_points.models import ServicePoint
from geo.service_points.queries import (
    SERVICE_POINT_COLUMNS,
    ServicePointRow,
    service_point_row,
)

KIND = "service_point"


async def create_service_point(
    session: AsyncSession,
    *,
    kind: str,
    name: str,
    location: LonLat,
    phone: str | None = None,
    address: str | None = None,
    hours: str | OpeningHours | None = None,
) -> ServicePointRow:
    """Validates and stores a service point at a WGS-84 location, assigned to its grid.

    Raises UnknownServicePointKind, InvalidField, InvalidPhone or InvalidOpeningHours.
    """
    values = _fields(kind=kind, name=name, phone=phone, address=address, hours=hours)
    row = await create_place(session, ServicePoint, SERVICE_POINT_COLUMNS, values, location)
    return service_point_row(row)


async def update_service_point(
    session: AsyncSession,
    *,
    point_id: int,
    expected_version: int,
    kind: str | Unset = UNSET,
    name: str | Unset = UNSET,
    location: LonLat | Unset = UNSET,
    phone: str | Unset | None = UNSET,
    address: str | Unset | None = UNSET,
    hours: str | OpeningHours | Unset | None = UNSET,
) -> ServicePointRow:
    """Changes the given fields of a service point still at ``expected_version``.

    ``None`` clears phone, address or hours. Raises NotFound, VersionConflict and the
    validation errors of create.
    """
    values = _fields(kind=kind, name=name, phone=phone, address=address, hours=hours)
    row = await update_place(
        session,
        ServicePoint,
        SERVICE_POINT_COLUMNS,
        kind=KIND,
        entity_id=point_id,
        expected_version=expected_version,
        values=values,
        location=location,
    )
    return service_point_row(row)


def _fields(**given: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if not isinstance(kind := given["kind"], Unset):
        values["kind"] = get_kind(kind).value
    return values | place_values(
        name=given["name"], phone=given["phone"], address=given["address"], hours=given["hours"]
    )
