"""Reading service points: nearest first, by grid subtree, and in batches for DataLoaders.

Nearest-first search is the merchants' one (``geo.places.nearest``: KNN on the location
index, re-ranked by geodesic distance); with about a thousand rows, kind and name are
plain filters on that scan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from geo.coords import LonLat
from geo.db import Queryable
from geo.grids.models import Grid
from geo.json_objects import Template, Value
from geo.places.by_grid import GridListing, pages_of_grids
from geo.places.errors import OutOfRange
from geo.places.hours import OpeningHours, is_open_at, parse_hours
from geo.places.nearest import MAX_PAGE, candidates, check_search, minute_of_week
from geo.places.queries import (
    Nearby,
    Page,
    Written,
    any_of,
    name_conditions,
    nearby_page,
    open_condition,
    text_params,
    written_row,
    written_rows,
)
from geo.service_points.kinds import get_kind
from geo.service_points.models import ServicePoint


class ServicePointRow(NamedTuple):
    """A service point as lists and loaders return it (location in WGS-84 degrees); a named
    tuple, as MerchantRow is."""

    id: int
    kind: str
    name: str
    phone: str | None
    address: str
    longitude: float
    latitude: float
    hours_text: str | None  # canonical text form, as MerchantRow's
    outside_coverage: bool
    grid_id: int | None
    version: int
    updated_at: datetime

    @property
    def location(self) -> LonLat:
        return LonLat(self.longitude, self.latitude)

    def opening_hours(self) -> OpeningHours | None:
        return None if self.hours_text is None else parse_hours(self.hours_text)

    def is_open_at(self, when: datetime) -> bool:
        hours = self.opening_hours()
        return hours is not None and is_open_at(hours, when)


SERVICE_POINTS = ServicePoint.__table__
_S = SERVICE_POINTS.c

SERVICE_POINT_COLUMNS: tuple[ColumnElement[Any], ...] = (
    _S.id.label("id"),
    _S.kind.label("kind"),
    _S.name.label("name"),
    _S.phone.label("phone"),
    _S.address.label("address"),
    func.ST_X(_S.location).label("longitude"),
    func.ST_Y(_S.location).label("latitude"),
    _S.hours_text.label("hours_text"),
    _S.outside_coverage.label("outside_coverage"),
    _S.grid_id.label("grid_id"),
    _S.version.label("version"),
    _S.updated_at.label("updated_at"),
)
_FIELDS = tuple(c.key for c in SERVICE_POINT_COLUMNS)
_VALUES = itemgetter(*_FIELDS)


def service_point_row(mapping: Any) -> ServicePointRow:
    return ServicePointRow._make(_VALUES(mapping))


def kind_codes(kinds: Sequence[str]) -> list[str]:
    """The kind codes, validated (UnknownServicePointKind), without repeats."""
    return list(dict.fromkeys(get_kind(code).value for code in kinds))


@lru_cache(maxsize=64)
def _nearby_statement(
    kinds: bool, text: bool, open_at: bool, keyset: bool, template: Template | None = None
) -> Select[Any]:
    """With a ``template``, each row comes back as its id, location and JSON text."""
    where: list[ColumnElement[bool]] = []
    if kinds:
        where.append(_S.kind == func.any(bindparam("kinds", type_=ARRAY(String))))
    if text:
        where += name_conditions(_S.name)  # a thousand rows: no bigram index needed
    if open_at:
        where.append(open_condition(_S.open_minutes))
    found = candidates(SERVICE_POINTS, SERVICE_POINT_COLUMNS, where=where, keyset=keyset)
    if template is None:
        return found
    rows = found.subquery("found")
    return written_rows(rows, template, {Value.KIND: rows.c.kind})


async def nearby_service_points(
    session: Queryable,
    point: LonLat,
    *,
    template: Template | None = None,
    radius_m: float = 1_000.0,
    kinds: Sequence[str] | None = None,
    text: str | None = None,
    open_at: datetime | None = None,
    limit: int = 20,
    after: tuple[float, int] | None = None,
) -> Page[Nearby[ServicePointRow]] | Page[Nearby[Written]]:
    """Service points within ``radius_m`` of a WGS-84 point, nearest first (geodesic).

    Same contract as ``geo.merchants.queries.nearby_merchants`` (``template`` included),
    with ``kinds`` for categories (UnknownServicePointKind on a bad code).
    """
    check_search(radius_m, limit, after)
    params: dict[str, Any] = {"kinds": kind_codes(kinds) if kinds else [], **text_params(text)}
    if open_at is not None:
        params["minute"] = minute_of_week(open_at)
    statement = _nearby_statement(
        bool(kinds), "text" in params, open_at is not None, after is not None, template
    )
    make: Callable[[Any], Any] = service_point_row if template is None else written_row
    return await nearby_page(
        session, statement, params, make, point=point, radius_m=radius_m, limit=limit, after=after
    )


async def get_service_point(session: AsyncSession, point_id: int) -> ServicePointRow | None:
    stmt = select(*SERVICE_POINT_COLUMNS).where(_S.id == point_id)
    row = (await session.execute(stmt)).mappings().first()
    return service_point_row(row) if row else None


async def service_points_by_ids(
    session: AsyncSession, ids: Sequence[int]
) -> dict[int, ServicePointRow]:
    """Service points by id, in one statement; missing ids are absent."""
    stmt = select(*SERVICE_POINT_COLUMNS).where(any_of(_S.id, ids))
    return {r["id"]: service_point_row(r) for r in (await session.execute(stmt)).mappings()}


async def service_points_by_grid_ids(
    session: AsyncSession, grid_ids: Sequence[int], *, limit_per_grid: int = MAX_PAGE
) -> dict[int, list[ServicePointRow]]:
    """The first service points (by id) assigned to each grid itself, in one statement."""
    rank = func.row_number().over(partition_by=_S.grid_id, order_by=_S.id)
    inner = (
        select(*SERVICE_POINT_COLUMNS, rank.label("rank"))
        .where(any_of(_S.grid_id, grid_ids))
        .subquery()
    )
    stmt = select(inner).where(inner.c.rank <= limit_per_grid).order_by(inner.c.id)
    out: dict[int, list[ServicePointRow]] = {gid: [] for gid in grid_ids}
    for r in (await session.execute(stmt)).mappings():
        out[r["grid_id"]].append(service_point_row(r))
    return out


async def service_points_in_grid_subtree(
    session: AsyncSession,
    grid_id: int,
    *,
    kinds: Sequence[str] | None = None,
    limit: int = 50,
    after_id: int | None = None,
) -> Page[ServicePointRow]:
    """Service points of a grid and every grid below it, by id, after ``after_id``."""
    if not 1 <= limit <= MAX_PAGE:
        raise OutOfRange("first", limit, 1, MAX_PAGE)
    subtree = select(Grid.id).where(Grid.path.op("@>")(literal([grid_id], ARRAY(Integer))))
    stmt = select(*SERVICE_POINT_COLUMNS).where(_S.grid_id.in_(subtree))
    if kinds:
        stmt = stmt.where(any_of(_S.kind, kind_codes(kinds), String))
    if after_id is not None:
        stmt = stmt.where(_S.id > after_id)
    rows = (await session.execute(stmt.order_by(_S.id).limit(limit + 1))).mappings().all()
    return Page(tuple(service_point_row(r) for r in rows[:limit]), has_next_page=len(rows) > limit)


async def service_points_of_grids(
    session: AsyncSession, listings: Sequence[GridListing]
) -> dict[GridListing, Page[ServicePointRow]]:
    """Service points of each grid's subtree, by id (UnknownServicePointKind on a bad kind)."""

    def condition(only: tuple[str, ...]) -> list[ColumnElement[bool]]:
        if not only:
            return []
        kinds = literal(kind_codes(only), ARRAY(String))
        return [SERVICE_POINTS.c.kind == func.any(kinds)]

    return await pages_of_grids(
        session, listings, SERVICE_POINTS, SERVICE_POINT_COLUMNS, condition, service_point_row
    )
