"""The trail is append-only in the database, and tampering that bypasses it is detected."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from geo.cases.audit import case_trail
from geo.cases.workflow import CaseStatus
from tests.builders.cases import case_in, make_cast

pytestmark = pytest.mark.anyio

ROLE = f"circle_app_{os.getpid()}"


async def closed_case_id(db: AsyncSession) -> int:
    cast = await make_cast(db)
    case = await case_in(db, cast, CaseStatus.CLOSED)
    return case.id


async def refused(db: AsyncSession, sql: str, **params: object) -> str:
    """Runs ``sql`` in a savepoint and returns the database's refusal message."""
    with pytest.raises(DBAPIError) as error:
        async with db.begin_nested():
            await db.execute(text(sql), params)
    return str(error.value.orig)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE case_events SET note = 'rewritten' WHERE case_id = :id AND seq = 2",
        "UPDATE case_events SET occurred_at = occurred_at WHERE case_id = :id",
        "DELETE FROM case_events WHERE case_id = :id AND seq = 3",
    ],
)
async def test_the_database_refuses_to_change_events(db: AsyncSession, sql: str) -> None:
    case_id = await closed_case_id(db)
    assert "case_events is append-only" in await refused(db, sql, id=case_id)
    trail = await case_trail(db, case_id)
    assert trail.check.ok and len(trail.events) == 8


async def test_truncate_is_refused_to_an_application_role(db: AsyncSession) -> None:
    await closed_case_id(db)
    await db.execute(text(f"CREATE ROLE {ROLE}"))  # rolled back with the test
    await db.execute(text(f"GRANT SELECT, TRUNCATE ON case_events TO {ROLE}"))
    await db.execute(text(f"SET LOCAL ROLE {ROLE}"))
    assert "TRUNCATE refused" in await refused(db, "TRUNCATE case_events")
    # The documented escape hatch for maintenance scripts (undone with its savepoint).
    maintenance = await db.begin_nested()
    await db.execute(text("SET LOCAL circle.allow_truncate = on"))
    await db.execute(text("TRUNCATE case_events"))
    assert await db.scalar(text("SELECT count(*) FROM case_events")) == 0
    await maintenance.rollback()
    await db.execute(text("RESET ROLE"))
    assert await db.scalar(text("SELECT count(*) FROM case_events")) == 8


async def bypass(db: AsyncSession, sql: str, **params: object) -> None:
    """What an attacker with the table owner's rights could do: switch the trigger off."""
    await db.execute(text("ALTER TABLE case_events DISABLE TRIGGER case_events_no_update_delete"))
    await db.execute(text(sql), params)
    await db.execute(text("ALTER TABLE case_events ENABLE TRIGGER case_events_no_update_delete"))


@pytest.mark.parametrize(
    ("sql", "broken_at"),
    [
        ("UPDATE case_events SET note = '已办结' WHERE case_id = :id AND seq = 5", 4),
        (
            'UPDATE case_events SET details = details || \'{"unit": "住建局"}\' '
            "WHERE case_id = :id AND seq = 3",
            2,
        ),
        (
            "UPDATE case_events SET occurred_at = occurred_at - interval '1 day' "
            "WHERE case_id = :id AND seq = 4",
            3,
        ),
        ("UPDATE case_events SET actor_id = NULL WHERE case_id = :id AND seq = 2", 1),
        ("DELETE FROM case_events WHERE case_id = :id AND seq = 6", 5),  # a gap
        ("DELETE FROM case_events WHERE case_id = :id AND seq = 8", 7),  # the tail: head
        ("UPDATE case_events SET seq = seq + 100 WHERE case_id = :id AND seq = 8", 7),
    ],
)
async def test_tampering_behind_the_trigger_is_detected(
    db: AsyncSession, sql: str, broken_at: int
) -> None:
    case_id = await closed_case_id(db)
    await bypass(db, sql, id=case_id)
    trail = await case_trail(db, case_id)
    assert not trail.check.ok
    assert trail.check.broken_at == broken_at, trail.check.reason


async def test_an_untouched_trail_verifies(db: AsyncSession) -> None:
    trail = await case_trail(db, await closed_case_id(db))
    assert trail.check.ok and [e.action for e in trail.events] == [
        "reported",
        "accept",
        "dispatch",
        "start",
        "report_handled",
        "verify_ok",
        "evaluate",
        "close",
    ]
