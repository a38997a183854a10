"""Cases over HTTP: reportCase, one actOnCase transition and a `cases` page of 100, through
one `circle serve` process at 16 keep-alive clients (run from bench.bench_cases).

* reportCase: anonymous reports at random points of the district (each creates and routes a
  case: insert, first event, routing, duplicate search).
* actOnCase ACCEPT by a district agent (bearer token: authentication included), each request
  on another freshly reported case, so every one is a real transition (no warm-up: a
  repeated request would be a version conflict, a cheaper path).
* cases(first: 100) with grid, ancestors, last event and assignee: throughput over HTTP, and
  in process the statements one request costs and its latency.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.web.app import create_app
from bench.common import Server, app_settings, graphql_request, http_load
from geo.accounts.models import User
from geo.accounts.tokens import issue_token
from geo.cases.categories import LocationSource
from geo.cases.models import Case
from geo.cases.reporting import report_case
from geo.coords import LonLat
from geo.grids.synth import DISTRICT_BOUNDS

REPORT = """mutation ($input: ReportCaseInput!) { reportCase(input: $input) {
  __typename ... on CaseReported { created case { id grid { code } } } } }"""
ACCEPT = """mutation ($input: ActOnCaseInput!) { actOnCase(input: $input) {
  __typename ... on CaseActed { case { id status version } } } }"""
PAGE = """{ cases(first: 100) { ... on CaseConnection { edges { node {
  id number status overdue deadline grid { code ancestors { code } }
  lastEvent { action occurredAt } assignedWorker { name } } } } } }"""


def points(n: int, rng: random.Random) -> list[LonLat]:
    west, south, east, north = DISTRICT_BOUNDS
    return [LonLat(rng.uniform(west, east), rng.uniform(south, north)) for _ in range(n)]


async def agent_token(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    async with sessionmaker.begin() as session:
        agent = await session.scalar(select(User.id).where(User.seat == "district").limit(1))
        assert agent is not None, "the demo year has district agents"
        return (await issue_token(session, user_id=agent, ttl=timedelta(hours=1))).plaintext


async def reported_ids(sessionmaker: async_sessionmaker[AsyncSession], at_least: int) -> list[int]:
    """Ids of cases still REPORTED at version 1, topped up to `at_least` (newest first)."""
    async with sessionmaker.begin() as session:
        stmt = select(Case.id).where(Case.status == "reported", Case.version == 1)
        ids = list(await session.scalars(stmt.order_by(Case.id.desc())))
        for p in points(max(0, at_least - len(ids)), random.Random(11)):
            result = await report_case(
                session,
                actor=None,
                category="greening",
                description="绿地杂草丛生",
                point=p,
                location_source=LocationSource.GPS,
            )
            ids.append(result.case.id)
    return ids


@contextmanager
def counted() -> Iterator[list[str]]:
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", record)


async def page_in_process(url: str, token: str, runs: int = 50) -> None:
    """Latency and statements of one `cases` page of 100, in process (ASGI, no network)."""
    app = create_app(app_settings(url))
    latencies: list[float] = []
    counts: list[int] = []
    headers = {"authorization": f"Bearer {token}"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for _ in range(runs + 5):
                with counted() as sent:
                    started = time.perf_counter()
                    answer = await client.post("/graphql", json={"query": PAGE}, headers=headers)
                    latencies.append((time.perf_counter() - started) * 1e3)
                assert len(answer.json()["data"]["cases"]["edges"]) == 100
                counts.append(len(sent))
    latencies, counts = latencies[5:], counts[5:]  # the first ones warm caches and pools
    ordered = sorted(latencies)
    print(
        f"{'cases page of 100, in process':<34} p50 {statistics.median(ordered):7.3f} ms   "
        f"p99 {ordered[int(0.99 * len(ordered))]:7.3f} ms   "
        f"{statistics.mean(counts):.1f} SQL statements (max {max(counts)}, auth included)"
    )


async def bench_http(
    url: str, sessionmaker: async_sessionmaker[AsyncSession], clients: int, seconds: float
) -> None:
    token = await agent_token(sessionmaker)
    auth = {"authorization": f"Bearer {token}"}
    # Every anonymous report comes from 127.0.0.1 here: lift the per-address budget (a rate
    # limit of one address is not what this measures).
    server = Server(url, REPORT_BURST=str(10**9), ACCOUNT_WRITE_BURST=str(10**9))
    port = server.port
    try:
        reports = [
            graphql_request(
                port,
                REPORT,
                {
                    "input": {
                        "category": "sanitation",
                        "description": "垃圾桶满溢未清运",
                        "location": {"longitude": p.lon, "latitude": p.lat},
                        "locationSource": "GPS",
                    }
                },
            )
            for p in points(4000, random.Random(3))
        ]
        print(
            (
                await http_load("HTTP reportCase", port, reports, clients=clients, seconds=seconds)
            ).line()
        )
        ids = await reported_ids(sessionmaker, at_least=int(400 * seconds))
        before = await _accepted(sessionmaker)
        accepts = [
            graphql_request(
                port,
                ACCEPT,
                {"input": {"caseId": case_id, "action": "ACCEPT", "expectedVersion": 1}},
                auth,
            )
            for case_id in ids
        ]
        figures = await http_load(
            "HTTP actOnCase ACCEPT", port, accepts, clients=clients, seconds=seconds, warm=False
        )
        done = await _accepted(sessionmaker) - before
        print(figures.line(), f"  ({done} accepted of {figures.requests} requests)")
        page = [graphql_request(port, PAGE, {}, auth)]
        print(
            (
                await http_load(
                    "HTTP cases page of 100", port, page, clients=clients, seconds=seconds
                )
            ).line()
        )
    finally:
        server.stop()
    await page_in_process(url, token)


async def _accepted(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        stmt = select(func.count()).select_from(Case).where(Case.accepted_at.is_not(None))
        return int(await session.scalar(stmt) or 0)
