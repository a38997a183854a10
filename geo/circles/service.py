"""Issuing and retiring circle codes. The caller owns the transaction: nothing here commits."""

from __future__ import annotations

import secrets
import unicodedata
from typing import Final

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from geo.circles.models import CircleCode
from geo.circles.queries import (
    CIRCLE_CODE_COLUMNS,
    CODE_PATTERN,
    CircleCodeNotFound,
    CircleCodeRow,
    circle_code_row,
)
from geo.coords import LonLat
from geo.errors import DomainError
from geo.grids.queries import Covered, get_grid, route_point
from geo.places.errors import InvalidField
from geo.points import point_sql
from geo.text import contains_nul

#: Crockford's base32 in lower case: no i, l, o or u, so a code read aloud or retyped from a
#: printed board is not misread. Ten characters are 50 random bits: codes cannot be guessed
#: from one another, and a collision (retried) is rarer than one in a billion per thousand.
ALPHABET: Final = "0123456789abcdefghjkmnpqrstvwxyz"
CODE_CHARS: Final = 10
MAX_NAME_CHARS: Final = 200


class CodeTaken(DomainError):
    """An admin asked for a code text that is already issued (or was, and is retired)."""

    def __init__(self, code: str) -> None:
        super().__init__(f"the circle code {code!r} is already taken; choose another")
        self.code = code


class UnknownGrid(DomainError):
    def __init__(self, code: str) -> None:
        super().__init__(f"there is no grid with code {code!r}")
        self.code = code


def new_code() -> str:
    """A random code of CODE_CHARS characters from ALPHABET (cryptographic randomness)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_CHARS))


async def create_circle_code(
    session: AsyncSession,
    *,
    name: str,
    center: LonLat,
    grid_code: str | None = None,
    code: str | None = None,
) -> CircleCodeRow:
    """Issues a code for a place at a WGS-84 centre; a random one unless ``code`` is given.

    The grid is the one named, else the micro-grid covering the centre (none outside the
    district). Raises InvalidField (name, code), CodeTaken, UnknownGrid.
    """
    values = {"name": _clean_name(name), "center": point_sql(center)}
    values["grid_id"] = await _grid_id(session, center, grid_code)
    if code is not None and not CODE_PATTERN.fullmatch(code):
        raise InvalidField("code", "4 to 32 letters, digits, '-' or '_'")
    while True:
        stmt = (
            insert(CircleCode)
            .values(code=code or new_code(), **values)
            .on_conflict_do_nothing(index_elements=["code"])
            .returning(*CIRCLE_CODE_COLUMNS)
        )
        row = (await session.execute(stmt)).mappings().first()
        if row is not None:
            return circle_code_row(row)
        if code is not None:
            raise CodeTaken(code)


async def retire_circle_code(session: AsyncSession, *, code: str) -> CircleCodeRow:
    """Retires a code (its page then answers 404); retiring it again changes nothing.

    Raises CircleCodeNotFound for a code never issued.
    """
    if not CODE_PATTERN.fullmatch(code):
        raise CircleCodeNotFound(code)
    table = CircleCode.__table__
    stmt = (
        update(table)
        .where(table.c.code == code)
        .values(retired_at=func.coalesce(table.c.retired_at, func.now()))
        .returning(*CIRCLE_CODE_COLUMNS)
    )
    row = (await session.execute(stmt)).mappings().first()
    if row is None:
        raise CircleCodeNotFound(code)
    return circle_code_row(row)


def _clean_name(value: str) -> str:
    name = unicodedata.normalize("NFKC", value).strip()
    if not name or contains_nul(name):
        raise InvalidField("name", "a name without NUL characters is required")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidField("name", f"at most {MAX_NAME_CHARS} characters")
    return name


async def _grid_id(session: AsyncSession, center: LonLat, grid_code: str | None) -> int | None:
    if grid_code is not None:
        grid = await get_grid(session, grid_code)
        if grid is None:
            raise UnknownGrid(grid_code)
        return grid.id
    routed = await route_point(session, center, near_m=0.0)
    return routed.grid.id if isinstance(routed, Covered) else None
