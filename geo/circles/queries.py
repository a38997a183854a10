"""Reading circle codes, and the service circle of the place a code names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, String, bindparam, func, select

from geo.circles.models import CircleCode
from geo.circles.reach import ServiceCircle, service_circle
from geo.coords import LonLat
from geo.db import Queryable, fetch_mappings
from geo.errors import DomainError

#: What a code may look like; anything else cannot be stored, so it is not looked up.
CODE_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{4,32}", re.ASCII)


class CircleCodeNotFound(DomainError):
    """No active circle code with this text (never issued, or retired)."""

    def __init__(self, code: str) -> None:
        super().__init__("this circle code is unknown or no longer in use")
        self.code = code


@dataclass(frozen=True, slots=True)
class CircleCodeRow:
    id: int
    code: str
    name: str
    longitude: float
    latitude: float
    grid_id: int | None
    created_at: datetime
    retired_at: datetime | None

    @property
    def center(self) -> LonLat:
        return LonLat(self.longitude, self.latitude)

    @property
    def active(self) -> bool:
        return self.retired_at is None


_C = CircleCode.__table__.c
CIRCLE_CODE_COLUMNS: tuple[ColumnElement[Any], ...] = (
    _C.id.label("id"),
    _C.code.label("code"),
    _C.name.label("name"),
    func.ST_X(_C.center).label("longitude"),
    func.ST_Y(_C.center).label("latitude"),
    _C.grid_id.label("grid_id"),
    _C.created_at.label("created_at"),
    _C.retired_at.label("retired_at"),
)


def circle_code_row(mapping: Any) -> CircleCodeRow:
    return CircleCodeRow(**{c.key: mapping[c.key] for c in CIRCLE_CODE_COLUMNS})


_BY_CODE = select(*CIRCLE_CODE_COLUMNS).where(_C.code == bindparam("code", type_=String))
_ACTIVE_BY_CODE = _BY_CODE.where(_C.retired_at.is_(None))


async def get_circle_code(
    session: Queryable, code: str, *, include_retired: bool = False
) -> CircleCodeRow | None:
    """The code's row (None when unknown, malformed, or retired unless asked for).
    ``session`` may be a read-pool psycopg connection (``geo.db.make_read_pool``)."""
    if not CODE_PATTERN.fullmatch(code):
        return None
    statement = _BY_CODE if include_retired else _ACTIVE_BY_CODE
    rows = await fetch_mappings(session, statement, {"code": code})
    return circle_code_row(rows[0]) if rows else None


async def circle_of_code(
    session: Queryable, code: str, *, minutes: float = 15
) -> tuple[CircleCodeRow, ServiceCircle]:
    """The active code's place and its service circle; raises CircleCodeNotFound."""
    place = await get_circle_code(session, code)
    if place is None:
        raise CircleCodeNotFound(code)
    return place, await service_circle(session, place.center, minutes)
