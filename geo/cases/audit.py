"""The case trail: building chained events (the only writer) and verifying a case's chain
and its keyed seal (geo.cases.seal)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import Row, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from geo.accounts.actor import Actor
from geo.cases.chain import GENESIS, HASHED_FIELDS, ChainCheck, event_digest, verify_chain
from geo.cases.errors import CaseNotFound
from geo.cases.models import Case, CaseEvent
from geo.cases.seal import keys_of

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
    """Adds the event for the case's current version (its seq), moves the chain's head and
    seals it with the session's key ring (raises TrailKeysMissing without one).

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
    case.trail_seal = keys_of(session).seal(case.id, case.version, row["hash"])
    return event


class CaseTrail(NamedTuple):
    """A case's events in seq order and whether their chain verifies up to the case's head,
    and the head to the case's seal."""

    events: list[CaseEvent]
    check: ChainCheck


def chain_view(event: CaseEvent) -> dict[str, Any]:
    """The stored event as the mapping geo.cases.chain hashes and verifies."""
    view = {name: getattr(event, name) for name in HASHED_FIELDS}
    return view | {"prev_hash": event.prev_hash, "hash": event.hash}


async def case_trail(session: AsyncSession, case_id: int) -> CaseTrail:
    """All events of the case, oldest first, and the check: the chain (head = the case's
    last event hash, so a removed tail shows too), then the seal over id, version and head
    with the session's key ring (a chain rewritten whole shows there); raises CaseNotFound,
    or TrailKeysMissing without a ring."""
    keys = keys_of(session)
    stmt_case = select(Case.last_event_hash, Case.version, Case.trail_seal).where(
        Case.id == case_id
    )
    found = (await session.execute(stmt_case)).one_or_none()
    if found is None:
        raise CaseNotFound(case_id)
    head, version, seal = found
    stmt = (
        select(CaseEvent)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.seq)
        .execution_options(populate_existing=True)  # what is stored, not what we remember
    )
    events = list(await session.scalars(stmt))
    check = verify_chain([chain_view(e) for e in events], head=head)
    if check.ok and len(events) != version:
        check = ChainCheck(False, len(events), "the case's version is not its event count")
    if check.ok and (fault := keys.fault(case_id, version, head, seal)):
        check = ChainCheck(False, len(events), fault)
    return CaseTrail(events, check)


class SealReport(NamedTuple):
    """What :func:`seal_trails` did: cases sealed, and the numbers of those it would not seal
    because their trail does not verify (or, resealing, their seal does not)."""

    sealed: int
    refused: tuple[str, ...]


class TrailAudit(NamedTuple):
    """What :func:`audit_trails` found: cases checked, and (number, reason) of every case
    whose trail does not verify."""

    checked: int
    broken: tuple[tuple[str, str], ...]


_EVENT_COLUMNS = [getattr(CaseEvent, name) for name in (*HASHED_FIELDS, "prev_hash", "hash")]
_CASE_COLUMNS = (Case.id, Case.number, Case.version, Case.last_event_hash, Case.trail_seal)


async def _trails(
    session: AsyncSession, ids: list[int], batch: int
) -> AsyncIterator[tuple[Row[Any], list[dict[str, Any]]]]:
    """The cases of ``ids`` with their events as chain views, ``batch`` cases a query."""
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        cases = (await session.execute(select(*_CASE_COLUMNS).where(Case.id.in_(chunk)))).all()
        trails: dict[int, list[dict[str, Any]]] = {case_id: [] for case_id in chunk}
        rows = await session.execute(
            select(*_EVENT_COLUMNS)
            .where(CaseEvent.case_id.in_(chunk))
            .order_by(CaseEvent.case_id, CaseEvent.seq)
        )
        for row in rows.mappings():
            trails[row["case_id"]].append(dict(row))
        for case in cases:
            yield case, trails[case.id]


def _chain_fault(case: Row[Any], events: list[dict[str, Any]]) -> str | None:
    check = verify_chain(events, head=case.last_event_hash)
    if not check.ok:
        return f"event {check.broken_at}: {check.reason}"
    if len(events) != case.version:
        return "the case's version is not its event count"
    return None


async def audit_trails(session: AsyncSession, *, batch: int = 1000) -> TrailAudit:
    """Checks every case's trail as caseTrail does (chain, head, seal)."""
    keys = keys_of(session)
    ids = list(await session.scalars(select(Case.id).order_by(Case.id)))
    broken = []
    async for case, events in _trails(session, ids, batch):
        fault = _chain_fault(case, events) or keys.fault(
            case.id, case.version, case.last_event_hash, case.trail_seal
        )
        if fault:
            broken.append((case.number, fault))
    return TrailAudit(len(ids), tuple(broken))


async def seal_trails(
    session: AsyncSession, *, reseal: bool = False, batch: int = 1000
) -> SealReport:
    """Seals, with the session's key ring, the trails of the cases that have no seal (with
    ``reseal``, of every case whose seal is not under the current key): each only after its
    chain verifies up to its head, and, resealing, after its old seal verifies under a key of
    the ring. The caller commits. For trails written before seals existed, and for rotation."""
    keys = keys_of(session)
    wanted = (
        or_(Case.trail_seal.is_(None), Case.trail_seal.not_like(f"{keys.current}:%"))
        if reseal
        else Case.trail_seal.is_(None)
    )
    ids = list(await session.scalars(select(Case.id).where(wanted).order_by(Case.id)))
    seals: list[dict[str, Any]] = []
    refused = []
    async for case, events in _trails(session, ids, batch):
        old = case.trail_seal
        if _chain_fault(case, events) or (
            old and keys.fault(case.id, case.version, case.last_event_hash, old)
        ):
            refused.append(case.number)
            continue
        seal = keys.seal(case.id, case.version, case.last_event_hash)
        seals.append({"id": case.id, "trail_seal": seal})
    for start in range(0, len(seals), batch):
        await session.execute(update(Case), seals[start : start + batch])
    return SealReport(len(seals), tuple(refused))
