"""Reading grids: by code, pages, relations, and routing a point to the grid that covers it.

Routing rule (documented in the API too): a point belongs to the micro-grids whose boundary
covers it (`ST_Covers`, so boundary points count). A point on a shared edge or vertex is
covered by several; it goes to the one with the smallest `code`, which does not depend on
insertion order and survives re-imports. Distances are geodesic (geography, on the WGS 84
spheroid), never in degrees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, literal, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.coords import LonLat
from geo.grids.models import Grid, GridWorker

#: Grid columns without the boundary: what lists and loaders fetch (geometry is loaded apart).
GRID_COLUMNS = (
    Grid.id,
    Grid.code,
    Grid.name,
    Grid.level,
    Grid.parent_id,
    Grid.path,
    Grid.properties,
)

LEVEL_DEPTH = {"DISTRICT": 0, "L1": 1, "L2": 2, "L3": 3, "MICRO": 4}

#: Metres per degree of latitude, a lower bound, to turn a radius into a bounding-box margin.
_M_PER_DEG = 110_574.0
#: Most candidates listed near a boundary, whatever the stated accuracy.
MAX_CANDIDATES = 10


@dataclass(frozen=True, slots=True)
class GridRow:
    """A grid without its geometry."""

    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    path: tuple[int, ...]
    properties: dict[str, object]


@dataclass(frozen=True, slots=True)
class Candidate:
    grid: GridRow
    distance_m: float


@dataclass(frozen=True, slots=True)
class Covered:
    """The point lies in `grid`; `distance_to_edge_m` from the point to the grid's boundary."""

    grid: GridRow
    distance_to_edge_m: float
    others: tuple[Candidate, ...]


@dataclass(frozen=True, slots=True)
class Outside:
    """No grid covers the point; `nearest` is the closest micro-grid (None if there are none)."""

    nearest: Candidate | None


def _row(r: object) -> GridRow:
    m = r._mapping  # type: ignore[attr-defined]
    return GridRow(
        m["id"],
        m["code"],
        m["name"],
        m["level"],
        m["parent_id"],
        tuple(m["path"]),
        m["properties"],
    )


def _point(p: LonLat) -> ColumnElement[object]:
    return func.ST_SetSRID(func.ST_MakePoint(literal(p.lon), literal(p.lat)), 4326)


def _geog(expr: ColumnElement[object]) -> ColumnElement[object]:
    return func.geography(expr)


#: Written as a literal, not a bound parameter: a prepared (generic) plan can then still
#: match the partial index `ix_grids_micro_boundary` (WHERE level = 'MICRO').
IS_MICRO = Grid.level == literal_column("'MICRO'")


def _bbox_margin_deg(p: LonLat, radius_m: float) -> float:
    """Degrees that surely span `radius_m` around p in both axes (longitude shrinks with cos)."""
    cos_lat = max(math.cos(math.radians(abs(p.lat))), 0.01)
    return radius_m / (_M_PER_DEG * cos_lat) * 1.01


def _covering_micro(p: LonLat) -> Select[tuple[object, ...]]:
    point = _point(p)
    edge = func.ST_Distance(_geog(func.ST_Boundary(Grid.boundary)), _geog(point))
    return (
        select(*GRID_COLUMNS, edge.label("edge_m"))
        .where(IS_MICRO, func.ST_Covers(Grid.boundary, point))
        .order_by(Grid.code)
        .limit(1)
    )


async def route_point(
    session: AsyncSession, p: LonLat, *, near_m: float = 20.0
) -> Covered | Outside:
    """Routes a WGS-84 point to the covering micro-grid, or the deepest covering grid.

    When the point is closer than `near_m` to the chosen grid's edge, the other micro-grids
    within `near_m` come back too, nearest first, so the caller can confirm.
    """
    found = (await session.execute(_covering_micro(p))).first()
    if found is None:
        deeper = await _deepest_covering(session, p)
        if deeper is None:
            return Outside(await _nearest_micro(session, p))
        found = deeper
    grid, edge_m = _row(found), float(found._mapping["edge_m"])
    others: tuple[Candidate, ...] = ()
    if edge_m < near_m:
        others = tuple(c for c in await micro_within(session, p, near_m) if c.grid.id != grid.id)
    return Covered(grid, edge_m, others)


async def _deepest_covering(session: AsyncSession, p: LonLat) -> object | None:
    """Any-level fallback for points in a gap between micro-grids (imports may leave gaps)."""
    point = _point(p)
    edge = func.ST_Distance(_geog(func.ST_Boundary(Grid.boundary)), _geog(point))
    depth = func.array_length(Grid.path, 1)
    stmt = (
        select(*GRID_COLUMNS, edge.label("edge_m"))
        .where(func.ST_Covers(Grid.boundary, point))
        .order_by(depth.desc(), Grid.code)
        .limit(1)
    )
    return (await session.execute(stmt)).first()


async def micro_within(session: AsyncSession, p: LonLat, radius_m: float) -> list[Candidate]:
    """Micro-grids within `radius_m` metres of the point (geodesic), nearest first."""
    point = _point(p)
    distance = func.ST_Distance(_geog(Grid.boundary), _geog(point))
    box = func.ST_Expand(point, _bbox_margin_deg(p, radius_m))
    stmt = (
        select(*GRID_COLUMNS, distance.label("distance_m"))
        .where(IS_MICRO, Grid.boundary.op("&&")(box), distance <= radius_m)
        .order_by(distance, Grid.code)
        .limit(MAX_CANDIDATES)
    )
    rows = (await session.execute(stmt)).all()
    return [Candidate(_row(r), float(r._mapping["distance_m"])) for r in rows]


async def _nearest_micro(session: AsyncSession, p: LonLat) -> Candidate | None:
    """The nearest micro-grid by geodesic distance.

    The index orders by planar distance in degrees (`<->`), which is not geodesic order; the
    first few by that order are re-ranked by true distance.
    """
    point = _point(p)
    near = (
        select(Grid.id)
        .where(IS_MICRO)
        .order_by(Grid.boundary.op("<->")(point))
        .limit(8)
        .scalar_subquery()
    )
    distance = func.ST_Distance(_geog(Grid.boundary), _geog(point))
    stmt = (
        select(*GRID_COLUMNS, distance.label("distance_m"))
        .where(Grid.id.in_(near))
        .order_by(distance, Grid.code)
        .limit(1)
    )
    row = (await session.execute(stmt)).first()
    return Candidate(_row(row), float(row._mapping["distance_m"])) if row else None


async def get_grid(session: AsyncSession, code: str) -> GridRow | None:
    row = (await session.execute(select(*GRID_COLUMNS).where(Grid.code == code))).first()
    return _row(row) if row else None


async def grids_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, GridRow]:
    rows = (await session.execute(select(*GRID_COLUMNS).where(Grid.id.in_(ids)))).all()
    return {r._mapping["id"]: _row(r) for r in rows}


async def children_of(session: AsyncSession, parent_ids: Sequence[int]) -> dict[int, list[GridRow]]:
    """Children of each parent, ordered by code."""
    stmt = select(*GRID_COLUMNS).where(Grid.parent_id.in_(parent_ids)).order_by(Grid.code)
    out: dict[int, list[GridRow]] = {pid: [] for pid in parent_ids}
    for r in (await session.execute(stmt)).all():
        row = _row(r)
        out[row.parent_id or 0].append(row)
    return out


async def list_grids(
    session: AsyncSession,
    *,
    level: str | None = None,
    parent_code: str | None = None,
    after_code: str | None = None,
    limit: int = 50,
) -> list[GridRow]:
    """A page of grids ordered by code (keyset: strictly after `after_code`)."""
    stmt = select(*GRID_COLUMNS).order_by(Grid.code).limit(limit)
    if level is not None:
        stmt = stmt.where(Grid.level == level)
    if parent_code is not None:
        parent = select(Grid.id).where(Grid.code == parent_code).scalar_subquery()
        stmt = stmt.where(Grid.parent_id == parent)
    if after_code is not None:
        stmt = stmt.where(Grid.code > after_code)
    return [_row(r) for r in (await session.execute(stmt)).all()]


async def workers_of(session: AsyncSession, grid_ids: Sequence[int]) -> dict[int, list[GridWorker]]:
    stmt = select(GridWorker).where(GridWorker.grid_id.in_(grid_ids)).order_by(GridWorker.id)
    out: dict[int, list[GridWorker]] = {gid: [] for gid in grid_ids}
    for worker in (await session.scalars(stmt)).all():
        out[worker.grid_id].append(worker)
    return out


async def boundaries_geojson(session: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    """Each grid's boundary as a GeoJSON string (WGS 84, 7 decimals ≈ 1 cm)."""
    stmt = select(Grid.id, func.ST_AsGeoJSON(Grid.boundary, 7)).where(Grid.id.in_(ids))
    return dict((await session.execute(stmt)).all())
