"""Writing merchants and service points: validation, grid assignment, optimistic concurrency."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.coords import InvalidCoordinate, LonLat
from geo.grids.models import Grid
from geo.grids.synth import DISTRICT_BOUNDS
from geo.merchants.models import Merchant
from geo.merchants.service import close_merchant, create_merchant, update_merchant
from geo.merchants.taxonomy import UnknownCategory
from geo.places.errors import InvalidField, NotFound, VersionConflict
from geo.places.hours import InvalidOpeningHours
from geo.places.phones import InvalidPhone
from geo.service_points.kinds import UnknownServicePointKind
from geo.service_points.service import update_service_point
from tests.builders.places import (
    ORIGIN,
    covering_code,
    make_merchant,
    make_service_point,
    offset,
    with_tiny_district,
)

pytestmark = pytest.mark.anyio


async def test_create_normalises_and_stores_every_field(db: AsyncSession) -> None:
    ids = await with_tiny_district(db)
    shop = await create_merchant(
        db,
        name="  老王便利店 ",
        category="convenience_store",
        location=LonLat(ORIGIN.lon + 0.001, ORIGIN.lat + 0.001),
        phone="+86 138 0013 8000",
        address="二七区德化街1号",
        hours="Mo-Fr 07:00-23:00; Sa,Su 08:00-02:00",
        verified=True,
    )
    assert (shop.name, shop.phone, shop.version, shop.status) == (
        "老王便利店",
        "13800138000",
        1,
        "OPEN",
    )
    assert shop.grid_id == ids["D111E"] and not shop.outside_coverage
    hours = shop.opening_hours()
    assert hours is not None and len(hours.intervals) == 7
    assert shop.hours_text == "Mo-Fr 07:00-23:00; Sa,Su 08:00-02:00"  # canonical form, stored
    stored = await db.scalar(select(Merchant.open_minutes).where(Merchant.id == shop.id))
    ranges = [(r.lower, r.upper) for r in stored]
    assert ranges[-1] == (8640 + 480, 10080)  # Sunday 08:00 to the end of the week ...
    assert ranges[0] == (0, 120)  # ... and on into Monday until 02:00


async def test_location_outside_every_grid_is_kept_and_flagged(db: AsyncSession) -> None:
    await with_tiny_district(db)
    shop = await make_merchant(db, location=offset(ORIGIN, 90, 5_000))
    assert shop.outside_coverage and shop.grid_id is None
    assert await db.scalar(select(func.count()).select_from(Merchant)) == 1


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"category": "bakery"}, UnknownCategory),
        ({"phone": "12345"}, InvalidPhone),
        ({"phone": "67891234"}, InvalidPhone),  # no area code
        ({"hours": "Mo-Fr 9-17"}, InvalidOpeningHours),
        ({"name": "   "}, InvalidField),
        ({"name": "店" * 201}, InvalidField),
        ({"status": "GONE"}, InvalidField),
    ],
)
async def test_bad_input_gives_typed_errors(
    db: AsyncSession, fields: dict[str, str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await make_merchant(db, **fields)  # type: ignore[arg-type]


def test_bad_coordinates_are_refused_before_any_write() -> None:
    with pytest.raises(InvalidCoordinate):
        LonLat(113.6, 95.0)


async def test_update_changes_given_fields_and_bumps_the_version(db: AsyncSession) -> None:
    ids = await with_tiny_district(db)
    shop = await make_merchant(db, phone="13800138000", location=offset(ORIGIN, 225, 200))
    assert shop.grid_id == ids["D111A"]
    moved = await update_merchant(
        db,
        merchant_id=shop.id,
        expected_version=1,
        location=offset(ORIGIN, 45, 200),
        phone=None,
        category="pharmacy",
    )
    assert (moved.version, moved.grid_id, moved.phone, moved.category) == (
        2,
        ids["D111E"],
        None,
        "pharmacy",
    )
    assert moved.name == shop.name  # untouched
    assert moved.updated_at >= shop.updated_at


async def test_stale_version_is_a_conflict_that_names_the_current_one(db: AsyncSession) -> None:
    shop = await make_merchant(db)
    await update_merchant(db, merchant_id=shop.id, expected_version=1, name="新名字")
    with pytest.raises(VersionConflict) as conflict:
        await update_merchant(db, merchant_id=shop.id, expected_version=1, name="旧版本的改动")
    assert (conflict.value.expected_version, conflict.value.current_version) == (1, 2)
    with pytest.raises(VersionConflict):
        await close_merchant(db, merchant_id=shop.id, expected_version=1)
    closed = await close_merchant(db, merchant_id=shop.id, expected_version=2)
    assert (closed.status, closed.version) == ("CLOSED", 3)


async def test_unknown_merchant_is_not_found(db: AsyncSession) -> None:
    with pytest.raises(NotFound):
        await update_merchant(db, merchant_id=424242, expected_version=1, name="x")


async def test_service_points_follow_the_same_rules(db: AsyncSession) -> None:
    ids = await with_tiny_district(db)
    toilet = await make_service_point(db, location=offset(ORIGIN, 225, 100), hours="24/7")
    assert toilet.grid_id == ids["D111A"] and toilet.phone is None
    station = await update_service_point(
        db,
        point_id=toilet.id,
        expected_version=1,
        kind="community_service_station",
        name="德化街社区服务站",
        phone="0371-67891234",
    )
    assert (station.kind, station.version, station.phone) == (
        "community_service_station",
        2,
        "0371-67891234",
    )
    with pytest.raises(VersionConflict):
        await update_service_point(db, point_id=toilet.id, expected_version=1, name="x")
    with pytest.raises(UnknownServicePointKind):
        await make_service_point(db, kind="bank")


async def test_grid_assignment_matches_shapely_on_the_synthetic_district(
    seeded_db: AsyncSession,
) -> None:
    rng = random.Random(4)
    west, south, east, north = DISTRICT_BOUNDS
    for _ in range(60):
        where = LonLat(rng.uniform(west, east), rng.uniform(south, north))
        shop = await make_merchant(seeded_db, location=where)
        expected = covering_code(where.lon, where.lat)
        code = await seeded_db.scalar(select(Grid.code).where(Grid.id == shop.grid_id))
        assert code == expected
        assert shop.outside_coverage == (expected is None)
