"""Accounts for tests that call the API as someone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from geo.accounts.service import create_user
from geo.accounts.tokens import issue_token
from geo.accounts.units import register_units
from geo.db import make_sessionmaker


async def account_token(engine: AsyncEngine, **user: Any) -> str:
    """A token of a new account (geo.accounts.service.create_user's fields), valid 1 h; its
    unit, if any, is registered first."""
    async with make_sessionmaker(engine).begin() as session:
        if user.get("department"):
            await register_units(session, [user["department"]])
        created = await create_user(session, **user)
        issued = await issue_token(session, user_id=created.id, ttl=timedelta(hours=1))
    return issued.plaintext
