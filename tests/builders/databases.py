"""The test database, emptied between tests that commit; the key ring tests seal with."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from geo.cases.seal import TrailKeys
from geo.db import Base

#: The case trail's key ring of the tests (TRAIL_KEYS's form); never a server's.
TRAIL_KEYS_TEXT = "test " + "5e" * 32
TEST_TRAIL_KEYS = TrailKeys.parse(TRAIL_KEYS_TEXT)


async def truncate_all(engine: AsyncEngine) -> None:
    """Empties every table of the models (identities restart)."""
    tables = [t.name for t in Base.metadata.sorted_tables]
    if tables:
        async with engine.begin() as conn:
            joined = ", ".join(f'"{name}"' for name in tables)
            await conn.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))
