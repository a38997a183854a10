"""Simulating one demo case through the real workflow rules, without a database.

Every step goes through :func:`geo.cases.transitions.authorize` (role, scope, version,
table) and :func:`geo.cases.transitions.advance` (the same side effects as the service), and
every event is built by :func:`geo.cases.audit.event_row`: a synthetic trail is one the
service could have written. Step times follow the case's own deadlines, in working time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from geo.accounts.actor import L3_DEPTH, Actor
from geo.cases.audit import REPORTED, event_row
from geo.cases.categories import Stage, get_case_category
from geo.cases.chain import GENESIS, event_digest
from geo.cases.effects import NOTHING, Lookups, build_params
from geo.cases.models import Case
from geo.cases.transitions import advance, authorize
from geo.cases.workflow import Action, CaseStatus, Satisfaction, evaluation_expires_at
from geo.cases.worktime import add_working_hours, working_hours_between

A = Action
NOTE = {
    A.REJECT: "经核实不属于平台受理范围",
    A.RETURN: "非本单位职责，申请退回",
    A.REPORT_HANDLED: "已现场处置完毕",
    A.VERIFY_FAILED: "现场核查问题仍存在，返工",
    A.EXTEND: "需协调多部门，申请延期",
    A.POSTPONE: "需待施工季节处置，申请缓办",
    A.SHELVE: "涉及历史遗留问题，挂账处理",
    A.REOPEN: "具备处置条件，重新启动",
    A.ESCALATE: "跨部门事项，提请区运行中心主办",
}


@dataclass(frozen=True, slots=True)
class Crew:
    """The demo users as actors, by the part they play."""

    district: tuple[Actor, ...]
    subdistrict: dict[int, Actor]  # by L1 grid id
    handlers: dict[str, tuple[Actor, ...]]  # by department
    #: The grid team of each L1, L2 and L3 grid (a grid worker bound to it), by grid id.
    grid_teams: dict[int, Actor]
    residents: tuple[Actor, ...]

    def l3_worker(self, path: tuple[int, ...]) -> Actor:
        """The grid worker of the L3 grid on ``path`` (a path down to an L3 or micro-grid)."""
        return self.grid_teams[path[L3_DEPTH]]


@dataclass(frozen=True, slots=True)
class Place:
    """A reportable point and the path of the micro-grid it lies in (empty: outside)."""

    lon: float
    lat: float
    path: tuple[int, ...]


@dataclass
class Sim:
    """One case being lived: a transient Case row and its event rows.

    ``path`` is the path of the case's grid (empty while it has none: the agents' queue);
    ``place`` is where it was reported; ``confirm`` what route_to_grid answers for the grid
    an agent confirms when accepting a queued case.
    """

    case: Case
    path: tuple[int, ...]
    crew: Crew
    rng: random.Random
    agent: Actor
    place: Place
    confirm: Lookups | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    merge_target: Sim | None = None

    @property
    def clock(self) -> datetime:
        return self.events[-1]["occurred_at"] if self.events else self.case.reported_at

    def report(self, actor: Actor | None, details: dict[str, Any]) -> None:
        self.events.append(
            event_row(
                case_id=0,
                seq=1,
                prev_hash=GENESIS,
                action=REPORTED,
                from_status=None,
                to_status=CaseStatus.REPORTED,
                actor=actor,
                note=None,
                details=details,
                occurred_at=self.case.reported_at,
                hashed=False,
            )
        )

    def do(
        self, action: Action, actor: Actor, at: datetime, found: Lookups = NOTHING, **kw: Any
    ) -> None:
        """Takes ``action`` at ``at`` (at least a minute after the previous event)."""
        at = max(at, self.clock + timedelta(minutes=1))
        if action in NOTE and "note" not in kw:
            kw["note"] = NOTE[action]
        params = build_params(action, **kw)
        case = self.case
        before = case.status
        target = authorize(
            case, self.path, action, actor, params, expected_version=case.version, now=at
        )
        details = advance(case, action, target, params, actor, at, found)
        self.events.append(
            event_row(
                case_id=0,
                seq=case.version,
                prev_hash=GENESIS,  # rechained by number() once the case has its id
                action=action.value,
                from_status=before,
                to_status=target.value,
                actor=actor,
                note=params.note,
                details=details,
                occurred_at=at,
                hashed=False,
            )
        )

    def within(self, start: datetime, end: datetime | None, lo: float, hi: float) -> datetime:
        """A moment a fraction in [lo, hi] of the way from start to end, in the category's time."""
        if end is None or end <= start:
            return start + timedelta(minutes=self.rng.uniform(5, 60))
        u = self.rng.uniform(lo, hi)
        if get_case_category(self.case.category).around_the_clock:
            return start + (end - start) * u
        return add_working_hours(start, u * working_hours_between(start, end))

    def hours_after(self, start: datetime, lo: float, hi: float) -> datetime:
        return add_working_hours(start, self.rng.uniform(lo, hi))

    def number(self, case_id: int, number: str) -> None:
        """Gives the case its id and number and chains its events."""
        self.case.id, self.case.number = case_id, number
        if self.merge_target is not None:
            self.case.merged_into_id = self.merge_target.case.id
            self.events[-1]["details"]["into"] = self.merge_target.case.number
        prev = GENESIS
        for row in self.events:
            row["case_id"], row["prev_hash"] = case_id, prev
            row["hash"] = prev = event_digest(prev, row)
        self.case.last_event_hash = prev


# --- the stages of a life, each a few steps ---------------------------------------------------


def grid_team_of(sim: Sim) -> Actor:
    """The grid team a case sent to its grid goes to: the grid worker of the deepest grid on
    the case's path that has one (a micro-grid's case: its L3 grid's; an L3, L2 or L1 case,
    routed there by its accuracy circle: that grid's own)."""
    for grid_id in reversed(sim.path):
        if (worker := sim.crew.grid_teams.get(grid_id)) is not None:
            return worker
    raise AssertionError("no grid team above the case's grid")


def handler_for(sim: Sim) -> Actor:
    """Who handles the case now: a handler of its unit, or its grid team."""
    department = sim.case.department
    if department is None:
        return grid_team_of(sim)
    return sim.rng.choice(sim.crew.handlers[department])


def accept(sim: Sim, at: datetime | None = None) -> None:
    """ACCEPT (by default within the accept stage's time); a case in the agents' queue with
    the grid the agent confirmed (``sim.confirm``), whose path the case then follows."""
    at = at or sim.within(sim.clock, sim.case.deadline, 0.05, 0.7)
    confirm = sim.confirm if sim.case.grid_id is None else None
    grid = confirm.routing.grid if confirm and confirm.routing else None
    if confirm is not None and grid is not None:
        sim.do(A.ACCEPT, sim.agent, at, confirm, grid_id=grid.id)
        sim.path = grid.path
    else:
        sim.do(A.ACCEPT, sim.agent, at)


def dispatch(sim: Sim, department: str | None, actor: Actor | None = None, **kw: Any) -> None:
    """DISPATCH to ``department`` (None: the grid team) within the dispatch stage."""
    at = sim.within(sim.clock, sim.case.deadline, 0.05, 0.7)
    sim.do(A.DISPATCH, actor or sim.agent, at, department=department, **kw)


def start(sim: Sim) -> None:
    """START early in the handling window."""
    sim.do(A.START, handler_for(sim), sim.within(sim.clock, sim.case.deadline, 0.02, 0.15))


def handle(sim: Sim, *, late: bool = False) -> None:
    """REPORT_HANDLED before the handling deadline, or after it when ``late``."""
    deadline = sim.case.handle_deadline
    assert deadline is not None
    if late:
        limit = get_case_category(sim.case.category).due(Stage.HANDLE, deadline)
        at = sim.within(deadline, limit, 0.1, 0.8)
    else:
        at = sim.within(sim.clock, deadline, 0.2, 0.95)
    sim.do(A.REPORT_HANDLED, handler_for(sim), at)


def verifier_for(sim: Sim) -> Actor:
    """Who checks the fix on site: the case's L3 grid worker when a unit handled a case in
    an L3 or micro-grid; otherwise (the grid team handled it, or the case's grid lies above
    the L3 level, where no grid worker verifies) a supervising seat that neither handled nor
    reported it (a reporting seat evaluates, and the verifier may not)."""
    case = sim.case
    if case.department is not None and len(sim.path) > L3_DEPTH:
        return sim.crew.l3_worker(sim.path)
    seats = (sim.crew.subdistrict[sim.path[1]], *sim.crew.district)
    barred = (case.reporter_user_id, case.handled_by_user_id)
    return next(s for s in seats if s.user_id not in barred)


def verify(sim: Sim, ok: bool = True) -> None:
    """VERIFY_OK (or VERIFY_FAILED) by :func:`verifier_for`."""
    at = sim.within(sim.clock, sim.case.deadline, 0.1, 0.8)
    sim.do(A.VERIFY_OK if ok else A.VERIFY_FAILED, verifier_for(sim), at)


def evaluate(sim: Sim, satisfaction: Satisfaction, reporter: Actor | None) -> None:
    """EVALUATE by the reporter (or, without one, an agent calling back who neither handled
    nor verified the case)."""
    at = sim.hours_after(sim.clock, 0.5, 14)  # well inside the 3-working-day window
    if reporter is None:
        barred = (sim.case.handled_by_user_id, sim.case.verified_by_user_id)
        seats = (sim.agent, *sim.crew.district)
        reporter = next(s for s in seats if s.user_id not in barred)
    sim.do(A.EVALUATE, reporter, at, satisfaction=satisfaction)


def handle_on_site(sim: Sim, worker: Actor) -> None:
    """HANDLE_ON_SITE by the reporting grid worker, soon after the report."""
    note = "巡查发现，现场自行处置完毕"
    sim.do(A.HANDLE_ON_SITE, worker, sim.hours_after(sim.clock, 0.1, 1), note=note)


def close(sim: Sim, system: Actor) -> None:
    """CLOSE: by the agent after an evaluation, else by the system after the window."""
    if sim.case.status == CaseStatus.EVALUATED:
        sim.do(A.CLOSE, sim.agent, sim.hours_after(sim.clock, 0.1, 2))
        return
    assert sim.case.verified_at is not None
    expiry = evaluation_expires_at(sim.case.verified_at)
    sim.do(A.CLOSE, system, expiry + timedelta(minutes=sim.rng.uniform(5, 90)))
