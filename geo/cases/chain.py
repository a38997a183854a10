"""Tamper-evident hash chain over a case's events.

Each event stores ``prev_hash`` (the previous event's ``hash``; :data:`GENESIS` for the
first) and ``hash = sha256(prev_hash + canonical_json(event))`` as lowercase hex, where
``canonical_json`` covers exactly :data:`HASHED_FIELDS` — case_id, seq, action,
from_status, to_status, actor_id, actor_role, note, details, occurred_at — and nothing else
(not the row id, not the stored hashes, not display snapshots such as the actor's name).

Canonical JSON: keys sorted, separators ``,`` and ``:`` (no whitespace), ``ensure_ascii=False``,
UTF-8, NaN/Infinity refused; datetimes (which must be aware) as ISO-8601 in UTC with
microseconds, ``2025-09-30T08:00:00.000000+00:00`` (PostgreSQL timestamptz keeps
microseconds, so a stored event re-hashes identically). StrEnum members serialise as their
value. Keep ``details`` to strings, integers, booleans, null, lists and objects: a float is
hashed by Python's repr, which a JSONB round trip need not preserve (1e20 comes back as an
integer), so store measurements as integers or strings.

What the chain proves: any change to a hashed field, a stored hash, the order, or the
removal of an event in the middle breaks it at that event's index. Removing events at the
*end*, or rewriting a whole tail with fresh hashes, only shows against an anchor kept
elsewhere, e.g. the case row's last hash (``head`` in :func:`verify_chain`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

__all__ = [
    "GENESIS",
    "HASHED_FIELDS",
    "ChainCheck",
    "canonical_json",
    "event_digest",
    "verify_chain",
]

GENESIS: Final = "0" * 64
HASHED_FIELDS: Final = (
    "case_id",
    "seq",
    "action",
    "from_status",
    "to_status",
    "actor_id",
    "actor_role",
    "note",
    "details",
    "occurred_at",
)
_HEX64: Final = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ChainCheck:
    """Result of :func:`verify_chain`: ``broken_at`` is the first bad event's index."""

    ok: bool
    broken_at: int | None = None
    reason: str | None = None


def canonical_json(event: Mapping[str, Any]) -> str:
    """Canonical JSON of the hashed fields; raises ValueError if one is missing."""
    missing = [name for name in HASHED_FIELDS if name not in event]
    if missing:
        raise ValueError(f"event lacks hashed fields: {', '.join(missing)}")
    return json.dumps(
        {name: event[name] for name in HASHED_FIELDS},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_encode,
    )


def event_digest(prev_hash: str, event: Mapping[str, Any]) -> str:
    """sha256 hex of ``prev_hash`` + canonical JSON of ``event``; same input, same digest."""
    if not isinstance(prev_hash, str) or not _HEX64.fullmatch(prev_hash):
        raise ValueError("prev_hash must be 64 lowercase hex digits")
    payload = prev_hash + canonical_json(event)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def verify_chain(events: Sequence[Mapping[str, Any]], *, head: str | None = None) -> ChainCheck:
    """Checks a case's whole chain in seq order; reports the first broken event.

    Per event i: ``prev_hash`` links to event i-1 (GENESIS for i = 0), ``hash`` matches the
    contents, ``seq`` is i + 1 and ``case_id`` equals event 0's. With ``head``, the last hash
    (GENESIS for no events) must equal it, else ``broken_at`` is len(events).
    """
    expected_prev = GENESIS
    for index, event in enumerate(events):
        reason = _event_fault(index, event, expected_prev, events[0].get("case_id"))
        if reason:
            return ChainCheck(ok=False, broken_at=index, reason=reason)
        expected_prev = event["hash"]
    if head is not None and head != expected_prev:
        return ChainCheck(ok=False, broken_at=len(events), reason="last hash is not the head")
    return ChainCheck(ok=True)


def _event_fault(index: int, event: Mapping[str, Any], expected_prev: str, case_id: Any) -> str:
    if event.get("prev_hash") != expected_prev:
        return "prev_hash does not link to the previous event"
    try:
        digest = event_digest(expected_prev, event)
    except (TypeError, ValueError) as error:
        return f"event cannot be hashed: {error}"
    if event.get("hash") != digest:
        return "hash does not match the event's contents"
    if event["seq"] != index + 1:
        return f"seq {event['seq']} where {index + 1} was expected"
    if event["case_id"] != case_id:
        return "event belongs to another case"
    return ""


def _encode(value: object) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("datetimes in events must be timezone-aware")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    raise TypeError(f"cannot hash a value of type {type(value).__name__}")
