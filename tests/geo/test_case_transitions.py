"""The workflow through the service and the database: every row of the table, allowed and
refused, with its version bump, its one event and the hash chain; and each side effect."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.accounts.models import Role, Seat
from geo.cases.audit import case_trail
from geo.cases.categories import Channel, LocationSource, Stage, get_case_category
from geo.cases.errors import CaseNotFound, InvalidCaseInput, MergeTargetInvalid, VersionConflict
from geo.cases.models import Case, CaseEvent
from geo.cases.queries import is_overdue
from geo.cases.routing import RoutingReason
from geo.cases.transitions import act
from geo.cases.workflow import (
    TRANSITIONS,
    Action,
    ActionNotPermitted,
    CaseStatus,
    EvaluationPending,
    IllegalTransition,
    NoteRequired,
    Satisfaction,
    allowed_actions,
)
from geo.cases.worktime import working_hours_between
from tests.builders.cases import (
    DEPARTMENT,
    at,
    case_in,
    make_actor,
    make_cast,
    report,
    step_for,
    take,
)

pytestmark = pytest.mark.anyio

ALLOWED = [(t.action, source) for t in TRANSITIONS.values() for source in sorted(t.sources)]
REFUSED = [
    (action, status)
    for status in CaseStatus
    for action in Action
    if action not in allowed_actions(status)
]
HANDLER_ACTIONS = {Action.RETURN, Action.START, Action.REPORT_HANDLED}


async def event_count(session: AsyncSession, case_id: int) -> int:
    stmt = select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id)
    return int(await session.scalar(stmt) or 0)


@pytest.mark.parametrize(("action", "source"), ALLOWED, ids=lambda v: str(v))
async def test_allowed_transition_bumps_version_and_writes_one_chained_event(
    db: AsyncSession, action: Action, source: CaseStatus
) -> None:
    cast = await make_cast(db)
    case = await case_in(db, cast, source)
    if action is Action.HANDLE_ON_SITE:  # found on patrol by the worker who fixes it
        case = (await report(db, actor=cast.l3_worker, channel=Channel.PATROL)).case
    before, head = case.version, case.last_event_hash
    extra: dict[str, object] = {}
    if action is Action.MERGE:
        extra["merge_into_id"] = (await report(db, actor=cast.other_resident)).case.id
    if action is Action.CLOSE and source is CaseStatus.VERIFIED:
        extra["now"] = case.verified_at + timedelta(days=10)  # evaluation window passed

    done = await take(db, cast, case, action, **extra)

    expected = TRANSITIONS[action].target or source
    assert (done.case.status, done.case.version) == (expected.value, before + 1)
    event = done.event
    assert (event.seq, event.action, event.from_status, event.to_status) == (
        before + 1,
        action.value,
        source.value,
        expected.value,
    )
    actor = step_for(cast, action)["actor"]
    assert (event.actor_id, event.actor_role, event.actor_name) == (
        actor.user_id,
        actor.role.value,
        actor.name,
    )
    assert event.prev_hash == head and done.case.last_event_hash == event.hash
    assert await event_count(db, case.id) == before + 1
    trail = await case_trail(db, case.id)
    assert trail.check.ok and [e.seq for e in trail.events] == list(range(1, before + 2))


@pytest.mark.parametrize(("action", "status"), REFUSED, ids=lambda v: str(v))
async def test_refused_action_writes_nothing(
    db: AsyncSession, action: Action, status: CaseStatus
) -> None:
    cast = await make_cast(db)
    case = await case_in(db, cast, status)
    before, head = case.version, case.last_event_hash
    params = step_for(cast, action, merge_into_id=case.id)
    dispatched_here = case.department == DEPARTMENT
    expected = (
        ActionNotPermitted
        if (action in HANDLER_ACTIONS and not dispatched_here)
        or action is Action.HANDLE_ON_SITE  # the resident reported case_in's cases
        else IllegalTransition
    )
    with pytest.raises(expected) as refused:
        await act(db, case_id=case.id, action=action, expected_version=before, **params)
    if isinstance(refused.value, IllegalTransition):
        assert refused.value.allowed == allowed_actions(status, params["actor"].role)
    await db.refresh(case)
    assert (case.status, case.version, case.last_event_hash) == (status.value, before, head)
    assert await event_count(db, case.id) == before


async def test_a_role_outside_the_row_is_refused(db: AsyncSession) -> None:
    cast = await make_cast(db)
    case = await case_in(db, cast, CaseStatus.REPORTED)
    for actor in (cast.resident, cast.handler, cast.l3_worker):
        with pytest.raises(ActionNotPermitted):
            await act(db, case_id=case.id, action=Action.ACCEPT, actor=actor, expected_version=1)
    assert await event_count(db, case.id) == 1


async def test_actors_outside_the_case_scope_are_refused(db: AsyncSession) -> None:
    cast = await make_cast(db)
    elsewhere = await make_actor(
        db, Role.AGENT, seat=Seat.SUBDISTRICT, grid_ids=[cast.grids["D111B"]]
    )
    other_unit = await make_actor(db, Role.HANDLER, department="住建局")
    case = await case_in(db, cast, CaseStatus.REPORTED)
    with pytest.raises(ActionNotPermitted):
        await act(db, case_id=case.id, action=Action.ACCEPT, actor=elsewhere, expected_version=1)
    # The subdistrict seat of the case's L1 may act.
    await act(
        db, case_id=case.id, action=Action.ACCEPT, actor=cast.subdistrict_agent, expected_version=1
    )
    case = (await take(db, cast, case, Action.DISPATCH)).case
    with pytest.raises(ActionNotPermitted):
        await act(db, case_id=case.id, action=Action.START, actor=other_unit, expected_version=3)
    case = (await take(db, cast, case, Action.START)).case
    case = (await take(db, cast, case, Action.REPORT_HANDLED)).case
    # A micro-grid worker, even of the same L3 grid, does not verify; the L3 worker does.
    with pytest.raises(ActionNotPermitted):
        await act(
            db,
            case_id=case.id,
            action=Action.VERIFY_OK,
            actor=cast.outsider_worker,
            expected_version=5,
        )
    case = (await take(db, cast, case, Action.VERIFY_OK)).case
    with pytest.raises(ActionNotPermitted):  # only the reporter evaluates
        await act(
            db,
            case_id=case.id,
            action=Action.EVALUATE,
            actor=cast.other_resident,
            expected_version=6,
            satisfaction=Satisfaction.SATISFIED,
        )


async def test_stale_version_gets_a_conflict_with_the_current_state(db: AsyncSession) -> None:
    cast = await make_cast(db)
    case = await case_in(db, cast, CaseStatus.ACCEPTED)
    with pytest.raises(VersionConflict) as conflict:
        await act(
            db,
            case_id=case.id,
            action=Action.DISPATCH,
            actor=cast.district_agent,
            expected_version=1,
            department=DEPARTMENT,
        )
    assert (conflict.value.current_version, conflict.value.current_status) == (
        2,
        CaseStatus.ACCEPTED,
    )
    assert await event_count(db, case.id) == 2


async def test_missing_case_and_missing_note(db: AsyncSession) -> None:
    cast = await make_cast(db)
    with pytest.raises(CaseNotFound):
        await act(
            db, case_id=999_999, action=Action.ACCEPT, actor=cast.district_agent, expected_version=1
        )
    case = await case_in(db, cast, CaseStatus.REPORTED)
    with pytest.raises(NoteRequired):
        await take(db, cast, case, Action.REJECT, note="   ")


async def test_parameters_of_other_actions_are_refused(db: AsyncSession) -> None:
    cast = await make_cast(db)
    case = await case_in(db, cast, CaseStatus.REPORTED)
    with pytest.raises(InvalidCaseInput):
        await take(db, cast, case, Action.ACCEPT, satisfaction=Satisfaction.SATISFIED)
    with pytest.raises(InvalidCaseInput):
        await take(db, cast, case, Action.ACCEPT, department=DEPARTMENT)


async def test_dispatch_sets_unit_and_working_time_deadline(db: AsyncSession) -> None:
    cast = await make_cast(db)
    case = await case_in(db, cast, CaseStatus.ACCEPTED)
    done = await take(db, cast, case, Action.DISPATCH, co_handlers=["住建局"])
    due = get_case_category("street_vending").due(Stage.HANDLE, done.event.occurred_at)
    assert (done.case.department, done.case.co_handlers) == (DEPARTMENT, ["住建局"])
    assert done.case.deadline == done.case.handle_deadline == due
    assert done.event.details["unit"] == DEPARTMENT
    assert not is_overdue(done.case, due) and is_overdue(done.case, due + timedelta(seconds=1))


async def test_dispatch_to_the_grid_team_lets_its_workers_handle(db: AsyncSession) -> None:
    cast = await make_cast(db)
    case = await case_in(db, cast, CaseStatus.ACCEPTED)
    case = (await take(db, cast, case, Action.DISPATCH, department=None)).case
    assert case.department is None
    with pytest.raises(ActionNotPermitted):
        await take(db, cast, case, Action.START)  # the department handler
    done = await take(db, cast, case, Action.START, actor=cast.l3_worker)
    assert done.case.assignee_user_id == cast.l3_worker.user_id


async def test_failed_verification_counts_rework_and_keeps_the_deadline(db: AsyncSession) -> None:
    cast = await make_cast(db)
    case = await case_in(db, cast, CaseStatus.HANDLED)
    handle_deadline = case.handle_deadline
    done = await take(db, cast, case, Action.VERIFY_FAILED)
    assert done.case.status == CaseStatus.DISPATCHED.value
    assert (done.case.rework_count, done.case.deadline) == (1, handle_deadline)
    assert done.event.details == {"rework": 1}


async def test_extension_moves_the_deadline_and_counts(db: AsyncSession) -> None:
    cast = await make_cast(db)
    case = await case_in(db, cast, CaseStatus.IN_PROGRESS)
    old = case.handle_deadline
    with pytest.raises(InvalidCaseInput):
        await take(db, cast, case, Action.EXTEND, extend_to=old - timedelta(hours=1))
    done = await take(db, cast, case, Action.EXTEND, extend_to=old + timedelta(days=2))
    assert (done.case.status, done.case.extension_count) == (CaseStatus.IN_PROGRESS.value, 1)
    assert done.case.deadline == done.case.handle_deadline == old + timedelta(days=2)
    again = await take(db, cast, done.case, Action.EXTEND)  # default: one more handling limit
    assert again.case.extension_count == 2 and again.case.deadline > old + timedelta(days=2)


async def test_evaluation_is_stored_and_unsatisfied_reopens(db: AsyncSession) -> None:
    cast = await make_cast(db)
    case = await case_in(db, cast, CaseStatus.VERIFIED)
    done = await take(db, cast, case, Action.EVALUATE, satisfaction=Satisfaction.UNSATISFIED)
    assert (done.case.status, done.case.satisfaction) == ("dispatched", "unsatisfied")
    assert done.case.deadline is not None and done.case.deadline > done.event.occurred_at
    for action in (Action.START, Action.REPORT_HANDLED, Action.VERIFY_OK):
        case = (await take(db, cast, done.case, action)).case
    done = await take(db, cast, case, Action.EVALUATE, satisfaction="basically_satisfied")
    assert (done.case.status, done.case.satisfaction) == ("evaluated", "basically_satisfied")
    closed = (await take(db, cast, done.case, Action.CLOSE)).case
    assert closed.closed_at is not None and closed.deadline is None
    expected = working_hours_between(closed.reported_at, closed.closed_at)
    assert closed.close_work_hours == pytest.approx(expected, abs=0.01)


async def test_closing_unevaluated_waits_for_the_evaluation_window(db: AsyncSession) -> None:
    cast = await make_cast(db)
    case = await case_in(db, cast, CaseStatus.VERIFIED)
    with pytest.raises(EvaluationPending):
        await take(db, cast, case, Action.CLOSE)
    done = await take(db, cast, case, Action.CLOSE, now=case.verified_at + timedelta(days=8))
    assert done.case.status == "closed" and done.event.details == {"evaluated": False}


async def test_merge_needs_an_open_target(db: AsyncSession) -> None:
    cast = await make_cast(db)
    case = await case_in(db, cast, CaseStatus.REPORTED)
    closed = await case_in(db, cast, CaseStatus.CLOSED)
    with pytest.raises(InvalidCaseInput):
        await take(db, cast, case, Action.MERGE)
    with pytest.raises(MergeTargetInvalid):
        await take(db, cast, case, Action.MERGE, merge_into_id=case.id)
    with pytest.raises(MergeTargetInvalid):
        await take(db, cast, case, Action.MERGE, merge_into_id=closed.id)
    survivor = await case_in(db, cast, CaseStatus.ACCEPTED)
    done = await take(db, cast, case, Action.MERGE, merge_into_id=survivor.id)
    assert done.case.merged_into_id == survivor.id
    assert done.event.details == {"into": survivor.number}


async def test_escalation_records_lead_and_co_handlers_and_needs_the_district(
    db: AsyncSession,
) -> None:
    cast = await make_cast(db)
    case = await case_in(db, cast, CaseStatus.ESCALATED)
    assert case.co_handlers == ["住建局", "二七区消防大队"]
    (event,) = (await case_trail(db, case.id)).events[-1:]
    assert event.details["lead"] == "district operations centre"
    with pytest.raises(ActionNotPermitted):  # the centre dispatches, not the subdistrict
        await take(db, cast, case, Action.DISPATCH, actor=cast.subdistrict_agent)
    done = await take(db, cast, case, Action.DISPATCH, co_handlers=["住建局"])
    assert (done.case.status, done.case.department) == ("dispatched", DEPARTMENT)


async def test_postponed_cases_are_flagged_and_resume_with_a_fresh_clock(
    db: AsyncSession,
) -> None:
    cast = await make_cast(db)
    case = await case_in(db, cast, CaseStatus.POSTPONED)
    assert case.postponed and case.deadline is None
    done = await take(db, cast, case, Action.RESUME)
    assert done.case.deadline == get_case_category(case.category).due(
        Stage.HANDLE, done.event.occurred_at
    )


async def test_accepting_a_queued_case_confirms_its_grid(db: AsyncSession) -> None:
    cast = await make_cast(db)
    queued = (await report(db, actor=cast.resident, source=LocationSource.NETWORK)).case
    assert (queued.grid_id, queued.routing_reason) == (None, "COARSE_LOCATION")
    with pytest.raises(ActionNotPermitted):  # only the district seat sees the queue
        await take(db, cast, queued, Action.ACCEPT, actor=cast.subdistrict_agent)
    done = await take(db, cast, queued, Action.ACCEPT, grid_id=cast.grids["D111B"])
    assert done.case.grid_id == cast.grids["D111B"]
    assert done.case.routing_reason == RoutingReason.CONFIRMED_BY_AGENT
    assert done.event.details["worker"] == "李强"  # B has nobody: the L3 worker
    stored = await db.scalar(select(Case.grid_id).where(Case.id == queued.id))
    assert stored == cast.grids["D111B"]


async def test_a_point_in_micro_grid_a_is_in_scope_of_the_subdistrict(db: AsyncSession) -> None:
    cast = await make_cast(db)
    case = (await report(db, actor=cast.resident, point=at(1, 1))).case
    done = await act(
        db, case_id=case.id, action=Action.ACCEPT, actor=cast.subdistrict_agent, expected_version=1
    )
    assert done.case.accepted_at is not None
