"""One leader among all server processes, on every host: a session-level advisory lock held
on a connection of its own.

Whoever holds the lock leads the scheduled jobs; the others ask again now and then. The lock
goes with its connection: a leader that dies, or loses its database (a restart, a
failover), leads no more, and the first process to ask afterwards takes over. A per-round
lock (geo.cases.sweeper's) only kept rounds from overlapping: with it alone, two workers
each ran every round, one after the other.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import psycopg

from geo.outages import is_dead

log = logging.getLogger("circle.leader")

#: The leaders' advisory lock (a fixed 64-bit number no other job uses): "circlead".
LEADER_LOCK_KEY: Final = 0x63697263_6C656164


class Leadership:
    """This process's claim to lead, over a connection of its own (not from a pool: the
    lock must never be handed to someone else with the connection)."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self.leading = False

    async def held(self) -> bool:
        """Whether this process leads now: keeps the lock it has (if its connection still
        lives), else tries to take it. Raises psycopg.Error when the database is away."""
        if self._conn is not None and is_dead(self._conn):
            await self.release()
        if self._conn is None:
            self._conn = await psycopg.AsyncConnection.connect(
                self.conninfo, autocommit=True, application_name="circle-leader"
            )
        try:
            if self.leading:
                await self._conn.execute("SELECT 1")  # still there, still ours
            else:
                cursor = await self._conn.execute(
                    "SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK_KEY,)
                )
                row = await cursor.fetchone()
                self.leading = bool(row and row[0])
                if self.leading:
                    log.info("leading the scheduled jobs")
        except psycopg.Error:
            await self.release()
            raise
        return self.leading

    async def release(self) -> None:
        """Gives the lead up (closing the connection releases the lock)."""
        if self.leading:
            log.info("no longer leading the scheduled jobs")
        self.leading = False
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()
