"""Merchants, service points and where to put them.

Positions are built with pyproj's Geod (GeographicLib on WGS 84), independently of
PostGIS: "300 m north-east of the origin" really is 300 m, and distances the code
returns are checked against ``geodesic_m``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from pyproj import Geod
from shapely import STRtree
from shapely.geometry import Point
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.coords import LonLat
from geo.grids.models import Grid
from geo.grids.service import import_grids
from geo.grids.synth import SynthGrid, synth_district
from geo.merchants.queries import MerchantRow
from geo.merchants.service import create_merchant
from geo.service_points.queries import ServicePointRow
from geo.service_points.service import create_service_point
from tests.builders.shapes import LAT0, LON0, tiny_district

GEOD = Geod(ellps="WGS84")
#: The centre of tests.builders.shapes.tiny_district (four 5×5 micro-grids around it).
ORIGIN = LonLat(LON0 + 0.005, LAT0 + 0.005)
#: The seeded district's centre (lon, lat), where the synthetic shops are densest.
CENTRE = (113.62, 34.725)


def offset(origin: LonLat, azimuth_deg: float, metres: float) -> LonLat:
    """The point ``metres`` away from ``origin`` along ``azimuth_deg`` (0 = north)."""
    lon, lat, _ = GEOD.fwd(origin.lon, origin.lat, azimuth_deg, metres)
    return LonLat(lon, lat)


def geodesic_m(a: LonLat, b: LonLat) -> float:
    return float(GEOD.inv(a.lon, a.lat, b.lon, b.lat)[2])


async def make_merchant(
    session: AsyncSession,
    *,
    name: str = "测试便利店",
    category: str = "convenience_store",
    location: LonLat = ORIGIN,
    **fields: Any,
) -> MerchantRow:
    return await create_merchant(session, name=name, category=category, location=location, **fields)


async def make_service_point(
    session: AsyncSession,
    *,
    kind: str = "public_toilet",
    name: str = "测试公厕",
    location: LonLat = ORIGIN,
    **fields: Any,
) -> ServicePointRow:
    return await create_service_point(session, kind=kind, name=name, location=location, **fields)


async def with_tiny_district(session: AsyncSession) -> dict[str, int]:
    """Imports tests.builders.shapes.tiny_district; returns grid ids by code."""
    await import_grids(session, tiny_district())
    rows = await session.execute(select(Grid.code, Grid.id))
    return dict(rows.all())


@contextmanager
def statements(session: AsyncSession) -> Iterator[list[str]]:
    """Collects the SQL statements the session sends while the block runs."""
    bind: Any = session.bind
    engine = getattr(bind, "sync_engine", None) or bind.engine.sync_engine
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@cache
def micro_grids() -> tuple[STRtree, list[SynthGrid]]:
    micros = [g for g in synth_district() if g.level == "MICRO"]
    return STRtree([g.geometry for g in micros]), micros


def covering_code(lon: float, lat: float) -> str | None:
    """Independently: the smallest code among micro-grids covering the point (shapely)."""
    tree, micros = micro_grids()
    p = Point(lon, lat)
    codes = [micros[i].code for i in tree.query(p) if micros[i].geometry.covers(p)]
    return min(codes) if codes else None
