"""Fixtures of the API tests.

- `world` and `driver`: the tiny world of the case API tests (tests/builders/accounts.py).
- `places_url`: the synthetic district of tests/conftest.py (READ-ONLY) with its demo
  merchants, service points and circle codes. `circle seed` loads them with the grids; should
  that fixture ever seed the grids alone, they are added here, once, before any test reads.
- `year_*`: a database of its own holding the synthetic district and its demo year of cases
  (about 45 s to build, once per session). READ-ONLY: the headline figures depend on it.
- `statements`: the SQL statements a request sends.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from api.cli import dbadmin
from api.cli.seeding_places import seed_places
from api.settings import Settings
from geo.accounts.models import Role, Seat, User
from geo.accounts.tokens import issue_token
from geo.db import make_engine, make_sessionmaker
from tests.builders.accounts import World, build_world
from tests.builders.clients import served
from tests.builders.driver import Driver

YEAR_DATABASE = f"circle_test_cases_{os.getpid()}"


@pytest.fixture
async def world(client: httpx.AsyncClient, engine: AsyncEngine) -> World:
    """The tiny district with users and tokens; emptied with the `client` fixture's tables."""
    return await build_world(engine)


@pytest.fixture
def driver(client: httpx.AsyncClient, world: World) -> Driver:
    return Driver(client, world)


@pytest.fixture(scope="session")
def places_url(seeded_url: str) -> str:
    with psycopg.connect(seeded_url) as conn:
        row = conn.execute("SELECT count(*) FROM merchants").fetchone()
    if not row or not row[0]:

        async def load() -> None:
            engine = make_engine(seeded_url, statement_timeout_ms=600_000)
            try:
                await seed_places(
                    make_sessionmaker(engine), only_if_empty=True, public_url="http://testserver"
                )
            finally:
                await engine.dispose()

        asyncio.run(load())
    return seeded_url


@pytest.fixture
async def places_client(
    places_url: str, seeded_settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the seeded district with merchants (READ-ONLY)."""
    async with served(seeded_settings) as http:
        yield http


@pytest.fixture
def places_db(places_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A plain connection for computing what the API should answer, independently."""
    with psycopg.connect(places_url, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def year_url(server_url: str) -> Iterator[str]:
    from api.cli.seeding import run_seed

    url = dbadmin.create_database(server_url, YEAR_DATABASE)
    dbadmin.upgrade(url)
    run_seed(url, only_if_empty=False, merchants=False, cases=True)
    yield url
    dbadmin.drop_database(server_url, YEAR_DATABASE)


@pytest.fixture(scope="session")
def year_settings(year_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(database_url=year_url, data_dir=tmp_path_factory.mktemp("unused-year"))


@pytest.fixture(scope="session")
async def year_engine(year_settings: Settings) -> AsyncIterator[AsyncEngine]:
    assert year_settings.database_url
    engine = make_engine(year_settings.database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def year_tokens(year_engine: AsyncEngine) -> dict[str, str]:
    """A fresh token for the first demo user of each kind (the seed's printed ones are lost)."""
    kinds = {
        "district_agent": (User.seat == Seat.DISTRICT.value),
        "subdistrict_agent": (User.seat == Seat.SUBDISTRICT.value),
        "grid_worker": (User.role == Role.GRID_WORKER.value),
        "resident": (User.role == Role.RESIDENT.value),
    }
    tokens: dict[str, str] = {}
    async with make_sessionmaker(year_engine).begin() as session:
        for kind, condition in kinds.items():
            user_id = await session.scalar(select(User.id).where(condition).order_by(User.id))
            assert user_id is not None, kind
            issued = await issue_token(session, user_id=user_id, ttl=timedelta(hours=2))
            tokens[kind] = issued.plaintext
    return tokens


@pytest.fixture
async def year_client(year_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with served(year_settings) as http:
        yield http


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    """Every SQL statement sent while inside: through SQLAlchemy (its engine event) and on
    the psycopg read pool (its cursors, which SQLAlchemy's driver also uses: those are
    counted once, by the cursor)."""
    sent: list[str] = []
    original = psycopg.AsyncCursor.execute

    async def execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(query))
        return await original(self, query, *args, **kwargs)

    via_sqlalchemy: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        via_sqlalchemy.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    psycopg.AsyncCursor.execute = execute  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        psycopg.AsyncCursor.execute = original  # type: ignore[method-assign]
        event.remove(Engine, "before_cursor_execute", record)
    assert len(via_sqlalchemy) <= len(sent), "every SQLAlchemy statement reaches a cursor"


@pytest.fixture
def statements() -> Any:
    """`with statements() as sent:` collects the SQL sent inside the block."""
    return counted_statements
