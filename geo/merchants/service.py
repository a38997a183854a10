"""Writing merchants: create, update and close, with validation and grid assignment.

The shared fields, the grid and the version are handled as for every place
(``geo.places.writes``); a merchant adds its category, status, verified flag and the name's
bigrams. The caller owns the transaction: nothing here commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from geo.coords import LonLat
from geo.merchants.fields import clean_status
from geo.merchants.models import Merchant, MerchantStatus
from geo.merchants.queries import MERCHANT_COLUMNS, MerchantRow, merchant_row
from geo.merchants.taxonomy import get_category
from geo.places.hours import OpeningHours
from geo.places.text import name_grams
from geo.places.writes import UNSET, Unset, create_place, place_values, update_place

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
    values["verified"] = verified
    return merchant_row(await create_place(session, Merchant, MERCHANT_COLUMNS, values, location))


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
    row = await update_place(
        session,
        Merchant,
        MERCHANT_COLUMNS,
        kind=KIND,
        entity_id=merchant_id,
        expected_version=expected_version,
        values=values,
        location=location,
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
    # Checked in the order the fields are listed, so a caller gets the first bad one.
    values = place_values(name=given["name"])
    if "name" in values:
        values["name_grams"] = name_grams(values["name"])
    if not isinstance(category := given["category"], Unset):
        values["category"] = get_category(category).code
    values |= place_values(phone=given["phone"], address=given["address"], hours=given["hours"])
    if not isinstance(status := given["status"], Unset):
        values["status"] = clean_status(status).value
    return values
