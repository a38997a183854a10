"""Writing service points: create and update, with validation and grid assignment.

The rules are the merchants' (``geo.merchants.service``): every write routes the location
to its grid, a location no grid covers is stored and flagged ``outside_coverage``, and an
update names the version it read (VersionConflict otherwise). Nothing here commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from geo.coords import LonLat
from geo.places.fields import (
    clean_address,
    clean_hours,
    clean_name,
    clean_phone,
    hours_columns,
    placement,
)
from geo.places.hours import OpeningHours
from geo.places.writes import UNSET, Unset, current_location, insert_row, versioned_update
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
    values |= await placement(session, location)
    row = await insert_row(session, ServicePoint, SERVICE_POINT_COLUMNS, values)
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
    stored = await current_location(
        session, ServicePoint, kind=KIND, entity_id=point_id, expected_version=expected_version
    )
    values |= await placement(session, stored if isinstance(location, Unset) else location)
    row = await versioned_update(
        session,
        ServicePoint,
        SERVICE_POINT_COLUMNS,
        kind=KIND,
        entity_id=point_id,
        expected_version=expected_version,
        values=values,
    )
    return service_point_row(row)


def _fields(**given: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if not isinstance(kind := given["kind"], Unset):
        values["kind"] = get_kind(kind).value
    if not isinstance(name := given["name"], Unset):
        values["name"] = clean_name(name)
    if not isinstance(phone := given["phone"], Unset):
        values["phone"] = clean_phone(phone)
    if not isinstance(address := given["address"], Unset):
        values["address"] = clean_address(address)
    if not isinstance(hours := given["hours"], Unset):
        values |= hours_columns(clean_hours(hours))
    return values
