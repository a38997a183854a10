"""Issue 16's abuse, replayed against `circle serve`: what each attack gets now.

    .venv/bin/python -m bench.bench_abuse [--names 20000] [--flood-seconds 40]

On the seeded scratch database of bench.bench_cost (seeded here when missing), one server
process (two for the shared budget):

1. 20,000 requests, each with an operation name of its own (half as a document's name, half
   as a bare operationName): the server's memory (VmRSS) and /metrics before and after, and
   how long one scrape takes.
2. One resident's token reporting cases as fast as one client can for ``--flood-seconds``:
   how many are created, how many refused.
3. Two processes, one address: anonymous reports sent alternately to each, how many pass
   (REPORT_BURST 20).
4. A client sending its request a byte every 0.5 s: when the server drops it (seconds from
   the first byte).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from api.cli.seeding import seed
from bench.common import BENCH_TRAIL_KEYS, Server, scratch_database
from geo.accounts.models import Role, User
from geo.accounts.tokens import issue_token
from geo.db import make_engine, make_sessionmaker

REPORT = """mutation ($input: ReportCaseInput!) { reportCase(input: $input) { __typename } }"""
REPORT_INPUT = {
    "category": "street_vending",
    "description": "公园门口占道经营",
    "location": {"longitude": 113.62, "latitude": 34.74},
    "locationSource": "GPS",
}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def metrics(http: httpx.Client) -> tuple[int, float]:
    started = time.perf_counter()
    size = len(http.get("/metrics").content)
    return size, (time.perf_counter() - started) * 1e3


def names(server: Server, count: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as http:
        http.post("/graphql", json={"query": "{ __typename }"})
        before_rss, (before_size, _) = rss_mib(server.process.pid), metrics(http)
        for i in range(count):
            if i % 2:
                http.post("/graphql", json={"query": f"query q{i} {{ __typename }}"})
            else:
                body = {"query": "{ __typename }", "operationName": f"n{i}"}
                http.post("/graphql", json=body)
        after_rss, (after_size, scrape_ms) = rss_mib(server.process.pid), metrics(http)
    print(
        f"1. {count:,} distinct operation names: memory {before_rss:.0f} -> {after_rss:.0f} MiB, "
        f"/metrics {before_size / 1024:.1f} -> {after_size / 1024:.1f} KiB, "
        f"one scrape {scrape_ms:.1f} ms"
    )


async def resident_token(url: str) -> str:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            user_id = await session.scalar(
                select(User.id).where(User.role == Role.RESIDENT.value).order_by(User.id.desc())
            )
            assert user_id is not None
            return (await issue_token(session, user_id=user_id, ttl=timedelta(hours=1))).plaintext
    finally:
        await engine.dispose()


def flood(server: Server, token: str, seconds: float) -> None:
    created = refused = 0
    headers = {"authorization": f"Bearer {token}"}
    body = {"query": REPORT, "variables": {"input": REPORT_INPUT}}
    stop_at = time.monotonic() + seconds
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as http:
        while time.monotonic() < stop_at:
            kind = http.post("/graphql", json=body, headers=headers).json()["data"]["reportCase"]
            created += kind["__typename"] == "CaseReported"
            refused += kind["__typename"] == "RateLimitedError"
    print(f"2. one resident for {seconds:.0f} s: {created} cases created, {refused} refused")


def two_processes(url: str) -> None:
    servers = [Server(url, SWEEP_INTERVAL_S="0") for _ in range(2)]
    passed = 0
    try:
        body = {"query": REPORT, "variables": {"input": REPORT_INPUT}}
        for i in range(60):
            port = servers[i % 2].port
            answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json=body, timeout=30)
            passed += answer.json()["data"]["reportCase"]["__typename"] == "CaseReported"
    finally:
        for server in servers:
            server.stop()
    print(f"3. two processes, one address, 60 anonymous reports: {passed} passed (burst 20)")


def slowloris(server: Server) -> None:
    request = b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" * 20
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        started = time.monotonic()
        for byte in request:
            try:
                conn.sendall(bytes([byte]))
                time.sleep(0.5)
                conn.settimeout(0.01)
                if conn.recv(1) == b"":
                    break
            except TimeoutError:
                continue
            except OSError:
                break
        held = time.monotonic() - started
    print(f"4. a request sent a byte every 0.5 s: dropped after {held:.1f} s")


def main(count: int, flood_seconds: float) -> None:
    url = scratch_database("circle_bench_cost", fresh=False)
    asyncio.run(seed(url, only_if_empty=True, cases=True, trail_keys=BENCH_TRAIL_KEYS))
    token = asyncio.run(resident_token(url))
    server = Server(url, SWEEP_INTERVAL_S="0")
    try:
        names(server, count)
        flood(server, token, flood_seconds)
        slowloris(server)
    finally:
        server.stop()
    two_processes(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=20_000)
    parser.add_argument("--flood-seconds", type=float, default=40.0)
    args = parser.parse_args()
    main(args.names, args.flood_seconds)
