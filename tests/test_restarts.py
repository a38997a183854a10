"""Restarts are boring: the embedded cluster keeps its port, and the server rides a restart
of its database (503 with Retry-After while it is away, answers again once it is back)."""

from __future__ import annotations

import time
from pathlib import Path
from threading import Event

import httpx
import psycopg

from tests.builders.clusters import OwnCluster
from tests.builders.servers import (
    Tally,
    assert_stored_once,
    circle_serve,
    env_for_load,
    read_repeatedly,
    report_until_acknowledged,
    threads,
)


def test_db_down_then_up_keeps_the_port_while_clients_hold_connections(own_db: OwnCluster) -> None:
    port = own_db.port
    # Connections open when the cluster stops leave sockets behind on its port (TIME_WAIT);
    # the server's pools are such clients.
    held = [psycopg.connect(own_db.url()) for _ in range(4)]
    for conn in held:
        conn.execute("SELECT 1")
    own_db.circle("db", "down")
    up = own_db.circle("db", "up")
    assert f"127.0.0.1:{port}" in up.stdout
    assert own_db.port == port
    with psycopg.connect(own_db.url()) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    for conn in held:
        conn.close()


GRID_AT = "{ gridAt(point: {longitude: 113.65, latitude: 34.76}) { __typename } }"


def test_the_service_rides_a_database_restart_under_load(
    own_db: OwnCluster, tmp_path: Path
) -> None:
    """16 clients report cases (each retried with its idempotency key until acknowledged) and
    a reader reads, while `circle db down && circle db up` runs in the middle. Nothing is
    answered 200-with-errors; while the database is away the answer is 503 with Retry-After;
    reads and writes succeed again within 2 s of the database being back (the issue's
    deadline; here it takes a fraction of a second); every acknowledged report is stored
    exactly once. The 40 s version with figures: bench/bench_restart.py."""
    env = env_for_load(own_db.env)
    with circle_serve(env, tmp_path / "serve.log") as served:
        writes, reads, stop = Tally(), Tally(), Event()
        workers = threads(report_until_acknowledged, 16, served.url, writes, stop)
        workers += threads(read_repeatedly, 1, served.url, GRID_AT, reads, stop)
        time.sleep(2)
        own_db.circle("db", "down")
        time.sleep(1)
        down_503 = httpx.post(served.url + "/graphql", json={"query": GRID_AT})
        own_db.circle("db", "up")
        back = time.monotonic()
        time.sleep(3)
        stop.set()
        for worker in workers:
            worker.join(timeout=60)

    assert down_503.status_code == 503 and down_503.headers["retry-after"]
    for tally in (writes, reads):
        assert tally.errors_with_200 == []
        assert tally.unexpected == []
        assert tally.count(503) > 0  # the restart was seen
        first = tally.first_ok_after(back)
        assert first is not None and first - back < 2.0, first and first - back
    assert_stored_once(own_db.url(), writes, at_least=16)
