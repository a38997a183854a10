"""nearby_merchants and friends, checked against pyproj's geodesics on a real PostGIS."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest
from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.coords import LonLat
from geo.merchants import queries
from geo.merchants.models import Merchant
from geo.merchants.queries import nearby_merchants
from geo.merchants.service import close_merchant, update_merchant
from geo.merchants.taxonomy import UnknownCategory
from geo.places.cursor import (
    decode_distance_cursor,
    decode_id_cursor,
    encode_distance_cursor,
    encode_id_cursor,
)
from geo.places.errors import InvalidCursor, InvalidField, OutOfRange
from tests.builders.places import (
    ORIGIN,
    geodesic_m,
    make_merchant,
    offset,
    statements,
    with_tiny_district,
)

pytestmark = pytest.mark.anyio

SHANGHAI = timezone(timedelta(hours=8))
CATEGORIES = ("convenience_store", "pharmacy", "restaurant", "cafe", "laundry", "fitness")


async def scatter(db: AsyncSession, count: int, *, max_m: float, seed: int = 7) -> None:
    """``count`` merchants at random bearings and distances up to ``max_m`` from ORIGIN."""
    rng = random.Random(seed)
    for n in range(count):
        where = offset(ORIGIN, rng.uniform(0, 360), rng.uniform(0, max_m))
        category = CATEGORIES[n % len(CATEGORIES)]
        await make_merchant(db, name=f"店{n}", category=category, location=where)


async def every_page(db: AsyncSession, **search: object) -> list[queries.Nearby]:  # type: ignore[type-arg]
    """Follows the cursor to the end; returns every row seen, in order."""
    seen: list[queries.Nearby] = []  # type: ignore[type-arg]
    after = None
    while True:
        page = await nearby_merchants(db, ORIGIN, after=after, **search)  # type: ignore[arg-type]
        seen += page.items
        if not page.has_next_page:
            return seen
        last = page.items[-1]
        after = decode_distance_cursor(encode_distance_cursor(last.distance_m, last.item.id))


async def test_order_and_distances_match_independent_geodesics(db: AsyncSession) -> None:
    await scatter(db, 150, max_m=1_500)
    found = await every_page(db, radius_m=1_000, limit=17)
    expected = sorted(
        (geodesic_m(ORIGIN, m.item.location), m.item.id) for m in found
    )  # same rows, independent distances
    assert [i for _, i in expected] == [m.item.id for m in found]
    for m in found:
        assert m.distance_m == pytest.approx(geodesic_m(ORIGIN, m.item.location), abs=1e-4)
        assert m.distance_m <= 1_000


async def test_paging_yields_every_row_in_the_circle_exactly_once(db: AsyncSession) -> None:
    await scatter(db, 120, max_m=900)
    twins = [await make_merchant(db, name=f"同址{n}", location=offset(ORIGIN, 45, 250))
             for n in range(5)]  # fmt: skip
    found = await every_page(db, radius_m=1_000, limit=7)
    ids = [m.item.id for m in found]
    assert len(ids) == len(set(ids)) == 125
    tied = [m.item.id for m in found if m.item.id in {t.id for t in twins}]
    assert tied == sorted(tied)  # equal distances: by id


async def test_planar_order_is_not_trusted(db: AsyncSession) -> None:
    # A degree of longitude is 0.82 of a degree of latitude here: 500 m north is fewer
    # degrees than 450 m east, yet farther.
    north = await make_merchant(db, name="北店", location=offset(ORIGIN, 0, 500))
    east = await make_merchant(db, name="东店", location=offset(ORIGIN, 90, 450))
    page = await nearby_merchants(db, ORIGIN, radius_m=1_000, limit=1)
    assert [m.item.id for m in page.items] == [east.id]
    assert page.has_next_page
    rest = await nearby_merchants(
        db, ORIGIN, radius_m=1_000, after=(page.items[0].distance_m, east.id)
    )
    assert [m.item.id for m in rest.items] == [north.id]


async def test_a_deeper_look_when_the_first_candidates_prove_nothing(db: AsyncSession) -> None:
    # Thirty shops at one door 500 m north fill the first candidates: all at the same
    # distance, they cannot prove that no unseen shop is as near, so the search must fetch
    # again, deeper; the one 450 m east is nearer and comes first either way.
    crowd = [
        await make_merchant(db, name=f"北{n}", location=offset(ORIGIN, 0, 500)) for n in range(30)
    ]
    east = await make_merchant(db, name="东店", location=offset(ORIGIN, 90, 450))
    with statements(db) as seen:
        page = await nearby_merchants(db, ORIGIN, radius_m=1_000, limit=3)
    assert [m.item.id for m in page.items] == [east.id, crowd[0].id, crowd[1].id]
    assert len(seen) > 1


async def test_paging_through_a_crowd_at_one_door(db: AsyncSession) -> None:
    # The cursor falls inside the crowd: rows at the cursor's distance are told apart by
    # id alone, and the crowd fills the first candidates of every later page.
    crowd = [
        await make_merchant(db, name=f"商场{n}", location=offset(ORIGIN, 200, 320))
        for n in range(30)
    ]
    await scatter(db, 20, max_m=900, seed=5)
    found = await every_page(db, radius_m=1_000, limit=4)
    ids = [m.item.id for m in found]
    assert len(ids) == len(set(ids)) == 50
    assert [i for i in ids if i in {c.id for c in crowd}] == sorted(c.id for c in crowd)
    assert [m.distance_m for m in found] == sorted(m.distance_m for m in found)


@pytest.mark.parametrize("azimuth", [0, 37, 90, 135, 180, 270])
async def test_radius_edge_is_geodesic_and_inclusive(db: AsyncSession, azimuth: float) -> None:
    inside = await make_merchant(db, name="里", location=offset(ORIGIN, azimuth, 999.99))
    await make_merchant(db, name="外", location=offset(ORIGIN, azimuth, 1_000.01))
    page = await nearby_merchants(db, ORIGIN, radius_m=1_000)
    assert [m.item.id for m in page.items] == [inside.id]


async def test_category_filter_uses_one_stream_per_category(db: AsyncSession) -> None:
    await scatter(db, 60, max_m=800)
    for wanted in (["pharmacy"], ["pharmacy", "cafe"], list(CATEGORIES[:5])):
        found = await every_page(db, radius_m=1_000, categories=wanted, limit=6)
        everything = await every_page(db, radius_m=1_000, limit=50)
        assert [m.item.id for m in found] == [
            m.item.id for m in everything if m.item.category in wanted
        ]


async def test_text_matches_chinese_substrings(db: AsyncSession) -> None:
    names = ["老王便利店", "德化街药房", "大学路超市", "好又多生鲜超市", "ＫＦＣ肯德基"]
    made = {n: await make_merchant(db, name=n, location=offset(ORIGIN, 10 * i, 100 + i))
            for i, n in enumerate(names)}  # fmt: skip

    async def matching(text: str) -> set[str]:
        page = await nearby_merchants(db, ORIGIN, radius_m=500, text=text)
        return {m.item.name for m in page.items}

    assert await matching("超市") == {"大学路超市", "好又多生鲜超市"}
    assert await matching("生鲜超") == {"好又多生鲜超市"}
    assert await matching("药") == {"德化街药房"}
    # Names are stored NFKC-normalised; queries are normalised and case-folded alike.
    assert await matching("kfc") == {"KFC肯德基"}
    assert await matching("ＫＦＣ肯") == {"KFC肯德基"}
    assert await matching("超市场") == set()  # bigrams 超市, 市场 alone are not enough
    assert await matching("  ") == set(made) - {"ＫＦＣ肯德基"} | {"KFC肯德基"}  # no filter


async def test_opening_hours_filter_honours_past_midnight(db: AsyncSession) -> None:
    late = await make_merchant(
        db,
        name="夜宵烧烤",
        category="restaurant",
        hours="Mo-Su 17:00-03:00",
        location=offset(ORIGIN, 0, 50),
    )
    always = await make_merchant(
        db, name="全天便利店", hours="24/7", location=offset(ORIGIN, 90, 60)
    )
    day = await make_merchant(
        db,
        name="白天药店",
        category="pharmacy",
        hours="Mo-Sa 08:00-20:00; Su off",
        location=offset(ORIGIN, 180, 70),
    )
    await make_merchant(db, name="不详", location=offset(ORIGIN, 270, 80))  # hours unknown
    resting = await make_merchant(db, name="歇业", hours="24/7", location=offset(ORIGIN, 45, 90))
    await update_merchant(db, merchant_id=resting.id, expected_version=1,
                          status="TEMPORARILY_CLOSED")  # fmt: skip

    async def open_at(when: datetime) -> set[int]:
        page = await nearby_merchants(db, ORIGIN, radius_m=500, open_at=when)
        return {m.item.id for m in page.items}

    monday_noon = datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)
    assert await open_at(monday_noon) == {always.id, day.id}
    sunday_2am = datetime(2026, 11, 29, 2, 0, tzinfo=SHANGHAI)  # Saturday's barbecue runs on
    assert await open_at(sunday_2am) == {late.id, always.id}
    monday_2am_utc = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)  # Monday 02:00 in Shanghai
    assert await open_at(monday_2am_utc) == {late.id, always.id}  # Sunday night wraps
    assert await open_at(datetime(2026, 11, 29, 12, 0, tzinfo=SHANGHAI)) == {always.id}


async def test_closed_merchants_are_left_out_but_still_found_by_id(db: AsyncSession) -> None:
    shop = await make_merchant(db)
    await close_merchant(db, merchant_id=shop.id, expected_version=1)
    assert (await nearby_merchants(db, ORIGIN)).items == ()
    found = await queries.get_merchant(db, shop.id)
    assert found is not None and found.status == "CLOSED"


async def test_a_read_pool_connection_gives_the_same_answer(db: AsyncSession) -> None:
    await scatter(db, 50, max_m=700)
    raw = (await (await db.connection()).get_raw_connection()).driver_connection
    assert isinstance(raw, psycopg.AsyncConnection)  # the session's own, so it sees our rows
    for search in ({}, {"categories": ["pharmacy", "cafe"]}, {"text": "店2"}):
        on_session = await nearby_merchants(db, ORIGIN, radius_m=800, limit=9, **search)  # type: ignore[arg-type]
        on_psycopg = await nearby_merchants(raw, ORIGIN, radius_m=800, limit=9, **search)  # type: ignore[arg-type]
        assert on_psycopg == on_session


async def test_nearby_is_one_statement(db: AsyncSession) -> None:
    await scatter(db, 40, max_m=600)
    for search in ({}, {"categories": ["pharmacy", "cafe"]}, {"text": "店1"}):
        with statements(db) as seen:
            await nearby_merchants(db, ORIGIN, radius_m=1_000, limit=5, **search)  # type: ignore[arg-type]
        assert len(seen) == 1, seen


@pytest.mark.parametrize(
    ("search", "error"),
    [
        ({"radius_m": 5_000.1}, OutOfRange),
        ({"radius_m": 0}, OutOfRange),
        ({"radius_m": float("nan")}, OutOfRange),
        ({"limit": 101}, OutOfRange),
        ({"limit": 0}, OutOfRange),
        ({"categories": ["pharmacy", "bakery"]}, UnknownCategory),
        ({"text": "超" * 51}, InvalidField),
        ({"after": (-1.0, 3)}, InvalidCursor),
    ],
)
async def test_bad_arguments_give_typed_errors(
    db: AsyncSession, search: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await nearby_merchants(db, ORIGIN, **search)  # type: ignore[arg-type]


def test_out_of_range_names_the_argument() -> None:
    error = OutOfRange("radiusM", 6000, 1, 5000)
    assert str(error) == "radiusM must be between 1 and 5000, got 6000"
    assert (error.argument, error.maximum) == ("radiusM", 5000)


@pytest.mark.parametrize("cursor", ["", "abc", "%%%", encode_id_cursor(3), "ZDp4eXo6MQ"])
def test_malformed_distance_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_distance_cursor(cursor)


def test_cursors_round_trip_exactly() -> None:
    distance = 123.45678901234567
    assert decode_distance_cursor(encode_distance_cursor(distance, 42)) == (distance, 42)
    assert decode_id_cursor(encode_id_cursor(42)) == 42
    with pytest.raises(InvalidCursor):
        decode_id_cursor(encode_distance_cursor(1.0, 1))


async def test_grid_subtree_lists_merchants_of_every_micro_grid_below(db: AsyncSession) -> None:
    ids = await with_tiny_district(db)
    a = await make_merchant(db, name="A店", location=LonLat(ORIGIN.lon - 0.002, ORIGIN.lat - 0.002))
    e = await make_merchant(db, name="E店", category="pharmacy",
                            location=LonLat(ORIGIN.lon + 0.002, ORIGIN.lat + 0.002))  # fmt: skip
    away = await make_merchant(db, name="远方", location=LonLat(ORIGIN.lon + 1, ORIGIN.lat))
    assert (a.grid_id, e.grid_id, away.grid_id) == (ids["D111A"], ids["D111E"], None)
    assert away.outside_coverage
    whole = await queries.merchants_in_grid_subtree(db, ids["D1"], limit=1)
    assert [m.id for m in whole.items] == [a.id] and whole.has_next_page
    rest = await queries.merchants_in_grid_subtree(db, ids["D1"], after_id=a.id)
    assert [m.id for m in rest.items] == [e.id] and not rest.has_next_page
    only = await queries.merchants_in_grid_subtree(db, ids["D"], categories=["pharmacy"])
    assert [m.id for m in only.items] == [e.id]
    micro = await queries.merchants_in_grid_subtree(db, ids["D111A"])
    assert [m.id for m in micro.items] == [a.id]


async def test_batch_loaders_answer_in_one_statement(db: AsyncSession) -> None:
    ids = await with_tiny_district(db)
    a1 = await make_merchant(db, location=LonLat(ORIGIN.lon - 0.002, ORIGIN.lat - 0.002))
    a2 = await make_merchant(db, location=LonLat(ORIGIN.lon - 0.003, ORIGIN.lat - 0.001))
    with statements(db) as seen:
        by_id = await queries.merchants_by_ids(db, [a2.id, 999_999, a1.id])
        by_grid = await queries.merchants_by_grid_ids(db, [ids["D111A"], ids["D111B"]])
    assert len(seen) == 2
    assert set(by_id) == {a1.id, a2.id}
    assert [m.id for m in by_grid[ids["D111A"]]] == [a1.id, a2.id]
    assert by_grid[ids["D111B"]] == []
    capped = await queries.merchants_by_grid_ids(db, [ids["D111A"]], limit_per_grid=1)
    assert [m.id for m in capped[ids["D111A"]]] == [a1.id]


@pytest.mark.parametrize("chosen", [["pharmacy"], ["pharmacy", "cafe"]])
async def test_paging_by_category_yields_exactly_that_category_in_order(
    db: AsyncSession, chosen: list[str]
) -> None:
    # One category reads its band of the category index directly, several through a
    # stream each: both must page through the same rows a brute-force check finds.
    await scatter(db, 180, max_m=1_200, seed=11)
    found = await every_page(db, radius_m=1_000, limit=4, categories=chosen)
    shops = (await db.execute(select(Merchant))).scalars().all()
    expected = sorted(
        (geodesic_m(ORIGIN, LonLat(*to_shape(m.location).coords[0])), m.id)
        for m in shops
        if m.category in chosen
    )
    expected = [e for e in expected if e[0] <= 1_000]
    assert [m.item.id for m in found] == [i for _, i in expected]
    assert {m.item.category for m in found} == set(chosen)
