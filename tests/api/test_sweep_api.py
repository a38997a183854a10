"""The loop closes itself, seen through the API: a served app sweeps on its own (the lifespan
runs the sweeper), `circle cases sweep` does the same on demand; a verified case whose
evaluation window has passed comes back CLOSED, unevaluated, and counts as closed and not
satisfied; a case still in its window stays VERIFIED."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api.settings import Settings
from geo.cases import reporting, transitions
from geo.clock import utcnow
from tests.builders.accounts import World
from tests.builders.cases import DEPARTMENT, NOTE
from tests.builders.clients import CIRCLE, gql, served
from tests.builders.databases import TRAIL_KEYS_TEXT
from tests.builders.driver import Driver

pytestmark = pytest.mark.anyio

CASE = """query ($id: Int!) { case(id: $id) { ... on Case {
  status satisfaction closedAt verifiedAt deadline overdue overdueSince overdueStage
  lastEvent { action actorRole actorName } } } }"""
STATS = "{ caseStats { ... on CaseStatsReport { rows { received closed evaluated satisfied } } } }"


async def verified_case(
    client: httpx.AsyncClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    days_ago: float,
    *,
    until: str = "VERIFIED",
) -> int:
    """A case reported, handled and verified (or only dispatched) ``days_ago`` days ago."""
    then = utcnow() - timedelta(days=days_ago)
    monkeypatch.setattr(reporting, "utcnow", lambda: then)
    monkeypatch.setattr(transitions, "utcnow", lambda: then)
    d = Driver(client, world)
    case_id = await d.report(world.resident)
    await d.ok("district_agent", case_id, "ACCEPT", "ACCEPTED")
    await d.ok("district_agent", case_id, "DISPATCH", "DISPATCHED", department=DEPARTMENT)
    if until == "DISPATCHED":
        monkeypatch.undo()
        return case_id
    await d.ok("handler", case_id, "START", "IN_PROGRESS")
    await d.ok("handler", case_id, "REPORT_HANDLED", "HANDLED", note=NOTE)
    await d.ok("l3_worker", case_id, "VERIFY_OK", "VERIFIED")
    monkeypatch.undo()
    return case_id


async def status_of(client: httpx.AsyncClient, world: World, case_id: int) -> Any:
    return (await gql(client, CASE, world.district_agent, id=case_id))["case"]


@asynccontextmanager
async def sweeping(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on the same database whose lifespan sweeps every 50 ms."""
    async with served(replace(settings, sweep_interval_s=0.05)) as http:
        yield http


async def test_a_served_app_closes_expired_cases_by_itself(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    old = await verified_case(client, world, monkeypatch, days_ago=15)
    fresh = await verified_case(client, world, monkeypatch, days_ago=0)
    late = await verified_case(client, world, monkeypatch, days_ago=30, until="DISPATCHED")
    assert (await status_of(client, world, old))["status"] == "VERIFIED"
    async with sweeping(settings) as served:  # started only now, over the cases above
        for _ in range(100):
            seen = await status_of(served, world, old)
            if seen["status"] == "CLOSED":
                break
            await asyncio.sleep(0.05)
    assert seen["status"] == "CLOSED" and seen["satisfaction"] is None
    assert seen["lastEvent"] == {"action": "close", "actorRole": "SYSTEM", "actorName": "system"}
    assert seen["closedAt"] > seen["verifiedAt"]
    assert (await status_of(client, world, fresh))["status"] == "VERIFIED"
    (row,) = (await gql(client, STATS, world.district_agent))["caseStats"]["rows"]
    assert row == {"received": 3, "closed": 1, "evaluated": 0, "satisfied": 0}
    marked = await status_of(client, world, late)
    assert marked["overdue"] and marked["overdueSince"] == marked["deadline"]
    assert marked["overdueStage"] == "handle"


async def test_circle_cases_sweep(
    client: httpx.AsyncClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
) -> None:
    old = await verified_case(client, world, monkeypatch, days_ago=15)
    number = (await gql(client, "query ($id: Int!) { case(id: $id) { ... on Case { number } } }",
                        world.district_agent, id=old))["case"]["number"]  # fmt: skip

    async def circle(*args: str) -> tuple[int, str]:
        env = {**os.environ, "DATABASE_URL": database_url, "TRAIL_KEYS": TRAIL_KEYS_TEXT}
        done = await asyncio.create_subprocess_exec(
            CIRCLE, *args, env=env, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await done.communicate()
        return done.returncode or 0, out.decode()

    code, said = await circle("cases", "sweep")
    assert code == 0 and f"closed 1 unevaluated cases: {number}" in said, said
    assert (await status_of(client, world, old))["status"] == "CLOSED"
    code, said = await circle("cases", "sweep")
    assert code == 0 and "closed 0 unevaluated cases;" in said, said
