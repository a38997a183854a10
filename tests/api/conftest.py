"""Fixtures for the merchant, service point and circle code tests.

`places_url` is the synthetic district of tests/conftest.py (READ-ONLY) with its demo
merchants, service points and circle codes. `circle seed` loads them with the grids; should
that fixture ever seed the grids alone, they are added here, once, before any test reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from api.cli.seeding_places import seed_places
from api.settings import Settings
from api.web.app import create_app
from geo.db import make_engine, make_sessionmaker


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
    app = create_app(seeded_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


@pytest.fixture
def places_db(places_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A plain connection for computing what the API should answer, independently."""
    with psycopg.connect(places_url, autocommit=True) as conn:
        yield conn


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


# -- the case API's fixtures (world, year_*) live in their own module ----------------------

from tests.api.conftest_cases import (  # noqa: E402, F401
    world,
    year_client,
    year_engine,
    year_settings,
    year_tokens,
    year_url,
)
