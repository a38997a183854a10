"""A model check of the case loop: the transition table and the scope rules, explored
exhaustively over every status, case shape, account and relation reachable from a report.

The state is what the rules read: (status, grid or not, lead unit, co-handlers, reporter,
who handled, who verified). Permissions come from the real :meth:`Actor.may` on a real
:class:`CaseScope`; only the actions' effects on that state are modelled here (mirroring
geo.cases.effects). Checked for every reachable state, for each staffing of the district:

* no dead end: some account can move every non-terminal case on;
* every reachable case can still reach CLOSED;
* nobody certifies their own work: the account that reported a case handled never verifies
  it, and nobody who handled or verified it evaluates it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest

from geo.accounts.actor import Actor, CaseScope
from geo.accounts.models import Role, Seat
from geo.cases.workflow import TERMINAL, TRANSITIONS, Action, CaseStatus, may

A, S = Action, CaseStatus
PATH = (1, 2, 3, 4, 5)  # district, L1, L2, L3, micro-grid
UNIT, OTHER = "城管局", "住建局"
CASE_ID = 99

DISTRICT_SEAT = Actor(1, "区座席", Role.AGENT, seat=Seat.DISTRICT)
SUBDISTRICT_SEAT = Actor(2, "街道座席", Role.AGENT, (2,), ((1, 2),), seat=Seat.SUBDISTRICT)
UNIT_SEAT = Actor(3, "部门座席", Role.AGENT, department=UNIT, seat=Seat.DEPARTMENT)
HANDLER = Actor(4, "处置员", Role.HANDLER, department=UNIT)
L3_WORKER = Actor(5, "三级网格员", Role.GRID_WORKER, (4,), ((1, 2, 3, 4),))
MICRO_WORKER = Actor(6, "微网格员", Role.GRID_WORKER, (5,), (PATH,))
RESIDENT = Actor(7, "居民", Role.RESIDENT)
OTHER_RESIDENT = Actor(8, "其他居民", Role.RESIDENT)
FOLLOWER = Actor.follower(CASE_ID)  # the anonymous reporter, by the case's follow code
SYSTEM = Actor.system()

EVERYONE = (DISTRICT_SEAT, SUBDISTRICT_SEAT, UNIT_SEAT, HANDLER, L3_WORKER, MICRO_WORKER,
            RESIDENT, OTHER_RESIDENT, FOLLOWER, SYSTEM)  # fmt: skip
#: Staffings: the whole district; a unit with no handler account (only its seat); a unit
#: with nobody at all; no micro-grid worker.
STAFFINGS = {
    "full": EVERYONE,
    "unit without handlers": tuple(a for a in EVERYONE if a is not HANDLER),
    "unit without accounts": tuple(a for a in EVERYONE if a not in (HANDLER, UNIT_SEAT)),
    "no micro worker": tuple(a for a in EVERYONE if a is not MICRO_WORKER),
}
REPORTERS = (RESIDENT.user_id, L3_WORKER.user_id, MICRO_WORKER.user_id,
             SUBDISTRICT_SEAT.user_id, None)  # fmt: skip


@dataclass(frozen=True)
class State:
    status: CaseStatus
    grid: bool
    department: str | None
    co_handlers: tuple[str, ...]
    reporter: int | None
    handled_by: int | None = None
    verified_by: int | None = None

    def scope(self) -> CaseScope:
        return CaseScope(
            PATH if self.grid else (),
            self.department,
            self.reporter,
            self.co_handlers,
            case_id=CASE_ID,
            handled_by=self.handled_by,
            verified_by=self.verified_by,
        )


def successors(state: State, action: Action, actor: Actor) -> Iterator[State]:
    """Every state ``action`` by ``actor`` can lead to (one per choice of its parameters)."""
    row = TRANSITIONS[action]
    moved = replace(state, status=row.target or state.status)
    match action:
        case A.ACCEPT:
            yield moved
            if not state.grid:
                yield replace(moved, grid=True)  # the agent confirms a grid
        case A.DISPATCH:
            for unit in (None, UNIT, OTHER):
                if unit is None and not state.grid:
                    continue  # refused: a queued case goes to a unit
                for co in ((), (OTHER,)):
                    yield replace(moved, department=unit, co_handlers=co)
        case A.RETURN | A.REOPEN:
            yield replace(moved, department=None, co_handlers=())
        case A.ESCALATE:
            yield replace(moved, department=None, co_handlers=(OTHER,))
        case A.REPORT_HANDLED:
            yield replace(moved, handled_by=actor.user_id)
        case A.HANDLE_ON_SITE:
            yield replace(moved, handled_by=actor.user_id, department=None, co_handlers=())
        case A.VERIFY_OK:
            yield replace(moved, verified_by=actor.user_id)
        case A.EVALUATE:
            yield moved  # satisfied or basically satisfied
            yield replace(state, status=S.DISPATCHED)  # unsatisfied: back to the unit
        case A.REROUTE:
            yield replace(moved, grid=True)
        case _:
            yield moved


def moves(state: State, staff: tuple[Actor, ...]) -> Iterator[tuple[Actor, Action]]:
    scope = state.scope()
    for actor in staff:
        for action in TRANSITIONS:
            if may(actor, action, state.status, scope):
                if action is A.REROUTE and not state.grid and not actor.is_district_seat:
                    continue
                yield actor, action


def explore(staff: tuple[Actor, ...]) -> tuple[dict[State, set[State]], int]:
    """The reachable graph from every kind of report; also the number of (state, actor,
    action) triples examined."""
    starts = [State(S.REPORTED, grid, None, (), reporter)
              for grid in (True, False) for reporter in REPORTERS]  # fmt: skip
    graph: dict[State, set[State]] = {}
    queue, examined = deque(starts), 0
    while queue:
        state = queue.popleft()
        if state in graph:
            continue
        graph[state] = set()
        if state.status in TERMINAL:
            continue
        for actor in staff:
            for action in TRANSITIONS:
                examined += 1
                if not may(actor, action, state.status, state.scope()):
                    continue
                _check_duties(state, action, actor)
                for after in successors(state, action, actor):
                    graph[state].add(after)
                    queue.append(after)
    return graph, examined


def _check_duties(state: State, action: Action, actor: Actor) -> None:
    if action in (A.VERIFY_OK, A.VERIFY_FAILED):
        assert actor.user_id != state.handled_by, (state, action, actor.name)
    if action is A.EVALUATE:
        assert actor.user_id not in (state.handled_by, state.verified_by), (state, actor.name)
        assert actor.role in (Role.RESIDENT, Role.AGENT)
        if state.reporter is not None:
            assert actor.user_id == state.reporter, (state, actor.name)


def _can_close(graph: dict[State, set[State]]) -> set[State]:
    """States from which some path reaches CLOSED (backward search)."""
    back: dict[State, set[State]] = {s: set() for s in graph}
    for source, targets in graph.items():
        for target in targets:
            back.setdefault(target, set()).add(source)
    done = {s for s in back if s.status is S.CLOSED}
    queue = deque(done)
    while queue:
        for source in back.get(queue.popleft(), ()):
            if source not in done:
                done.add(source)
                queue.append(source)
    return done


@pytest.mark.parametrize("staffing", list(STAFFINGS))
def test_every_reachable_case_can_move_on_and_close(staffing: str) -> None:
    graph, examined = explore(STAFFINGS[staffing])
    open_states = [s for s in graph if s.status not in TERMINAL]
    dead = [s for s in open_states if not graph[s]]
    assert dead == [], dead[:5]
    closable = _can_close(graph)
    stuck = [s for s in open_states if s not in closable]
    assert stuck == [], stuck[:5]
    # Every status but the terminal ones is reached; fully staffed, with and without a grid.
    assert {s.status for s in open_states} == set(CaseStatus) - TERMINAL
    if staffing == "full":
        assert {s.grid for s in open_states if s.status is S.HANDLED} == {True, False}
    assert examined > 10_000  # the size goes into the closing note of issue 14


def test_the_self_certification_path_is_closed() -> None:
    """A worker reports, handles and would verify and evaluate his own patrol case."""
    mine = State(S.HANDLED, True, None, (), L3_WORKER.user_id, handled_by=L3_WORKER.user_id)
    assert not may(L3_WORKER, A.VERIFY_OK, mine.status, mine.scope())
    assert may(SUBDISTRICT_SEAT, A.VERIFY_OK, mine.status, mine.scope())
    verified = replace(mine, status=S.VERIFIED, verified_by=SUBDISTRICT_SEAT.user_id)
    assert not may(L3_WORKER, A.EVALUATE, verified.status, verified.scope())
    on_patrol = State(S.REPORTED, True, None, (), L3_WORKER.user_id)
    assert may(L3_WORKER, A.HANDLE_ON_SITE, on_patrol.status, on_patrol.scope())
    assert not may(MICRO_WORKER, A.HANDLE_ON_SITE, on_patrol.status, on_patrol.scope())


def test_a_unit_seat_acts_on_its_units_cases_and_only_those() -> None:
    ours = State(S.DISPATCHED, True, UNIT, (), RESIDENT.user_id)
    theirs = replace(ours, department=OTHER)
    for action in (A.RETURN, A.EXTEND, A.POSTPONE, A.ESCALATE):
        assert may(UNIT_SEAT, action, ours.status, ours.scope()), action
        assert not may(UNIT_SEAT, action, theirs.status, theirs.scope()), action
    handled = replace(ours, status=S.HANDLED, handled_by=HANDLER.user_id)
    assert not may(UNIT_SEAT, A.VERIFY_OK, handled.status, handled.scope())  # not independent


def test_the_model_counts() -> None:
    """The size of the exploration, printed for the closing note (pytest -s)."""
    for name, staff in STAFFINGS.items():
        graph, examined = explore(staff)
        print(f"{name}: {len(graph)} states, {examined} (state, account, action) examined")  # noqa: T201
