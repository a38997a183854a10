"""The life stories of demo cases: closed ones in their variants, open ones, rejected, merged."""

from __future__ import annotations

from datetime import datetime, timedelta

from geo.accounts.actor import Actor
from geo.accounts.models import Role
from geo.cases.effects import Lookups
from geo.cases.synth_data import BASICALLY_SHARE, DEPARTMENT_OF, DEPARTMENTS, GRID_TEAM_SHARE
from geo.cases.synth_sim import (
    A,
    Sim,
    accept,
    close,
    dispatch,
    evaluate,
    handle,
    handle_on_site,
    handler_for,
    start,
    verify,
)
from geo.cases.workflow import Satisfaction


def unit_for(sim: Sim) -> str | None:
    """The category's department, or the grid team for a share of cases."""
    department = DEPARTMENT_OF[sim.case.category]
    if department is None or sim.rng.random() < GRID_TEAM_SHARE:
        return None
    return department


def _good(sim: Sim) -> Satisfaction:
    if sim.rng.random() < BASICALLY_SHARE:
        return Satisfaction.BASICALLY_SATISFIED
    return Satisfaction.SATISFIED


def _days_later(sim: Sim, lo: float, hi: float) -> datetime:
    return sim.hours_after(sim.clock, 7 * lo, 7 * hi)  # 7 working hours a day


def live_closed(sim: Sim, variant: str, *, reporter: Actor | None, system: Actor) -> None:
    """From REPORTED to CLOSED along ``variant`` (see synth_data.CLOSED_VARIANTS, and
    ``self_handled``: found and fixed on patrol, verified by a seat, never evaluated).

    A case in the agents' queue is accepted with the grid the agent confirms
    (``sim.confirm``); from then on it follows that grid's path like a routed case.
    """
    if variant == "self_handled":
        assert reporter is not None and reporter.role is Role.GRID_WORKER
        handle_on_site(sim, reporter)
        verify(sim)
        close(sim, system)
        return
    accept(sim)
    unit = unit_for(sim)
    if variant == "escalate":
        sim.do(A.ESCALATE, sim.agent, sim.hours_after(sim.clock, 0.2, 2), co_handlers=_two(sim))
        lead = unit or DEPARTMENTS[0]
        dispatch(sim, lead, sim.crew.district[0], co_handlers=[u for u in _two(sim) if u != lead])
    elif variant == "return":
        wrong = sim.rng.choice([d for d in DEPARTMENTS if d != unit])
        dispatch(sim, wrong)
        sim.do(A.RETURN, handler_for(sim), sim.hours_after(sim.clock, 0.2, 3))
        dispatch(sim, unit)
    elif variant == "shelve_reopen":
        dispatch(sim, unit)
        sim.do(A.SHELVE, sim.crew.district[0], sim.hours_after(sim.clock, 1, 6))
        sim.do(A.REOPEN, sim.crew.district[0], _days_later(sim, 5, 20))
        dispatch(sim, unit)
    else:
        dispatch(sim, unit)
    if variant == "postpone":
        sim.do(A.POSTPONE, sim.agent, sim.hours_after(sim.clock, 0.2, 2))
        sim.do(A.RESUME, sim.agent, _days_later(sim, 1, 5))
    start(sim)
    if variant == "extend":
        sim.do(A.EXTEND, sim.agent, sim.within(sim.clock, sim.case.deadline, 0.3, 0.9))
    handle(sim, late=variant == "late")
    if variant == "rework":
        verify(sim, ok=False)
        start(sim)
        handle(sim, late=True)
    verify(sim)
    if variant == "unsatisfied":
        evaluate(sim, Satisfaction.UNSATISFIED, reporter)
        start(sim)
        handle(sim)
        verify(sim)
    # A grid worker's patrol find has no resident to answer for it.
    if variant != "unevaluated" and (reporter is None or reporter.role is not Role.GRID_WORKER):
        evaluate(sim, _good(sim), reporter)
    close(sim, system)


def _two(sim: Sim) -> list[str]:
    return sim.rng.sample(DEPARTMENTS, 2)


def live_open(sim: Sim, kind: str, until: datetime) -> None:
    """Stops along the loop in the state ``kind`` names (synth_data.OPEN_SPLIT); a queued
    case is accepted with its confirmed grid, as in :func:`live_closed`."""
    if kind in ("accepted", "dispatched", "in_progress"):
        # Still in time: every step in the last 90 minutes, deadlines after ``until``.
        steps = ["accepted", "dispatched", "in_progress"]
        for minutes, step in zip((70, 50, 25), steps[: steps.index(kind) + 1], strict=False):
            at = until - timedelta(minutes=minutes)
            if step == "accepted":
                accept(sim, at)
            elif step == "dispatched":
                sim.do(A.DISPATCH, sim.agent, at, department=unit_for(sim))
            else:
                sim.do(A.START, handler_for(sim), at)
        return
    accept(sim)
    dispatch(sim, unit_for(sim))
    if kind == "postponed":
        sim.do(A.POSTPONE, sim.agent, sim.hours_after(sim.clock, 0.2, 2))
    elif kind == "shelved":
        sim.do(A.SHELVE, sim.crew.district[0], sim.hours_after(sim.clock, 1, 6))
    elif kind in ("in_progress_overdue", "handled_overdue"):
        start(sim)
        if kind == "handled_overdue":
            handle(sim)


def live_rejected(sim: Sim) -> None:
    """REJECT soon after the report."""
    sim.do(A.REJECT, sim.agent, sim.hours_after(sim.clock, 0.1, 1.5))


def live_merged(sim: Sim, target: Sim) -> None:
    """MERGE into ``target`` (ids and numbers are filled in when numbered)."""
    sim.merge_target = target
    found = Lookups(merge_into_id=-1, merge_number="")  # both set once numbered
    sim.do(A.MERGE, sim.agent, sim.hours_after(sim.clock, 0.1, 1), found, merge_into_id=-1)
