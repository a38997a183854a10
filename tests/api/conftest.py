"""Fixtures of the API tests: the tiny world of the case API tests and its driver, and a
count of the SQL statements a request sends.

The seeded database (`seeded_*`, tests/conftest.py) holds the synthetic district with its
merchants, service points, circle codes and demo year of cases (READ-ONLY).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.builders.accounts import World, build_world
from tests.builders.driver import Driver


@pytest.fixture
async def world(client: httpx.AsyncClient, engine: AsyncEngine) -> World:
    """The tiny district with users and tokens; emptied with the `client` fixture's tables."""
    return await build_world(engine)


@pytest.fixture
def driver(client: httpx.AsyncClient, world: World) -> Driver:
    return Driver(client, world)


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
