"""Accounts for tests that call the API as someone, and the tiny world of the case API
tests: the tiny district with its workers and units, one user per part, a token each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from geo.accounts.models import Role, Seat
from geo.accounts.service import create_user
from geo.accounts.tokens import issue_token
from geo.accounts.units import register_units
from geo.db import make_sessionmaker
from geo.grids.models import Grid
from geo.grids.service import import_grids, replace_workers
from tests.builders.cases import CO_HANDLERS, DEPARTMENT, TINY_WORKERS
from tests.builders.databases import TEST_TRAIL_KEYS
from tests.builders.shapes import tiny_district

#: A registered unit with no accounts: what it is sent must still come back.
OTHER_UNIT = "区住房和城乡建设局"


async def account_token(engine: AsyncEngine, **user: Any) -> str:
    """A token of a new account (geo.accounts.service.create_user's fields), valid 1 h; its
    unit, if any, is registered first."""
    async with make_sessionmaker(engine, trail_keys=TEST_TRAIL_KEYS).begin() as session:
        if user.get("department"):
            await register_units(session, [user["department"]])
        created = await create_user(session, **user)
        issued = await issue_token(session, user_id=created.id, ttl=timedelta(hours=1))
    return issued.plaintext


#: (part, role, seat, department, grid codes) of the tiny world's users.
PARTS = (
    ("district_agent", Role.AGENT, Seat.DISTRICT, None, ()),
    ("subdistrict_agent", Role.AGENT, Seat.SUBDISTRICT, None, ("D1",)),
    ("department_seat", Role.AGENT, Seat.DEPARTMENT, DEPARTMENT, ()),
    ("handler", Role.HANDLER, None, DEPARTMENT, ()),
    ("l3_worker", Role.GRID_WORKER, None, None, ("D111",)),
    ("outsider_worker", Role.GRID_WORKER, None, None, ("D111B",)),
    ("resident", Role.RESIDENT, None, None, ()),
    ("other_resident", Role.RESIDENT, None, None, ()),
    ("admin", Role.ADMIN, None, None, ()),
)


@dataclass(frozen=True)
class World:
    """Tokens (and user ids) by part; grid ids by code."""

    tokens: dict[str, str]
    user_ids: dict[str, int]
    grids: dict[str, int]

    def __getattr__(self, part: str) -> str:
        try:
            return self.tokens[part]
        except KeyError:
            raise AttributeError(part) from None


async def build_world(engine: AsyncEngine) -> World:
    """Commits the tiny world to ``engine``'s database (whoever builds it empties it)."""
    async with make_sessionmaker(engine, trail_keys=TEST_TRAIL_KEYS).begin() as session:
        await import_grids(session, tiny_district())
        await replace_workers(session, TINY_WORKERS)
        await register_units(session, [DEPARTMENT, OTHER_UNIT, *CO_HANDLERS])
        rows = await session.execute(select(Grid.id, Grid.code))
        grids = {code: gid for gid, code in rows}
        tokens: dict[str, str] = {}
        user_ids: dict[str, int] = {}
        for part, role, seat, department, codes in PARTS:
            user = await create_user(
                session,
                name=part,
                role=role,
                seat=seat,
                department=department,
                grid_ids=[grids[c] for c in codes],
            )
            issued = await issue_token(session, user_id=user.id, ttl=timedelta(days=1))
            tokens[part], user_ids[part] = issued.plaintext, user.id
    return World(tokens, user_ids, grids)
