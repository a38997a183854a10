"""geo.cases.sweeper: verified cases close once their evaluation window has passed (and not
before), unevaluated and counted so; missed deadlines are marked once each; of concurrent
sweeps each case is closed exactly once, with the leader lock and without it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from geo.cases.models import Case, CaseEvent
from geo.cases.stats import case_stats
from geo.cases.sweeper import SWEEP_LOCK_KEY, close_unevaluated, sweep
from geo.cases.workflow import Action, CaseStatus, evaluation_expires_at
from geo.db import make_sessionmaker
from tests.builders.cases import T0, case_in, make_cast, take
from tests.builders.databases import TEST_TRAIL_KEYS, truncate_all

pytestmark = pytest.mark.anyio

#: Well past every evaluation window of cases verified around T0.
LATER = T0 + timedelta(days=30)


async def test_a_case_closes_unevaluated_once_its_window_has_passed(db: AsyncSession) -> None:
    cast = await make_cast(db)
    case = await case_in(db, cast, CaseStatus.VERIFIED)
    assert case.verified_at is not None
    ends = evaluation_expires_at(case.verified_at)
    before = await sweep(db, now=ends - timedelta(seconds=1))
    assert before.ran and before.closed == () and case.status == CaseStatus.VERIFIED
    after = await sweep(db, now=ends)
    assert after.closed == (case.number,)
    await db.refresh(case)
    assert (case.status, case.satisfaction, case.closed_at) == ("closed", None, ends)
    assert case.evaluation_count == 0 and case.close_work_hours is not None
    last = await db.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == case.version)
    )
    assert last is not None
    assert (last.action, last.actor_role, last.actor_id) == (Action.CLOSE.value, "system", None)
    assert (await sweep(db, now=ends + timedelta(days=1))).closed == ()  # nothing twice


async def test_stats_count_it_closed_and_not_satisfied(db: AsyncSession) -> None:
    cast = await make_cast(db)
    quiet = await case_in(db, cast, CaseStatus.VERIFIED)
    happy = await case_in(db, cast, CaseStatus.EVALUATED)
    await take(db, cast, happy, Action.CLOSE)
    await sweep(db, now=LATER)
    (row,) = await case_stats(db, now=LATER + timedelta(seconds=1))
    assert (row.received, row.closed, row.evaluated, row.satisfied) == (2, 2, 1, 1)
    assert row.satisfaction_rate == 1.0 and row.closure_rate == 1.0
    assert (await db.get(Case, quiet.id)).satisfaction is None  # type: ignore[union-attr]


async def test_missed_deadlines_are_marked_once_each(db: AsyncSession) -> None:
    cast = await make_cast(db)
    case = await case_in(db, cast, CaseStatus.DISPATCHED)
    deadline = case.deadline
    assert deadline is not None
    assert (await sweep(db, now=deadline)).marked_overdue == 0  # due now, not yet late
    assert (await sweep(db, now=deadline + timedelta(minutes=1))).marked_overdue == 1
    assert (await sweep(db, now=deadline + timedelta(days=1))).marked_overdue == 0
    await db.refresh(case)
    assert (case.overdue_since, case.overdue_stage) == (deadline, "handle")
    late = deadline + timedelta(days=1)
    extended = (await take(db, cast, case, Action.EXTEND, now=late)).case
    assert extended.deadline is not None and extended.deadline > late
    assert (await sweep(db, now=extended.deadline - timedelta(minutes=1))).marked_overdue == 0
    assert (await sweep(db, now=extended.deadline + timedelta(minutes=1))).marked_overdue == 1
    await db.refresh(case)
    assert case.overdue_since == extended.deadline


@pytest.fixture
async def committed(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on committed data (concurrent sweeps need their own connections)."""
    yield make_sessionmaker(engine, trail_keys=TEST_TRAIL_KEYS)
    await truncate_all(engine)


async def verified_cases(sessionmaker: async_sessionmaker[AsyncSession], n: int) -> set[int]:
    async with sessionmaker.begin() as session:
        cast = await make_cast(session)
        return {(await case_in(session, cast, CaseStatus.VERIFIED)).id for _ in range(n)}


async def closes_per_case(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[int, int]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(CaseEvent.case_id, func.count())
            .where(CaseEvent.action == Action.CLOSE.value)
            .group_by(CaseEvent.case_id)
        )
        return dict(rows.all())


async def test_concurrent_sweeps_close_each_case_exactly_once(
    committed: async_sessionmaker[AsyncSession],
) -> None:
    ids = await verified_cases(committed, 12)

    async def one_sweep() -> tuple[bool, tuple[str, ...]]:
        async with committed.begin() as session:
            report = await sweep(session, now=LATER)
            await asyncio.sleep(0.05)  # hold the lock a moment, as a longer sweep would
            return report.ran, report.closed

    reports = await asyncio.gather(*(one_sweep() for _ in range(4)))
    closed = [number for _, numbers in reports for number in numbers]
    assert len(closed) == len(set(closed)) == 12
    assert sum(ran for ran, _ in reports) < 4, "the others found the leader's lock taken"
    assert await closes_per_case(committed) == dict.fromkeys(ids, 1)


async def test_without_the_lock_the_version_check_still_closes_each_once(
    committed: async_sessionmaker[AsyncSession],
) -> None:
    ids = await verified_cases(committed, 12)

    async def close() -> tuple[str, ...]:
        async with committed.begin() as session:
            return await close_unevaluated(session, now=LATER)

    results = await asyncio.gather(close(), close(), close())
    assert sorted(n for numbers in results for n in numbers) == sorted(
        n for numbers in results for n in set(numbers)
    )
    assert sum(len(numbers) for numbers in results) == 12
    assert await closes_per_case(committed) == dict.fromkeys(ids, 1)


async def test_a_sweep_gives_way_to_a_running_one(
    committed: async_sessionmaker[AsyncSession],
) -> None:
    await verified_cases(committed, 1)
    async with committed.begin() as leader:
        await leader.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK_KEY})
        async with committed.begin() as other:
            assert (await sweep(other, now=LATER)).ran is False
    async with committed.begin() as after:  # the lock went with the leader's transaction
        report = await sweep(after, now=LATER)
    assert report.ran and len(report.closed) == 1
