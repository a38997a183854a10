"""The test database, emptied between tests that commit."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from geo.db import Base


async def truncate_all(engine: AsyncEngine) -> None:
    """Empties every table of the models (identities restart)."""
    tables = [t.name for t in Base.metadata.sorted_tables]
    if tables:
        async with engine.begin() as conn:
            joined = ", ".join(f'"{name}"' for name in tables)
            await conn.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))
