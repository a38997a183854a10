"""Validation of the fields merchants and service points share, for writes and imports.

Each function returns the value in the form we store, or raises a DomainError naming the
field (``InvalidField``, ``InvalidPhone``, ``InvalidOpeningHours``). The importer reports
the same messages per row. A merchant's own fields (status, verified) are
checked in ``geo.merchants.fields``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Final

from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.ext.asyncio import AsyncSession

from geo.coords import LonLat
from geo.grids.queries import Covered, route_point
from geo.places.errors import InvalidField
from geo.places.hours import (
    OpeningHours,
    format_hours,
    minutes_of_week_ranges,
    parse_hours,
    to_json,
)
from geo.places.phones import normalize_phone
from geo.points import point_sql

MAX_NAME_CHARS: Final = 200
MAX_ADDRESS_CHARS: Final = 300


def clean_name(value: str) -> str:
    """The name, NFKC-normalised and stripped; 1-200 characters."""
    name = unicodedata.normalize("NFKC", value).strip()
    if not name:
        raise InvalidField("name", "a name is required")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidField("name", f"at most {MAX_NAME_CHARS} characters")
    return name


def clean_address(value: str | None) -> str:
    address = unicodedata.normalize("NFKC", value or "").strip()
    if len(address) > MAX_ADDRESS_CHARS:
        raise InvalidField("address", f"at most {MAX_ADDRESS_CHARS} characters")
    return address


# Numbers already in canonical form, which normalize_phone would return unchanged: an
# import of a million rows spends most of its phone time here otherwise.
_CANONICAL_PHONE: Final = re.compile(
    r"1[3-9]\d{9}|(?:010|02\d)-[2-9]\d{7}|0[3-9]\d{2}-[2-9]\d{6,7}", re.ASCII
)


def clean_phone(value: str | None) -> str | None:
    """Canonical phone (``phones.normalize_phone``), or None when blank."""
    if not value or value.isspace():
        return None
    return value if _CANONICAL_PHONE.fullmatch(value) else normalize_phone(value)


def clean_hours(value: str | OpeningHours | None) -> OpeningHours | None:
    """Parsed opening hours (``hours.parse_hours`` text form), or None when blank (unknown)."""
    if value is None or isinstance(value, OpeningHours):
        return value
    return parse_hours(value) if value.strip() else None


def hours_columns(hours: OpeningHours | None) -> dict[str, Any]:
    """Values of the columns ``opening_hours``, ``hours_text`` and ``open_minutes``; all
    None when hours are unknown."""
    if hours is None:
        return {"opening_hours": None, "hours_text": None, "open_minutes": None}
    ranges = minutes_of_week_ranges(hours)
    return {
        "opening_hours": to_json(hours),
        "hours_text": format_hours(hours),
        "open_minutes": [Range(start, end, bounds="[)") for start, end in ranges],
    }


async def placement(session: AsyncSession, location: LonLat) -> dict[str, Any]:
    """Column values ``location``, ``grid_id`` and ``outside_coverage`` for a WGS-84 point;
    the grid comes from ``route_point``."""
    routed = await route_point(session, location, near_m=0.0)  # no neighbour list needed
    grid_id = routed.grid.id if isinstance(routed, Covered) else None
    return {
        "location": point_sql(location),
        "grid_id": grid_id,
        "outside_coverage": grid_id is None,
    }
