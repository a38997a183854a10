"""The loop closes itself: one sweep closes verified cases whose evaluation window has passed
and records the stage deadlines cases have missed.

* **Closing.** A VERIFIED case whose reporter did not evaluate within the window
  (:func:`geo.cases.workflow.evaluation_expires_at`) is closed by the SYSTEM actor through
  the workflow itself (:func:`geo.cases.transitions.act`, CLOSE): the same checks, the same
  version bump and chained event as any action, and no satisfaction is invented: the case
  counts as closed and not evaluated.
* **Marking overdue.** ``overdue`` stays derived (``deadline < now``, exact at every read);
  what the sweep adds is a record, once per missed deadline, of the last stage deadline the
  case missed (``overdue_since``: that deadline, the moment it went overdue) and its stage
  (``overdue_stage``). A column, not an event: an event bumps the case's version, so a
  system note that the clock ran out would turn every staff member's ``expectedVersion``
  stale at the moment they most need to act, and the workflow table has no action for it;
  nor does a lapse change the case's status. The marks survive the stage moving on (a
  history: this case was late in handling), and a new deadline (the next stage, a rework,
  an extension) that passes is marked again.

**One leader.** A sweep runs in the caller's transaction and first takes
``pg_try_advisory_xact_lock``: of concurrent sweeps (several server processes, the CLI)
one works and the others return at once with ``ran=False``; the lock goes with the
transaction, so a process that dies mid-sweep holds nothing, and there is no state to
recover after a restart: the next sweep finds whatever is due. **Idempotent**: a closed case
is no longer VERIFIED and a marked deadline is no longer distinct from its mark, so a second
sweep closes and marks nothing; a case a person acts on meanwhile is left as they left it
(the version check of :func:`act`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from geo.accounts.actor import Actor
from geo.cases.categories import Stage
from geo.cases.models import Case
from geo.cases.transitions import act
from geo.cases.workflow import EVALUATION_WINDOW_DAYS, Action, CaseStatus, evaluation_expires_at
from geo.clock import utcnow
from geo.errors import DomainError

#: The advisory lock of sweeps (any fixed 64-bit number no other job uses).
SWEEP_LOCK_KEY: Final = 0x63697263_6C657377  # "circlesw"
#: Cases closed per sweep (per transaction); a full batch says that more may be waiting.
CLOSE_BATCH: Final = 500
#: The evaluation window closes at the end of the Nth working day after the local date of
#: verification: never less than N - 1 whole days after it (verified at 23:59, N days on at
#: 17:30). Older verifications are the only candidates worth the exact computation.
_SOONEST_EXPIRY: Final = timedelta(days=EVALUATION_WINDOW_DAYS - 1)
#: The stage whose clock runs in each status (geo.cases.effects sets the deadlines).
STAGE_OF: Final = {
    CaseStatus.REPORTED: Stage.ACCEPT,
    CaseStatus.ACCEPTED: Stage.DISPATCH,
    CaseStatus.ESCALATED: Stage.DISPATCH,
    CaseStatus.DISPATCHED: Stage.HANDLE,
    CaseStatus.IN_PROGRESS: Stage.HANDLE,
    CaseStatus.HANDLED: Stage.VERIFY,
}


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep did; ``ran`` is False when another sweep held the lock."""

    ran: bool
    closed: tuple[str, ...] = ()  # numbers of the cases closed unevaluated
    marked_overdue: int = 0
    #: A full batch was closed: sweep again for the rest.
    more: bool = False


async def sweep(
    session: AsyncSession, *, now: datetime | None = None, batch: int = CLOSE_BATCH
) -> SweepReport:
    """Closes up to ``batch`` cases whose evaluation window has passed and marks missed
    deadlines, in the caller's transaction, if no other sweep is running (module docstring)."""
    lock = select(func.pg_try_advisory_xact_lock(SWEEP_LOCK_KEY))
    if not await session.scalar(lock):
        return SweepReport(ran=False)
    now = now or utcnow()
    closed = await close_unevaluated(session, now=now, batch=batch)
    marked = await mark_overdue(session, now=now)
    return SweepReport(True, closed, marked, more=len(closed) == batch)


async def close_unevaluated(
    session: AsyncSession, *, now: datetime, batch: int = CLOSE_BATCH
) -> tuple[str, ...]:
    """Closes, as the SYSTEM actor, up to ``batch`` VERIFIED cases whose evaluation window
    ended by ``now``, oldest verification first; returns their numbers."""
    stmt = (
        select(Case.id, Case.version, Case.verified_at)
        .where(Case.status == CaseStatus.VERIFIED.value, Case.verified_at <= now - _SOONEST_EXPIRY)
        .order_by(Case.verified_at, Case.id)
        .limit(batch)
    )
    closed: list[str] = []
    for row in (await session.execute(stmt)).all():
        if now < evaluation_expires_at(row.verified_at):
            break  # the window's end grows with the verification time: later ones are open too
        try:
            done = await act(
                session,
                case_id=row.id,
                action=Action.CLOSE,
                actor=Actor.system(),
                expected_version=row.version,
                now=now,
            )
        except DomainError:  # someone acted on it since it was read: theirs stands
            continue
        closed.append(done.case.number)
    return tuple(closed)


async def mark_overdue(session: AsyncSession, *, now: datetime) -> int:
    """Records, once per deadline, that a running stage's deadline passed (module
    docstring); returns how many cases were marked."""
    stage = case(
        {status.value: stage.value for status, stage in STAGE_OF.items()}, value=Case.status
    )
    stmt = (
        update(Case)
        .where(Case.deadline < now, Case.overdue_since.is_distinct_from(Case.deadline))
        .values(overdue_since=Case.deadline, overdue_stage=stage)
        .returning(Case.id)
        .execution_options(synchronize_session=False)
    )
    return len((await session.execute(stmt)).all())
