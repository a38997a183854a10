"""The per-request context: the only place sessions are opened, committed and closed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

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
from geo.db import Executor

if TYPE_CHECKING:
    from api.schema.loaders import Loaders


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

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A short session for ONE resolver call or ONE loader batch (never shared)."""
        async with self.sessionmaker() as session:
            yield session

    def connect(self) -> AbstractAsyncContextManager[Executor]:
        """A short autocommit connection for ONE resolver call that needs rows, not objects.

        Hot read paths (gridAt, nearby searches) use it: see geo.db.make_read_pool for why.
        The pool's own context manager is handed out as it is (one generator less a call).
        """
        if self.read_pool is None:
            return self.engine.connect()
        return self.read_pool.connection()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction for ONE mutation: committed on success, rolled back on any error."""
        async with self.sessionmaker.begin() as session:
            yield session

    @cached_property
    def loaders(self) -> Loaders:
        """DataLoaders, built on first use and private to this request."""
        from api.schema.loaders import Loaders

        return Loaders(self)


Info = strawberry.Info[Context, Any]
