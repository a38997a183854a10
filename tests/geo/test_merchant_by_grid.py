"""Merchants and service points of several grid subtrees in one statement; coverage budget."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from geo.circles.coverage import CoverageBudgetSpent, SampleBudget, coverage_of_grids
from geo.circles.queries import CircleCodeNotFound, circle_of_code, get_circle_code
from geo.circles.service import create_circle_code, new_code, retire_circle_code
from geo.merchants.queries import merchants_of_grids
from geo.merchants.service import close_merchant
from geo.merchants.taxonomy import UnknownCategory
from geo.places.by_grid import GridListing
from geo.places.errors import NotFound
from geo.service_points.queries import service_points_of_grids
from tests.builders.places import (
    ORIGIN,
    make_merchant,
    make_service_point,
    offset,
    statements,
    with_tiny_district,
)

pytestmark = pytest.mark.anyio


async def test_lists_of_several_subtrees_in_one_statement(db: AsyncSession) -> None:
    ids = await with_tiny_district(db)
    a = offset(ORIGIN, 225, 150)  # south-west: micro-grid A
    e = offset(ORIGIN, 45, 150)  # north-east: micro-grid E
    in_a = [await make_merchant(db, name=f"A{i}", location=a) for i in range(3)]
    in_e = await make_merchant(db, name="E0", location=e, category="pharmacy")
    closed = await make_merchant(db, name="A-closed", location=a)
    await close_merchant(db, merchant_id=closed.id, expected_version=1)
    await make_service_point(db, location=e)
    keys = [
        GridListing(ids["D111A"], limit=2),
        GridListing(ids["D111E"], limit=2),
        GridListing(ids["D111"], limit=10),  # the L3 grid: both micro-grids below it
        GridListing(ids["D111"], limit=10, only=("pharmacy",)),
        GridListing(ids["D111A"], limit=2, after_id=in_a[1].id),
    ]
    with statements(db) as sent:
        pages = await merchants_of_grids(db, keys)
    assert len(sent) == 4, "one statement per listing shape, not per grid"
    names = {k: [m.name for m in p.items] for k, p in pages.items()}
    assert names[keys[0]] == ["A0", "A1"] and pages[keys[0]].has_next_page
    assert names[keys[1]] == ["E0"] and not pages[keys[1]].has_next_page
    assert names[keys[2]] == ["A0", "A1", "A2", "E0"]
    assert names[keys[3]] == ["E0"]
    assert names[keys[4]] == ["A2"]
    assert in_e.category == "pharmacy"
    points = await service_points_of_grids(
        db, [GridListing(ids["D"], 5), GridListing(ids["D111A"], 5)]
    )
    assert [len(p.items) for p in points.values()] == [1, 0]
    with pytest.raises(UnknownCategory):
        await merchants_of_grids(db, [GridListing(ids["D"], 5, only=("nope",))])


async def test_broad_grids_list_the_same_rows_in_primary_key_order(db: AsyncSession) -> None:
    ids = await with_tiny_district(db)
    spots = [offset(ORIGIN, bearing, 150) for bearing in (225, 45, 135, 315)]
    made = [await make_merchant(db, name=f"M{i}", location=spots[i % 4]) for i in range(9)]
    closed = await make_merchant(db, name="gone", location=spots[0])
    await close_merchant(db, merchant_id=closed.id, expected_version=1)
    inside = sorted(m.id for m in made if m.grid_id is not None)
    assert len(inside) >= 5, "most of them fall in micro-grids of the tiny district"
    for depth, code in ((1, "D"), (2, "D1"), (5, "D")):  # depth 5: the per-grid runs
        key = GridListing(ids[code], 3, depth=depth)
        first = (await merchants_of_grids(db, [key]))[key]
        assert [m.id for m in first.items] == inside[:3] and first.has_next_page, (depth, code)
        after = GridListing(ids[code], 50, after_id=inside[2], depth=depth)
        rest = (await merchants_of_grids(db, [after]))[after]
        assert [m.id for m in rest.items] == inside[3:] and not rest.has_next_page


async def test_coverage_stops_when_the_budget_is_spent(db: AsyncSession) -> None:
    ids = await with_tiny_district(db)
    keys = [(ids["D111A"], 50.0), (ids["D111B"], 50.0), (ids["D111C"], 5.0), (999_999, 50.0)]
    found = await coverage_of_grids(db, keys, budget=SampleBudget(left=1))
    assert found[keys[0]].samples > 0  # type: ignore[union-attr]
    assert isinstance(found[keys[1]], CoverageBudgetSpent)
    assert isinstance(found[keys[2]], CoverageBudgetSpent)
    plenty = await coverage_of_grids(db, keys[2:])
    assert "spacingM" in str(plenty[keys[2]]) and isinstance(plenty[keys[3]], NotFound)


async def test_circle_codes(db: AsyncSession) -> None:
    ids = await with_tiny_district(db)
    made = await create_circle_code(db, name=" 公告栏 ", center=ORIGIN)
    assert made.name == "公告栏" and made.grid_id in {
        ids[c] for c in ("D111A", "D111B", "D111C", "D111E")
    }
    assert len(made.code) == 10 and len({new_code() for _ in range(100)}) == 100
    place, circle = await circle_of_code(db, made.code)
    assert place == made and circle.minutes == 15
    retired = await retire_circle_code(db, code=made.code)
    assert retired.retired_at is not None and not retired.active
    assert await get_circle_code(db, made.code) is None
    assert (await get_circle_code(db, made.code, include_retired=True)) == retired
    with pytest.raises(CircleCodeNotFound):
        await circle_of_code(db, made.code)
    with pytest.raises(CircleCodeNotFound):
        await retire_circle_code(db, code="never-issued")
