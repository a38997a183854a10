"""The engine, the session factory and the declarative base: the only place they are built."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Milliseconds a single statement may run before PostgreSQL cancels it.
STATEMENT_TIMEOUT_MS = 5_000


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def async_url(url: str) -> str:
    """Returns the URL with the psycopg 3 driver named, whatever scheme the caller gave."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


def make_engine(
    url: str,
    *,
    statement_timeout_ms: int = STATEMENT_TIMEOUT_MS,
    pool_size: int = 10,
    max_overflow: int = 10,
) -> AsyncEngine:
    """Builds the async engine; every connection carries the statement timeout."""
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=False,  # a dead connection surfaces as a masked error and is discarded
        connect_args={
            "options": f"-c statement_timeout={statement_timeout_ms} -c TimeZone=UTC",
            "application_name": "circle",
        },
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
