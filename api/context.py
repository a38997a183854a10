"""The per-request context: the only place sessions are opened, committed and closed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import strawberry
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)
from starlette.requests import Request

from api.settings import Settings

if TYPE_CHECKING:
    from api.loaders import Loaders


@dataclass
class Context:
    request: Request | None
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    #: Headers the resolvers want on the response (rarely used).
    response_headers: dict[str, str] = field(default_factory=dict)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A short session for ONE resolver call or ONE loader batch (never shared)."""
        async with self.sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A short connection for ONE resolver call that needs rows, not ORM objects.

        Cheaper than a Session on hot read paths (gridAt, nearby searches).
        """
        async with self.engine.connect() as connection:
            yield connection

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction for ONE mutation: committed on success, rolled back on any error."""
        async with self.sessionmaker.begin() as session:
            yield session

    @cached_property
    def loaders(self) -> Loaders:
        """DataLoaders, built on first use and private to this request."""
        from api.loaders import Loaders

        return Loaders(self)


Info = strawberry.Info[Context, Any]
