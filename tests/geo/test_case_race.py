"""Real concurrency: 50 connections act on one case at once, round after round.

Each attempt holds its own connection and transaction, and a barrier releases them
together, so they really meet on the row lock. Per round exactly one wins; every other
attempt gets VersionConflict carrying the winner's version and status; the trail ends with
one event per round, contiguous and chained.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from geo.cases.audit import case_trail
from geo.cases.errors import VersionConflict
from geo.cases.models import Case
from geo.cases.transitions import act
from geo.cases.workflow import Action, CaseStatus
from geo.db import make_engine, make_sessionmaker
from tests.builders.cases import Cast, make_cast, report, step_for
from tests.builders.databases import TEST_TRAIL_KEYS, truncate_all

pytestmark = pytest.mark.anyio

RACERS = 50
#: Rounds: the actions the racers try (cycled over the racers), in lifecycle order.
ROUNDS: tuple[tuple[Action, ...], ...] = (
    (Action.ACCEPT,),
    (Action.DISPATCH,),
    (Action.EXTEND, Action.START),  # whichever wins, EXTEND stays legal next round
    (Action.EXTEND,),  # status unchanged: only the version tells the racers apart
    (Action.POSTPONE, Action.SHELVE, Action.EXTEND),
)


@dataclass
class Arena:
    sessionmaker: async_sessionmaker[AsyncSession]
    cast: Cast
    case_id: int


@pytest.fixture
async def arena(database_url: str) -> AsyncIterator[Arena]:
    engine: AsyncEngine = make_engine(database_url, pool_size=RACERS, max_overflow=0)
    sessionmaker = make_sessionmaker(engine, trail_keys=TEST_TRAIL_KEYS)
    async with sessionmaker.begin() as session:
        cast = await make_cast(session)
        case = (await report(session, actor=cast.resident)).case
    try:
        yield Arena(sessionmaker, cast, case.id)
    finally:
        await truncate_all(engine)
        await engine.dispose()


async def race(arena: Arena, actions: tuple[Action, ...], version: int) -> list[object]:
    barrier = asyncio.Barrier(RACERS)

    async def attempt(i: int) -> object:
        action = actions[i % len(actions)]
        async with arena.sessionmaker.begin() as session:
            await session.connection()  # a connection and a transaction of its own
            await barrier.wait()
            try:
                done = await act(
                    session,
                    case_id=arena.case_id,
                    action=action,
                    expected_version=version,
                    **step_for(arena.cast, action),
                )
            except VersionConflict as conflict:
                return conflict
            return (done.case.version, done.case.status)

    return await asyncio.gather(*(attempt(i) for i in range(RACERS)))


async def test_exactly_one_of_50_concurrent_actions_wins_each_round(arena: Arena) -> None:
    version = 1
    for actions in ROUNDS:
        outcomes = await race(arena, actions, version)
        winners = [o for o in outcomes if isinstance(o, tuple)]
        conflicts = [o for o in outcomes if isinstance(o, VersionConflict)]
        assert len(winners) == 1 and len(conflicts) == RACERS - 1
        (won_version, won_status) = winners[0]
        assert won_version == version + 1
        assert {(c.current_version, c.current_status) for c in conflicts} == {
            (won_version, CaseStatus(won_status))
        }
        version = won_version

    async with arena.sessionmaker() as session:
        case = await session.get(Case, arena.case_id)
        trail = await case_trail(session, arena.case_id)
    assert case is not None and case.version == 1 + len(ROUNDS)
    assert [e.seq for e in trail.events] == list(range(1, len(ROUNDS) + 2))
    assert trail.check.ok
