"""Merchants at 1,000,000 rows: bulk import, nearbyMerchants database time, raw-SQL throughput.

    .venv/bin/python -m bench.bench_merchants [--rows 1000000] [--seconds 10] [--clients 16]
                                             [--reuse]

Needs the embedded database up (`circle db up`) or DATABASE_URL. Works in a database
`circle_bench_merchants` holding the synthetic district (grids) and ``--rows`` synthetic
merchants imported from a CSV through ``geo.imports.importer`` (``--reuse`` keeps an
existing one and skips the import).

Figures printed:
* bulk import: rows per second, file to committed transaction (the CSV is written first
  and not counted);
* nearbyMerchants (1 km, first 20, with and without a category): PostgreSQL's execution
  time (what a prepared statement costs) and planning + execution time of the exact
  statement ``geo.merchants.queries.nearby_merchants`` sends (EXPLAIN ANALYZE, timing
  off), p50/p99 over random points of the district, and how many statements a call took
  (more than one only when the over-fetch did not prove the order); beside it, point by
  point, the execution time of the statement the API sends for ``NEARBY_QUERY``, whose
  rows come back as the JSON PostgreSQL writes (``api.fast.json_nodes``): EXPLAIN counts the
  writing there, but not the output of the column statement's fourteen columns. Each
  point was searched once just before (finding the statements sent), as in a server that
  has been answering for a while; the pages a search still read from outside shared
  buffers (the kernel's cache) are printed beside the times, with the buffers' size;
* the same statements prepared and run with ``plan_cache_mode = force_generic_plan``, to
  show a cached generic plan keeps the category index;
* throughput of the bare SQL through a psycopg AsyncConnectionPool at ``--clients``
  concurrent clients, and of ``nearby_merchants`` itself, called with a SQLAlchemy session
  and with a connection of ``geo.db``'s read pool;
* throughput and p50/p99 of ``nearbyMerchants`` over HTTP (GraphQL, one ``circle serve``
  process, ``--clients`` keep-alive connections), and its ratio to the bare SQL's; the two
  loads run in alternating slices (``common.alternating``), so both sample the same minutes
  of a machine whose speed drifts;
* ``serviceCircle`` (15 minutes' walk, what a scanned circle code shows): the latency and
  client CPU of ``geo.circles.reach.service_circle`` called one at a time on a read-pool
  connection, and the execution time of its count of open merchants per category, with
  the index it reads.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import psycopg
from psycopg import sql as sql_module
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from api.cli.seeding import seed
from bench.bench_grids import points
from bench.common import (
    Figures,
    Server,
    alternating,
    graphql_request,
    http_load,
    plain,
    scratch_database,
    sql_load,
    summary,
)
from geo.circles.reach import service_circle
from geo.coords import LonLat
from geo.db import make_engine, make_read_pool, make_sessionmaker
from geo.imports.importer import import_file
from geo.imports.synth import write_merchants_csv
from geo.json_objects import Lookup, Template, Value
from geo.merchants.models import Merchant
from geo.merchants.queries import nearby_merchants
from geo.merchants.taxonomy import CATEGORIES

DATABASE = "circle_bench_merchants"
SEARCHES: dict[str, dict[str, Any]] = {
    "no category": {},
    "category pharmacy (4 %)": {"categories": ["pharmacy"]},
    "category bookstore (0.6 %)": {"categories": ["bookstore"]},
}
#: What a mini-app's "nearby" list asks for: the same rows as the bare SQL, as GraphQL.
NEARBY_QUERY = """query Nearby($p: PointInput!, $c: [String!]) {
  nearbyMerchants(near: $p, radiusM: 1000, first: 20, categories: $c) {
    ... on NearbyMerchantConnection { edges { distanceM walkingMinutes
      node { id name phone category { code zh } location { longitude latitude } } } }
  }
}"""


def nearby_requests(port: int, sample: list[LonLat], search: dict[str, Any]) -> list[bytes]:
    """Pre-built HTTP requests of nearbyMerchants, one per sample point."""
    categories = search.get("categories")
    return [
        graphql_request(
            port, NEARBY_QUERY, {"p": {"longitude": p.lon, "latitude": p.lat}, "c": categories}
        )
        for p in sample
    ]


async def load(url: str, rows: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "merchants.csv"
        started = time.perf_counter()
        write_merchants_csv(path, rows)
        print(
            f"CSV of {rows:,} synthetic merchants written in {time.perf_counter() - started:.1f} s"
        )
        engine = make_engine(url, statement_timeout_ms=600_000)
        started = time.perf_counter()
        async with make_sessionmaker(engine).begin() as session:
            report = await import_file(session, path)
        seconds = time.perf_counter() - started
        await engine.dispose()
    print(
        f"bulk import: {report.imported:,} rows in {seconds:.1f} s = "
        f"{report.imported / seconds:,.0f} rows/s ({report.outside_coverage:,} outside coverage)"
    )
    with psycopg.connect(plain(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE merchants")  # the steady state a live table reaches


def node_template() -> Template:
    """What api.fast.json_nodes makes of NEARBY_QUERY's node selection (written by hand here:
    tests/api/test_json_nodes.py holds the API's templates to the Python answers)."""
    labels = {
        c.code: orjson.dumps({"code": c.code, "zh": c.zh}).decode() for c in CATEGORIES.values()
    }
    return (
        ("id", Value.ID_TEXT),
        ("name", Value.NAME),
        ("phone", Value.PHONE),
        ("category", Lookup(Value.CATEGORY, tuple(labels.items()))),
        ("location", (("longitude", Value.LONGITUDE), ("latitude", Value.LATITUDE))),
    )


async def captured(
    engine: AsyncEngine, sample: list[LonLat], search: dict[str, Any], written: bool = False
) -> Any:
    """The statements nearby_merchants sends for each point: (sql, [params], calls); with
    ``written``, those it sends with a template (the API's, for NEARBY_QUERY)."""
    sent: list[tuple[str, dict[str, Any]]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        sent.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with make_sessionmaker(engine)() as session:
            template = node_template() if written else None
            for p in sample:
                await nearby_merchants(
                    session, p, template=template, radius_m=1_000, limit=20, **search
                )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    first = sent[0][0]
    return first, [p for s, p in sent if s == first], len(sent) / len(sample)


def db_times(
    conninfo: str, statements: list[tuple[str, list[dict[str, Any]]]]
) -> list[tuple[list[float], list[float], list[int]]]:
    """Execution and planning + execution times PostgreSQL reports (EXPLAIN ANALYZE, timing
    off) for each statement, and the pages each execution read from outside shared buffers.

    The statements run point by point in turn, so that all sample the same minutes of a
    machine whose speed drifts, and in the opposite order at every other point: a point's
    first statement pays for bringing its pages close to the CPU (and into shared buffers
    when they were not there), and the next one finds them warm. Run in a fixed order, that
    bias alone made one statement look half as costly as the other."""
    found: list[tuple[list[float], list[float], list[int]]] = [([], [], []) for _ in statements]
    with psycopg.connect(conninfo) as conn:
        for n in range(min(len(params) for _, params in statements)):
            order = list(zip(statements, found, strict=True))
            for (sql, params), (execution, total, read) in order[:: 1 if n % 2 else -1]:
                plan = conn.execute(
                    "EXPLAIN (ANALYZE, TIMING OFF, BUFFERS, FORMAT JSON) " + sql, params[n]
                ).fetchone()
                assert plan is not None
                execution.append(plan[0][0]["Execution Time"])
                total.append(plan[0][0]["Planning Time"] + plan[0][0]["Execution Time"])
                read.append(plan[0][0]["Plan"]["Shared Read Blocks"])
    return found


def index_of(conninfo: str, sql: str, params: dict[str, Any]) -> str:
    with psycopg.connect(conninfo) as conn:
        plan = conn.execute("EXPLAIN " + sql, params).fetchall()
    return ", ".join(sorted({w for (line,) in plan for w in line.split() if w.startswith("ix_")}))


def generic_plan(conninfo: str, sql: str, params: list[dict[str, Any]]) -> tuple[float, str]:
    """Median client-side time per execution of the statement prepared with a generic plan
    forced, and the indexes that plan uses."""
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        times = []
        for p in params:
            started = time.perf_counter()
            conn.execute(sql, p, prepare=True).fetchall()
            times.append((time.perf_counter() - started) * 1e3)
        found = conn.execute(
            "SELECT name FROM pg_prepared_statements WHERE generic_plans > 0"
        ).fetchone()
        assert found is not None
        # psycopg numbers the %(name)s placeholders $1, $2, ... in order of first use.
        names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", sql)))
        args = sql_module.SQL(", ").join(sql_module.Literal(params[0][n]) for n in names)
        query = sql_module.SQL("EXPLAIN EXECUTE {}({})").format(
            sql_module.Identifier(found[0]), args
        )
        plan = conn.execute(query).fetchall()
    used = sorted({w for (line,) in plan for w in line.split() if w.startswith("ix_")})
    return statistics.median(times), ", ".join(used)


async def geo_layer_load(
    opener: Any, label: str, sample: list[LonLat], search: dict[str, Any], clients: int,
    seconds: float,
) -> Figures:  # fmt: skip
    """nearby_merchants itself, ``clients`` concurrent tasks, each call on what ``opener()``
    opens (a SQLAlchemy session, or a read-pool connection)."""
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def client(offset: int) -> int:
        done = 0
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            async with opener() as conn:
                p = sample[(offset + done) % len(sample)]
                await nearby_merchants(conn, p, radius_m=1_000, limit=20, **search)
            latencies.append((time.perf_counter() - started) * 1e3)
            done += 1
        return done

    started = time.perf_counter()
    counts = await asyncio.gather(*(client(i * 131) for i in range(clients)))
    return Figures(label, sum(counts), time.perf_counter() - started, latencies)


async def circle_figures(
    engine: AsyncEngine, pool: AsyncConnectionPool, conninfo: str, sample: list[LonLat]
) -> None:
    """serviceCircle's latency and client CPU, one call at a time on a read-pool connection
    (as the API runs it), and the execution time of its count per category (EXPLAIN
    ANALYZE, timing off; the statements as a SQLAlchemy session sends them)."""
    counts: list[tuple[str, dict[str, Any]]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        if "count(" in statement and "GROUP BY" in statement:
            counts.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with make_sessionmaker(engine)() as session:
            for p in sample:
                await service_circle(session, p, 15)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    latencies = []
    cpu = time.process_time()
    for p in sample:
        started = time.perf_counter()
        async with pool.connection() as connection:
            await service_circle(connection, p, 15)
        latencies.append((time.perf_counter() - started) * 1e3)
    cpu_ms = (time.process_time() - cpu) / len(sample) * 1e3
    sql = counts[0][0]
    ((execution, _, _),) = db_times(conninfo, [(sql, [p for s, p in counts if s == sql])])
    print(f"\nserviceCircle, 15 minutes' walk  [{index_of(conninfo, sql, counts[0][1])}]")
    print("  service_circle(), read pool, one at a time:", summary(latencies))
    print(f"  its client CPU per call: {cpu_ms:.2f} ms")
    print("  its count per category, execution:         ", summary(execution))


async def main(rows: int, seconds: float, clients: int, reuse: bool) -> None:
    url = scratch_database(DATABASE, fresh=not reuse)
    print(*await seed(url, only_if_empty=True, merchants=False), sep="\n")
    engine = make_engine(url, pool_size=clients, max_overflow=0)
    async with make_sessionmaker(engine)() as session:
        existing = await session.scalar(select(func.count()).select_from(Merchant)) or 0
    if not (reuse and existing):
        await load(url, rows)
    else:
        print(f"reusing {existing:,} merchants")
    sample = points(1_000)
    conninfo = plain(url)
    with psycopg.connect(conninfo) as conn:
        buffers = conn.execute("SHOW shared_buffers").fetchone()[0]  # type: ignore[index]
    pool = make_read_pool(url, size=clients)
    await pool.open(wait=True)
    server = Server(url)  # one `circle serve` process; idle while the other loads run
    try:
        for label, search in SEARCHES.items():
            sql, params, per_call = await captured(engine, sample, search)
            print(
                f"\nnearbyMerchants 1 km, first 20, {label}  [{index_of(conninfo, sql, params[0])}]"
            )
            print(f"  statements per call: {per_call:.3f}")
            sql_json, params_json, _ = await captured(engine, sample, search, written=True)
            (execution, total, read), (written, _, _) = db_times(
                conninfo, [(sql, params[:500]), (sql_json, params_json[:500])]
            )
            print(f"  pages read into shared buffers ({buffers}) per search: "
                  f"{statistics.mean(read):.2f}")  # fmt: skip
            print("  database time, execution:      ", summary(execution))
            print("  database time, plan + execute: ", summary(total))
            print("  the API's statement, nodes written as JSON, execution (EXPLAIN counts the")
            print("  JSON it writes, not the column statement's output): ", summary(written))
            median, used = generic_plan(conninfo, sql, params[:200])
            print(f"  prepared, generic plan forced: median {median:.3f} ms client-side [{used}]")
            requests = nearby_requests(server.port, sample, search)
            raw, http = await alternating(
                [
                    partial(
                        sql_load, "  bare SQL, psycopg pool", conninfo, sql, params, clients=clients
                    ),
                    partial(
                        http_load,
                        "  HTTP GraphQL, 1 server process",
                        server.port,
                        requests,
                        clients=clients,
                    ),
                ],
                seconds,
            )
            print(raw.line())
            print(http.line())
            print(f"  HTTP GraphQL / bare SQL throughput: {http.throughput / raw.throughput:.2f}"
                  "  (alternating slices)")  # fmt: skip
            for label, opener in (
                ("  nearby_merchants(), SA session", make_sessionmaker(engine)),
                ("  nearby_merchants(), read pool", pool.connection),
            ):
                print(
                    (await geo_layer_load(opener, label, sample, search, clients, seconds)).line()
                )
        await circle_figures(engine, pool, conninfo, sample[:300])
    finally:
        server.stop()
    await pool.close()
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--reuse", action="store_true", help="keep an existing database")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rows, arguments.seconds, arguments.clients, arguments.reuse))
