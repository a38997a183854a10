"""A year of demo cases over the loaded district: ``seed_cases`` (what `circle seed` adds).

* Points: ``ST_GeneratePoints`` inside randomly chosen micro-grids of the grids in the
  database (the synthetic district of geo.grids.synth, or any imported one), plus a few
  reports just outside the district.
* Routing: every report is routed by the service itself, ``route_case`` (and an agent's
  confirmation of a queued case by ``route_to_grid``), all at once on the seeding
  session's own psycopg connection in pipeline mode: some 18,500 routings in about 8 s,
  most of it PostgreSQL running route_case's statement (one at a time through the
  session: about 30 s).
* People: demo users of every role (geo.cases.synth_people); one token per role is printed.
* Lives: geo.cases.synth_plan / synth_story / synth_sim run each case through the real
  workflow rules and hash chain, in memory.
* Writing: ids and public numbers come from the id sequence and the year counters in report
  order (each year's numbers from 1, after any the year already had), then cases and
  events are streamed with ``COPY`` (about 17,500 cases and 150,000 events in seconds).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

import psycopg
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from geo.accounts.actor import Actor
from geo.cases.categories import Channel, LocationSource
from geo.cases.models import Case, CaseEvent, LedgerItem
from geo.cases.numbers import format_number, number_year, take_serials
from geo.cases.routing import Routing, route_case, route_to_grid
from geo.cases.seal import keys_of
from geo.cases.synth_data import OUTSIDE_REPORTS
from geo.cases.synth_people import GridInfo, demo_tokens, make_people
from geo.cases.synth_plan import Planner, plan_year
from geo.cases.synth_sim import Place, Sim
from geo.cases.workflow import CaseStatus
from geo.cases.worktime import SHANGHAI
from geo.clock import utcnow
from geo.coords import LonLat
from geo.errors import DomainError
from geo.grids.queries import grids_by_ids

SEED_RECEIVED = 17_182
SEED_CLOSED = 17_154
#: Routings in flight at once on the pipelined connection.
_ROUTING_BATCH = 500

# Reviewed SQL: n random points inside each chosen micro-grid.
_POINTS = text(
    """
    WITH chosen AS (
        SELECT g.id, g.boundary, t.n
        FROM unnest(CAST(:ids AS int[]), CAST(:ns AS int[])) AS t(id, n)
        JOIN grids g ON g.id = t.id
    )
    SELECT c.id, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat
    FROM chosen c CROSS JOIN LATERAL ST_Dump(ST_GeneratePoints(c.boundary, c.n, :seed)) AS p
    ORDER BY c.id, p.path
    """
)
# Points in a ring of about 300 m around the district.
_OUTSIDE = text(
    """
    WITH d AS (SELECT ST_Union(boundary) AS b FROM grids WHERE parent_id IS NULL),
    ring AS (SELECT ST_Difference(ST_Buffer(b, 0.003), b) AS r FROM d)
    SELECT ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat
    FROM ring CROSS JOIN LATERAL ST_Dump(ST_GeneratePoints(r, :n, :seed)) AS p
    ORDER BY p.path
    """
)


async def seed_cases(
    session: AsyncSession,
    *,
    count: int = SEED_RECEIVED,
    closed: int = SEED_CLOSED,
    seed: int = 27,
    token_ttl: timedelta = timedelta(days=30),
    only_if_empty: bool = True,
) -> list[str]:
    """Adds demo users and a year of cases ending now; returns lines to print (tokens too).

    ``count`` received cases, ``closed`` of them closed, plus rejected, merged and
    not-yet-accepted reports (geo.cases.synth_data). Nothing is added when cases exist and
    ``only_if_empty``. The caller commits.
    """
    started = time.perf_counter()
    existing = await session.scalar(select(func.count()).select_from(Case))
    if existing and only_if_empty:
        return [f"cases: the database already has {existing}; none added"]
    if not 0 <= closed <= count:
        raise DomainError("closed must be between 0 and count")
    # A batch job, not a request: the COPY of ~150,000 events outlasts the API's timeout.
    await session.execute(text("SET LOCAL statement_timeout = '10min'"))
    # Grids loaded a moment ago have no statistics yet: without them routing scans the
    # workers table for every report (three times slower).
    await session.execute(text("ANALYZE grids, grid_workers"))
    grids, names = await _grids(session)
    if not any(g.level == "MICRO" for g in grids):
        raise DomainError("load the grids first: cases are spread over their micro-grids")
    rng = random.Random(seed)
    people = await make_people(session, grids, names, rng)
    tokens = await demo_tokens(session, people, token_ttl)
    places = await _places(session, grids, rng, count * 11 // 10 + 400, seed)
    outside = await _outside(session, OUTSIDE_REPORTS, seed)
    router = await ServiceRouter.on(session, grids)
    planner = Planner(people, rng, utcnow(), places, Actor.system())
    sims = await plan_year(planner, router, outside, count=count, closed=closed)
    await _number(session, sims)
    keys = keys_of(session)
    for sim in sims:  # each trail was chained as it was built: seal its head
        sim.case.trail_seal = keys.seal(sim.case.id, sim.case.version, sim.case.last_event_hash)
    events = await _copy(session, sims)
    ledger = await _ledger(session, sims, grids, rng)
    seconds = time.perf_counter() - started
    return [
        _summary(sims, events, people.count, ledger, seconds),
        _routing_summary(sims, router),
        *tokens,
    ]


async def _grids(session: AsyncSession) -> tuple[list[GridInfo], dict[int, str]]:
    """The grids, and the name of each staffed grid's first worker."""
    rows = await session.execute(text("SELECT id, code, name, level, path FROM grids"))
    grids = [GridInfo(r.id, r.code, r.name, r.level, tuple(r.path)) for r in rows]
    first = await session.execute(
        text("SELECT DISTINCT ON (grid_id) grid_id, name FROM grid_workers ORDER BY grid_id, id")
    )
    return grids, {r.grid_id: r.name for r in first}


async def _places(
    session: AsyncSession, grids: Sequence[GridInfo], rng: random.Random, n: int, seed: int
) -> Iterator[Place]:
    micro = {g.id: g for g in grids if g.level == "MICRO"}
    counts: dict[int, int] = {}
    for gid in rng.choices(sorted(micro), k=n):
        counts[gid] = counts.get(gid, 0) + 1
    rows = await session.execute(
        _POINTS, {"ids": list(counts), "ns": list(counts.values()), "seed": seed}
    )
    places = [Place(r.lon, r.lat, micro[r.id].path) for r in rows]
    rng.shuffle(places)
    return iter(places)


async def _outside(session: AsyncSession, n: int, seed: int) -> list[Place]:
    rows = await session.execute(_OUTSIDE, {"n": n, "seed": seed})
    return [Place(r.lon, r.lat, ()) for r in rows]


@dataclass
class ServiceRouter:
    """The service's routing (geo.cases.synth_plan.Router) for many reports at once.

    ``route_case`` and ``route_to_grid`` themselves, run on the seeding session's own
    psycopg connection (same transaction) in pipeline mode, ``_ROUTING_BATCH`` at a time:
    both read only through geo.db.fetch_mappings, which takes that connection as it takes
    a session, and the connection serialises the calls while the pipeline saves the round
    trip of each.
    """

    connection: psycopg.AsyncConnection[Any]
    grid_ids: dict[str, int]
    session: AsyncSession
    calls: int = 0
    seconds: float = 0.0

    @classmethod
    async def on(cls, session: AsyncSession, grids: Sequence[GridInfo]) -> ServiceRouter:
        connection = await session.connection()
        raw = (await connection.get_raw_connection()).driver_connection
        assert isinstance(raw, psycopg.AsyncConnection)
        return cls(raw, {g.code: g.id for g in grids}, session)

    async def route(self, asks: Sequence[tuple[LonLat, float, LocationSource]]) -> list[Routing]:
        conn = cast(AsyncSession, self.connection)  # see the class docstring
        calls = [
            partial(route_case, conn, point, accuracy_m=accuracy_m, source=source)
            for point, accuracy_m, source in asks
        ]
        return await self._run(calls)

    async def confirm(self, grid_codes: Sequence[str]) -> list[Routing]:
        if not grid_codes:
            return []
        rows = await grids_by_ids(self.session, [self.grid_ids[c] for c in set(grid_codes)])
        conn = cast(AsyncSession, self.connection)
        grids = [rows[self.grid_ids[code]] for code in grid_codes]
        return await self._run([partial(route_to_grid, conn, grid) for grid in grids])

    async def _run(self, calls: Sequence[Callable[[], Awaitable[Routing]]]) -> list[Routing]:
        started = time.perf_counter()
        out: list[Routing] = []
        async with self.connection.pipeline():
            for i in range(0, len(calls), _ROUTING_BATCH):
                out += await asyncio.gather(*(call() for call in calls[i : i + _ROUTING_BATCH]))
        self.calls += len(calls)
        self.seconds += time.perf_counter() - started
        return out


async def _number(session: AsyncSession, sims: list[Sim]) -> None:
    """Ids from the live sequence and numbers from the year counters (a block per year, as
    geo.cases.numbers gives them one at a time), in report order; chains the events."""
    sims.sort(key=lambda s: s.case.reported_at)
    rows = await session.execute(
        text("SELECT nextval('cases_id_seq') AS id FROM generate_series(1, :n)"),
        {"n": len(sims)},
    )
    ids = sorted(r.id for r in rows)
    years = Counter(number_year(sim.case.reported_at) for sim in sims)
    serials = {year: await take_serials(session, year, n) for year, n in sorted(years.items())}
    for sim, case_id in zip(sims, ids, strict=True):
        year = number_year(sim.case.reported_at)
        sim.number(case_id, format_number(year, serials[year]))
        serials[year] += 1
    for sim in sims:  # merged cases point at targets that may have been numbered after them
        if sim.merge_target is not None:
            sim.number(sim.case.id, sim.case.number)


async def _copy(session: AsyncSession, sims: Sequence[Sim]) -> int:
    """Streams the cases and their events with COPY; returns the number of events.

    Rows are formatted here as COPY text and sent in ~1 MB chunks: psycopg's per-row
    ``write_row`` costs about 0.2 ms a row in async code, 30 s for this volume.
    """
    case_columns = [c.name for c in Case.__table__.columns]
    event_columns = [c.name for c in CaseEvent.__table__.columns if c.name != "id"]
    cases = ([getattr(sim.case, c) for c in case_columns] for sim in sims)
    events = [[row[c] for c in event_columns] for sim in sims for row in sim.events]
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    async with raw.cursor() as cursor:
        for table, columns, rows in (
            ("cases", case_columns, cases),
            ("case_events", event_columns, iter(events)),
        ):
            async with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for chunk in _chunks(rows):
                    await copy.write(chunk)
            # Statistics now, not when autovacuum gets round to it: without them the foreign-key
            # checks of the events scan cases and users sequentially (25 s instead of 2 s),
            # and the first case lists are planned for empty tables.
            await cursor.execute(
                f"ANALYZE {table}" + ("; ANALYZE users" if table == "cases" else "")
            )
    return len(events)


def _chunks(rows: Iterator[list[Any]], size: int = 1 << 20) -> Iterator[bytes]:
    buffer: list[str] = []
    length = 0
    for row in rows:
        line = "\t".join(_copy_text(v) for v in row) + "\n"
        buffer.append(line)
        length += len(line)
        if length >= size:
            yield "".join(buffer).encode()
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer).encode()


_SPECIAL = re.compile(r"[\\\t\n\r]")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """One value in COPY's text format (most values are plain strings and integers)."""
    kind = type(value)
    if kind is str:
        return value.translate(_ESCAPES) if _SPECIAL.search(value) else value  # type: ignore[no-any-return]
    if value is None:
        return "\\N"
    if kind is int or kind is float:
        return str(value)
    if kind is bool:
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if kind is list:
        items = ('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in value)
        return ("{" + ",".join(items) + "}").translate(_ESCAPES)
    if kind is dict:
        return json.dumps(value, ensure_ascii=False).translate(_ESCAPES)
    return str(value).translate(_ESCAPES)


async def _ledger(
    session: AsyncSession, sims: Sequence[Sim], grids: Sequence[GridInfo], rng: random.Random
) -> int:
    """Meeting-ledger items: one behind each meeting-ledger case, plus open and solved ones."""
    rows: list[dict[str, Any]] = []
    for sim in sims:
        # The meeting was held in the community (L2 grid) where the problem lies.
        if sim.case.channel == Channel.MEETING_LEDGER and len(sim.place.path) > 2:
            raised = sim.case.reported_at - timedelta(days=rng.uniform(1, 6))
            rows.append(_item(sim.place.path[2], raised, sim.case.description, sim.case.id, rng))
    communities = [g for g in grids if g.level == "L2"]
    now = utcnow()
    for status in ("open",) * 60 + ("resolved",) * 40 + ("dropped",) * 10:
        raised = now - timedelta(days=rng.uniform(1, 300))
        item = _item(rng.choice(communities).id, raised, "居民反映楼院停车难", None, rng)
        rows.append(item | {"status": status})
    await session.execute(insert(LedgerItem), rows)
    return len(rows)


def _item(
    grid_id: int, raised: Any, words: str, case_id: int | None, rng: random.Random
) -> dict[str, Any]:
    month = raised.astimezone(SHANGHAI).month
    return {
        "grid_id": grid_id,
        "meeting": f"{month}月楼院议事会",
        "raised_at": raised,
        "text": words,
        "status": "converted" if case_id else "open",
        "converted_case_id": case_id,
        "recorded_by_id": None,
    }


def _routing_summary(sims: Sequence[Sim], router: ServiceRouter) -> str:
    """How the reports were routed (the reason each report got from route_case)."""
    reasons = Counter(str(sim.events[0]["details"]["routing"]) for sim in sims)
    counts = ", ".join(f"{reason} {n}" for reason, n in reasons.most_common())
    return f"routing: {counts} ({router.calls} routings, {router.seconds:.1f} s)"


def _summary(sims: Sequence[Sim], events: int, users: int, ledger: int, seconds: float) -> str:
    statuses = [CaseStatus(s.case.status) for s in sims]
    received = sum(1 for s in sims if s.case.accepted_at and s.case.status != "merged")
    closed = statuses.count(CaseStatus.CLOSED)
    return (
        f"cases: {len(sims)} reported, {received} received, {closed} closed, "
        f"{statuses.count(CaseStatus.REJECTED)} rejected, {statuses.count(CaseStatus.MERGED)} "
        f"merged; {events} events, {users} users, {ledger} ledger items ({seconds:.1f} s)"
    )
