"""Cases at the database: report-and-route, one transition, a page of 100, the statistics.

    .venv/bin/python -m bench.bench_cases [--reports 400] [--clients 16]

Needs the embedded database up (`circle db up`) or DATABASE_URL. Uses (and keeps) a database
`circle_bench_cases` holding the synthetic district and its demo year of cases (seeded on
the first run). Each operation runs in its own transaction, as a resolver's would; "call" is
the whole domain call with its commit, "SQL" the part spent in the database driver (between
SQLAlchemy's before/after cursor events). Then the same over HTTP (bench.bench_cases_http):
one server process, 16 clients; `--no-http` skips it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.cli.seeding import seed
from bench.bench_cases_http import bench_http
from bench.common import BENCH_TRAIL_KEYS, scratch_database
from geo.accounts.models import User
from geo.accounts.service import get_actor
from geo.cases.categories import LocationSource
from geo.cases.models import Case
from geo.cases.queries import (
    CaseFilter,
    grids_with_ancestors,
    last_events_of,
    list_cases,
    workers_by_ids,
)
from geo.cases.reporting import report_case
from geo.cases.stats import GroupBy, case_stats
from geo.cases.synth import seed_cases
from geo.cases.transitions import act
from geo.cases.workflow import Action
from geo.coords import LonLat
from geo.db import make_engine, make_sessionmaker
from geo.grids.synth import DISTRICT_BOUNDS


class SqlClock:
    """Statements and driver time, per operation, from SQLAlchemy's cursor events."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.statements, self.seconds = 0, 0.0
        self._started: dict[int, float] = {}
        event.listen(engine.sync_engine, "before_cursor_execute", self._before)
        event.listen(engine.sync_engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, *args: Any) -> None:
        self._started[id(cursor)] = time.perf_counter()
        self.statements += 1

    def _after(self, conn: Any, cursor: Any, *args: Any) -> None:
        self.seconds += time.perf_counter() - self._started.pop(id(cursor), time.perf_counter())

    @contextmanager
    def measure(self, out: dict[str, list[float]]) -> Iterator[None]:
        statements, seconds, started = self.statements, self.seconds, time.perf_counter()
        yield
        out["call"].append((time.perf_counter() - started) * 1e3)
        out["sql"].append((self.seconds - seconds) * 1e3)
        out["statements"].append(self.statements - statements)


def line(label: str, figures: dict[str, list[float]]) -> str:
    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    call, sql = figures["call"], figures["sql"]
    return (
        f"{label:<30} call p50 {statistics.median(call):6.2f} ms  p99 {pct(call, 0.99):6.2f} ms"
        f"   SQL p50 {statistics.median(sql):6.2f} ms  p99 {pct(sql, 0.99):6.2f} ms"
        f"   {statistics.mean(figures['statements']):.1f} statements (n={len(call)})"
    )


def new_figures() -> dict[str, list[float]]:
    return {"call": [], "sql": [], "statements": []}


def points(n: int, rng: random.Random) -> list[LonLat]:
    west, south, east, north = DISTRICT_BOUNDS
    return [LonLat(rng.uniform(west, east), rng.uniform(south, north)) for _ in range(n)]


async def ensure_year(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        if not await session.scalar(select(func.count()).select_from(Case)):
            started = time.perf_counter()
            said = await seed_cases(session)
            print(said[0], f"[seed_cases {time.perf_counter() - started:.1f} s incl. commit]")


async def bench_writes(
    sessionmaker: async_sessionmaker[AsyncSession], clock: SqlClock, n: int
) -> list[int]:
    async with sessionmaker() as session:
        agent_id = await session.scalar(select(User.id).where(User.seat == "district"))
        actor = await get_actor(session, agent_id or 0)
    reports, accepts = new_figures(), new_figures()
    ids: list[int] = []
    for p in points(n, random.Random(7)):
        with clock.measure(reports):
            async with sessionmaker.begin() as session:
                result = await report_case(
                    session,
                    actor=None,
                    category="sanitation",
                    description="垃圾桶满溢未清运",
                    point=p,
                    location_source=LocationSource.GPS,
                )
        ids.append(result.case.id)
    for case_id in ids:
        with clock.measure(accepts):
            async with sessionmaker.begin() as session:
                await act(
                    session, case_id=case_id, action=Action.ACCEPT, actor=actor, expected_version=1
                )
    print(line("report + route (one tx)", reports))
    print(line("transition: accept (one tx)", accepts))
    return ids


async def bench_concurrent_reports(
    sessionmaker: async_sessionmaker[AsyncSession], clients: int, seconds: float
) -> None:
    stop_at = time.perf_counter() + seconds
    latencies: list[float] = []

    async def client(seed: int) -> int:
        rng, done = random.Random(seed), 0
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            async with sessionmaker.begin() as session:
                await report_case(
                    session,
                    actor=None,
                    category="street_vending",
                    description="人行道流动摊贩",
                    point=points(1, rng)[0],
                    location_source=LocationSource.GPS,
                )
            latencies.append((time.perf_counter() - started) * 1e3)
            done += 1
        return done

    started = time.perf_counter()
    total = sum(await asyncio.gather(*(client(i) for i in range(clients))))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    p50, p99 = statistics.median(ordered), ordered[int(0.99 * len(ordered))]
    label = f"report + route, {clients} tasks"
    print(
        f"{label:<30} {total / elapsed:6.0f} reports/s   p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
        f"   (one process, pool of {clients})"
    )


async def timed(
    clock: SqlClock, label: str, runs: int, work: Callable[[], Awaitable[object]]
) -> None:
    figures = new_figures()
    for _ in range(runs):
        with clock.measure(figures):
            await work()
    print(line(label, figures))


async def bench_reads(sessionmaker: async_sessionmaker[AsyncSession], clock: SqlClock) -> None:
    async def page(f: CaseFilter) -> None:
        # One session here; the API's loaders would each open their own (same statements).
        async with sessionmaker() as session:
            cases = (await list_cases(session, filter=f, first=100)).cases
            await grids_with_ancestors(session, {c.grid_id for c in cases if c.grid_id})
            await last_events_of(session, [c.id for c in cases])
            await workers_by_ids(
                session, {c.assignee_worker_id for c in cases if c.assignee_worker_id}
            )

    async with sessionmaker() as session:
        l1_id = (await case_stats(session, group_by=GroupBy.CHILD_GRID))[0].child_grid_id

    await timed(clock, "page of 100 (+grids, last events)", 50, lambda: page(CaseFilter()))
    await timed(clock, "page of 100 in one L1 subtree", 50, lambda: page(CaseFilter(grid_id=l1_id)))
    await timed(clock, "page of 100, overdue only", 50, lambda: page(CaseFilter(overdue=True)))

    async def stats(group_by: GroupBy | None) -> None:
        async with sessionmaker() as session:
            await case_stats(session, group_by=group_by)

    await timed(clock, "caseStats, whole district", 10, lambda: stats(None))
    await timed(clock, "caseStats by child grid (L1)", 10, lambda: stats(GroupBy.CHILD_GRID))
    await timed(clock, "caseStats by month", 10, lambda: stats(GroupBy.MONTH))


async def main(reports: int, clients: int, seconds: float, http: bool = True) -> None:
    url = scratch_database("circle_bench_cases", fresh=False)
    print(*await seed(url, only_if_empty=True), sep="\n")
    engine = make_engine(url, pool_size=clients, statement_timeout_ms=600_000)
    sessionmaker = make_sessionmaker(engine, trail_keys=BENCH_TRAIL_KEYS)
    try:
        await ensure_year(sessionmaker)
        clock = SqlClock(engine)
        await bench_writes(sessionmaker, clock, reports)
        await bench_concurrent_reports(sessionmaker, clients, seconds)
        await bench_reads(sessionmaker, clock)
        if http:
            await bench_http(url, sessionmaker, clients, seconds)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=400)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--no-http", action="store_true", help="database figures only")
    args = parser.parse_args()
    asyncio.run(main(args.reports, args.clients, args.seconds, not args.no_http))
