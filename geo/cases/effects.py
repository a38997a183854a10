"""What each workflow action does to a case besides its status (and what its event records).

Deadlines (geo.cases.categories limits, working time via geo.cases.worktime):

* ``deadline`` always belongs to the running stage: ACCEPT and REOPEN/RETURN/ESCALATE start
  the dispatch clock, DISPATCH/RESUME/an unsatisfied EVALUATE the handling clock,
  REPORT_HANDLED the verification clock; POSTPONE, SHELVE, VERIFY_OK and the terminal
  actions stop the clock (NULL).
* VERIFY_FAILED (rework, 返工) sends the case back to its *original* handling deadline:
  rework buys no time, which is why it shows in the on-time rate.
* EXTEND (延期) moves the handling deadline to ``extend_to`` or, by default, one more
  handling limit counted from the current deadline, always to a working-time instant (a
  time outside working hours becomes the end of the last working period before it). A case
  may be extended :data:`MAX_EXTENSIONS` times, each by at most one handling limit of its
  category (:func:`max_extension_to`); beyond either bound only a district seat extends.
* POSTPONE (缓办) stops the clock and keeps the handling deadline; RESUME adds the working
  time spent postponed back to it, so earlier extensions survive.
* HANDLE_ON_SITE (自行处置): the reporting grid worker fixed it on patrol; the case is
  registered, dispatched to its grid team and reported handled at once, by that worker,
  and counted apart (``self_handled``). Someone else verifies it (geo.cases.workflow).
* REROUTE (改派网格) moves a routed case to another grid: one that covers the case's
  location and lies in the acting seat's scope; a district seat may choose any grid (its
  note is the stated reason). ACCEPT with a grid is for queued cases only.
* DISPATCH, ESCALATE: every unit named must be registered and active (geo.accounts.units).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.accounts.actor import Actor
from geo.accounts.units import require_units
from geo.cases.categories import Stage, get_case_category
from geo.cases.errors import InvalidCaseInput, MergeTargetInvalid, parse_enum
from geo.cases.models import Case
from geo.cases.routing import Routing, route_to_grid
from geo.cases.workflow import TERMINAL, Action, CaseStatus, Satisfaction
from geo.cases.worktime import add_working_hours, working_hours_between
from geo.grids.models import Grid
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
    "grid_id": frozenset({Action.ACCEPT, Action.REROUTE}),
}

#: How many times a case may be extended before only a district seat may extend it again.
MAX_EXTENSIONS: Final = 2


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
            case.handled_by_user_id = actor.user_id
            return {}
        case Action.HANDLE_ON_SITE:
            return _handle_on_site(case, actor, now, due(Stage.VERIFY))
        case Action.REROUTE:
            return _reroute(case, found)
        case Action.VERIFY_OK:
            case.verified_at, case.deadline = now, None
            case.verified_by_user_id = actor.user_id
            return {}
        case Action.VERIFY_FAILED:
            case.rework_count += 1
            case.deadline = case.handle_deadline
            return {"rework": case.rework_count}
        case Action.EXTEND:
            return _extend(case, params.extend_to, now, actor)
        case Action.RESUME:
            return _resume(case, now, due(Stage.HANDLE))
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
        case.postponed, case.postponed_at = True, now
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


def max_extension_to(case: Case, current: datetime) -> datetime:
    """The furthest an extension may move the handling deadline without a district seat:
    one handling limit of the case's category past ``current``."""
    return get_case_category(case.category).due(Stage.HANDLE, current)


def _extend(case: Case, extend_to: datetime | None, now: datetime, actor: Actor) -> dict[str, Any]:
    current = max(case.handle_deadline or now, now)
    bound = max_extension_to(case, current)
    if extend_to is None:
        extend_to = bound
    if extend_to.tzinfo is None or extend_to <= current:
        raise InvalidCaseInput(
            "extend_to", "must be an aware time after the current deadline and after now"
        )
    # The earliest instant with the same working time: a deadline falls in working hours.
    extend_to = add_working_hours(current, working_hours_between(current, extend_to))
    if not actor.is_district_seat:
        if extend_to > bound:
            raise InvalidCaseInput(
                "extend_to",
                f"at most one handling limit past the current deadline ({_iso(bound)}); "
                "a longer extension needs a district seat",
            )
        if case.extension_count >= MAX_EXTENSIONS:
            raise InvalidCaseInput(
                "extend_to",
                f"already extended {case.extension_count} times; "
                "a further extension needs a district seat",
            )
    case.extension_count += 1
    case.handle_deadline = case.deadline = extend_to
    return {"deadline": _iso(extend_to), "extension": case.extension_count}


def _resume(case: Case, now: datetime, fresh: datetime) -> dict[str, Any]:
    """Back to DISPATCHED: the handling deadline moves by the working time spent postponed
    (earlier extensions are kept); a case with no deadline to move gets a fresh one."""
    if case.handle_deadline is None or case.postponed_at is None:
        case.handle_deadline = fresh
        added = None
    else:
        added = working_hours_between(case.postponed_at, now)
        case.handle_deadline = add_working_hours(case.handle_deadline, added)
    case.deadline, case.postponed_at = case.handle_deadline, None
    details: dict[str, Any] = {"deadline": _iso(case.deadline)}
    if added is not None:
        details["added_work_minutes"] = round(added * 60)
    return details


def _handle_on_site(
    case: Case, actor: Actor, now: datetime, verify_due: datetime
) -> dict[str, Any]:
    case.accepted_at = case.dispatched_at = case.handled_at = now
    case.department, case.co_handlers = None, []
    case.assignee_user_id = case.handled_by_user_id = actor.user_id
    case.handle_deadline, case.deadline = now, verify_due
    case.self_handled = True
    return {"unit": "grid team", "self_handled": True}


def _reroute(case: Case, found: Lookups) -> dict[str, Any]:
    assert found.routing is not None and found.routing.grid is not None  # look_up raised
    before = found.previous_grid
    details = _confirm_grid(case, found.routing)
    return {"from_grid": before, "to_grid": found.routing.grid.code} | details


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
    #: REROUTE: the code of the grid the case leaves.
    previous_grid: str | None = None


NOTHING: Final = Lookups()


async def look_up(
    session: AsyncSession, case: Case, action: Action, params: Params, actor: Actor
) -> Lookups:
    """Reads what ``action`` needs: the merge target (MERGE), the confirmed grid (ACCEPT of a
    queued case), the new grid (REROUTE), the registered units (DISPATCH, ESCALATE)."""
    match action:
        case Action.MERGE:
            return await _merge_target(session, case, params.merge_into_id)
        case Action.ACCEPT if params.grid_id is not None:
            if case.grid_id is not None:
                raise InvalidCaseInput(
                    "grid_id", "the case is routed already: move it with REROUTE and a note"
                )
            grids = await grids_by_ids(session, [params.grid_id])
            if params.grid_id not in grids:
                raise InvalidCaseInput("grid_id", f"grid {params.grid_id} does not exist")
            return Lookups(routing=await route_to_grid(session, grids[params.grid_id]))
        case Action.REROUTE:
            return await _reroute_target(session, case, params.grid_id, actor)
        case Action.DISPATCH | Action.ESCALATE:
            named = [params.department] if params.department else []
            await require_units(session, [*named, *params.co_handlers])
    return NOTHING


async def _reroute_target(
    session: AsyncSession, case: Case, grid_id: int | None, actor: Actor
) -> Lookups:
    if grid_id is None:
        raise InvalidCaseInput("grid_id", "reroute needs the grid to move the case to")
    if grid_id == case.grid_id:
        raise InvalidCaseInput("grid_id", "the case is in this grid already")
    ids = [grid_id] + ([case.grid_id] if case.grid_id is not None else [])
    grids = await grids_by_ids(session, ids)
    if grid_id not in grids:
        raise InvalidCaseInput("grid_id", f"grid {grid_id} does not exist")
    target = grids[grid_id]
    if not actor.is_district_seat:
        if not actor.covers(target.path):
            raise InvalidCaseInput("grid_id", "the new grid is outside your scope")
        covers = await session.scalar(
            select(func.ST_Covers(Grid.boundary, case.location)).where(Grid.id == grid_id)
        )
        if not covers:
            raise InvalidCaseInput(
                "grid_id",
                "the new grid does not cover the case's location "
                "(only a district seat may move a case elsewhere, stating why)",
            )
    previous = grids[case.grid_id].code if case.grid_id in grids else None
    routed = await route_to_grid(session, target)
    return Lookups(routing=routed, previous_grid=previous)


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
