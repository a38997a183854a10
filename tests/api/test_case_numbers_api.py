"""Public case numbers over HTTP: serials restart each (Asia/Shanghai) year, a retry takes
no number, concurrent reports get consecutive numbers; the seeded year agrees with the
year counters, so a report after `circle seed` takes the next number."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from geo.cases import reporting
from geo.cases.categories import LocationSource
from geo.cases.reporting import report_case
from geo.cases.worktime import SHANGHAI
from geo.clock import utcnow
from geo.coords import LonLat
from geo.db import TRAIL_KEYS_INFO
from tests.builders.accounts import World
from tests.builders.case_api import report
from tests.builders.databases import TEST_TRAIL_KEYS

pytestmark = pytest.mark.anyio

#: 23:59 on 31 December 2026 and midnight on 1 January 2027, Zhengzhou time.
LAST_MINUTE_2026 = datetime(2026, 12, 31, 15, 59, tzinfo=UTC)
FIRST_MINUTE_2027 = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)


def number_year(moment: datetime) -> int:
    return moment.astimezone(SHANGHAI).year


def reported_at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(reporting, "utcnow", lambda: moment)


async def number(client: httpx.AsyncClient, token: str | None = None, **overrides: object) -> str:
    answer = await report(client, token, **overrides)
    assert answer["__typename"] == "CaseReported", answer
    return str(answer["case"]["number"])


async def test_serials_restart_each_shanghai_year(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported_at(monkeypatch, LAST_MINUTE_2026)
    assert await number(client) == "2026-000001"
    reported_at(monkeypatch, FIRST_MINUTE_2027)  # still 2026 in UTC
    assert await number(client) == "2027-000001"
    assert await number(client) == "2027-000002"
    reported_at(monkeypatch, LAST_MINUTE_2026)
    assert await number(client) == "2026-000002"


async def test_a_retry_takes_no_number(client: httpx.AsyncClient, world: World) -> None:
    year = number_year(utcnow())
    first = await number(client, idempotencyKey="retry-1")
    assert first == f"{year}-000001"
    for _ in range(3):
        again = await report(client, idempotencyKey="retry-1")
        assert again["__typename"] == "CaseAlreadyReported" and again["number"] == first
    refused = await report(client, idempotencyKey="retry-1", description="另一件事")
    assert refused["__typename"] == "IdempotencyKeyReusedError"
    assert await number(client) == f"{year}-000002"


async def test_concurrent_reports_take_consecutive_numbers(
    client: httpx.AsyncClient, world: World
) -> None:
    # Signed in, so the anonymous rate limit stays out of it. Six reports share one key:
    # one case, one number; the six others are cases of their own.
    keys = ["shared"] * 6 + [f"own-{i}" for i in range(6)]
    answers = await asyncio.gather(
        *(report(client, world.resident, idempotencyKey=k) for k in keys)
    )
    assert all(a["__typename"] == "CaseReported" for a in answers), answers
    shared = {a["case"]["number"] for a in answers[:6]}
    assert len(shared) == 1 and sum(a["created"] for a in answers[:6]) == 1
    year = number_year(utcnow())
    numbers = shared | {a["case"]["number"] for a in answers[6:]}
    assert sorted(numbers) == [f"{year}-{n:06d}" for n in range(1, 8)]


async def test_the_seeded_year_agrees_with_the_counters(seeded_engine: AsyncEngine) -> None:
    async with seeded_engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT split_part(number, '-', 1)::int AS year,"
                " split_part(number, '-', 2)::int AS serial FROM cases"
            )
        )
        serials: dict[int, list[int]] = defaultdict(list)
        for row in rows:
            serials[row.year].append(row.serial)
        counters = dict(
            (await conn.execute(text("SELECT year, last_serial FROM case_number_counters"))).all()
        )
    assert len(serials) == 2, "the demo year spans two calendar years"
    for year, found in serials.items():
        assert sorted(found) == list(range(1, len(found) + 1)), year  # from 1, no gaps
        assert counters[year] == len(found)


async def test_a_report_after_the_seed_takes_the_next_number(seeded_engine: AsyncEngine) -> None:
    # In a transaction rolled back afterwards: the demo year is shared and read-only.
    async with seeded_engine.connect() as conn:
        outer = await conn.begin()
        async with AsyncSession(
            bind=conn,
            join_transaction_mode="create_savepoint",
            info={TRAIL_KEYS_INFO: TEST_TRAIL_KEYS},
        ) as session:
            now = utcnow()
            last = await session.scalar(
                text("SELECT last_serial FROM case_number_counters WHERE year = :y"),
                {"y": number_year(now)},
            )
            result = await report_case(
                session,
                actor=None,
                category="street_vending",
                description="路口占道经营",
                point=LonLat(113.62, 34.74),
                location_source=LocationSource.GPS,
                now=now,
            )
        await outer.rollback()
    assert result.created and result.case.number == f"{number_year(now)}-{last + 1:06d}"
