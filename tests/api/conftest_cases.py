"""Fixtures and helpers of the case API tests (imported by tests/api/conftest.py).

- `world`: on the empty test database (the `client` fixture truncates it afterwards), the
  tiny district of tests.shapes with workers, one user per part and a bearer token each.
- `year_*`: a database of its own holding the synthetic district and its demo year of cases
  (about 45 s to build, once per session). READ-ONLY: the headline figures depend on it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from api.cli import dbadmin
from api.settings import Settings
from api.web.app import create_app
from geo.accounts.models import Seat, User
from geo.accounts.service import create_user
from geo.accounts.tokens import issue_token
from geo.accounts.units import register_units
from geo.cases.workflow import Role
from geo.db import make_engine, make_sessionmaker
from geo.grids.models import Grid
from geo.grids.service import import_grids, replace_workers
from tests.geo.test_case_builders import DEPARTMENT, TINY_WORKERS, at
from tests.shapes import tiny_district

YEAR_DATABASE = f"circle_test_cases_{os.getpid()}"
#: A registered unit with no accounts: what it is sent must still come back.
OTHER_UNIT = "区住房和城乡建设局"
CO_HANDLING_UNITS = ("住建局", "二七区消防大队")


async def gql(
    client: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    """POSTs the query as the holder of ``token`` (anonymous without); returns `data`."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = {"query": query, "variables": variables}
    response = await client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert "errors" not in payload, payload
    return payload["data"]  # type: ignore[no-any-return]


def point(x: float = 2.5, y: float = 2.5, **extra: Any) -> dict[str, Any]:
    """A PointInput in tiny-district units (micro-grid A by default)."""
    p = at(x, y)
    return {"longitude": p.lon, "latitude": p.lat, **extra}


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
    async with make_sessionmaker(engine).begin() as session:
        await import_grids(session, tiny_district())
        await replace_workers(session, TINY_WORKERS)
        await register_units(session, [DEPARTMENT, OTHER_UNIT, *CO_HANDLING_UNITS])
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


@pytest.fixture
async def world(client: httpx.AsyncClient, engine: AsyncEngine) -> World:
    """The tiny district with users and tokens; emptied with the `client` fixture's tables."""
    return await build_world(engine)


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
    app = create_app(year_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
