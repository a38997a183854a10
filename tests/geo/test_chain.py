"""Tests for geo.cases.chain: canonical digests and tamper detection."""

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.accounts.models import Role
from geo.cases.chain import (
    GENESIS,
    HASHED_FIELDS,
    ChainCheck,
    canonical_json,
    event_digest,
    verify_chain,
)
from geo.cases.workflow import Action, CaseStatus

CST = timezone(timedelta(hours=8))
PROPERTY = settings(max_examples=300, deadline=None, database=None)

STEPS = [
    (Action.ACCEPT, CaseStatus.REPORTED, CaseStatus.ACCEPTED, Role.AGENT),
    (Action.DISPATCH, CaseStatus.ACCEPTED, CaseStatus.DISPATCHED, Role.AGENT),
    (Action.START, CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS, Role.HANDLER),
    (Action.REPORT_HANDLED, CaseStatus.IN_PROGRESS, CaseStatus.HANDLED, Role.HANDLER),
    (Action.VERIFY_OK, CaseStatus.HANDLED, CaseStatus.VERIFIED, Role.GRID_WORKER),
    (Action.EVALUATE, CaseStatus.VERIFIED, CaseStatus.EVALUATED, Role.RESIDENT),
    (Action.CLOSE, CaseStatus.EVALUATED, CaseStatus.CLOSED, Role.SYSTEM),
]


def make_chain(n: int = len(STEPS), case_id: int = 42) -> list[dict[str, Any]]:
    """A well-formed chain of ``n`` events, with extra unhashed columns like the table's."""
    events: list[dict[str, Any]] = []
    prev = GENESIS
    for i in range(n):
        action, source, target, role = STEPS[i % len(STEPS)]
        event = {
            "id": 1000 + i,
            "case_id": case_id,
            "seq": i + 1,
            "action": action,
            "from_status": source,
            "to_status": target,
            "actor_id": 7 + i,
            "actor_role": role,
            "actor_label": "张三",
            "note": "摊贩已劝离，现场恢复通行" if i % 2 else None,
            "details": {"unit": "城管二中队", "photos": ["a.jpg"], "minutes": i},
            "occurred_at": datetime(2025, 6, 27, 10, 0, tzinfo=CST) + timedelta(minutes=40 * i),
            "prev_hash": prev,
        }
        event["hash"] = prev = event_digest(prev, event)
        events.append(event)
    return events


def rehash(events: list[dict[str, Any]]) -> None:
    """What a forger with write access would do: recompute every link."""
    prev = GENESIS
    for event in events:
        event["prev_hash"] = prev
        event["hash"] = prev = event_digest(prev, event)


# --- the digest ------------------------------------------------------------------------------


def test_digest_matches_hand_written_canonical_form() -> None:
    event = {
        "occurred_at": datetime(2025, 6, 27, 10, 0, tzinfo=CST),
        "case_id": 42,
        "seq": 1,
        "action": Action.ACCEPT,
        "from_status": CaseStatus.REPORTED,
        "to_status": CaseStatus.ACCEPTED,
        "actor_id": 7,
        "actor_role": Role.AGENT,
        "note": "占道经营",
        "details": {"b": [1, True, None], "a": "二七"},
    }
    expected = (
        '{"action":"accept","actor_id":7,"actor_role":"agent","case_id":42,'
        '"details":{"a":"二七","b":[1,true,null]},"from_status":"reported",'
        '"note":"占道经营","occurred_at":"2025-06-27T02:00:00.000000+00:00","seq":1,'
        '"to_status":"accepted"}'
    )
    assert canonical_json(event) == expected
    digest = hashlib.sha256((GENESIS + expected).encode("utf-8")).hexdigest()
    assert event_digest(GENESIS, event) == digest


def test_digest_is_deterministic_and_ignores_unhashed_fields() -> None:
    event = make_chain(1)[0]
    same = dict(reversed(list(event.items())))
    same["occurred_at"] = event["occurred_at"].astimezone(UTC)  # same instant, other zone
    same["actor_label"] = "李四"
    same["id"] = -1
    assert event_digest(GENESIS, same) == event_digest(GENESIS, event) == event["hash"]


def test_digest_depends_on_prev_hash() -> None:
    event = make_chain(1)[0]
    assert event_digest("f" * 64, event) != event_digest(GENESIS, event)


@pytest.mark.parametrize("prev", ["0" * 63, "G" * 64, "F" * 64, None])
def test_digest_rejects_malformed_prev_hash(prev: Any) -> None:
    with pytest.raises(ValueError, match="64 lowercase hex"):
        event_digest(prev, make_chain(1)[0])


def test_digest_rejects_missing_fields_naive_datetimes_and_nan() -> None:
    event = make_chain(1)[0]
    with pytest.raises(ValueError, match="lacks hashed fields: note"):
        event_digest(GENESIS, {k: v for k, v in event.items() if k != "note"})
    with pytest.raises(ValueError, match="timezone-aware"):
        event_digest(GENESIS, {**event, "occurred_at": datetime(2025, 6, 27)})  # noqa: DTZ001
    with pytest.raises(ValueError):
        event_digest(GENESIS, {**event, "details": {"x": float("nan")}})
    with pytest.raises(TypeError, match="set"):
        event_digest(GENESIS, {**event, "details": {"x": {1, 2}}})


# --- verify_chain ----------------------------------------------------------------------------


def test_good_chains_verify() -> None:
    events = make_chain()
    assert verify_chain(events) == ChainCheck(ok=True, broken_at=None, reason=None)
    assert verify_chain(events, head=events[-1]["hash"]).ok
    assert verify_chain([]).ok
    assert verify_chain([], head=GENESIS).ok


NEW_VALUES: dict[str, Any] = {
    "case_id": 43,
    "seq": 99,
    "action": Action.REJECT,
    "from_status": CaseStatus.SHELVED,
    "to_status": CaseStatus.REJECTED,
    "actor_id": 1,
    "actor_role": Role.ADMIN,
    "note": "改过的说明",
    "details": {"unit": "城管三中队", "photos": ["a.jpg"], "minutes": 0},
    "occurred_at": datetime(2025, 6, 27, 9, 0, tzinfo=UTC),
}


def test_new_values_cover_every_hashed_field() -> None:
    assert set(NEW_VALUES) == set(HASHED_FIELDS)


@pytest.mark.parametrize("field", HASHED_FIELDS)
@pytest.mark.parametrize("index", [0, 3, 6])
def test_changing_a_hashed_field_is_caught_at_its_index(field: str, index: int) -> None:
    events = make_chain()
    events[index][field] = NEW_VALUES[field]
    check = verify_chain(events)
    assert (check.ok, check.broken_at) == (False, index)
    assert check.reason == "hash does not match the event's contents"


def test_changing_an_unhashed_field_is_not_tampering() -> None:
    events = make_chain()
    events[2]["actor_label"] = "王五"
    assert verify_chain(events).ok


@pytest.mark.parametrize("index", [0, 3])
def test_deleting_an_event_is_caught(index: int) -> None:
    events = make_chain()
    del events[index]
    check = verify_chain(events)
    assert (check.ok, check.broken_at) == (False, index)
    assert check.reason == "prev_hash does not link to the previous event"


def test_deleting_the_last_event_needs_the_head() -> None:
    events = make_chain()
    head = events[-1]["hash"]
    del events[-1]
    assert verify_chain(events).ok
    check = verify_chain(events, head=head)
    assert (check.ok, check.broken_at, check.reason) == (False, 6, "last hash is not the head")


@pytest.mark.parametrize("index", [0, 2, 5])
def test_reordering_is_caught(index: int) -> None:
    events = make_chain()
    events[index], events[index + 1] = events[index + 1], events[index]
    assert verify_chain(events).broken_at == index


@pytest.mark.parametrize("index", [0, 4, 6])
@pytest.mark.parametrize("field", ["hash", "prev_hash"])
def test_altering_a_stored_hash_is_caught(index: int, field: str) -> None:
    events = make_chain()
    events[index][field] = "a" * 64
    assert verify_chain(events).broken_at == index


def test_rewritten_chain_with_a_gap_is_caught_by_seq() -> None:
    events = make_chain()
    del events[3]
    rehash(events)
    check = verify_chain(events)
    assert (check.broken_at, check.reason) == (3, "seq 5 where 4 was expected")


def test_spliced_event_from_another_case_is_caught() -> None:
    events = make_chain()
    events[4]["case_id"] = 99
    rehash(events)
    check = verify_chain(events)
    assert (check.broken_at, check.reason) == (4, "event belongs to another case")


def test_unhashable_event_is_reported_not_raised() -> None:
    events = make_chain()
    del events[2]["details"]
    check = verify_chain(events)
    assert check.broken_at == 2
    assert check.reason is not None and check.reason.startswith("event cannot be hashed")


@PROPERTY
@given(data=st.data(), n=st.integers(min_value=1, max_value=20))
def test_any_single_tampering_is_caught_at_its_index(data: st.DataObject, n: int) -> None:
    events = make_chain(n)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    field = data.draw(st.sampled_from([*HASHED_FIELDS, "hash", "prev_hash"]))
    replacement = NEW_VALUES.get(field, "b" * 64)
    if events[index][field] == replacement:
        replacement = "c" * 64 if field in ("hash", "prev_hash") else "tampered"
    events[index][field] = replacement
    assert verify_chain(events).broken_at == index
