"""Circle against its peer, PostGraphile v4 with @graphile/postgis, on the same data and load.

    .venv/bin/python -m bench.bench_peer [--seconds 5] [--rounds 3] [--clients 16]
                                         [--processes 1] [--rows 1000000] [--break-peer]

Needs Node.js and npm (the peer is installed from npm into bench/peer/node_modules, never a
dependency of the service), wrk (Debian's package), and the embedded database up (`circle db
up`) or DATABASE_URL. Works in `circle_bench_merchants` (the synthetic district and
``--rows`` merchants; loaded as bench.bench_merchants loads them when it has none), in which
it installs the peer's SQL (bench/peer/functions.sql).

What it does:
* starts PostGraphile (bench/peer/server.js) and `circle serve`, ``--processes`` each;
* sends every query for 100 sample points to both and compares the answers (ids and order,
  names, categories, coordinates, distances to 1e-6 m): it stops with exit status 1 before
  timing anything if one differs (``--break-peer`` makes the peer search 999 m instead of
  1,000 m, to see the check fail);
* times each query on each system with wrk (``--clients`` connections, one thread), the
  cells interleaved (round after round: every query, each system in turn), so that the
  machine's drift hits all alike; a 1 s warm-up per cell first;
* prints, per query and system: throughput, p50 and p99 (wrk's, median over the rounds),
  and the CPU per request of the server processes and of the PostgreSQL backends serving
  them (from /proc), then Circle / PostGraphile.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from api.cli.seeding import seed
from bench.bench_grids import points
from bench.common import ROOT, Server, app_settings, free_port, plain, scratch_database
from geo.coords import LonLat
from geo.merchants.models import CATEGORY_KEYS
from geo.merchants.taxonomy import CATEGORIES

DATABASE = "circle_bench_merchants"
PEER = ROOT / "bench" / "peer"
TICKS = os.sysconf("SC_CLK_TCK")

CIRCLE_NEARBY = """query Nearby($p: PointInput!, $c: [String!]) {
  nearbyMerchants(near: $p, radiusM: 1000, first: 20, categories: $c) {
    ... on NearbyMerchantConnection { edges { distanceM walkingMinutes
      node { id name phone category { code zh } location { longitude latitude } } } }
  }
}"""
PEER_NEARBY = """query Nearby($lon: Float!, $lat: Float!, $r: Float!, $c: String) {
  peerNearbyMerchants(lon: $lon, lat: $lat, radiusM: $r, category: $c, n: 20) {
    nodes { id name phone category categoryZh location { x y } distanceM walkingMinutes } } }"""
CIRCLE_GRID = """query GridAt($p: PointInput!) { gridAt(point: $p) { ... on GridMatch {
  grid { code name level parent { code name level } } distanceToBoundaryM } } }"""
PEER_GRID = """query GridAt($lon: Float!, $lat: Float!) { peerGridAt(lon: $lon, lat: $lat) {
  nodes { code name level gridByParentId { code name level }
    distanceToBoundaryM(lon: $lon, lat: $lat) } } }"""


@dataclass(frozen=True)
class Query:
    """One benchmarked question, as each system is asked it, and its answer made comparable."""

    label: str
    circle: str
    circle_variables: Callable[[LonLat], dict[str, Any]]
    circle_answer: Callable[[Any], list[tuple[Any, ...]]]
    peer: str
    peer_variables: Callable[[LonLat, float], dict[str, Any]]
    peer_answer: Callable[[Any], list[tuple[Any, ...]]]


def _point(p: LonLat) -> dict[str, float]:
    return {"longitude": p.lon, "latitude": p.lat}


def _circle_nearby(data: Any) -> list[tuple[Any, ...]]:
    return [
        (int(e["node"]["id"]), e["node"]["name"], e["node"]["phone"],
         e["node"]["category"]["code"], e["node"]["category"]["zh"],
         e["node"]["location"]["longitude"], e["node"]["location"]["latitude"],
         e["distanceM"], e["walkingMinutes"])
        for e in data["nearbyMerchants"]["edges"]
    ]  # fmt: skip


def _peer_nearby(data: Any) -> list[tuple[Any, ...]]:
    return [
        (n["id"], n["name"], n["phone"], n["category"], n["categoryZh"],
         n["location"]["x"], n["location"]["y"], n["distanceM"], n["walkingMinutes"])
        for n in data["peerNearbyMerchants"]["nodes"]
    ]  # fmt: skip


def _circle_grid(data: Any) -> list[tuple[Any, ...]]:
    match = data["gridAt"]
    grid, parent = match["grid"], match["grid"]["parent"]
    return [(grid["code"], grid["name"], grid["level"], parent["code"], parent["name"],
             parent["level"], match["distanceToBoundaryM"])]  # fmt: skip


def _peer_grid(data: Any) -> list[tuple[Any, ...]]:
    return [
        (g["code"], g["name"], g["level"], g["gridByParentId"]["code"],
         g["gridByParentId"]["name"], g["gridByParentId"]["level"], g["distanceToBoundaryM"])
        for g in data["peerGridAt"]["nodes"]
    ]  # fmt: skip


def nearby(label: str, category: str | None) -> Query:
    return Query(
        label,
        CIRCLE_NEARBY,
        lambda p: {"p": _point(p), "c": [category] if category else None},
        _circle_nearby,
        PEER_NEARBY,
        lambda p, radius: {"lon": p.lon, "lat": p.lat, "r": radius, "c": category},
        _peer_nearby,
    )


QUERIES = (
    nearby("nearby merchants, 1 km, first 20", None),
    nearby("the same, category pharmacy", "pharmacy"),
    Query(
        "grid at a point, with its parent",
        CIRCLE_GRID,
        lambda p: {"p": _point(p)},
        _circle_grid,
        PEER_GRID,
        lambda p, radius: {"lon": p.lon, "lat": p.lat},
        _peer_grid,
    ),
)


# --- the data and the two servers -------------------------------------------------------


async def prepare_database(rows: int) -> str:
    url = scratch_database(DATABASE, fresh=False)
    print(*await seed(url, only_if_empty=True, merchants=False), sep="\n")
    with psycopg.connect(plain(url), autocommit=True) as conn:
        (count,) = conn.execute("SELECT count(*) FROM merchants").fetchone()  # type: ignore[misc]
        if count == 0:
            from bench.bench_merchants import load

            await load(url, rows)
            conn.execute("ANALYZE")
        conn.execute(peer_sql())
        (count,) = conn.execute("SELECT count(*) FROM merchants").fetchone()  # type: ignore[misc]
    print(f"{count:,} merchants; the peer's SQL installed")
    return url


def peer_sql() -> str:
    zh = " ".join(f"WHEN '{c.code}' THEN '{c.zh}'" for c in CATEGORIES.values())
    keys = " ".join(f"WHEN '{code}' THEN {n}" for n, code in enumerate(CATEGORY_KEYS, 1))
    sql = (PEER / "functions.sql").read_text()
    return sql.replace("{category_zh}", zh).replace("{category_key}", keys)


def install_peer() -> None:
    if (PEER / "node_modules" / "postgraphile").is_dir():
        return
    if shutil.which("npm") is None:
        sys.exit("bench_peer needs Node.js and npm (Debian: apt-get install nodejs npm)")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEER, check=True)


class PeerServer:
    """PostGraphile (bench/peer/server.js) on a free port; ``processes`` node processes,
    connected as the read-only role Circle's read pool uses."""

    def __init__(self, url: str, processes: int) -> None:
        self.port = free_port()
        out = ROOT / "bench" / "out"
        out.mkdir(exist_ok=True)
        self.log = open(out / f"peer-{self.port}.log", "w")  # noqa: SIM115
        reader = plain(app_settings(url).read_database())
        self.process = subprocess.Popen(
            # As Circle's reads: the read-only role (bench.common.app_settings).
            ["node", "server.js", str(self.port), reader, str(processes)],
            cwd=PEER,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("PostGraphile did not start; see bench/out/")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)
        self.log.close()


def post(port: int, query: str, variables: dict[str, Any]) -> Any:
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        body,
        {"content-type": "application/json", "accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    if answer.get("errors"):
        raise RuntimeError(f"errors from :{port}: {answer['errors']}")
    return answer["data"]


# --- the correctness check --------------------------------------------------------------


def same(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        for u, v in zip(x, y, strict=True):
            if isinstance(u, float) or isinstance(v, float):
                if not math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-6):
                    return False
            elif u != v:
                return False
    return True


def check(circle_port: int, peer_port: int, sample: list[LonLat], radius: float) -> int:
    """The number of answers that differ (each printed)."""
    differ = 0
    for query in QUERIES:
        rows = 0
        for p in sample:
            mine = query.circle_answer(post(circle_port, query.circle, query.circle_variables(p)))
            theirs = query.peer_answer(post(peer_port, query.peer, query.peer_variables(p, radius)))
            rows += len(mine)
            if not same(mine, theirs):
                differ += 1
                if differ <= 3:
                    print(f"  DIFFERENT: {query.label} at {p}:\n    Circle {mine[:3]}\n"
                          f"    PostGraphile {theirs[:3]}")  # fmt: skip
        print(f"  {query.label}: {len(sample)} answers compared ({rows} rows)")
    return differ


# --- timing ------------------------------------------------------------------------------

WRK_SCRIPT = """
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
local i = 0
failed = 0
local threads = {}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
function setup(thread) table.insert(threads, thread) end
function request()
  i = i % #bodies + 1
  return wrk.format(nil, "/graphql", nil, bodies[i])
end
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then failed = failed + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("failed") end
  io.write(string.format("BENCH %d %d %.1f %.1f %d\\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(99), total))
end
"""


@dataclass
class Cell:
    requests: int = 0
    seconds: float = 0.0
    p50_ms: list[float] | None = None
    p99_ms: list[float] | None = None
    server_s: float = 0.0
    database_s: float = 0.0

    def add(self, requests: int, seconds: float, p50: float, p99: float, cpu: float,
            db: float) -> None:  # fmt: skip
        self.requests += requests
        self.seconds += seconds
        self.p50_ms = [*(self.p50_ms or []), p50]
        self.p99_ms = [*(self.p99_ms or []), p99]
        self.server_s += cpu
        self.database_s += db

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def line(self) -> str:
        return (
            f"{self.throughput:7.0f} req/s  p50 {statistics.median(self.p50_ms or [0]):6.2f}  "
            f"p99 {statistics.median(self.p99_ms or [0]):6.2f} ms  "
            f"server {self.server_s / self.requests * 1e3:5.3f}  "
            f"db {self.database_s / self.requests * 1e3:5.3f} ms CPU/req"
        )


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending += children.get(current, [])
    return found


def backends(conninfo: str) -> list[int]:
    """The client backends connected to the bench database (but this one)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = "
            "'client backend' AND pid <> pg_backend_pid()",
            (DATABASE,),
        ).fetchall()
    return [row[0] for row in rows]


def wrk(
    port: int, bodies: Path, seconds: float, clients: int
) -> tuple[int, float, float, float, int]:
    """Requests, seconds, p50 and p99 (ms) and failed answers of one wrk run."""
    script = bodies.with_suffix(".lua")
    script.write_text(WRK_SCRIPT)
    command = ["wrk", "-t1", f"-c{clients}", f"-d{round(seconds)}s", "--timeout", "10s"]
    out = subprocess.run(
        [*command, "-s", str(script), f"http://127.0.0.1:{port}/graphql"],
        env={**os.environ, "BENCH_BODIES": str(bodies)},
        capture_output=True,
        text=True,
    )
    found = re.search(r"^BENCH (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+)$", out.stdout, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk said: {out.stdout} {out.stderr}")
    requests, micros, p50, p99, failed = found.groups()
    return int(requests), int(micros) / 1e6, float(p50) / 1e3, float(p99) / 1e3, int(failed)


def bodies_file(folder: str, name: str, query: str, variables: list[dict[str, Any]]) -> Path:
    """One request body a line, for the wrk script."""
    path = Path(folder) / f"{name}.txt"
    lines = [json.dumps({"query": query, "variables": v}, ensure_ascii=False) for v in variables]
    path.write_text("\n".join(lines) + "\n")
    return path


def measure(url: str, servers: dict[str, tuple[int, int]], sample: list[LonLat], args: Any) -> None:
    conninfo = plain(url)
    cells: dict[tuple[str, str], Cell] = {}
    with tempfile.TemporaryDirectory() as folder:
        files: dict[tuple[str, str], Path] = {}
        for n, query in enumerate(QUERIES):
            theirs = [query.peer_variables(p, 1000.0) for p in sample]
            mine = [query.circle_variables(p) for p in sample]
            files[(query.label, "PostGraphile")] = bodies_file(
                folder, f"peer{n}", query.peer, theirs
            )
            files[(query.label, "Circle")] = bodies_file(folder, f"circle{n}", query.circle, mine)
        for round_ in range(args.rounds):
            for query in QUERIES:
                for system, (port, pid) in servers.items():
                    key = (query.label, system)
                    if round_ == 0:
                        wrk(port, files[key], 1, args.clients)  # warm-up: pools, caches, JIT
                    processes = tree(pid)
                    db = backends(conninfo)
                    before = cpu_seconds(processes), cpu_seconds(db)
                    requests, seconds, p50, p99, failed = wrk(
                        port, files[key], args.seconds, args.clients
                    )
                    cpu = cpu_seconds(processes) - before[0]
                    db_cpu = cpu_seconds(db) - before[1]
                    if failed:
                        raise RuntimeError(f"{system}: {failed} failed answers in {query.label}")
                    cells.setdefault(key, Cell()).add(requests, seconds, p50, p99, cpu, db_cpu)
            print(f"  round {round_ + 1} of {args.rounds} done")
    print(f"\n{args.clients} connections (wrk, one thread), {args.processes} server process(es) "
          f"each, {args.rounds} × {args.seconds:g} s per cell, interleaved")  # fmt: skip
    for query in QUERIES:
        peer, mine = cells[(query.label, "PostGraphile")], cells[(query.label, "Circle")]
        print(f"\n{query.label}")
        print(f"  PostGraphile {peer.line()}")
        print(f"  Circle       {mine.line()}")
        print(f"  Circle / PostGraphile throughput: {mine.throughput / peer.throughput:.2f}")


async def main(args: Any) -> None:
    if shutil.which("wrk") is None:
        sys.exit("bench_peer needs wrk (Debian: apt-get install wrk)")
    install_peer()
    url = await prepare_database(args.rows)
    sample = points(500, seed=7)
    peer = PeerServer(url, args.processes)
    circle = Server(url, workers=args.processes)
    try:
        radius = 999.0 if args.break_peer else 1000.0
        print("answers compared before timing:")
        differ = check(circle.port, peer.port, sample[:100], radius)
        if differ:
            print(f"{differ} answers differ: not timed")
            raise SystemExit(1)
        servers = {
            "PostGraphile": (peer.port, peer.process.pid),
            "Circle": (circle.port, circle.process.pid),
        }
        measure(url, servers, sample, args)
    finally:
        peer.stop()
        circle.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--break-peer", action="store_true")
    asyncio.run(main(parser.parse_args()))
