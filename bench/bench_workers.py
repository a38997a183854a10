"""`circle serve --workers 2` against one worker, and reads with a streaming replica serving
them, at 16 clients: throughput and latency, the loads alternated (bench.common.alternating).

    .venv/bin/python -m bench.bench_workers [--seconds 20] [--clients 16] [--keep]

Runs on an embedded cluster of its own in a temporary folder (never the shared one): the
demo district (`circle seed --no-cases`: grids, 50,000 merchants), and a replica made as an
operator would (`circle db replica up`: pg_basebackup, a second postmaster). Reads are
nearbyMerchants (1 km, first 20, at random points) and gridAt; both run on the read pool.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import tempfile
import time
from functools import partial
from pathlib import Path

from api.cli.localdb import Cluster
from bench.bench_grids import points
from bench.common import (
    ROOT,
    Figures,
    Server,
    alternating,
    app_settings,
    graphql_request,
    http_load,
)

CIRCLE = str(ROOT / ".venv" / "bin" / "circle")
NEARBY = """query Nearby($p: PointInput!) { nearbyMerchants(near: $p, radiusM: 1000, first: 20)
  { ... on NearbyMerchantConnection { edges { distanceM node { id name phone } } } } }"""
GRID_AT = """query GridAt($p: PointInput!) { gridAt(point: $p) { __typename
  ... on GridMatch { grid { code name level } distanceToBoundaryM } } }"""


BENCH_KEYS = app_settings("postgresql://bench@127.0.0.1/bench").trail_keys or ""


def circle(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([CIRCLE, *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout


def requests_for(port: int) -> list[bytes]:
    sample = points(1_000, seed=7)
    rng = random.Random(3)
    out = []
    for p in sample:
        query = NEARBY if rng.random() < 0.5 else GRID_AT
        out.append(graphql_request(port, query, {"p": {"longitude": p.lon, "latitude": p.lat}}))
    return out


async def compare(servers: dict[str, Server], seconds: float, clients: int) -> list[Figures]:
    loads = [
        partial(http_load, label, server.port, requests_for(server.port), clients=clients)
        for label, server in servers.items()
    ]
    return await alternating(loads, seconds)


def main(seconds: float, clients: int, keep: bool) -> None:
    folder = Path(tempfile.mkdtemp(prefix="circle-bench-workers-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CIRCLE_DATA_DIR"] = str(folder / ".data")
    env["TRAIL_KEYS"] = BENCH_KEYS  # the servers (bench.common.Server) seal with the same
    try:
        circle(env, "db", "up")
        circle(env, "migrate")
        print("seeding the demo district (about 30 s) ...", flush=True)
        circle(env, "seed", "--no-cases")
        circle(env, "db", "replica", "up")
        primary = circle(env, "db", "url", "--owner").strip()
        replica = circle(env, "db", "replica", "url").strip()
        quiet = {"SWEEP_INTERVAL_S": "0"}
        servers = {
            "1 worker": Server(primary, **quiet),
            "2 workers": Server(primary, workers=2, **quiet),
            "1 worker, replica reads": Server(primary, READ_DATABASE_URL=replica, **quiet),
            "2 workers, replica reads": Server(
                primary, workers=2, READ_DATABASE_URL=replica, **quiet
            ),
        }
        try:
            time.sleep(3)  # the workers up, the replica watched
            figures = asyncio.run(compare(servers, seconds, clients))
        finally:
            for server in servers.values():
                server.stop()
        print(f"\nnearbyMerchants 1 km / gridAt, half each, {clients} clients, "
              f"{seconds:.0f} s each in 4 alternating slices:")  # fmt: skip
        for f in figures:
            print(f.line())
        one, two = figures[0].throughput, figures[1].throughput
        print(f"2 workers / 1 worker: {two / one:.2f}")
        print(f"replica reads / primary reads (1 worker): "
              f"{figures[2].throughput / one:.2f}; (2 workers): "
              f"{figures[3].throughput / two:.2f}")  # fmt: skip
    finally:
        if not keep:
            home = Cluster(folder / ".data").home
            subprocess.run([CIRCLE, "db", "replica", "drop"], env=env, capture_output=True)
            subprocess.run([CIRCLE, "db", "down"], env=env, capture_output=True)
            shutil.rmtree(home, ignore_errors=True)
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--keep", action="store_true", help="keep the cluster (and its folder)")
    args = parser.parse_args()
    main(args.seconds, args.clients, args.keep)
