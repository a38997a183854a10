"""Writing merchants: create, update and close, with validation and grid assignment.

Every write routes the location to its grid (``geo.grids.queries.route_point``), so a
merchant follows re-imported grids the next time it is touched. A location no grid covers
is stored all the same, flagged ``outside_coverage`` with no grid, and never lost. The
caller owns the transaction: nothing here commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from geo.coords import LonLat
from geo.merchants.fields import clean_status
from geo.merchants.models import Merchant, MerchantStatus
from geo.merchants.queries import MERCHANT_COLUMNS, MerchantRow, merchant_row
from geo.merchants.taxonomy import get_category
from geo.places.fields import (
    clean_address,
    clean_hours,
    clean_name,
    clean_phone,
    hours_columns,
    placement,
)
from geo.places.hours import OpeningHours
from geo.places.text import name_grams
from geo.places.writes import UNSET, Unset, current_location, insert_row, versioned_update

KIND = "merchant"


async def create_merchant(
    session: AsyncSession,
    *,
    name: str,
    category: str,
    location: LonLat,
    phone: str | None = None,
    address: str | None = None,
    hours: str | OpeningHours | None = None,
    status: str = MerchantStatus.OPEN,
    verified: bool = False,
) -> MerchantRow:
    """Validates and stores a new merchant at a WGS-84 location, assigned to its grid.

    Raises InvalidField, UnknownCategory, InvalidPhone or InvalidOpeningHours.
    """
    values = _fields(
        name=name,
        category=category,
        phone=phone,
        address=address,
        hours=hours,
        status=status,
    )
    values |= await placement(session, location)
    values["verified"] = verified
    return merchant_row(await insert_row(session, Merchant, MERCHANT_COLUMNS, values))


async def update_merchant(
    session: AsyncSession,
    *,
    merchant_id: int,
    expected_version: int,
    name: str | Unset = UNSET,
    category: str | Unset = UNSET,
    location: LonLat | Unset = UNSET,
    phone: str | Unset | None = UNSET,
    address: str | Unset | None = UNSET,
    hours: str | OpeningHours | Unset | None = UNSET,
    status: str | Unset = UNSET,
    verified: bool | Unset = UNSET,
) -> MerchantRow:
    """Changes the given fields of a merchant still at ``expected_version`` and re-routes it.

    ``None`` clears phone, address or hours; omitted fields stay. Raises NotFound,
    VersionConflict (with the current version) and the validation errors of create.
    """
    values = _fields(
        name=name,
        category=category,
        phone=phone,
        address=address,
        hours=hours,
        status=status,
    )
    if not isinstance(verified, Unset):
        values["verified"] = verified
    stored = await current_location(
        session, Merchant, kind=KIND, entity_id=merchant_id, expected_version=expected_version
    )
    values |= await placement(session, stored if isinstance(location, Unset) else location)
    row = await versioned_update(
        session,
        Merchant,
        MERCHANT_COLUMNS,
        kind=KIND,
        entity_id=merchant_id,
        expected_version=expected_version,
        values=values,
    )
    return merchant_row(row)


async def close_merchant(
    session: AsyncSession, *, merchant_id: int, expected_version: int
) -> MerchantRow:
    """Marks a merchant closed for good (kept for history, left out of lists)."""
    return await update_merchant(
        session,
        merchant_id=merchant_id,
        expected_version=expected_version,
        status=MerchantStatus.CLOSED,
    )


def _fields(**given: Any) -> dict[str, Any]:
    """Validated column values for the fields given (UNSET ones are left out)."""
    values: dict[str, Any] = {}
    if not isinstance(name := given["name"], Unset):
        values["name"] = clean_name(name)
        values["name_grams"] = name_grams(values["name"])
    if not isinstance(category := given["category"], Unset):
        values["category"] = get_category(category).code
    if not isinstance(phone := given["phone"], Unset):
        values["phone"] = clean_phone(phone)
    if not isinstance(address := given["address"], Unset):
        values["address"] = clean_address(address)
    if not isinstance(hours := given["hours"], Unset):
        values |= hours_columns(clean_hours(hours))
    if not isinstance(status := given["status"], Unset):
        values["status"] = clean_status(status).value
    return values
