"""The work of the costly fields, measured: what api/web/cost.py's weights come from.

A seeded district (the demo year of cases included) served by one `circle serve` process
whose cost limit is lifted; each field is timed alone and as ``--aliases`` aliases of itself
(different points where it takes one), after a pass that warms caches and pools, and the
difference per alias is its work. Then the
two documents of issue 16 (165 aliased serviceCircles, 180 aliased caseStats) are timed as
they ran before, and sent to a server with the default limit, which refuses them.

    .venv/bin/python -m bench.bench_cost [--aliases 20] [--runs 3]

The unit of api/web/cost.py (a plain field) is the time of a page of 100 grids with three
fields over its estimate.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from graphql import OperationDefinitionNode, parse
from sqlalchemy import select

from api.cli.seeding import seed
from api.schema import schema
from api.web.cost import CostEstimator
from bench.common import BENCH_TRAIL_KEYS, Server, scratch_database
from geo.accounts.models import Seat, User
from geo.accounts.tokens import issue_token
from geo.db import make_engine, make_sessionmaker

LON, LAT = 113.62, 34.74
Alias = Callable[[int], str]


def near(i: int, extra: str = "") -> str:
    return f"{{longitude: {LON + i * 0.0003:.4f}, latitude: {LAT}{extra}}}"


FIELDS: list[tuple[str, Alias, bool]] = [
    ("a plain field (__typename)", lambda i: "__typename", False),
    ("grid(code) (a root field)", lambda i: 'grid(code: "410103001") { code name }', False),
    (
        "nearbyMerchants(first: 100)",
        lambda i: f"nearbyMerchants(near: {near(i)}, first: 100) {{ __typename }}",
        False,
    ),
    *(
        (
            f"serviceCircle, {m} min",
            lambda i, m=m: f"serviceCircle(near: {near(i)}, minutes: {m}) {{ __typename }}",
            False,
        )
        for m in (15, 30, 45, 60)
    ),
    ("caseStats", lambda i: "caseStats { __typename }", True),
    *(
        (
            f"caseStats by {g}",
            lambda i, g=g: f"caseStats(groupBy: {g}) {{ __typename }}",
            True,
        )
        for g in ("CATEGORY", "MONTH", "CHILD_GRID")
    ),
    *(
        (
            f"gridAt, accuracy {m} m",
            lambda i, m=m: (
                f"gridAt(point: {near(i, f', accuracyM: {m}')}) "
                "{ ... on GridMatch { candidates { distanceM } } }"
            ),
            False,
        )
        for m in (20, 500, 1000, 2000, 3500, 5000)
    ),
]
UNIT = (
    "{ grids(first: 100, level: MICRO) { ... on GridConnection { edges { node {"
    " code name level } } } } }"
)
CIRCLES = (
    "query ($p: PointInput!) { "
    + " ".join(f"c{i}: serviceCircle(near: $p) {{ __typename }}" for i in range(165))
    + " }"
)
STATS = "{ " + " ".join(f"s{i}: caseStats {{ __typename }}" for i in range(180)) + " }"


def aliases(field: Alias, n: int) -> str:
    return "{ " + " ".join(f"a{i}: {field(i)}" for i in range(n)) + " }"


def estimate(document: str) -> int:
    definitions = parse(document).definitions
    operation = next(d for d in definitions if isinstance(d, OperationDefinitionNode))
    return CostEstimator(schema._schema, {}).cost(operation)


def timed(http: httpx.Client, document: str, token: str | None, runs: int) -> tuple[float, Any]:
    """Median milliseconds of ``runs`` requests (after one to warm), and the last answer."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = {"query": document, "variables": {"p": {"longitude": LON, "latitude": LAT}}}
    times, answer = [], None
    for run in range(runs + 1):
        started = time.perf_counter()
        answer = http.post("/graphql", json=body, headers=headers).json()
        if run:
            times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times), answer


async def agent_token(url: str) -> str:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            user_id = await session.scalar(
                select(User.id).where(User.seat == Seat.DISTRICT.value).order_by(User.id)
            )
            assert user_id is not None, "the seed made no district seat"
            return (await issue_token(session, user_id=user_id, ttl=timedelta(hours=1))).plaintext
    finally:
        await engine.dispose()


def main(n: int, runs: int) -> None:
    url = scratch_database("circle_bench_cost", fresh=False)
    for line in asyncio.run(seed(url, only_if_empty=True, cases=True, trail_keys=BENCH_TRAIL_KEYS)):
        print(line if len(line) < 100 else line[:97] + "...")
    token = asyncio.run(agent_token(url))
    server = Server(url, MAX_QUERY_COST=str(10**9), SWEEP_INTERVAL_S="0")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=120) as http:
            unit_ms, _ = timed(http, UNIT, None, runs)
            unit_us = unit_ms * 1e3 / estimate(UNIT)
            print(f"unit: a page of 100 grids, 3 fields: {unit_ms:.2f} ms for "
                  f"{estimate(UNIT)} units = {unit_us:.1f} µs a unit")  # fmt: skip
            for _, field, staff in FIELDS:  # a pass to warm caches and pools, not printed
                timed(http, aliases(field, n), token if staff else None, 1)
            print(f"{'field':<30} {'1 call':>9} {f'{n} calls':>10} {'per call':>9} {'units':>7}")
            for label, field, staff in FIELDS:
                one, _ = timed(http, aliases(field, 1), token if staff else None, runs)
                many, answer = timed(http, aliases(field, n), token if staff else None, runs)
                assert "errors" not in answer, answer
                per = (many - one) / (n - 1)
                print(
                    f"{label:<30} {one:8.2f}  {many:9.2f}  {per:8.2f}  {per * 1e3 / unit_us:6.0f}"
                )
            for label, document, staff in (("165 serviceCircle", CIRCLES, False),
                                           ("180 caseStats", STATS, True)):  # fmt: skip
                ms, _ = timed(http, document, token if staff else None, 1)
                print(f"{label}: {ms:.0f} ms when run; estimated {estimate(document):,} units")
    finally:
        server.stop()
    guarded = Server(url, SWEEP_INTERVAL_S="0")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{guarded.port}", timeout=120) as http:
            for label, document in (("165 serviceCircle", CIRCLES), ("180 caseStats", STATS)):
                ms, answer = timed(http, document, token, 1)
                code = answer["errors"][0]["extensions"]["code"]
                print(f"{label} at the default limit: {code} in {ms:.1f} ms")
    finally:
        guarded.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aliases", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    main(args.aliases, args.runs)
