"""Routing a point to its grid, checked independently with shapely and pyproj."""

from __future__ import annotations

from functools import cache

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer
from shapely.geometry import Point as ShapelyPoint
from shapely.strtree import STRtree
from sqlalchemy.ext.asyncio import AsyncSession

from geo.coords import LonLat
from geo.grids import queries
from geo.grids.queries import Covered, Outside
from geo.grids.service import import_grids
from geo.grids.synth import DISTRICT_BOUNDS, SynthGrid, synth_district
from tests.builders.shapes import LAT0, LON0, tiny_district

pytestmark = pytest.mark.anyio

GEOD = Geod(ellps="WGS84")
_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32649", always_xy=True)


def utm(geometry):  # type: ignore[no-untyped-def]
    """The geometry in UTM zone 49N metres (the district's zone)."""
    return shapely.transform(geometry, lambda x, y: _UTM.transform(x, y), interleaved=False)


@cache
def district() -> dict[str, SynthGrid]:
    return {g.code: g for g in synth_district()}


@cache
def micro_index() -> tuple[STRtree, list[SynthGrid]]:
    micros = [g for g in district().values() if g.level == "MICRO"]
    return STRtree([g.geometry for g in micros]), micros


def covering_micros(lon: float, lat: float) -> list[SynthGrid]:
    tree, micros = micro_index()
    p = ShapelyPoint(lon, lat)
    return [micros[i] for i in tree.query(p) if micros[i].geometry.covers(p)]


def metres_to_boundary(grid: SynthGrid, lon: float, lat: float) -> float:
    """Independent: distance in UTM 49N metres (scale error < 0.1 % here)."""
    boundary = utm(grid.geometry.boundary)
    return boundary.distance(utm(ShapelyPoint(lon, lat)))


def chain(code: str) -> list[str]:
    out: list[str] = []
    grid: SynthGrid | None = district()[code]
    while grid is not None:
        out.append(grid.code)
        grid = district().get(grid.parent_code) if grid.parent_code else None
    return out[::-1]


lons = st.floats(DISTRICT_BOUNDS[0] - 0.01, DISTRICT_BOUNDS[2] + 0.01)
lats = st.floats(DISTRICT_BOUNDS[1] - 0.01, DISTRICT_BOUNDS[3] + 0.01)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(lon=lons, lat=lats)
async def test_random_points_route_to_the_one_covering_micro_grid(
    seeded_db: AsyncSession, lon: float, lat: float
) -> None:
    expected = covering_micros(lon, lat)
    found = await queries.route_point(seeded_db, LonLat(lon, lat), near_m=20.0)
    if not expected:
        assert isinstance(found, Outside)
        assert found.nearest is not None and found.nearest.distance_m > 0
        return
    assert isinstance(found, Covered)
    assert found.grid.level == "MICRO"
    assert found.grid.code == min(g.code for g in expected)
    grid = district()[found.grid.code]
    assert grid.geometry.covers(ShapelyPoint(lon, lat))
    ancestors = await queries.grids_by_ids(seeded_db, found.grid.path)
    assert [ancestors[i].code for i in found.grid.path] == chain(grid.code)
    for code in chain(grid.code):  # containment all the way up
        assert district()[code].geometry.covers(ShapelyPoint(lon, lat))
    independent = metres_to_boundary(grid, lon, lat)
    assert found.distance_to_edge_m == pytest.approx(independent, rel=0.01, abs=0.05)
    if independent > 21:
        assert found.others == ()


async def test_shared_vertex_goes_to_the_smallest_code(seeded_db: AsyncSession) -> None:
    _, micros = micro_index()
    counts: dict[tuple[float, float], list[str]] = {}
    for g in micros[:400]:
        for polygon in g.geometry.geoms:
            for xy in polygon.exterior.coords[:-1]:
                counts.setdefault(xy, []).append(g.code)
    shared = [(xy, codes) for xy, codes in counts.items() if len(set(codes)) >= 3][:20]
    assert shared, "the synthetic district has vertices shared by three grids"
    for (lon, lat), _codes in shared:
        covering = covering_micros(lon, lat)
        assert len(covering) >= 3
        found = await queries.route_point(seeded_db, LonLat(lon, lat))
        assert isinstance(found, Covered)
        assert found.grid.code == min(g.code for g in covering)
        assert found.distance_to_edge_m == pytest.approx(0, abs=1e-6)
        assert {c.grid.code for c in found.others} >= {g.code for g in covering} - {found.grid.code}


async def test_point_outside_gets_the_nearest_grid_and_true_distance(
    seeded_db: AsyncSession,
) -> None:
    lon, lat = DISTRICT_BOUNDS[0] - 0.02, (DISTRICT_BOUNDS[1] + DISTRICT_BOUNDS[3]) / 2
    found = await queries.route_point(seeded_db, LonLat(lon, lat))
    assert isinstance(found, Outside) and found.nearest is not None
    p = utm(ShapelyPoint(lon, lat))
    distances = {
        g.code: utm(g.geometry).distance(p) for g in district().values() if g.level == "MICRO"
    }
    nearest = min(distances, key=distances.__getitem__)
    assert found.nearest.grid.code == nearest
    assert found.nearest.distance_m == pytest.approx(distances[nearest], rel=0.01)


async def test_far_away_point_is_outside(seeded_db: AsyncSession) -> None:
    found = await queries.route_point(seeded_db, LonLat(-0.1276, 51.5072))  # London
    assert isinstance(found, Outside)
    assert found.nearest is not None and found.nearest.distance_m > 8_000_000


# -- drawn on paper: four 5×5 micro-grids ------------------------------------------------------


async def test_point_on_a_shared_edge_goes_to_the_smaller_code(db: AsyncSession) -> None:
    await import_grids(db, tiny_district())
    on_edge = LonLat(LON0 + 0.005, LAT0 + 0.0025)  # the A|B edge
    found = await queries.route_point(db, on_edge)
    assert isinstance(found, Covered)
    assert found.grid.code == "D111A"
    assert found.distance_to_edge_m == pytest.approx(0, abs=1e-6)
    assert [c.grid.code for c in found.others] == ["D111B"]


async def test_centre_vertex_of_four_grids(db: AsyncSession) -> None:
    await import_grids(db, tiny_district())
    found = await queries.route_point(db, LonLat(LON0 + 0.005, LAT0 + 0.005))
    assert isinstance(found, Covered)
    assert found.grid.code == "D111A"
    assert sorted(c.grid.code for c in found.others) == ["D111B", "D111C", "D111E"]


async def test_near_boundary_lists_the_neighbour_with_geodesic_distance(
    db: AsyncSession,
) -> None:
    await import_grids(db, tiny_district())
    edge_lon, lat = LON0 + 0.005, LAT0 + 0.0025
    lon, _, _ = GEOD.fwd(edge_lon, lat, 270, 7.0)  # 7 m west of the A|B edge, inside A
    found = await queries.route_point(db, LonLat(lon, lat), near_m=20)
    assert isinstance(found, Covered)
    assert found.grid.code == "D111A"
    assert found.distance_to_edge_m == pytest.approx(7.0, abs=0.05)
    (other,) = found.others
    assert other.grid.code == "D111B"
    assert other.distance_m == pytest.approx(7.0, abs=0.05)
    # Farther than the threshold: no candidates.
    lon, _, _ = GEOD.fwd(edge_lon, lat, 270, 30.0)
    found = await queries.route_point(db, LonLat(lon, lat), near_m=20)
    assert isinstance(found, Covered) and found.others == ()


async def test_point_on_outer_vertex_is_covered(db: AsyncSession) -> None:
    await import_grids(db, tiny_district())
    found = await queries.route_point(db, LonLat(LON0, LAT0))
    assert isinstance(found, Covered)
    assert found.grid.code == "D111A"
