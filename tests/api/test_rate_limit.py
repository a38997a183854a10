"""Rate limits: anonymous reports per client address, signed-in writes per account, one
budget shared by every server process (geo.limits, api.schema.limits)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.requests import Request

from api.schema.limits import address_key
from api.settings import Settings
from api.web.ratelimit import client_address
from geo import limits
from tests.builders.accounts import World
from tests.builders.case_api import REPORT, report_input
from tests.builders.clients import gql, served, serving_env
from tests.builders.processes import free_port, stop, wait_listening

pytestmark = pytest.mark.anyio

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


async def test_a_bucket_allows_its_burst_then_refills_at_its_rate(db: AsyncSession) -> None:
    async def take(key: str, seconds: float) -> float | None:
        at = T0 + timedelta(seconds=seconds)
        return await limits.take(db, key, burst=3, per_hour=60, now=at)  # one a minute

    assert [await take("a", 0) for _ in range(3)] == [None, None, None]
    assert await take("a", 0) == pytest.approx(60.0)
    assert await take("b", 0) is None, "each key has its own bucket"
    assert await take("a", 30) == pytest.approx(30.0), "half a token after half a minute"
    assert await take("a", 60) is None
    assert await take("a", 60) == pytest.approx(60.0)
    spent = [await take("a", 60 + 3600) for _ in range(4)]
    assert spent[:3] == [None, None, None] and spent[3] is not None, "never more than the burst"


async def test_full_buckets_are_pruned_and_recent_ones_kept(db: AsyncSession) -> None:
    for i in range(50):
        await limits.take(db, f"10.0.0.{i}", burst=2, per_hour=3600, now=T0)  # full in 1 s
    await limits.take(db, "spent", burst=2, per_hour=3600, now=T0)
    await limits.take(db, "spent", burst=2, per_hour=3600, now=T0)
    assert await limits.prune(db, now=T0 + timedelta(seconds=1.5)) == 50
    left = await db.scalar(select(func.count()).select_from(limits.RateBucket))
    assert left == 1, "an empty bucket is still refilling: kept"
    refused = await limits.take(db, "spent", burst=2, per_hour=3600, now=T0)
    assert refused is not None


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 4242), "headers": headers})


def test_the_client_address_trusts_forwarded_for_only_from_trusted_proxies() -> None:
    proxies = ("10.0.0.2", "10.0.0.3")
    assert client_address(_request("203.0.113.9"), proxies) == "203.0.113.9"
    spoofed = _request("203.0.113.9", forwarded="1.2.3.4")
    assert client_address(spoofed, proxies) == "203.0.113.9", "untrusted peers cannot choose"
    chain = _request("10.0.0.2", forwarded="1.2.3.4, 198.51.100.7, 10.0.0.3")
    assert client_address(chain, proxies) == "198.51.100.7", "nearest untrusted hop"
    assert client_address(_request("10.0.0.2"), proxies) == "10.0.0.2"
    assert client_address(None, proxies) == "unknown"


def test_an_ipv6_client_is_counted_by_its_prefix() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:198.51.100.7") == "198.51.100.7"
    assert address_key("198.51.100.7") == "198.51.100.7"
    assert address_key("unknown") == "unknown"


@pytest.fixture
async def limited(settings: Settings, world: World) -> AsyncIterator[httpx.AsyncClient]:
    """The app allowing two anonymous reports per address and three writes per account,
    then one an hour."""
    limits_ = dataclasses.replace(
        settings,
        report_burst=2,
        report_per_hour=1,
        account_write_burst=3,
        account_writes_per_hour=1,
    )
    async with served(limits_, client=("198.51.100.7", 5000)) as http:
        yield http


async def _count_cases(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM cases")) or 0)


async def test_anonymous_reports_over_the_budget_are_refused_and_write_nothing(
    limited: httpx.AsyncClient, world: World, engine: AsyncEngine
) -> None:
    body = {"query": REPORT, "variables": {"input": report_input()}}
    for _ in range(2):
        answer = (await limited.post("/graphql", json=body)).json()["data"]["reportCase"]
        assert answer["__typename"] == "CaseReported"
    assert await _count_cases(engine) == 2
    response = await limited.post("/graphql", json=body)
    assert response.status_code == 200
    refused = response.json()["data"]["reportCase"]
    assert refused["__typename"] == "RateLimitedError"
    assert "try again in 3600 s" in refused["message"]
    assert response.headers["retry-after"] == "3600"
    assert await _count_cases(engine) == 2, "a refused report writes nothing"
    # A signed-in reporter is not held to the anonymous budget of the address.
    signed = await gql(limited, REPORT, world.resident, input=report_input())
    assert signed["reportCase"]["__typename"] == "CaseReported"
    assert await _count_cases(engine) == 3


async def test_one_account_cannot_write_without_bound(
    limited: httpx.AsyncClient, world: World, engine: AsyncEngine
) -> None:
    body = {"query": REPORT, "variables": {"input": report_input()}}
    headers = {"authorization": f"Bearer {world.resident}"}
    answers = [
        (await limited.post("/graphql", json=body, headers=headers)).json()["data"]["reportCase"]
        for _ in range(5)
    ]
    kinds = [a["__typename"] for a in answers]
    assert kinds == ["CaseReported"] * 3 + ["RateLimitedError"] * 2
    assert "too many writes from this account" in answers[-1]["message"]
    assert await _count_cases(engine) == 3
    # Another account has its own budget; the address's anonymous budget is untouched.
    other = await gql(limited, REPORT, world.other_resident, input=report_input())
    assert other["reportCase"]["__typename"] == "CaseReported"
    anonymous = await gql(limited, REPORT, input=report_input())
    assert anonymous["reportCase"]["__typename"] == "CaseReported"


LEDGER = """mutation ($input: RecordLedgerItemInput!) { recordLedgerItem(input: $input) {
  __typename ... on RateLimitedError { retryAfterS } } }"""


async def test_ledger_writes_spend_the_accounts_budget(
    limited: httpx.AsyncClient, world: World
) -> None:
    body = {
        "query": LEDGER,
        "variables": {"input": {"grid": "D111", "meeting": "楼院议事会", "text": "路灯不亮"}},
    }
    headers = {"authorization": f"Bearer {world.l3_worker}"}
    kinds = []
    for _ in range(4):
        response = await limited.post("/graphql", json=body, headers=headers)
        kinds.append(response.json()["data"]["recordLedgerItem"]["__typename"])
    assert kinds == ["LedgerItemRecorded"] * 3 + ["RateLimitedError"]
    assert response.headers["retry-after"] == "3600"


# -- two server processes, one budget ------------------------------------------------------


@pytest.fixture
def two_servers(settings: Settings, world: World) -> Iterator[list[int]]:
    """Two `circle serve` processes on the test database, each allowing an address three
    anonymous reports, then one an hour."""
    env = serving_env(settings, REPORT_BURST="3", REPORT_PER_HOUR="1")
    processes, ports = [], []
    try:
        for _ in range(2):
            port = free_port()
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "api", "serve", "--port", str(port)],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            ports.append(port)
        for port in ports:
            wait_listening(port)
        yield ports
    finally:
        for process in processes:
            stop(process)


async def test_two_processes_share_one_budget(two_servers: list[int], engine: AsyncEngine) -> None:
    body = {"query": REPORT, "variables": {"input": report_input()}}
    kinds = []
    async with httpx.AsyncClient(timeout=30) as http:
        for i in range(8):  # alternately to each process, from the same address
            response = await http.post(f"http://127.0.0.1:{two_servers[i % 2]}/graphql", json=body)
            kinds.append(response.json()["data"]["reportCase"]["__typename"])
    assert kinds.count("CaseReported") == 3, kinds
    assert kinds[3:] == ["RateLimitedError"] * 5
    assert await _count_cases(engine) == 3
