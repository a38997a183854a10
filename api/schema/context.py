"""The per-request context: the only place sessions are opened, committed and closed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

import strawberry
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)
from starlette.requests import Request

from api.settings import Settings
from geo.accounts.actor import Actor
from geo.db import Queryable

if TYPE_CHECKING:
    from api.schema.loaders import Loaders


class Replica(Protocol):
    """The read replica's watch (api.web.replica.ReplicaWatch)."""

    def mark_down(self) -> None: ...


@dataclass
class Context:
    request: Request | None
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    #: The psycopg pool for hot read paths; None in tests that only have an engine.
    read_pool: AsyncConnectionPool | None = None
    #: Headers the resolvers want on the response (rarely used).
    response_headers: dict[str, str] = field(default_factory=dict)
    #: Who is calling (from `Authorization: Bearer`, see api.web.auth); None: anonymous.
    actor: Actor | None = None
    #: The caller's address as the HTTP edge resolved it (trusted proxies applied).
    address: str = "unknown"
    #: Looked-up grids whose workers this request has shown (api.schema.permissions).
    worker_lookups: int = 0
    #: Set when the read pool is a streaming replica's (api.web.replica): until the request
    #: writes, after which it reads the primary.
    replica: Replica | None = None
    #: The request has written (write()): what it reads next comes from the primary.
    wrote: bool = False
    #: The request has read from the replica.
    replica_used: bool = False

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A short session for ONE resolver call or ONE loader batch (never shared)."""
        async with self.sessionmaker() as session:
            yield session

    def connect(self) -> AbstractAsyncContextManager[Queryable]:
        """A short autocommit connection for ONE resolver call that needs rows, not objects.

        Hot read paths (gridAt, nearby searches) use it: see geo.db.make_read_pool for why.
        The pool's own context manager is handed out as it is (one generator less a call).
        After a write, a request on the replica reads a connection of the engine instead (the
        primary has the write, the replica may not have replayed it yet); the query functions
        take either.
        """
        if self.read_pool is None or (self.replica is not None and self.wrote):
            return self.engine.connect()
        if self.replica is not None:
            self.replica_used = True
        return self.read_pool.connection()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction for ONE mutation: committed on success, rolled back on any error.
        Whatever the request reads afterwards comes from the primary, which has the write
        (a replica may not have replayed it yet)."""
        self.wrote = True
        async with self.sessionmaker.begin() as session:
            yield session

    @cached_property
    def loaders(self) -> Loaders:
        """DataLoaders, built on first use and private to this request."""
        from api.schema.loaders import Loaders

        return Loaders(self)


Info = strawberry.Info[Context, Any]
