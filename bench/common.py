"""What every benchmark shares: a scratch database, a server process, a cheap load generator.

The load generator speaks HTTP/1.1 over raw asyncio streams with pre-built request bytes, so
it costs far less CPU per request than an HTTP client library: on a 2-core machine shared by
PostgreSQL, the server and the generator, that keeps the generator out of the measurement.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
import psycopg
from psycopg_pool import AsyncConnectionPool

from api.cli import dbadmin
from api.settings import APP_ROLE, READ_ROLE, Settings, as_role, load_settings
from geo.cases.seal import TrailKeys, new_key_line

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class Figures:
    label: str
    requests: int
    seconds: float
    latencies_ms: Sequence[float]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def line(self) -> str:
        return (
            f"{self.label:<34} {self.throughput:9.0f} req/s   "
            f"p50 {self.percentile(0.5):7.3f} ms   p99 {self.percentile(0.99):7.3f} ms"
        )


def server_url() -> str:
    """The benchmark server, as its owner (scratch databases are created and migrated so)."""
    return load_settings().owner_database()


#: The case trail's key ring of benchmark servers (scratch data: a fresh key each run).
BENCH_TRAIL_KEYS = TrailKeys.parse(new_key_line("bench"))


def app_settings(url: str) -> Settings:
    """Settings of the app on the scratch database ``url`` (the owner's), as the
    application's roles, sealing with the benchmark's key ring."""
    keys = ", ".join(f"{kid} {secret.hex()}" for kid, secret in BENCH_TRAIL_KEYS.secrets.items())
    return Settings(
        database_url=as_role(url, APP_ROLE),
        owner_url=url,
        read_url=as_role(url, READ_ROLE),
        trail_keys=keys,
    )


def scratch_database(name: str, *, fresh: bool) -> str:
    """A migrated database `name` on the benchmark server (created when `fresh` or absent)."""
    base = server_url()
    with psycopg.connect(base.replace("postgresql+psycopg", "postgresql"), autocommit=True) as c:
        exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    url = dbadmin.create_database(base, name) if fresh or not exists else _same_server(base, name)
    dbadmin.upgrade(url)
    return url


def _same_server(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`circle serve` on a free port against `database_url` (the owner's; the server
    connects as the application's roles), ``workers`` processes (one by default), logs to a
    file."""

    def __init__(self, database_url: str, workers: int = 1, **settings: str) -> None:
        self.port = free_port()
        app = app_settings(database_url)
        env = {
            **os.environ,
            "DATABASE_URL": app.database(),
            "DATABASE_READ_URL": app.read_database(),
            "TRAIL_KEYS": app.trail_keys or "",
            "LOG_LEVEL": "WARNING",
            **settings,
        }
        out = ROOT / "bench" / "out"
        out.mkdir(exist_ok=True)
        self.log = open(out / f"server-{self.port}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api", "serve", "--port", str(self.port)]
            + (["--workers", str(workers)] if workers > 1 else []),
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start; see bench/out/")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=20)
        self.log.close()


def graphql_request(
    port: int,
    query: str,
    variables: dict[str, object],
    headers: dict[str, str] | None = None,
) -> bytes:
    """The bytes of one POST; `headers` are extra ones (e.g. authorization)."""
    body = orjson.dumps({"query": query, "variables": variables})
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    head = (
        f"POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n"
        f"content-type: application/json\r\naccept: application/graphql-response+json\r\n"
        f"{extra}content-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _one_client(
    port: int, requests: Sequence[bytes], stop_at: float, latencies: list[float], check: bool
) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    try:
        while time.perf_counter() < stop_at:
            request = requests[done % len(requests)]
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
            body = await reader.readexactly(length)
            latencies.append((time.perf_counter() - started) * 1e3)
            if check and (not head.startswith(b"HTTP/1.1 200") or b'"errors"' in body):
                raise RuntimeError(f"bad response: {head[:40]!r} {body[:200]!r}")
            done += 1
    finally:
        writer.close()
    return done


async def http_load(
    label: str,
    port: int,
    requests: Sequence[bytes],
    *,
    clients: int = 16,
    seconds: float = 10,
    warm: bool = True,
) -> Figures:
    """`clients` keep-alive connections sending `requests` round-robin for `seconds`.

    `warm=False` skips the one-second warm-up, for requests that may run only once (a
    workflow action on a given case version). The warm-up runs at the same concurrency, so
    that the server's read pool has grown to it and each of its backends has loaded what
    its first query loads (PostGIS, PROJ for the Mercator transform) before measuring.
    """
    if warm:
        await _warm(port, requests, clients)
    latencies: list[float] = []
    started = time.perf_counter()
    stop_at = started + seconds
    counts = await asyncio.gather(
        *(
            _one_client(port, requests[i::clients] or requests, stop_at, latencies, True)
            for i in range(clients)
        )
    )
    return Figures(label, sum(counts), time.perf_counter() - started, latencies)


async def _warm(port: int, requests: Sequence[bytes], clients: int) -> None:
    stop_at = time.perf_counter() + 1.0
    await asyncio.gather(
        *(_one_client(port, requests[i::clients] or requests, stop_at, [], True)
          for i in range(clients))
    )  # fmt: skip


async def sql_load(
    label: str,
    conninfo: str,
    sql: str,
    params: Sequence[dict[str, object]],
    *,
    clients: int = 16,
    seconds: float = 10,
) -> Figures:
    """The bare SQL through a psycopg async pool at the same concurrency, after the same
    one-second warm-up as http_load (every connection has run the statement)."""
    latencies: list[float] = []
    async with AsyncConnectionPool(
        conninfo, min_size=clients, max_size=clients, open=False
    ) as pool:
        await pool.wait()

        async def worker(offset: int, stop_at: float, record: bool) -> int:
            done = 0
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                async with pool.connection() as conn:
                    await (
                        await conn.execute(sql, params[(offset + done) % len(params)])
                    ).fetchall()
                if record:
                    latencies.append((time.perf_counter() - started) * 1e3)
                done += 1
            return done

        warm_until = time.perf_counter() + 1.0
        await asyncio.gather(*(worker(i * 7919, warm_until, False) for i in range(clients)))
        started = time.perf_counter()
        stop_at = started + seconds
        counts = await asyncio.gather(*(worker(i * 7919, stop_at, True) for i in range(clients)))
    return Figures(label, sum(counts), time.perf_counter() - started, latencies)


def db_time_ms(conninfo: str, sql: str, params: Sequence[dict[str, object]]) -> list[float]:
    """Execution time PostgreSQL reports for each statement (EXPLAIN ANALYZE, timing off)."""
    out: list[float] = []
    with psycopg.connect(conninfo) as conn:
        for p in params:
            plan = conn.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql, p).fetchone()
            assert plan is not None
            out.append(float(plan[0][0]["Execution Time"]))
    return out


def merged(parts: Sequence[Figures]) -> Figures:
    """Slices of one load as one set of figures."""
    latencies = [ms for part in parts for ms in part.latencies_ms]
    requests = sum(part.requests for part in parts)
    return Figures(parts[0].label, requests, sum(part.seconds for part in parts), latencies)


async def alternating(
    loads: Sequence[Callable[..., Awaitable[Figures]]], seconds: float, rounds: int = 4
) -> list[Figures]:
    """Runs each load (called with ``seconds=``) for ``seconds`` in all, in ``rounds``
    alternating slices.

    This machine's speed drifts by up to 40 % over minutes (the same statement measures
    0.27 ms in one minute and 0.50 ms in the next): run one after the other, two loads
    compared the machine's phases as much as themselves. Alternating, each samples the same
    minutes, so their ratio means something.
    """
    slices: list[list[Figures]] = [[] for _ in loads]
    for _ in range(rounds):
        for n, load in enumerate(loads):
            slices[n].append(await load(seconds=seconds / rounds))
    return [merged(parts) for parts in slices]


def summary(values: Sequence[float]) -> str:
    ordered = sorted(values)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"p50 {p50:.3f} ms   p99 {p99:.3f} ms   (n={len(ordered)})"


def plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def compiled(stmt: object) -> tuple[str, Callable[[dict[str, object]], dict[str, object]]]:
    """SQL text of a SQLAlchemy statement for psycopg, and a way to bind its parameters."""
    from sqlalchemy.dialects import postgresql

    c = stmt.compile(dialect=postgresql.psycopg.dialect())  # type: ignore[attr-defined]
    defaults = dict(c.params)
    return str(c), lambda values: {**defaults, **values}
