"""When the database goes away: which errors say so, and pools that notice before they hand
out a dead connection.

A restart of PostgreSQL (or a failover) leaves every pooled connection dead. Handed out as
they were, each failed one request after the database was back. The server side of such a
connection has closed it, and told the client so ("terminating connection due to
administrator command"), so the kernel already holds the news: an idle connection whose
socket is readable is dead (an idle connection of ours receives nothing else: no LISTEN, no
pipeline). Asking the kernel costs one poll(2), some microseconds; a ping (SQLAlchemy's
``pool_pre_ping``) would cost a round trip on every checkout. What the poll cannot see (a
network gone silent) fails the request and is answered as unavailable.
"""

from __future__ import annotations

import logging
import select
from time import monotonic
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("circle.db")

#: SQLSTATEs that mean "this server cannot serve you now": connection exceptions (class 08,
#: checked apart), shutdown and start-up (57P01-57P03, 57P05 idle session timeout), too many
#: connections, and a read-only transaction (a write that reached a standby during failover).
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "57P05", "53300", "25006"})

#: A read waits for a connection in slices of this long: after a slice in which connecting
#: failed it is answered as unavailable, instead of waiting the pool's full timeout; and a
#: client waiting again asks the pool to grow (psycopg's pool gives a slot up after
#: ``reconnect_timeout`` and does not regrow it for clients already waiting).
WAIT_SLICE_S = 1.0
#: How long the read pool keeps retrying a lost connection before it gives the slot up
#: (psycopg's backoff would wait 1 s, 2 s, 4 s...); the next request regrows the pool at
#: once, so a database that is back is used within about this.
RECONNECT_S = 0.25


def is_unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` (or what caused it) says the database is unreachable, shutting down,
    starting up, full or read-only: a reason to answer 503 and to be retried, not a bug."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, (PoolTimeout, sa_exc.TimeoutError)):
            return True
        if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, psycopg.Error):
            sqlstate = error.sqlstate
            if sqlstate is None and isinstance(error, psycopg.OperationalError):
                return True  # refused, reset, closed: no server answered
            if sqlstate and (sqlstate.startswith("08") or sqlstate in UNAVAILABLE_SQLSTATES):
                return True
        if isinstance(error, ConnectionError):
            return True
        wrapped = error.orig if isinstance(error, sa_exc.DBAPIError) else None
        error = wrapped or error.__cause__ or error.__context__
    return False


def is_dead(conn: psycopg.AsyncConnection[Any]) -> bool:
    """Whether an idle connection is known dead: closed, broken, or with something to read
    (the server's goodbye, or the end of the stream). See the module docstring."""
    if conn.closed or conn.broken:
        return True
    try:
        fd = conn.pgconn.socket
    except psycopg.OperationalError:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def discard_dead_on_checkout(engine: AsyncEngine) -> None:
    """The engine's pool replaces a dead connection at checkout (SQLAlchemy reconnects the
    same slot when a checkout listener raises DisconnectionError)."""

    def check(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if is_dead(dbapi_connection.driver_connection):
            raise sa_exc.DisconnectionError("the server closed this connection")

    event.listen(engine.sync_engine.pool, "checkout", check)


class ReadPool(AsyncConnectionPool[psycopg.AsyncConnection[Any]]):
    """psycopg's pool, handing out live connections only, and failing fast while the server
    is away.

    psycopg's own ``check`` callback would do for the first, but it backs off (1 s, 2 s, ...)
    after each connection that fails it: after a restart, with a pool full of dead
    connections, a request would wait for seconds. Here dead ones are dropped at once (the
    pool replaces them). While new connections fail, a request waits one ``WAIT_SLICE_S``,
    not the pool's timeout, and lost slots are retried for ``RECONNECT_S`` only.
    """

    def __init__(self, conninfo: str, **options: Any) -> None:
        self.failing_since: float | None = None
        super().__init__(
            conninfo,
            connection_class=_tracking(self),
            reconnect_timeout=RECONNECT_S,
            **options,
        )

    async def getconn(self, timeout: float | None = None) -> psycopg.AsyncConnection[Any]:  # noqa: ASYNC109 (the pool's signature)
        deadline = monotonic() + (self.timeout if timeout is None else timeout)
        dead = 0
        while True:
            try:
                conn = await super().getconn(min(deadline - monotonic(), WAIT_SLICE_S))
            except PoolTimeout:
                if self.failing_since is not None or monotonic() >= deadline:
                    raise
                continue
            if not is_dead(conn):
                return conn
            await conn.close()  # returned closed, the pool replaces it
            await self.putconn(conn)
            dead += 1
            if dead > self.max_size:
                raise PoolTimeout("every pooled connection was dead")


def _tracking(pool: ReadPool) -> type[psycopg.AsyncConnection[Any]]:
    """A connection class that tells ``pool`` whether connecting works."""

    class Tracked(psycopg.AsyncConnection[Any]):
        @classmethod
        async def connect(cls, conninfo: str = "", **kwargs: Any) -> Tracked:  # type: ignore[override]
            try:
                conn = await super().connect(conninfo, **kwargs)
            except psycopg.Error as error:
                if pool.failing_since is None:
                    pool.failing_since = monotonic()
                    log.warning("read pool: cannot connect: %s", str(error).splitlines()[0])
                raise
            if pool.failing_since is not None:
                away = monotonic() - pool.failing_since
                log.info("read pool: connected again after %.1f s", away)
                pool.failing_since = None
            return conn

    return Tracked
