"""Demo users of every role, inserted in bulk, and their actors for the simulation."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from geo.accounts.actor import L3_DEPTH, Actor
from geo.accounts.models import Role, Seat, User, UserGrid
from geo.accounts.tokens import issue_token
from geo.accounts.units import register_units
from geo.cases.synth_data import (
    CITY_MANAGEMENT,
    DEPARTMENTS,
    DISTRICT_AGENTS,
    DISTRICT_UNITS,
    RESIDENTS,
)
from geo.cases.synth_sim import Crew

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂文辉玲华红建国志海燕晓鹏宇浩欣怡佳"


@dataclass(frozen=True, slots=True)
class GridInfo:
    id: int
    code: str
    name: str
    level: str
    path: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class People:
    crew: Crew
    admin: Actor
    department_seat: Actor
    count: int


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"


async def make_people(
    session: AsyncSession,
    grids: Sequence[GridInfo],
    worker_names: Mapping[int, str],
    rng: random.Random,
) -> People:
    """Inserts the demo users (a seat per L1 grid, a grid worker per L3, L2 and L1 grid, ...)
    and returns their actors.

    Grid workers are the grid teams cases are sent to: a case routed to a micro-grid or an L3
    grid goes to its L3 grid's team, one whose accuracy circle only an L2 or L1 grid holds
    to that grid's. L3 and L2 grid workers take the name of their grid's first named worker,
    so the trail and the grid's staff list agree (an L1 grid's first staff member is its
    agent seat; its grid team gets a name of its own). L3 workers come first: the first
    grid worker of the demo is an L3 one.
    """
    await register_units(session, DISTRICT_UNITS)
    specs: list[tuple[dict[str, Any], tuple[GridInfo, ...]]] = [
        ({"name": "系统管理员", "role": Role.ADMIN}, ()),
        ({"name": "部门座席-城管", "role": Role.AGENT, "seat": Seat.DEPARTMENT,
          "department": CITY_MANAGEMENT}, ()),
    ]  # fmt: skip
    specs += [
        ({"name": name, "role": Role.AGENT, "seat": Seat.DISTRICT}, ()) for name in DISTRICT_AGENTS
    ]
    for grid in (g for g in grids if g.level == "L1"):
        spec = {
            "name": f"{grid.name}座席{_person(rng)}",
            "role": Role.AGENT,
            "seat": Seat.SUBDISTRICT,
        }
        specs.append((spec, (grid,)))
    for department in DEPARTMENTS:
        specs += [
            ({"name": _person(rng), "role": Role.HANDLER, "department": department}, ())
            for _ in range(2)
        ]
    for level in ("L3", "L2", "L1"):
        for grid in (g for g in grids if g.level == level):
            name = (level != "L1" and worker_names.get(grid.id)) or _person(rng)
            specs.append(({"name": name, "role": Role.GRID_WORKER}, (grid,)))
    specs += [({"name": _person(rng), "role": Role.RESIDENT}, ()) for _ in range(RESIDENTS)]
    actors = await _insert(session, specs, rng)
    return _cast(actors)


async def _insert(
    session: AsyncSession,
    specs: Sequence[tuple[dict[str, Any], tuple[GridInfo, ...]]],
    rng: random.Random,
) -> list[Actor]:
    rows = [{"department": None, "seat": None} | spec | {"phone": _phone(rng)} for spec, _ in specs]
    rows = [r | {"role": r["role"].value, "seat": r["seat"] and r["seat"].value} for r in rows]
    stmt = insert(User).returning(User.id, sort_by_parameter_order=True)
    ids = list((await session.scalars(stmt, rows)).all())
    bindings = [
        {"user_id": uid, "grid_id": g.id}
        for uid, (_, grids) in zip(ids, specs, strict=True)
        for g in grids
    ]
    if bindings:
        await session.execute(insert(UserGrid), bindings)
    return [
        Actor(
            user_id=uid,
            name=spec["name"],
            role=spec["role"],
            grid_ids=tuple(g.id for g in grids),
            grid_paths=tuple(g.path for g in grids),
            department=spec.get("department"),
            seat=spec.get("seat"),
        )
        for uid, (spec, grids) in zip(ids, specs, strict=True)
    ]


def _cast(actors: Sequence[Actor]) -> People:
    by_role: dict[Role, list[Actor]] = {}
    for actor in actors:
        by_role.setdefault(actor.role, []).append(actor)
    agents = by_role[Role.AGENT]
    handlers: dict[str, list[Actor]] = {}
    for handler in by_role[Role.HANDLER]:
        handlers.setdefault(handler.department or "", []).append(handler)
    crew = Crew(
        district=tuple(a for a in agents if a.seat is Seat.DISTRICT),
        subdistrict={a.grid_ids[0]: a for a in agents if a.seat is Seat.SUBDISTRICT},
        handlers={d: tuple(h) for d, h in handlers.items()},
        grid_teams={w.grid_ids[0]: w for w in by_role[Role.GRID_WORKER]},
        residents=tuple(by_role[Role.RESIDENT]),
    )
    seat = next(a for a in agents if a.seat is Seat.DEPARTMENT)
    return People(crew, by_role[Role.ADMIN][0], seat, len(actors))


def _is_l3(worker: Actor) -> bool:
    return len(worker.grid_paths[0]) == L3_DEPTH + 1


async def demo_tokens(session: AsyncSession, people: People, ttl: timedelta) -> list[str]:
    """Issues one token per role (first user of each part) and returns printable lines."""
    crew = people.crew
    parts = [
        ("admin", people.admin),
        ("agent, district seat", crew.district[0]),
        ("agent, subdistrict seat", next(iter(crew.subdistrict.values()))),
        ("agent, department seat", people.department_seat),
        ("handler", next(iter(crew.handlers.values()))[0]),
        ("grid worker (L3)", next(w for w in crew.grid_teams.values() if _is_l3(w))),
        ("resident", crew.residents[0]),
    ]
    lines = [f"demo tokens (valid {ttl.days} days; shown once, stored only as hashes):"]
    for part, actor in parts:
        assert actor.user_id is not None
        issued = await issue_token(session, user_id=actor.user_id, ttl=ttl, label="demo")
        lines.append(f"  {part:<24} {actor.name:<16} {issued.plaintext}")
    return lines
