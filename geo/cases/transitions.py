"""Acting on a case: one workflow action, one version bump, one chained event.

:func:`act` runs a fixed sequence inside the caller's transaction:

1. lock the case row (``SELECT ... FOR UPDATE``) or raise CaseNotFound;
2. permission: the actor's role and scope for this action from this status
   (ActionNotPermitted names nothing about the case);
3. optimistic version: ``expected_version`` must equal the case's version, else
   VersionConflict with the current version and status. Concurrent callers holding the same
   version queue on the row lock; the first wins, every later one sees the new version;
4. the transition table (IllegalTransition, NoteRequired, EvaluationPending, ...);
5. the action's lookups and side effects (geo.cases.effects), version + 1, the event, flush.

Steps 2-4 are :func:`authorize` and step 5's field changes :func:`advance`: pure functions
that the bulk synthesiser (geo.cases.synth) runs too, so demo trails obey the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.accounts.actor import Actor, CaseScope
from geo.cases.audit import record_event
from geo.cases.effects import Lookups, Params, apply_effects, build_params, look_up
from geo.cases.errors import CaseNotFound, VersionConflict, parse_enum
from geo.cases.models import Case, CaseEvent
from geo.cases.workflow import (
    Action,
    CaseStatus,
    Satisfaction,
    check_permission,
    check_transition,
    evaluation_expires_at,
    scope_for,
)
from geo.clock import utcnow
from geo.grids.models import Grid


@dataclass(frozen=True, slots=True)
class Transitioned:
    """The case after the action (version bumped) and the event that records it."""

    case: Case
    event: CaseEvent


def authorize(
    case: Case,
    grid_path: Sequence[int],
    action: Action,
    actor: Actor,
    params: Params,
    *,
    expected_version: int,
    now: datetime,
) -> CaseStatus:
    """Steps 2-4 of the module docstring; returns the status the action leads to."""
    status = CaseStatus(case.status)
    scope = case_scope_of(case, grid_path)
    check_permission(
        action,
        actor.role,
        in_scope=actor.in_scope(scope_for(action, status, actor.role), scope),
        duties=actor.duties(scope),
    )
    if case.version != expected_version:
        raise VersionConflict(case.id, expected_version, case.version, case.status)
    expired = case.verified_at is not None and now >= evaluation_expires_at(case.verified_at)
    return check_transition(
        status,
        action,
        actor.role,
        note=params.note,
        in_scope=True,  # checked above, before the version
        satisfaction=params.satisfaction,
        evaluation_expired=expired,
    )


def case_scope_of(case: Case, grid_path: Sequence[int]) -> CaseScope:
    """What the scope rules need to know about ``case`` (its grid's path given)."""
    return CaseScope(
        tuple(grid_path),
        case.department,
        case.reporter_user_id,
        tuple(case.co_handlers or ()),
        case_id=case.id,
        handled_by=case.handled_by_user_id,
        verified_by=case.verified_by_user_id,
    )


def advance(
    case: Case,
    action: Action,
    target: CaseStatus,
    params: Params,
    actor: Actor,
    now: datetime,
    found: Lookups,
) -> dict[str, Any]:
    """Applies the action's effects, sets the status and bumps the version; returns the
    event details. The caller writes the event for the new version."""
    details = apply_effects(case, action, target, params, actor, now, found)
    case.status, case.version = target.value, case.version + 1
    return details


async def act(
    session: AsyncSession,
    *,
    case_id: int,
    action: Action,
    actor: Actor,
    expected_version: int,
    note: str | None = None,
    satisfaction: Satisfaction | None = None,
    department: str | None = None,
    co_handlers: Sequence[str] = (),
    merge_into_id: int | None = None,
    extend_to: datetime | None = None,
    grid_id: int | None = None,
    now: datetime | None = None,
) -> Transitioned:
    """Applies ``action`` to the case as described in the module docstring; flushes."""
    action = parse_enum("action", Action, action)
    params = build_params(
        action,
        note=note,
        satisfaction=satisfaction,
        department=department,
        co_handlers=co_handlers,
        merge_into_id=merge_into_id,
        extend_to=extend_to,
        grid_id=grid_id,
    )
    now = now or utcnow()
    case, grid_path = await _lock(session, case_id)
    status = CaseStatus(case.status)
    target = authorize(
        case, grid_path, action, actor, params, expected_version=expected_version, now=now
    )
    found = await look_up(session, case, action, params, actor)
    details = advance(case, action, target, params, actor, now, found)
    event = record_event(
        session,
        case,
        action=action.value,
        from_status=status.value,
        to_status=target.value,
        actor=actor,
        note=params.note,
        details=details,
        occurred_at=now,
    )
    await session.flush()
    return Transitioned(case, event)


async def _lock(session: AsyncSession, case_id: int) -> tuple[Case, tuple[int, ...]]:
    stmt = (
        select(Case, Grid.path)
        .outerjoin(Grid, Grid.id == Case.grid_id)
        .where(Case.id == case_id)
        .with_for_update(of=Case)
        .execution_options(populate_existing=True)  # the locked row, not a cached one
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        raise CaseNotFound(case_id)
    return row[0], tuple(row[1] or ())
