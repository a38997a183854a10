"""The case trail: building chained events (the only writer) and verifying a case's chain."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.accounts.actor import Actor
from geo.cases.chain import GENESIS, HASHED_FIELDS, ChainCheck, event_digest, verify_chain
from geo.cases.errors import CaseNotFound
from geo.cases.models import Case, CaseEvent

#: The action of every case's first event (not a workflow Action: nobody "takes" it).
REPORTED: Final = "reported"
#: actor_name of events written without an account.
ANONYMOUS: Final = "anonymous"


def event_row(
    *,
    case_id: int,
    seq: int,
    prev_hash: str,
    action: str,
    from_status: str | None,
    to_status: str,
    actor: Actor | None,
    note: str | None,
    details: Mapping[str, Any],
    occurred_at: datetime,
    hashed: bool = True,
) -> dict[str, Any]:
    """The column values of one event, ``hash`` chained to ``prev_hash`` (pure; used by the
    service and by the bulk synthesiser alike, which chains later: ``hashed=False``)."""
    row: dict[str, Any] = {
        "case_id": case_id,
        "seq": seq,
        "action": str(action),
        "from_status": str(from_status) if from_status is not None else None,
        "to_status": str(to_status),
        "actor_id": actor.user_id if actor else None,
        "actor_role": actor.role.value if actor else None,
        "note": note,
        "details": dict(details),
        "occurred_at": occurred_at,
    }
    row["actor_name"] = actor.name if actor else ANONYMOUS
    row["prev_hash"] = prev_hash
    row["hash"] = event_digest(prev_hash, row) if hashed else ""
    return row


def record_event(
    session: AsyncSession,
    case: Case,
    *,
    action: str,
    from_status: str | None,
    to_status: str,
    actor: Actor | None,
    note: str | None,
    details: Mapping[str, Any],
    occurred_at: datetime,
) -> CaseEvent:
    """Adds the event for the case's current version (its seq) and moves the chain's head.

    The caller has already bumped ``case.version``; the session flushes both rows together.
    """
    row = event_row(
        case_id=case.id,
        seq=case.version,
        prev_hash=case.last_event_hash if case.version > 1 else GENESIS,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        note=note,
        details=details,
        occurred_at=occurred_at,
    )
    event = CaseEvent(**row)
    session.add(event)
    case.last_event_hash = row["hash"]
    return event


class CaseTrail(NamedTuple):
    """A case's events in seq order and whether their chain verifies up to the case's head."""

    events: list[CaseEvent]
    check: ChainCheck


def chain_view(event: CaseEvent) -> dict[str, Any]:
    """The stored event as the mapping geo.cases.chain hashes and verifies."""
    view = {name: getattr(event, name) for name in HASHED_FIELDS}
    return view | {"prev_hash": event.prev_hash, "hash": event.hash}


async def case_trail(session: AsyncSession, case_id: int) -> CaseTrail:
    """All events of the case, oldest first, and the chain check (head = the case's last
    event hash, so a removed tail shows too); raises CaseNotFound."""
    head = await session.scalar(select(Case.last_event_hash).where(Case.id == case_id))
    if head is None:
        raise CaseNotFound(case_id)
    stmt = (
        select(CaseEvent)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.seq)
        .execution_options(populate_existing=True)  # what is stored, not what we remember
    )
    events = list(await session.scalars(stmt))
    return CaseTrail(events, verify_chain([chain_view(e) for e in events], head=head))
