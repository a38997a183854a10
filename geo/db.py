"""The engine, the session factory and the declarative base: the only place they are built."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import orjson
import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import MetaData
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.base import Executable

from geo.outages import ReadPool, discard_dead_on_checkout

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


def conninfo(url: str) -> str:
    """The libpq connection string of ``url``, in any form SQLAlchemy reads, several hosts
    included (failover: ``postgresql://u@/db?host=h1:5432&host=h2:5432&target_session_attrs=
    primary`` connects to whichever is the primary)."""
    _, params = psycopg_dialect().create_connect_args(make_url(async_url(url)))
    return make_conninfo(**{key: str(value) for key, value in params.items()})


def make_engine(
    url: str,
    *,
    statement_timeout_ms: int = STATEMENT_TIMEOUT_MS,
    pool_size: int = 10,
    max_overflow: int = 10,
) -> AsyncEngine:
    """Builds the async engine; every connection carries the statement timeout, and a dead
    one is replaced at checkout (geo.outages)."""
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=False,  # a round trip per checkout; geo.outages polls the socket instead
        # JSONB (grid properties, event details) decodes with orjson, as on the read pool: a
        # page of 100 cases reads some 400 of them.
        json_deserializer=orjson.loads,
        connect_args={
            "options": f"-c statement_timeout={statement_timeout_ms} -c TimeZone=UTC",
            "application_name": "circle",
        },
    )
    discard_dead_on_checkout(engine)
    return engine


#: ``Session.info`` key of the case trail's key ring (geo.cases.seal.TrailKeys): every
#: session of a factory made with one seals the events it writes.
TRAIL_KEYS_INFO = "trail_keys"


def make_sessionmaker(
    engine: AsyncEngine, *, trail_keys: object | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine``; with ``trail_keys`` (a geo.cases.seal.TrailKeys), sessions
    that write case events seal them (without, writing one raises TrailKeysMissing)."""
    info = {TRAIL_KEYS_INFO: trail_keys} if trail_keys is not None else {}
    return async_sessionmaker(engine, expire_on_commit=False, info=info)


# -- the read pool: plain psycopg for hot read paths ----------------------------------------
#
# Measured on this machine for one routing lookup (CPU of the calling process): psycopg on a
# pooled autocommit connection 0.21 ms; the same statement through SQLAlchemy's async engine
# (checkout, BEGIN, ROLLBACK, reset) 0.94 ms. Hot read-only queries (gridAt, nearby searches)
# therefore run on a psycopg pool; writes and ORM work keep the SQLAlchemy engine, which owns
# transactions.

ReadConnection = psycopg.AsyncConnection[Any]
#: What query functions accept: a SQLAlchemy session or connection, or a read-pool connection.
Queryable = AsyncSession | AsyncConnection | ReadConnection


def make_read_pool(
    url: str, *, size: int = 20, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS
) -> AsyncConnectionPool:
    """An autocommit psycopg pool (not opened: `await pool.open()` in the app's lifespan) that
    hands out live connections only (geo.outages.ReadPool)."""
    return ReadPool(
        conninfo(url),
        min_size=min(4, size),
        max_size=size,
        open=False,
        kwargs={
            "autocommit": True,
            # Read-only, whatever the role may do: the reader role's own default says the
            # same (migration 0016); this holds on a database where one role does all.
            "options": f"-c statement_timeout={statement_timeout_ms} -c TimeZone=UTC"
            " -c default_transaction_read_only=on",
            "application_name": "circle-read",
        },
        configure=_configure_read,
    )


async def _configure_read(connection: ReadConnection) -> None:
    # JSON columns (merchants' opening hours) decode with orjson: a nearby search reads
    # some forty of them, and the standard library's json takes 8 % of the request's CPU.
    set_json_loads(orjson.loads, connection)


@lru_cache(maxsize=512)
def _psycopg(stmt: Executable) -> tuple[str, dict[str, Any]]:
    """SQL text for psycopg and the values SQLAlchemy bound itself (literals such as the SRID).
    Bounded: callers' statement caches are, and a statement they drop must not stay here."""
    compiled = stmt.compile(dialect=psycopg_dialect())
    return str(compiled), dict(compiled.params)


async def fetch_mappings(
    conn: Queryable, stmt: Executable, params: Mapping[str, Any]
) -> Sequence[Mapping[str, Any]]:
    """Rows of a statement built once (reviewed SQL text or a cached SQLAlchemy statement)
    as mappings, on a SQLAlchemy session or connection, or straight on a read-pool psycopg
    connection (a quarter of the client CPU)."""
    if isinstance(conn, psycopg.AsyncConnection):
        sql, defaults = _psycopg(stmt)
        async with conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(sql, {**defaults, **params})
            return await cursor.fetchall()
    return (await conn.execute(stmt, params)).mappings().all()
