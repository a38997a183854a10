"""What each workflow action does to a case besides its status (and what its event records).

Deadlines (geo.cases.categories limits, working time via geo.cases.worktime):

* ``deadline`` always belongs to the running stage: ACCEPT and REOPEN/RETURN/ESCALATE start
  the dispatch clock, DISPATCH/RESUME/an unsatisfied EVALUATE the handling clock,
  REPORT_HANDLED the verification clock; POSTPONE, SHELVE, VERIFY_OK and the terminal
  actions stop the clock (NULL).
* VERIFY_FAILED (rework, 返工) sends the case back to its *original* handling deadline:
  rework buys no time, which is why it shows in the on-time rate.
* EXTEND (延期) moves the handling deadline to ``extend_to`` or, by default, one more
  handling limit counted from the current deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.accounts.actor import Actor
from geo.cases.categories import Stage, get_case_category
from geo.cases.errors import InvalidCaseInput, MergeTargetInvalid, parse_enum
from geo.cases.models import Case
from geo.cases.routing import Routing, route_to_grid
from geo.cases.workflow import TERMINAL, Action, CaseStatus, Satisfaction
from geo.cases.worktime import working_hours_between
from geo.grids.queries import grids_by_ids

#: The lead of an escalated (三跨) case until the centre dispatches it.
DISTRICT_CENTRE: Final = "district operations centre"


@dataclass(frozen=True, slots=True)
class Params:
    note: str | None
    satisfaction: Satisfaction | None
    department: str | None
    co_handlers: tuple[str, ...]
    merge_into_id: int | None
    extend_to: datetime | None
    grid_id: int | None


NOTE_MAX: Final = 2000
UNIT_MAX: Final = 100
CO_HANDLERS_MAX: Final = 10

#: Which optional parameters each action reads; any other one given is refused.
_APPLICABLE: Final[dict[str, frozenset[Action]]] = {
    "satisfaction": frozenset({Action.EVALUATE}),
    "department": frozenset({Action.DISPATCH}),
    "co_handlers": frozenset({Action.DISPATCH, Action.ESCALATE}),
    "merge_into_id": frozenset({Action.MERGE}),
    "extend_to": frozenset({Action.EXTEND}),
    "grid_id": frozenset({Action.ACCEPT}),
}


def _clean(field: str, value: str | None, limit: int) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > limit or "\x00" in value:
        raise InvalidCaseInput(field, f"at most {limit} characters, no NUL")
    return value.strip()


def build_params(
    action: Action,
    *,
    note: str | None = None,
    satisfaction: Satisfaction | str | None = None,
    department: str | None = None,
    co_handlers: Sequence[str] = (),
    merge_into_id: int | None = None,
    extend_to: datetime | None = None,
    grid_id: int | None = None,
) -> Params:
    """Validated parameters of ``action``; raises InvalidCaseInput for a bad value or for a
    parameter the action does not use."""
    units = [_clean("co_handlers", unit, UNIT_MAX) for unit in co_handlers]
    if len(units) > CO_HANDLERS_MAX or None in units:
        raise InvalidCaseInput("co_handlers", f"at most {CO_HANDLERS_MAX} non-blank units")
    params = Params(
        note=_clean("note", note, NOTE_MAX),
        satisfaction=(
            parse_enum("satisfaction", Satisfaction, satisfaction) if satisfaction else None
        ),
        department=_clean("department", department, UNIT_MAX),
        co_handlers=tuple(dict.fromkeys(u for u in units if u)),
        merge_into_id=merge_into_id,
        extend_to=extend_to,
        grid_id=grid_id,
    )
    for name, actions in _APPLICABLE.items():
        if getattr(params, name) not in (None, ()) and action not in actions:
            raise InvalidCaseInput(name, f"not used by {action.value.replace('_', ' ')}")
    return params


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def apply_effects(
    case: Case,
    action: Action,
    target: CaseStatus,
    params: Params,
    actor: Actor,
    now: datetime,
    found: Lookups,
) -> dict[str, Any]:
    """Updates the case's fields for ``action``; returns the event's details (JSON-safe).

    Pure: what needs the database (the merge target, a confirmed grid's routing) comes in
    ``found`` (:func:`look_up`), so the bulk synthesiser applies the very same effects.
    """
    kind = get_case_category(case.category)

    def due(stage: Stage) -> datetime:
        return kind.due(stage, now)

    match action:
        case Action.ACCEPT:
            case.accepted_at, case.deadline = now, due(Stage.DISPATCH)
            return _confirm_grid(case, found.routing)
        case Action.MERGE:
            assert found.merge_into_id is not None  # look_up raised otherwise
            case.merged_into_id, case.deadline = found.merge_into_id, None
            return {"into": found.merge_number}
        case Action.DISPATCH:
            return _dispatch(case, params, now, due(Stage.HANDLE))
        case Action.RETURN | Action.REOPEN:
            returned_by = case.department
            case.department, case.co_handlers, case.handle_deadline = None, [], None
            case.deadline = due(Stage.DISPATCH)
            return {"from_unit": returned_by} if action is Action.RETURN else {}
        case Action.START:
            case.assignee_user_id = actor.user_id
            return {}
        case Action.REPORT_HANDLED:
            case.handled_at, case.deadline = now, due(Stage.VERIFY)
            return {}
        case Action.VERIFY_OK:
            case.verified_at, case.deadline = now, None
            return {}
        case Action.VERIFY_FAILED:
            case.rework_count += 1
            case.deadline = case.handle_deadline
            return {"rework": case.rework_count}
        case Action.EXTEND:
            return _extend(case, params.extend_to, now)
        case Action.RESUME:
            case.handle_deadline = case.deadline = due(Stage.HANDLE)
            return {"deadline": _iso(case.deadline)}
        case Action.ESCALATE:
            case.department, case.co_handlers = None, list(params.co_handlers)
            case.deadline = due(Stage.DISPATCH)
            return {"lead": DISTRICT_CENTRE, "co_handlers": list(params.co_handlers)}
        case Action.EVALUATE:
            return _evaluate(case, params.satisfaction, target, now, due)
        case Action.CLOSE:
            case.closed_at, case.deadline = now, None
            case.close_work_hours = round(working_hours_between(case.reported_at, now), 2)
            return {"evaluated": case.satisfaction is not None}
    if action is Action.POSTPONE:
        case.postponed = True
    case.deadline = None  # REJECT, POSTPONE, SHELVE: no clock runs
    return {}


def _dispatch(case: Case, params: Params, now: datetime, handle_due: datetime) -> dict[str, Any]:
    if params.department is None and case.grid_id is None:
        raise InvalidCaseInput("department", "a case without a grid goes to a department")
    case.department = params.department
    case.co_handlers = list(params.co_handlers)
    case.assignee_user_id = None
    case.dispatched_at = now
    case.handle_deadline = case.deadline = handle_due
    return {
        "unit": params.department or "grid team",
        "co_handlers": list(params.co_handlers),
        "deadline": _iso(handle_due),
    }


def _extend(case: Case, extend_to: datetime | None, now: datetime) -> dict[str, Any]:
    current = case.handle_deadline or now
    if extend_to is None:
        extend_to = get_case_category(case.category).due(Stage.HANDLE, max(current, now))
    if extend_to.tzinfo is None or extend_to <= current:
        raise InvalidCaseInput("extend_to", "must be an aware time after the current deadline")
    case.extension_count += 1
    case.handle_deadline = case.deadline = extend_to
    return {"deadline": _iso(extend_to), "extension": case.extension_count}


def _evaluate(
    case: Case,
    satisfaction: Satisfaction | None,
    target: CaseStatus,
    now: datetime,
    due: Callable[[Stage], datetime],
) -> dict[str, Any]:
    assert satisfaction is not None  # check_transition raised SatisfactionRequired otherwise
    case.satisfaction = satisfaction.value
    case.evaluation_count += 1
    if satisfaction is not Satisfaction.UNSATISFIED:
        case.satisfied_count += 1
    if target is CaseStatus.DISPATCHED:  # unsatisfied: back to the unit with a fresh clock
        case.dispatched_at = now
        case.handle_deadline = case.deadline = due(Stage.HANDLE)
        return {"satisfaction": satisfaction.value, "deadline": _iso(case.deadline)}
    case.deadline = None
    return {"satisfaction": satisfaction.value}


@dataclass(frozen=True, slots=True)
class Lookups:
    """What an action needs from the database besides the case itself."""

    merge_into_id: int | None = None
    merge_number: str | None = None
    routing: Routing | None = None


NOTHING: Final = Lookups()


async def look_up(session: AsyncSession, case: Case, action: Action, params: Params) -> Lookups:
    """Reads the merge target (MERGE) or routes to the confirmed grid (ACCEPT with a grid)."""
    if action is Action.MERGE:
        return await _merge_target(session, case, params.merge_into_id)
    if action is Action.ACCEPT and params.grid_id is not None:
        grids = await grids_by_ids(session, [params.grid_id])
        if params.grid_id not in grids:
            raise InvalidCaseInput("grid_id", f"grid {params.grid_id} does not exist")
        return Lookups(routing=await route_to_grid(session, grids[params.grid_id]))
    return NOTHING


async def _merge_target(session: AsyncSession, case: Case, target_id: int | None) -> Lookups:
    if target_id is None:
        raise InvalidCaseInput("merge_into_id", "merge needs the case to merge into")
    if target_id == case.id:
        raise MergeTargetInvalid("a case cannot be merged into itself")
    row = (
        await session.execute(select(Case.number, Case.status).where(Case.id == target_id))
    ).first()
    if row is None or CaseStatus(row.status) in TERMINAL:
        raise MergeTargetInvalid(f"case {target_id} is not an open case to merge into")
    return Lookups(merge_into_id=target_id, merge_number=row.number)


def _confirm_grid(case: Case, routing: Routing | None) -> dict[str, Any]:
    if routing is None:
        return {}
    assert routing.grid is not None
    case.grid_id, case.assignee_worker_id = routing.grid.id, routing.worker_id
    case.routing_reason = routing.reason.value
    return {"routing": routing.reason.value, **routing.details}
