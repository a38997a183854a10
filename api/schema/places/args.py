"""Checks of the arguments that merchant, service point and circle fields share.

Each raises a DomainError, which api.schema.error_registry answers as a typed result.
"""

from __future__ import annotations

from datetime import datetime

from api.schema.common import InvalidArgument
from geo.places.cursor import decode_distance_cursor, decode_id_cursor
from geo.places.errors import OutOfRange
from geo.places.hours import TIMEZONE
from geo.places.nearest import MAX_PAGE
from geo.text import contains_nul


def check_first(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise OutOfRange("first", first, 1, MAX_PAGE)
    return first


def after_id(after: str | None) -> int | None:
    """The id inside an id-ordered list's cursor (InvalidCursor when it is not one)."""
    return None if after is None else decode_id_cursor(after)


def after_distance(after: str | None) -> tuple[float, int] | None:
    """(distance, id) inside a nearest-first list's cursor (InvalidCursor otherwise)."""
    return None if after is None else decode_distance_cursor(after)


def local_time(when: datetime | None) -> datetime | None:
    """An aware datetime; one without an offset is read as Asia/Shanghai wall time."""
    if when is None:
        return None
    aware = when if when.utcoffset() is not None else when.replace(tzinfo=TIMEZONE)
    try:
        aware.astimezone(TIMEZONE)
    except OverflowError:  # e.g. 0001-01-01T00:00+14:00 has no Shanghai time
        raise InvalidArgument("openAt", "openAt is out of the supported range") from None
    return aware


def no_nul(**values: object) -> None:
    """Refuses NUL characters, which PostgreSQL cannot store in text, naming the argument."""
    for name, value in values.items():
        if contains_nul(value):
            raise InvalidArgument(name, f"{name} must not contain NUL characters")
