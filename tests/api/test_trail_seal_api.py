"""A trail rewritten whole by the database's superuser, hashes and head recomputed, is
caught by its seal (geo.cases.seal); keys rotate without breaking old seals."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.settings import Settings
from geo.cases.chain import GENESIS, event_digest, verify_chain
from geo.cases.seal import TrailKeys, new_key_line
from tests.builders.accounts import World
from tests.builders.case_api import report
from tests.builders.cases import DEPARTMENT
from tests.builders.clients import gql, served
from tests.builders.databases import TRAIL_KEYS_TEXT
from tests.builders.driver import Driver

pytestmark = pytest.mark.anyio

TRAIL = """query ($id: Int!) { caseTrail(id: $id) {
  __typename ... on CaseTrail { verified brokenAt reason events { seq note hash } } } }"""
EVENTS = """SELECT case_id, seq, action, from_status, to_status, actor_id, actor_role, note,
  details, occurred_at, prev_hash, hash FROM case_events WHERE case_id = :id ORDER BY seq"""


async def superuser_or_skip(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        if not await conn.scalar(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ):
            pytest.skip("the test database's owner is no superuser")


async def rewrite_whole_trail(engine: AsyncEngine, case_id: int, note: str) -> list[dict[str, Any]]:
    """What a superuser can do in one transaction: switch the trigger off, change every
    event, recompute every hash and the case's head. Returns the rewritten events."""
    async with engine.begin() as conn:
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        events = [
            dict(row) for row in (await conn.execute(text(EVENTS), {"id": case_id})).mappings()
        ]
        prev = GENESIS
        for event in events:
            event["note"] = note
            event["prev_hash"], event["hash"] = prev, event_digest(prev, event)
            prev = event["hash"]
            await conn.execute(
                text(
                    "UPDATE case_events SET note = :note, prev_hash = :prev_hash, hash = :hash "
                    "WHERE case_id = :case_id AND seq = :seq"
                ),
                event,
            )
        await conn.execute(
            text("UPDATE cases SET last_event_hash = :head WHERE id = :id"),
            {"head": prev, "id": case_id},
        )
    return events


async def trail(client: httpx.AsyncClient, token: str, case_id: int) -> dict[str, Any]:
    return (await gql(client, TRAIL, token, id=case_id))["caseTrail"]  # type: ignore[no-any-return]


async def test_a_trail_rewritten_whole_by_a_superuser_is_caught(
    client: httpx.AsyncClient, world: World, driver: Driver, engine: AsyncEngine
) -> None:
    await superuser_or_skip(engine)
    case_id = await driver.report(world.resident)
    await driver.ok("district_agent", case_id, "ACCEPT", "ACCEPTED")
    await driver.ok("district_agent", case_id, "DISPATCH", "DISPATCHED", department=DEPARTMENT)
    assert (await trail(client, world.district_agent, case_id))["verified"] is True

    events = await rewrite_whole_trail(engine, case_id, "一切正常")
    # The chain alone cannot tell: every hash matches and the head is the last one.
    assert verify_chain(events, head=events[-1]["hash"]).ok
    rewritten = await trail(client, world.district_agent, case_id)
    assert [e["note"] for e in rewritten["events"]] == ["一切正常"] * 3
    assert rewritten["verified"] is False
    assert rewritten["brokenAt"] == 3
    assert "seal does not match" in rewritten["reason"]


async def test_a_seal_copied_from_another_case_or_removed_does_not_verify(
    client: httpx.AsyncClient, world: World, driver: Driver, engine: AsyncEngine
) -> None:
    first, second = await driver.report(world.resident), await driver.report(world.resident)
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE cases SET trail_seal = (SELECT trail_seal FROM cases WHERE id = :a) "
                 "WHERE id = :b"),
            {"a": first, "b": second},
        )  # fmt: skip
    copied = await trail(client, world.district_agent, second)
    assert copied["verified"] is False and "seal does not match" in copied["reason"]
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE cases SET trail_seal = NULL WHERE id = :a"), {"a": first})
    removed = await trail(client, world.district_agent, first)
    assert removed["verified"] is False and removed["reason"] == "the trail is not sealed"


async def test_a_new_key_signs_and_the_old_one_still_verifies(
    settings: Settings, world: World, driver: Driver
) -> None:
    case_id = await driver.report(world.resident)  # sealed under the tests' key
    rotated = dataclasses.replace(settings, trail_keys=f"{new_key_line('next')}, {TRAIL_KEYS_TEXT}")
    async with served(rotated) as http:
        assert (await trail(http, world.district_agent, case_id))["verified"] is True
        reported = await report(http, world.resident)
        newer = reported["case"]["id"]
        assert (await trail(http, world.district_agent, newer))["verified"] is True
    # A server that lost the new key cannot verify what it sealed, and says why.
    async with served(settings) as http:
        lost = await trail(http, world.district_agent, newer)
        assert lost["verified"] is False and "'next'" in lost["reason"]


def test_a_key_ring_is_checked_when_read() -> None:
    ring = TrailKeys.parse(f"# comment\n{new_key_line('a')}\n{new_key_line('b')}  # old\n")
    assert ring.current == "a" and set(ring.secrets) == {"a", "b"}
    seal = ring.seal(7, 3, "f" * 64)
    assert ring.fault(7, 3, "f" * 64, seal) is None
    assert ring.fault(7, 4, "f" * 64, seal) is not None, "the version is sealed"
    assert ring.fault(8, 3, "f" * 64, seal) is not None, "the case is sealed"
    for bad, said in (
        ("", "no trail key"),
        ("a 00ff", "at least 32 bytes"),
        ("a zz", "hexadecimal"),
        (f"{new_key_line('a')}, {new_key_line('a')}", "listed twice"),
        (f"bad/id {'00' * 32}", "an id is"),
    ):
        with pytest.raises(ValueError, match=said):
            TrailKeys.parse(bad)
