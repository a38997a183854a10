"""gridAt over the 5,657 micro-grids: database time, HTTP throughput, and raw SQL in one run.

    .venv/bin/python -m bench.bench_grids [--seconds 10] [--clients 16]

Needs the embedded database up (`circle db up`) or DATABASE_URL. Uses (and keeps) a
database `circle_bench_grids` holding the synthetic district.
"""

from __future__ import annotations

import argparse
import asyncio
import random
from functools import partial

from shapely import prepared
from shapely.geometry import Point

from api.cli.seeding import seed
from bench.common import (
    Server,
    alternating,
    compiled,
    db_time_ms,
    graphql_request,
    http_load,
    plain,
    scratch_database,
    sql_load,
    summary,
)
from geo.coords import LonLat
from geo.grids.queries import ROUTE_SQL, route_params
from geo.grids.synth import DISTRICT_BOUNDS, synth_district
from geo.points import point_text

QUERY = """query GridAt($p: PointInput!) { gridAt(point: $p) { __typename
  ... on GridMatch { grid { code name level } distanceToBoundaryM } } }"""


def points(n: int, seed: int = 1) -> list[LonLat]:
    """Random points inside the district (so every lookup is the micro-grid case)."""
    rng = random.Random(seed)
    west, south, east, north = DISTRICT_BOUNDS
    outline = prepared.prep(next(g for g in synth_district() if g.level == "DISTRICT").geometry)
    out: list[LonLat] = []
    while len(out) < n:
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        if outline.contains(Point(lon, lat)):
            out.append(LonLat(lon, lat))
    return out


async def main(seconds: float, clients: int) -> None:
    url = scratch_database("circle_bench_grids", fresh=False)
    print(*await seed(url, only_if_empty=True, merchants=False), sep="\n")
    sample = points(2_000)
    sql, _ = compiled(ROUTE_SQL)
    params = [route_params(p, 20.0) for p in sample]

    print("gridAt database time (EXPLAIN ANALYZE):", summary(db_time_ms(plain(url), sql, params)))
    # For reference: the bare point-in-polygon part, without the edge distance and neighbours.
    bare = (
        "SELECT id FROM grids WHERE level = 'MICRO' AND ST_Covers(boundary, "
        f"{point_text('%(lon)s', '%(lat)s')}) ORDER BY code LIMIT 1"
    )
    print("bare point-in-polygon database time:  ", summary(db_time_ms(plain(url), bare, params)))
    server = Server(url)
    try:
        requests = [
            graphql_request(server.port, QUERY, {"p": {"longitude": p.lon, "latitude": p.lat}})
            for p in sample
        ]
        api, raw = await alternating(
            [
                partial(http_load, "HTTP GraphQL gridAt", server.port, requests, clients=clients),
                partial(
                    sql_load, "raw SQL (psycopg pool)", plain(url), sql, params, clients=clients
                ),
            ],
            seconds,
        )
    finally:
        server.stop()
    print(api.line())
    print(raw.line())
    print(f"API / raw SQL throughput: {api.throughput / raw.throughput:.2f}  "
          f"({clients} clients, one server process)")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.clients))
