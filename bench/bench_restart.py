"""Restarts under load, as an operator makes them: 16 clients report cases for 40 s (each
report retried with its idempotency key until acknowledged, 0.1 s after a 503) and one
reads, while in the middle

  restart          the database restarts: `circle db down && circle db up`
  replica-restart  the read replica restarts (READ_DATABASE_URL): `circle db replica down`,
                   2 s, `circle db replica up`
  failover         the primary stops (`circle db down`), 1 s later the replica is promoted
                   (`circle db replica promote`); DATABASE_URL names both servers

    .venv/bin/python -m bench.bench_restart [--scenario restart] [--seconds 40] [--clients 16]

Prints the answers by kind (a 200 with errors must not occur), how long after the database
(or the promoted replica) was back the first write and the first read succeeded, and
whether every acknowledged report is stored exactly once. Runs on an embedded cluster of
its own in a temporary folder (never the shared one).

The suite runs short versions (tests/test_restarts.py, tests/test_replica.py).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from threading import Event

import psycopg

from api.settings import APP_ROLE, EMBEDDED_SUPERUSER, READ_ROLE, as_role
from tests.builders.clusters import own_cluster
from tests.builders.servers import (
    Tally,
    circle_serve,
    env_for_load,
    read_repeatedly,
    report_until_acknowledged,
    threads,
)

GRID_AT = "{ gridAt(point: {longitude: 113.65, latitude: 34.76}) { __typename } }"


def run(scenario: str, seconds: float, clients: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="circle-bench-restart-"))
    try:
        with own_cluster(folder / ".data") as own:
            env = env_for_load(own.env)
            written_on = own.url()
            if scenario != "restart":
                own.circle("db", "replica", "up")
                replica = own.circle("db", "replica", "url").stdout.strip()
                env["READ_DATABASE_URL"] = replica
            if scenario == "failover":
                port = replica.rsplit(":", 1)[1].split("/")[0]
                both = (
                    f"@/circle?host=127.0.0.1:{own.port}&host=127.0.0.1:{port}"
                    "&target_session_attrs=primary"
                )
                env["DATABASE_URL"] = f"postgresql://{APP_ROLE}{both}"
                env["DATABASE_READ_URL"] = f"postgresql://{READ_ROLE}{both}"
                written_on = as_role(replica, EMBEDDED_SUPERUSER)
            with circle_serve(env, folder / "serve.log") as served:
                writes, reads, stop = Tally(), Tally(), Event()
                started = time.monotonic()
                workers = threads(report_until_acknowledged, clients, served.url, writes, stop)
                workers += threads(read_repeatedly, 1, served.url, GRID_AT, reads, stop)
                time.sleep(seconds / 2)
                away = time.monotonic()
                if scenario == "restart":
                    own.circle("db", "down")
                    own.circle("db", "up")
                elif scenario == "replica-restart":
                    own.circle("db", "replica", "down")
                    time.sleep(2)
                    own.circle("db", "replica", "up")
                else:
                    own.circle("db", "down")
                    time.sleep(1)
                    own.circle("db", "replica", "promote")
                back = time.monotonic()
                time.sleep(max(0.0, seconds - (back - started)))
                stop.set()
                for worker in workers:
                    worker.join(timeout=60)
            report(scenario, seconds, clients, writes, reads, back - away, back)
            print(f"acknowledged reports stored exactly once: {stored_once(written_on, writes)}")
            if scenario != "restart":
                own.circle("db", "replica", "drop", check=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report(
    scenario: str, seconds: float, clients: int, writes: Tally, reads: Tally, took: float,
    back: float,
) -> None:  # fmt: skip
    print(f"\n{scenario}: {clients} writers + 1 reader for {seconds:.0f} s; "
          f"the operator's commands took {took:.1f} s")  # fmt: skip
    for name, tally in (("writes", writes), ("reads", reads)):
        first = tally.first_ok_after(back)
        after = "never" if first is None else f"{(first - back) * 1e3:.0f} ms"
        print(
            f"  {name:<6} 200 ok {tally.count(200) - len(tally.errors_with_200):6d}   "
            f"503 {tally.count(503):5d}   200-with-errors {len(tally.errors_with_200)}   "
            f"other {len(tally.unexpected)}   transport errors {tally.transport_errors}   "
            f"first success after back: {after}"
        )
    print(f"  acknowledged reports: {len(writes.acknowledged)}")


def stored_once(url: str, writes: Tally) -> bool:
    with psycopg.connect(url) as conn:
        stored = dict(
            conn.execute(
                "SELECT idempotency_key, count(*) FROM cases "
                "WHERE idempotency_key = ANY(%s) GROUP BY idempotency_key",
                (list(writes.acknowledged),),
            ).fetchall()
        )
    return stored == dict.fromkeys(writes.acknowledged, 1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--scenario", choices=("restart", "replica-restart", "failover"), default="restart"
    )
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    run(args.scenario, args.seconds, args.clients)
