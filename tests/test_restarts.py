"""Restarts are boring: the embedded cluster keeps its port, and the server rides a restart
of its database (503 with Retry-After while it is away, answers again once it is back)."""

from __future__ import annotations

from pathlib import Path

import psycopg

from tests.builders.clusters import own_cluster


def test_db_down_then_up_keeps_the_port_while_clients_hold_connections(tmp_path: Path) -> None:
    with own_cluster(tmp_path / ".data", migrate=False) as own:
        port = own.port
        # Connections open when the cluster stops leave sockets behind on its port
        # (TIME_WAIT); the server's pools are such clients.
        held = [psycopg.connect(own.url()) for _ in range(4)]
        for conn in held:
            conn.execute("SELECT 1")
        own.circle("db", "down")
        up = own.circle("db", "up")
        assert f"127.0.0.1:{port}" in up.stdout
        assert own.port == port
        with psycopg.connect(own.url()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        for conn in held:
            conn.close()
