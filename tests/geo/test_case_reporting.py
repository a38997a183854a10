"""Reporting a case: routing reasons, the first event, idempotency (also under concurrent
retries on real connections), possible duplicates and input checks."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from geo.accounts.models import Role, Seat
from geo.cases.audit import case_trail
from geo.cases.categories import Channel, LocationSource, Stage, get_case_category
from geo.cases.chain import GENESIS
from geo.cases.errors import ChannelNotAllowed, IdempotencyKeyReused
from geo.cases.models import Case, CaseEvent
from geo.cases.queries import case_location
from geo.cases.reporting import report_case
from geo.cases.routing import RoutingReason
from geo.db import make_sessionmaker
from geo.errors import DomainError
from tests.builders.cases import T0, TINY_WORKERS, at, make_actor, report, tiny_grids
from tests.builders.databases import TEST_TRAIL_KEYS, truncate_all

pytestmark = pytest.mark.anyio


async def test_report_routes_to_the_micro_grid_worker_and_writes_the_first_event(
    db: AsyncSession,
) -> None:
    grids = await tiny_grids(db)
    resident = await make_actor(db, Role.RESIDENT)
    result = await report(
        db,
        actor=resident,
        point=at(2, 3),
        photo_urls=["https://img.example/1.jpg"],
        reporter_contact="13900000000",
        address="二七路8号院",
    )
    case = result.case
    assert result.created and result.possible_duplicates == ()
    assert (case.grid_id, case.routing_reason, case.status, case.version) == (
        grids["D111A"],
        RoutingReason.MICRO_GRID_WORKER,
        "reported",
        1,
    )
    assert case.number == f"2025-{int(case.number[5:]):06d}"
    assert case.reporter_user_id == resident.user_id and case.accuracy_m == 20.0
    assert case_location(case) == at(2, 3)
    assert case.deadline == get_case_category("street_vending").due(Stage.ACCEPT, T0)
    trail = await case_trail(db, case.id)
    (event,) = trail.events
    assert trail.check.ok and event.prev_hash == GENESIS and case.last_event_hash == event.hash
    assert (event.action, event.from_status, event.to_status) == ("reported", None, "reported")
    assert event.details["routing"] == "MICRO_GRID_WORKER"
    assert event.details["worker"] == "王伟" and event.details["grid"] == "D111A"


@pytest.mark.parametrize(
    ("workers", "reason", "worker"),
    [
        (TINY_WORKERS[1:], RoutingReason.NO_WORKER_FALLBACK_L3, "李强"),
        (TINY_WORKERS[2:], RoutingReason.NO_WORKER_FALLBACK_L2, "张敏"),
        (TINY_WORKERS[3:], RoutingReason.NO_WORKER_FALLBACK_L1, "刘洋"),
        ((), RoutingReason.NO_WORKER_DISTRICT_QUEUE, None),
    ],
)
async def test_a_micro_grid_without_worker_falls_back_up_the_levels(
    db: AsyncSession, workers: tuple, reason: RoutingReason, worker: str | None
) -> None:
    grids = await tiny_grids(db, workers)
    result = await report(db, actor=None, point=at(2, 3))
    assert (result.case.grid_id, result.case.routing_reason) == (grids["D111A"], reason)
    assert (result.case.assignee_worker_id is None) == (worker is None)
    assert result.routing is not None and result.routing.details.get("worker") == worker


async def test_outside_coverage_goes_to_the_district_queue(db: AsyncSession) -> None:
    await tiny_grids(db)
    result = await report(db, actor=None, point=at(12, 2))
    assert (result.case.grid_id, result.case.routing_reason) == (None, "OUTSIDE_COVERAGE")
    details = result.routing.details if result.routing else {}
    assert details["nearest_grid"] == "D111B"
    assert 2 * 0.001 * 111_320 * math.cos(math.radians(34.7)) * 0.99 < details["nearest_m"] < 190


@pytest.mark.parametrize(
    ("source", "accuracy_m", "point", "reason"),
    [
        (LocationSource.NETWORK, 10.0, at(2.5, 2.5), "COARSE_LOCATION"),  # 5 km at least
        (LocationSource.ADDRESS, 400.0, at(2.5, 2.5), "COARSE_LOCATION"),  # crosses D's edge
        (LocationSource.MAP_PICK, 200.0, at(2.5, 2.5), "MICRO_GRID_WORKER"),  # fits inside
        # Issue 14: 20 m around a point 1 m from micro-grid B is the L3 grid's (it was A's).
        (LocationSource.GPS, None, at(4.99, 2.5), "ACCURACY_CIRCLE_L3"),
    ],
)
async def test_coarse_locations_go_to_the_queue(
    db: AsyncSession,
    source: LocationSource,
    accuracy_m: float | None,
    point: object,
    reason: str,
) -> None:
    # Micro-grids of the tiny district are ~457 m x 555 m: equivalent radius ~284 m.
    await tiny_grids(db)
    result = await report(db, actor=None, point=point, source=source, accuracy_m=accuracy_m)
    assert result.case.routing_reason == reason
    assert (result.case.grid_id is None) == (reason == "COARSE_LOCATION")


async def test_a_retry_with_the_same_key_returns_the_same_case(db: AsyncSession) -> None:
    await tiny_grids(db)
    first = await report(db, actor=None, idempotency_key="k-1")
    again = await report(db, actor=None, idempotency_key="k-1", now=T0 + timedelta(minutes=1))
    assert first.created and not again.created and again.routing is None
    assert again.case.id == first.case.id and again.case.version == 1
    assert await db.scalar(select(func.count()).select_from(Case)) == 1
    assert await db.scalar(select(func.count()).select_from(CaseEvent)) == 1


async def test_a_key_reused_for_another_report_is_refused(db: AsyncSession) -> None:
    await tiny_grids(db)
    resident = await make_actor(db, Role.RESIDENT)
    await report(db, actor=resident, idempotency_key="k-2")
    with pytest.raises(IdempotencyKeyReused):
        await report(db, actor=None, idempotency_key="k-2")
    with pytest.raises(IdempotencyKeyReused):
        await report(db, actor=resident, idempotency_key="k-2", description="另一件事")


async def test_possible_duplicates_are_open_same_category_within_50_m_and_72_h(
    db: AsyncSession,
) -> None:
    await tiny_grids(db)
    base = at(2.5, 2.5)
    metres_per_unit = 0.001 * 110_950  # north-south, near 34.7° N
    north = lambda m: at(2.5, 2.5 + m / metres_per_unit)  # noqa: E731
    near = await report(db, actor=None, point=north(30), now=T0 - timedelta(hours=71))
    await report(db, actor=None, point=north(60), now=T0 - timedelta(hours=1))  # too far
    await report(db, actor=None, point=north(10), now=T0 - timedelta(hours=73))  # too old
    await report(db, actor=None, point=north(10), category="sanitation")  # other category
    result = await report(db, actor=None, point=base)
    assert [d.case_id for d in result.possible_duplicates] == [near.case.id]
    assert result.possible_duplicates[0].distance_m == pytest.approx(30, abs=0.5)


async def test_staff_channels_need_staff(db: AsyncSession) -> None:
    grids = await tiny_grids(db)
    resident = await make_actor(db, Role.RESIDENT)
    worker = await make_actor(db, Role.GRID_WORKER, grid_ids=[grids["D111"]])
    with pytest.raises(ChannelNotAllowed):
        await report(db, actor=resident, channel=Channel.PATROL)
    with pytest.raises(ChannelNotAllowed):
        await report(db, actor=None, channel=Channel.HOTLINE)
    result = await report(db, actor=worker, channel=Channel.QUICK_NOTE)
    assert result.case.channel == "quick_note"
    agent = await make_actor(db, Role.AGENT, seat=Seat.DISTRICT)
    assert (await report(db, actor=agent, channel=Channel.HOTLINE)).created


@pytest.mark.parametrize(
    "bad",
    [
        {"description": "  "},
        {"description": "x" * 4001},
        {"description": "a\x00b"},
        {"accuracy_m": float("nan")},
        {"accuracy_m": -1.0},
        {"photo_urls": ["javascript:alert(1)"]},
        {"photo_urls": ["https://x/1.jpg"] * 10},
        {"idempotency_key": "k" * 101},
        {"category": "no_such_category"},
    ],
)
async def test_bad_input_is_refused_before_writing(db: AsyncSession, bad: dict) -> None:
    await tiny_grids(db)
    with pytest.raises(DomainError):
        await report(db, actor=None, **bad)
    assert await db.scalar(select(func.count()).select_from(Case)) == 0


# --- concurrent retries on separate connections ----------------------------------------------


@pytest.fixture
async def committed_grids(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The tiny district committed in the shared test database; every table emptied after."""
    async with make_sessionmaker(engine, trail_keys=TEST_TRAIL_KEYS).begin() as session:
        await tiny_grids(session)
    yield engine
    await truncate_all(engine)


async def test_concurrent_retries_with_one_key_create_one_case(
    committed_grids: AsyncEngine,
) -> None:
    sessionmaker = make_sessionmaker(committed_grids, trail_keys=TEST_TRAIL_KEYS)

    async def attempt() -> tuple[int, bool]:
        async with sessionmaker.begin() as session:
            result = await report_case(
                session,
                actor=None,
                category="renovation_noise",
                description="周末装修电钻噪音",
                point=at(7, 7),
                location_source=LocationSource.GPS,
                idempotency_key="same-key-from-a-flaky-network",
            )
            return result.case.id, result.created

    results = await asyncio.gather(*(attempt() for _ in range(10)))
    assert len({case_id for case_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Case)) == 1
        assert await session.scalar(select(func.count()).select_from(CaseEvent)) == 1


@pytest.mark.parametrize(
    "bad", [{"channel": "carrier_pigeon"}, {"source": "astrology"}, {"category": "ufo"}]
)
async def test_unknown_names_are_domain_errors_naming_the_choices(
    db: AsyncSession, bad: dict
) -> None:
    await tiny_grids(db)
    with pytest.raises(DomainError, match=r"one of|known"):
        await report(db, actor=None, **bad)
