"""Anonymous case reports are rate-limited per client address (api.web.ratelimit)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from api.settings import Settings
from api.web.ratelimit import RateLimiter, client_address
from tests.builders.accounts import World
from tests.builders.case_api import REPORT, report_input
from tests.builders.clients import gql, served

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(burst=3, per_hour=60, clock=clock)  # one a minute
    assert [limiter.take("a") for _ in range(3)] == [None, None, None]
    assert limiter.take("a") == pytest.approx(60.0)
    assert limiter.take("b") is None, "each key has its own bucket"
    clock.now += 30
    assert limiter.take("a") == pytest.approx(30.0), "half a token after half a minute"
    clock.now += 30
    assert limiter.take("a") is None
    assert limiter.take("a") == pytest.approx(60.0)
    clock.now += 3600
    assert [limiter.take("a") for _ in range(4)][-1] is not None, "never more than the burst"


def test_memory_stays_bounded_under_an_address_flood() -> None:
    clock = Clock()
    limiter = RateLimiter(burst=2, per_hour=3600, clock=clock, max_keys=100)
    for i in range(10_000):
        limiter.take(f"10.0.{i // 256}.{i % 256}")
        clock.now += 0.001
    assert len(limiter._buckets) <= 100
    limiter.take("spent")
    limiter.take("spent")
    assert limiter.take("spent") is not None, "a recent, empty bucket is kept"


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


@pytest.fixture
async def limited(settings: Settings, world: World) -> AsyncIterator[httpx.AsyncClient]:
    """The app allowing two anonymous reports per address, then one an hour."""
    limits = dataclasses.replace(settings, report_burst=2, report_per_hour=1)
    async with served(limits, client=("198.51.100.7", 5000)) as http:
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
