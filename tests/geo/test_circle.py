"""The service circle and grid coverage, against an independent computation with pyproj."""

from __future__ import annotations

import math
import random

import psycopg
import pytest
from shapely.geometry import Point
from sqlalchemy.ext.asyncio import AsyncSession

from geo.circles.coverage import grid_service_coverage
from geo.circles.reach import service_circle
from geo.coords import LonLat
from geo.merchants.service import update_merchant
from geo.merchants.taxonomy import BASIC_CATEGORIES, CATEGORIES
from geo.places.errors import NotFound, OutOfRange
from geo.places.walking import reach_radius_m
from tests.builders.places import (
    GEOD,
    ORIGIN,
    geodesic_m,
    make_merchant,
    make_service_point,
    offset,
    statements,
    with_tiny_district,
)
from tests.builders.shapes import square

pytestmark = pytest.mark.anyio

TIER_M = {c.code: reach_radius_m(c.reach_minutes or 0) for c in BASIC_CATEGORIES}


async def test_gaps_sit_just_outside_each_tier(db: AsyncSession) -> None:
    await make_merchant(db, category="convenience_store", location=offset(ORIGIN, 10, 307.0))
    await make_merchant(db, category="fresh_supermarket", location=offset(ORIGIN, 70, 308.5))
    await make_merchant(db, category="pharmacy", location=offset(ORIGIN, 130, 492.0))
    await make_merchant(db, category="breakfast_shop", location=offset(ORIGIN, 190, 493.0))
    await make_merchant(db, category="supermarket", location=offset(ORIGIN, 250, 922.5))
    resting = await make_merchant(db, category="laundry", location=offset(ORIGIN, 300, 20))
    await update_merchant(
        db, merchant_id=resting.id, expected_version=1, status="TEMPORARILY_CLOSED"
    )
    circle = await service_circle(db, ORIGIN)
    present = {"convenience_store", "pharmacy", "supermarket"}
    assert {c.code for c in circle.gaps} == {c.code for c in BASIC_CATEGORIES} - present
    assert circle.radius_m == pytest.approx(923.0769, abs=1e-3)


async def test_counts_and_nearest_three_match_pyproj(db: AsyncSession) -> None:
    rng = random.Random(3)
    codes = list(CATEGORIES)
    placed: list[tuple[str, LonLat]] = []
    for n in range(240):
        code = codes[n % 9] if n % 3 else rng.choice(codes)
        where = offset(ORIGIN, rng.uniform(0, 360), rng.uniform(0, 1_400))
        await make_merchant(db, name=f"店{n}", category=code, location=where)
        placed.append((code, where))
    for minutes in (15, 6):
        with statements(db) as seen:
            circle = await service_circle(db, ORIGIN, minutes)
        assert len(seen) == 3
        radius = reach_radius_m(minutes)
        for reach in circle.categories:
            distances = sorted(geodesic_m(ORIGIN, p) for c, p in placed if c == reach.category.code)
            inside = [d for d in distances if d <= radius]
            assert reach.count == len(inside)
            assert [n.distance_m for n in reach.nearest] == pytest.approx(inside[:3], abs=1e-4)
            assert all(n.walking_minutes <= minutes for n in reach.nearest)
        expected_gaps = {
            code
            for code, tier in TIER_M.items()
            if not any(c == code and geodesic_m(ORIGIN, p) <= tier for c, p in placed)
        }
        assert {c.code for c in circle.gaps} == expected_gaps


@pytest.mark.parametrize("azimuth", [0, 60, 135, 225, 300])
async def test_counts_at_the_circles_edge_are_geodesic(db: AsyncSession, azimuth: float) -> None:
    # Centimetres from the edge, the Mercator distance cannot tell in from out: those rows
    # are measured exactly (and surely-in and surely-out ones are not looked up at all).
    # Closed and temporarily closed shops are never counted.
    radius = reach_radius_m(15)
    edge = [
        offset(ORIGIN, azimuth, m) for m in (radius - 5, radius - 0.05, radius + 0.05, radius + 5)
    ]
    for where in edge:
        await make_merchant(db, category="pharmacy", location=where)
    for status in ("TEMPORARILY_CLOSED", "CLOSED"):
        shop = await make_merchant(db, category="pharmacy", location=offset(ORIGIN, azimuth, 10))
        await update_merchant(db, merchant_id=shop.id, expected_version=1, status=status)
    circle = await service_circle(db, ORIGIN, 15)
    (pharmacy,) = (c for c in circle.categories if c.category.code == "pharmacy")
    assert [geodesic_m(ORIGIN, p) <= radius for p in edge] == [True, True, False, False]
    assert pharmacy.count == 2
    assert sum(c.count for c in circle.categories) == 2


async def test_a_read_pool_connection_gives_the_same_circle(db: AsyncSession) -> None:
    rng = random.Random(8)
    for n in range(80):
        where = offset(ORIGIN, rng.uniform(0, 360), rng.uniform(0, 1_200))
        await make_merchant(db, name=f"店{n}", category=list(CATEGORIES)[n % 7], location=where)
    for metres in (150, 700):
        await make_service_point(db, location=offset(ORIGIN, 200, metres))
    raw = (await (await db.connection()).get_raw_connection()).driver_connection
    assert isinstance(raw, psycopg.AsyncConnection)  # the session's own, so it sees our rows
    on_session = await service_circle(db, ORIGIN, 12)
    assert sum(c.count for c in on_session.categories) > 20
    assert await service_circle(raw, ORIGIN, 12) == on_session


async def test_service_points_are_counted_per_kind(db: AsyncSession) -> None:
    for metres in (100, 200, 300, 400):
        await make_service_point(db, location=offset(ORIGIN, 45, metres))
    await make_service_point(db, kind="police_office", location=offset(ORIGIN, 0, 1_000))
    circle = await service_circle(db, ORIGIN)
    by_kind = {k.kind.value: k for k in circle.service_points}
    toilets = by_kind["public_toilet"]
    assert toilets.count == 4
    assert [round(n.distance_m) for n in toilets.nearest] == [100, 200, 300]
    assert by_kind["police_office"].count == 0  # 1,000 m is beyond 15 minutes (923 m)


@pytest.mark.parametrize("minutes", [0, 61, float("inf")])
async def test_minutes_out_of_range(db: AsyncSession, minutes: float) -> None:
    with pytest.raises(OutOfRange):
        await service_circle(db, ORIGIN, minutes)


def lattice(geometry: object, spacing_m: float) -> list[LonLat]:
    """Independent lattice: metres per degree measured with pyproj at the centroid."""
    centroid = geometry.centroid  # type: ignore[attr-defined]
    step = 1e-4
    lat_m = GEOD.inv(centroid.x, centroid.y - step / 2, centroid.x, centroid.y + step / 2)[2] / step
    lon_m = GEOD.inv(centroid.x - step / 2, centroid.y, centroid.x + step / 2, centroid.y)[2] / step
    dlat, dlon = spacing_m / lat_m, spacing_m / lon_m
    west, south, east, north = geometry.bounds  # type: ignore[attr-defined]
    return [
        LonLat(i * dlon, j * dlat)
        for i in range(math.ceil(west / dlon), math.floor(east / dlon) + 1)
        for j in range(math.ceil(south / dlat), math.floor(north / dlat) + 1)
        if geometry.covers(Point(i * dlon, j * dlat))  # type: ignore[attr-defined]
    ]


async def test_grid_coverage_matches_an_independent_lattice(db: AsyncSession) -> None:
    ids = await with_tiny_district(db)
    shops = [
        ("convenience_store", LonLat(ORIGIN.lon - 0.005, ORIGIN.lat - 0.005)),  # A's corner
        ("pharmacy", LonLat(ORIGIN.lon - 0.001, ORIGIN.lat - 0.0045)),
        ("supermarket", offset(ORIGIN, 0, 2_000)),  # outside, yet 15 minutes reach in
    ]
    for code, where in shops:
        await make_merchant(db, category=code, location=where)
    coverage = await grid_service_coverage(db, ids["D111A"], spacing_m=50)
    samples = lattice(square(0, 0, 5), 50)
    assert coverage.samples == len(samples) > 80
    for share in coverage.shares:
        tier = TIER_M[share.category.code]
        covered = sum(
            1
            for s in samples
            if any(c == share.category.code and geodesic_m(s, p) <= tier for c, p in shops)
        )
        assert share.covered == covered, share.category.code
        assert share.share == pytest.approx(covered / len(samples))
    assert 0 < coverage.shares[0].share < 1  # the convenience store covers part of A


async def test_coverage_of_a_tiny_grid_uses_one_inner_point(db: AsyncSession) -> None:
    ids = await with_tiny_district(db)
    coverage = await grid_service_coverage(db, ids["D111A"], spacing_m=1000)
    assert coverage.samples == 1
    assert all(s.covered == 0 for s in coverage.shares)


async def test_coverage_of_unknown_grid(db: AsyncSession) -> None:
    with pytest.raises(NotFound):
        await grid_service_coverage(db, 987_654)
    with pytest.raises(OutOfRange):
        await grid_service_coverage(db, 1, spacing_m=5)
