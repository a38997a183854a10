"""Fixtures: two migrated scratch PostGIS databases per test run.

Roles: the fixtures create, migrate, fill and empty the databases as their owner (the
server URL's role: DATABASE_OWNER_URL, DATABASE_URL or the embedded cluster's superuser);
the app under test connects as the application's and the reader's roles (migration 0016),
as `circle serve` does. `settings` says both. Case trails are sealed with a test key ring.

The empty test database, in two isolation tiers:

- `db`: a session on one connection inside an outer transaction that is always rolled back
  (domain tests; fast, nothing persists).
- `client` / `context`: the app's real sessionmaker (resolvers open several sessions); every
  table is truncated after the test.

The seeded database (`seeded_*`): what `circle seed` loads, built once per session — the
synthetic district with its workers, merchants, service points, circle codes, demo users and
the demo year of cases. READ-ONLY: the headline figures depend on it; a test that writes
there does so in a transaction it rolls back (`seeded_db`).

What the tests build (districts, cases, accounts, clients) is in tests/builders/.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from api.cli import dbadmin
from api.schema.context import Context
from api.settings import APP_ROLE, READ_ROLE, Settings, as_role, load_settings
from geo.accounts.models import Role, Seat, User
from geo.accounts.tokens import issue_token
from geo.db import TRAIL_KEYS_INFO, make_engine, make_sessionmaker
from tests.builders.accounts import account_token
from tests.builders.clients import served
from tests.builders.clusters import OwnCluster, own_cluster
from tests.builders.databases import TEST_TRAIL_KEYS, TRAIL_KEYS_TEXT, truncate_all

TEST_DATABASE = f"circle_test_{os.getpid()}"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def server_url() -> str:
    """The server the tests run on, as its owner: DATABASE_OWNER_URL, DATABASE_URL, or the
    embedded cluster's (which must be up)."""
    return load_settings().owner_database()


def app_settings(owner_url: str, data_dir: Path, **changes: Any) -> Settings:
    """Settings of the app on the database of ``owner_url``, as the application's and the
    reader's roles; budgets far above what a test spends unless it asks for its own."""
    return Settings(
        database_url=as_role(owner_url, APP_ROLE),
        owner_url=owner_url,
        read_url=as_role(owner_url, READ_ROLE),
        data_dir=data_dir,
        trail_keys=TRAIL_KEYS_TEXT,
        report_burst=100_000,
        account_write_burst=100_000,
        **changes,
    )


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    url = dbadmin.create_database(server_url, TEST_DATABASE)
    dbadmin.upgrade(url)
    yield url
    dbadmin.drop_database(server_url, TEST_DATABASE)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return app_settings(database_url, tmp_path_factory.mktemp("unused-data"))


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The owner's engine: what tests build and empty the database with."""
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def app_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The application role's engine, as the served app has it."""
    engine = make_engine(settings.database())
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        outer = await conn.begin()
        yield conn
        await outer.rollback()


@pytest.fixture
async def db(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back after the test; commit() only releases a savepoint."""
    async with AsyncSession(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info={TRAIL_KEYS_INFO: TEST_TRAIL_KEYS},
    ) as session:
        yield session


@pytest.fixture
async def context(
    app_engine: AsyncEngine, engine: AsyncEngine, settings: Settings
) -> AsyncIterator[Context]:
    """A real Context on committed data, as the application's role; tables are emptied
    afterwards."""
    sessions = make_sessionmaker(app_engine, trail_keys=TEST_TRAIL_KEYS)
    yield Context(None, settings, app_engine, sessions)
    await truncate_all(engine)


@pytest.fixture
async def client(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client driving the ASGI app (lifespan included); tables are emptied afterwards."""
    async with served(settings) as http:
        yield http
    await truncate_all(engine)


@pytest.fixture
async def admin_client(client: httpx.AsyncClient, engine: AsyncEngine) -> httpx.AsyncClient:
    """`client`, signed in as an administrator (the writes to grids, merchants and circle
    codes are theirs)."""
    token = await account_token(engine, name="管理员", role=Role.ADMIN)
    client.headers["authorization"] = f"Bearer {token}"
    return client


# -- the demo district and its year of cases, loaded once into a database of its own --------

SEEDED_DATABASE = f"circle_test_seeded_{os.getpid()}"


@pytest.fixture(scope="session")
def seeded_url(server_url: str) -> Iterator[str]:
    """`circle seed` with its cases: the only place the tests synthesise the demo year."""
    from api.cli.seeding import run_seed

    url = dbadmin.create_database(server_url, SEEDED_DATABASE)
    dbadmin.upgrade(url)
    run_seed(url, only_if_empty=False, cases=True, trail_keys=TEST_TRAIL_KEYS)
    yield url
    dbadmin.drop_database(server_url, SEEDED_DATABASE)


@pytest.fixture(scope="session")
def seeded_settings(seeded_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return app_settings(seeded_url, tmp_path_factory.mktemp("unused-seeded"))


@pytest.fixture(scope="session")
async def seeded_engine(seeded_url: str) -> AsyncIterator[AsyncEngine]:
    """The owner's engine on the seeded database."""
    engine = make_engine(seeded_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def seeded_db(seeded_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session on the seeded database whose work is rolled back after the test."""
    async with seeded_engine.connect() as conn:
        outer = await conn.begin()
        async with AsyncSession(
            bind=conn,
            join_transaction_mode="create_savepoint",
            info={TRAIL_KEYS_INFO: TEST_TRAIL_KEYS},
        ) as session:
            yield session
        await outer.rollback()


@pytest.fixture
def seeded_context(seeded_engine: AsyncEngine, seeded_settings: Settings) -> Context:
    sessions = make_sessionmaker(seeded_engine, trail_keys=TEST_TRAIL_KEYS)
    return Context(None, seeded_settings, seeded_engine, sessions)


@pytest.fixture
async def seeded_client(seeded_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the seeded database (READ-ONLY)."""
    async with served(seeded_settings) as http:
        yield http


@pytest.fixture(scope="session")
async def seeded_tokens(seeded_engine: AsyncEngine) -> dict[str, str]:
    """A fresh token for the first demo user of each kind (the seed's printed ones are lost)."""
    kinds = {
        "district_agent": (User.seat == Seat.DISTRICT.value),
        "subdistrict_agent": (User.seat == Seat.SUBDISTRICT.value),
        "grid_worker": (User.role == Role.GRID_WORKER.value),
        "resident": (User.role == Role.RESIDENT.value),
    }
    tokens: dict[str, str] = {}
    async with make_sessionmaker(seeded_engine).begin() as session:
        for kind, condition in kinds.items():
            user_id = await session.scalar(select(User.id).where(condition).order_by(User.id))
            assert user_id is not None, kind
            issued = await issue_token(session, user_id=user_id, ttl=timedelta(hours=2))
            tokens[kind] = issued.plaintext
    return tokens


# -- a cluster of the tests' own, for tests that stop, restart or replicate it --------------


@pytest.fixture(scope="session")
def own_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnCluster]:
    """An embedded cluster made for the tests that stop, restart or replicate their database
    (tests/builders/clusters.py), never the one the suite shares with other runs; migrated,
    started once per session, stopped and removed at its end. Tests leave it running."""
    with own_cluster(tmp_path_factory.mktemp("own") / ".data") as own:
        yield own
