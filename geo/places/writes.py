"""Writes shared by merchants and service points: the fields they share, placement in a grid,
and versioned single-row writes.

Every write routes the location to its grid (``geo.grids.queries.route_point``), so a place
follows re-imported grids the next time it is touched. A location no grid covers is stored
all the same, flagged ``outside_coverage`` with no grid, and never lost. The caller owns the
transaction: nothing here commits.

Optimistic concurrency: a caller reads a row with its ``version`` and names that version
when it changes the row. The UPDATE carries ``WHERE version = :expected`` and bumps it, so
of two concurrent writers exactly one matches; the other gets VersionConflict with the
version it should re-read. Nothing is locked while a user edits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, Final

from sqlalchemy import ColumnElement, RowMapping, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from geo.coords import LonLat
from geo.places.errors import NotFound, VersionConflict
from geo.places.fields import (
    clean_address,
    clean_hours,
    clean_name,
    clean_phone,
    hours_columns,
    placement,
)
from geo.places.hours import OpeningHours


class Unset(Enum):
    """Marks an update argument the caller did not give (None may mean "clear it")."""

    UNSET = "UNSET"


UNSET: Final = Unset.UNSET


def place_values(
    *,
    name: str | Unset = UNSET,
    phone: str | Unset | None = UNSET,
    address: str | Unset | None = UNSET,
    hours: str | OpeningHours | Unset | None = UNSET,
) -> dict[str, Any]:
    """Validated column values of the shared fields given (UNSET ones are left out), checked
    in this order; raises InvalidField, InvalidPhone or InvalidOpeningHours."""
    values: dict[str, Any] = {}
    if not isinstance(name, Unset):
        values["name"] = clean_name(name)
    if not isinstance(phone, Unset):
        values["phone"] = clean_phone(phone)
    if not isinstance(address, Unset):
        values["address"] = clean_address(address)
    if not isinstance(hours, Unset):
        values |= hours_columns(clean_hours(hours))
    return values


async def create_place(
    session: AsyncSession,
    entity: Any,
    columns: Sequence[ColumnElement[Any]],
    values: Mapping[str, Any],
    location: LonLat,
) -> RowMapping:
    """Inserts a place of ``entity``'s table at ``location``, assigned to its grid."""
    return await insert_row(
        session, entity, columns, {**values, **await placement(session, location)}
    )


async def update_place(
    session: AsyncSession,
    entity: Any,
    columns: Sequence[ColumnElement[Any]],
    *,
    kind: str,
    entity_id: int,
    expected_version: int,
    values: Mapping[str, Any],
    location: LonLat | Unset,
) -> RowMapping:
    """Changes a place still at ``expected_version`` and routes it again (to its new
    ``location``, or where it stands); raises NotFound or VersionConflict."""
    stored = await current_location(
        session, entity, kind=kind, entity_id=entity_id, expected_version=expected_version
    )
    placed = await placement(session, stored if isinstance(location, Unset) else location)
    return await versioned_update(
        session,
        entity,
        columns,
        kind=kind,
        entity_id=entity_id,
        expected_version=expected_version,
        values={**values, **placed},
    )


async def insert_row(
    session: AsyncSession,
    entity: Any,
    columns: Sequence[ColumnElement[Any]],
    values: Mapping[str, Any],
) -> RowMapping:
    """INSERT ... RETURNING ``columns``: one statement, no ORM identity map involved."""
    stmt = insert(entity).values(**values).returning(*columns)
    return (await session.execute(stmt)).mappings().one()


async def current_location(
    session: AsyncSession, entity: Any, *, kind: str, entity_id: int, expected_version: int
) -> LonLat:
    """The stored location; raises NotFound, or VersionConflict when the version moved on."""
    stmt = select(entity.version, func.ST_X(entity.location), func.ST_Y(entity.location)).where(
        entity.id == entity_id
    )
    found = (await session.execute(stmt)).first()
    if found is None:
        raise NotFound(kind, entity_id)
    version, lon, lat = found
    if version != expected_version:
        raise VersionConflict(kind, entity_id, expected_version, version)
    return LonLat(lon, lat)


async def versioned_update(
    session: AsyncSession,
    entity: Any,
    columns: Sequence[ColumnElement[Any]],
    *,
    kind: str,
    entity_id: int,
    expected_version: int,
    values: Mapping[str, Any],
) -> RowMapping:
    """UPDATE the row if still at ``expected_version``; bumps version and updated_at."""
    stmt = (
        update(entity)
        .where(entity.id == entity_id, entity.version == expected_version)
        .values(**values, version=entity.version + 1, updated_at=func.now())
        .returning(*columns)
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(stmt)).mappings().first()
    if row is not None:
        return row
    # Someone else wrote between our read and this UPDATE.
    version = await session.scalar(select(entity.version).where(entity.id == entity_id))
    if version is None:
        raise NotFound(kind, entity_id)
    raise VersionConflict(kind, entity_id, expected_version, version)
