"""Reads on a streaming replica (READ_DATABASE_URL), while it is in step.

The watch checks the replica twice a second: its lag (geo.replication), whether it is still
a replica, whether it answers at all. Reads go to it while it answers as a replica within
REPLICA_MAX_LAG_S; otherwise to the primary, until a check finds it fit again. A read that
fails on it because it went away marks it down at once (and the query is run again on the
primary, api.web.http). What a request writes, it reads back from the primary
(api.schema.context.Context.write). /metrics shows the lag, whether the replica is in use,
and how many requests read from it.
"""

from __future__ import annotations

import asyncio
import logging
from time import monotonic
from typing import Any

import psycopg

from api.web.metrics import REPLICA_IN_USE, REPLICA_LAG
from geo.replication import LagClock, primary_position, replica_position

log = logging.getLogger("circle.replica")

#: Seconds between checks.
CHECK_S = 0.5
#: A check that takes longer than this finds the server away.
CHECK_TIMEOUT_S = 2.0


class ReplicaWatch:
    """Whether reads may go to the replica now (``usable``), and how far behind it is."""

    def __init__(self, primary: str, replica: str, max_lag_s: float) -> None:
        self._conninfo = {"primary": primary, "replica": replica}
        self._conns: dict[str, psycopg.AsyncConnection[Any]] = {}
        self.max_lag_s = max_lag_s
        self.clock = LagClock()
        self.usable = False
        self.lag_s: float | None = None
        self.state = "starting"

    async def watch_forever(self) -> None:
        try:
            while True:
                await self.check()
                await asyncio.sleep(CHECK_S)
        finally:
            for conn in self._conns.values():
                await conn.close()

    async def check(self) -> None:
        try:
            primary = await self._ask("primary", primary_position)
            self.clock.primary_at(monotonic(), primary)
        except (psycopg.Error, TimeoutError):
            pass  # the primary away: judge the replica by what it had last said
        try:
            position = await self._ask("replica", replica_position)
        except (psycopg.Error, TimeoutError):
            self._judge("down", None)
            return
        if not position.in_recovery or position.replayed is None:
            self._judge("not a replica", None)  # promoted: reads go to the primary
            return
        self._judge("in step", self.clock.lag(monotonic(), position.replayed))

    def mark_down(self) -> None:
        """A read failed on the replica: the primary serves reads until a check passes."""
        self._judge("down", None)

    async def _ask(self, server: str, question: Any) -> Any:
        conn = self._conns.get(server)
        try:
            if conn is None or conn.closed or conn.broken:
                conn = self._conns[server] = await asyncio.wait_for(
                    psycopg.AsyncConnection.connect(
                        self._conninfo[server], autocommit=True, application_name="circle-watch"
                    ),
                    CHECK_TIMEOUT_S,
                )
            return await asyncio.wait_for(question(conn), CHECK_TIMEOUT_S)
        except (psycopg.Error, TimeoutError):
            if (dead := self._conns.pop(server, None)) is not None:
                await dead.close()
            raise

    def _judge(self, state: str, lag: float | None) -> None:
        if state == "in step" and lag is not None and lag > self.max_lag_s:
            state = "lagging"
        usable = state == "in step"
        if state != self.state:
            behind = "" if lag is None else f" ({lag:.1f} s behind)"
            if usable:
                log.info("replica %s%s: reads go to it", state, behind)
            else:
                log.warning("replica %s%s: reads go to the primary", state, behind)
        self.state, self.usable, self.lag_s = state, usable, lag
        REPLICA_IN_USE.set(1 if usable else 0)
        REPLICA_LAG.set(-1 if lag is None else lag)
