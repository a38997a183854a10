"""Cases in the domain: a tiny staffed district, actors, reports, paths to every status.

Plain async functions with keyword defaults (STYLE §5.12); tests/geo/test_case_builders.py
checks them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from geo.accounts.actor import Actor
from geo.accounts.models import Role, Seat
from geo.accounts.service import create_user, get_actor
from geo.accounts.units import register_units
from geo.cases.categories import Channel, LocationSource
from geo.cases.models import Case
from geo.cases.reporting import ReportResult, report_case
from geo.cases.transitions import Transitioned, act
from geo.cases.workflow import Action, CaseStatus, Satisfaction
from geo.coords import LonLat
from geo.grids.queries import get_grid
from geo.grids.service import WorkerInput, import_grids, replace_workers
from tests.builders.shapes import LAT0, LON0, tiny_district

#: A Tuesday morning in Zhengzhou (01:00 UTC = 09:00 CST), no holiday near.
T0 = datetime(2025, 6, 10, 1, 0, tzinfo=UTC)
DEPARTMENT = "城管执法局"
NOTE = "现场情况说明"

#: Tiny district workers: A has its own, B/C/E fall back to the L3 worker.
TINY_WORKERS = (
    WorkerInput("D111A", "王伟", "13800000001", "MICRO_WORKER"),
    WorkerInput("D111", "李强", "13800000002", "L3_WORKER"),
    WorkerInput("D11", "张敏", "13800000003", "L2_WORKER"),
    WorkerInput("D1", "刘洋", "13800000004", "L1_AGENT"),
)


def at(x: float, y: float) -> LonLat:
    """A point in tiny-district units (0.001°) from its south-west corner."""
    return LonLat(LON0 + x * 0.001, LAT0 + y * 0.001)


async def tiny_grids(
    session: AsyncSession, workers: Sequence[WorkerInput] = TINY_WORKERS
) -> dict[str, int]:
    """Imports tests.builders.shapes.tiny_district with ``workers``; returns grid ids by code."""
    await import_grids(session, tiny_district())
    if workers:
        await replace_workers(session, workers)
    codes = ("D", "D1", "D11", "D111", "D111A", "D111B", "D111C", "D111E")
    return {code: (await get_grid(session, code)).id for code in codes}  # type: ignore[union-attr]


async def make_actor(
    session: AsyncSession,
    role: Role,
    *,
    grid_ids: Sequence[int] = (),
    seat: Seat | None = None,
    department: str | None = None,
    name: str | None = None,
) -> Actor:
    if department:
        await register_units(session, [department])
    user = await create_user(
        session,
        name=name or f"{role.value}-{seat or department or len(grid_ids)}",
        role=role,
        seat=seat,
        department=department,
        grid_ids=grid_ids,
    )
    return await get_actor(session, user.id)


@dataclass
class Cast:
    """One actor per part, all in scope for cases in micro-grid A of the tiny district."""

    grids: dict[str, int]
    district_agent: Actor
    subdistrict_agent: Actor
    handler: Actor
    l3_worker: Actor
    resident: Actor
    other_resident: Actor
    outsider_worker: Actor  # a grid worker of micro-grid B only
    clock: list[datetime] = field(default_factory=lambda: [T0])

    def tick(self, hours: float = 1.0) -> datetime:
        self.clock[0] += timedelta(hours=hours)
        return self.clock[0]


#: Registered units the cast's escalations name as co-handlers.
CO_HANDLERS = ("住建局", "二七区消防大队")


async def make_cast(session: AsyncSession) -> Cast:
    grids = await tiny_grids(session)
    await register_units(session, CO_HANDLERS)
    return Cast(
        grids=grids,
        district_agent=await make_actor(session, Role.AGENT, seat=Seat.DISTRICT, name="区座席"),
        subdistrict_agent=await make_actor(
            session, Role.AGENT, seat=Seat.SUBDISTRICT, grid_ids=[grids["D1"]], name="街道座席"
        ),
        handler=await make_actor(session, Role.HANDLER, department=DEPARTMENT, name="处置员"),
        l3_worker=await make_actor(
            session, Role.GRID_WORKER, grid_ids=[grids["D111"]], name="三级网格员"
        ),
        resident=await make_actor(session, Role.RESIDENT, name="居民甲"),
        other_resident=await make_actor(session, Role.RESIDENT, name="居民乙"),
        outsider_worker=await make_actor(
            session, Role.GRID_WORKER, grid_ids=[grids["D111B"]], name="微网格员B"
        ),
    )


async def report(
    session: AsyncSession,
    *,
    actor: Actor | None,
    point: LonLat | None = None,
    category: str = "street_vending",
    source: LocationSource = LocationSource.GPS,
    now: datetime | None = None,
    **kw: Any,
) -> ReportResult:
    return await report_case(
        session,
        actor=actor,
        category=category,
        description=kw.pop("description", "公园门口占道经营"),
        point=point or at(2.5, 2.5),
        location_source=source,
        channel=kw.pop("channel", Channel.RESIDENT_APP),
        now=now or T0,
        **kw,
    )


def step_for(cast: Cast, action: Action, *, merge_into_id: int | None = None) -> dict[str, Any]:
    """The in-scope actor and the parameters that make ``action`` valid on a cast case."""
    agent = {"actor": cast.district_agent}
    return {
        Action.ACCEPT: agent,
        Action.REJECT: agent | {"note": NOTE},
        Action.MERGE: agent | {"merge_into_id": merge_into_id},
        Action.DISPATCH: agent | {"department": DEPARTMENT},
        Action.RETURN: {"actor": cast.handler, "note": NOTE},
        Action.START: {"actor": cast.handler},
        Action.REPORT_HANDLED: {"actor": cast.handler, "note": NOTE},
        Action.VERIFY_OK: {"actor": cast.l3_worker},
        Action.VERIFY_FAILED: {"actor": cast.l3_worker, "note": NOTE},
        Action.EXTEND: agent | {"note": NOTE},
        Action.POSTPONE: agent | {"note": NOTE},
        Action.RESUME: agent,
        Action.SHELVE: agent | {"note": NOTE},
        Action.REOPEN: agent | {"note": NOTE},
        Action.ESCALATE: agent | {"note": NOTE, "co_handlers": list(CO_HANDLERS)},
        Action.EVALUATE: {"actor": cast.resident, "satisfaction": Satisfaction.SATISFIED},
        Action.CLOSE: agent,
        # Only on a case the worker reported (case_in's are the resident's: refused there).
        Action.HANDLE_ON_SITE: {"actor": cast.l3_worker, "note": NOTE},
        Action.REROUTE: agent | {"note": NOTE, "grid_id": cast.grids["D111B"]},
    }[action]


#: A path from REPORTED to each status, through the service.
PATHS: dict[CaseStatus, tuple[Action, ...]] = {
    CaseStatus.REPORTED: (),
    CaseStatus.ACCEPTED: (Action.ACCEPT,),
    CaseStatus.DISPATCHED: (Action.ACCEPT, Action.DISPATCH),
    CaseStatus.IN_PROGRESS: (Action.ACCEPT, Action.DISPATCH, Action.START),
    CaseStatus.HANDLED: (Action.ACCEPT, Action.DISPATCH, Action.START, Action.REPORT_HANDLED),
    CaseStatus.VERIFIED: (
        Action.ACCEPT,
        Action.DISPATCH,
        Action.START,
        Action.REPORT_HANDLED,
        Action.VERIFY_OK,
    ),
    CaseStatus.EVALUATED: (
        Action.ACCEPT,
        Action.DISPATCH,
        Action.START,
        Action.REPORT_HANDLED,
        Action.VERIFY_OK,
        Action.EVALUATE,
    ),
    CaseStatus.CLOSED: (
        Action.ACCEPT,
        Action.DISPATCH,
        Action.START,
        Action.REPORT_HANDLED,
        Action.VERIFY_OK,
        Action.EVALUATE,
        Action.CLOSE,
    ),
    CaseStatus.REJECTED: (Action.REJECT,),
    CaseStatus.MERGED: (Action.MERGE,),
    CaseStatus.ESCALATED: (Action.ACCEPT, Action.ESCALATE),
    CaseStatus.POSTPONED: (Action.ACCEPT, Action.DISPATCH, Action.POSTPONE),
    CaseStatus.SHELVED: (Action.ACCEPT, Action.DISPATCH, Action.SHELVE),
}


async def take(
    session: AsyncSession, cast: Cast, case: Case, action: Action, **overrides: Any
) -> Transitioned:
    """Takes ``action`` on ``case`` with the cast's in-scope actor, one hour later."""
    now = overrides.pop("now", None) or cast.tick()
    params = step_for(cast, action) | overrides
    return await act(
        session, case_id=case.id, action=action, expected_version=case.version, now=now, **params
    )


async def case_in(session: AsyncSession, cast: Cast, status: CaseStatus) -> Case:
    """A new case of the cast's resident, in micro-grid A, driven to ``status``."""
    case = (await report(session, actor=cast.resident, now=cast.tick())).case
    for action in PATHS[status]:
        extra: dict[str, Any] = {}
        if action is Action.MERGE:
            survivor = (await report(session, actor=cast.other_resident, now=cast.tick())).case
            extra["merge_into_id"] = survivor.id
        case = (await take(session, cast, case, action, **extra)).case
    return case
