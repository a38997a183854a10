"""Reading service points: nearest first with kind, text and hours filters; by grid."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from geo.places.errors import OutOfRange
from geo.service_points import queries
from geo.service_points.kinds import UnknownServicePointKind
from tests.builders.places import (
    ORIGIN,
    geodesic_m,
    make_service_point,
    offset,
    statements,
    with_tiny_district,
)

pytestmark = pytest.mark.anyio

SHANGHAI = timezone(timedelta(hours=8))


async def test_nearest_first_with_filters(db: AsyncSession) -> None:
    toilet = await make_service_point(db, location=offset(ORIGIN, 0, 300), hours="24/7")
    station = await make_service_point(
        db,
        kind="community_service_station",
        name="德化街社区服务站",
        location=offset(ORIGIN, 90, 120),
        hours="Mo-Fr 08:30-12:00,14:30-18:00",
    )
    police = await make_service_point(
        db, kind="police_office", name="德化街社区警务室", location=offset(ORIGIN, 180, 200)
    )
    page = await queries.nearby_service_points(db, ORIGIN, radius_m=500)
    assert [n.item.id for n in page.items] == [station.id, police.id, toilet.id]
    assert page.items[0].distance_m == pytest.approx(geodesic_m(ORIGIN, station.location), abs=1e-4)

    async def ids(**search: object) -> list[int]:
        search = {"radius_m": 500, **search}
        found = await queries.nearby_service_points(db, ORIGIN, **search)  # type: ignore[arg-type]
        return [n.item.id for n in found.items]

    assert await ids(kinds=["public_toilet", "police_office"]) == [police.id, toilet.id]
    assert await ids(text="德化街") == [station.id, police.id]
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)
    assert await ids(open_at=saturday) == [toilet.id]  # unknown hours never match
    assert await ids(limit=1) == [station.id]
    with pytest.raises(UnknownServicePointKind):
        await ids(kinds=["bank"])
    with pytest.raises(OutOfRange):
        await ids(radius_m=10_000)


async def test_by_grid_and_by_id_in_one_statement_each(db: AsyncSession) -> None:
    grid = await with_tiny_district(db)
    west = await make_service_point(db, location=offset(ORIGIN, 225, 150))
    east = await make_service_point(db, kind="reading_room", location=offset(ORIGIN, 45, 150))
    with statements(db) as seen:
        by_id = await queries.service_points_by_ids(db, [east.id, west.id])
        by_grid = await queries.service_points_by_grid_ids(db, [grid["D111A"], grid["D111E"]])
        subtree = await queries.service_points_in_grid_subtree(db, grid["D11"], limit=1)
    assert len(seen) == 3
    assert set(by_id) == {west.id, east.id}
    assert [p.id for p in by_grid[grid["D111A"]]] == [west.id]
    assert [p.id for p in by_grid[grid["D111E"]]] == [east.id]
    assert [p.id for p in subtree.items] == [west.id] and subtree.has_next_page
    only = await queries.service_points_in_grid_subtree(db, grid["D"], kinds=["reading_room"])
    assert [p.id for p in only.items] == [east.id]
    assert await queries.get_service_point(db, 123_456) is None
