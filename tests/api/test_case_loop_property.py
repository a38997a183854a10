"""A stateful property test of the case loop through the served API (hypothesis).

Random accounts take random actions among those `allowedActions` offers them, with random
parameters; afterwards a plain policy must still drive the case to CLOSED through the API
(the system closes a verified case nobody may evaluate once its window has passed, as the
scheduled job does). Whatever the sequence, no answer is a GraphQL error, the trail
verifies, and nobody certified their own work.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from geo.accounts.actor import Actor
from geo.cases.transitions import act
from geo.db import make_sessionmaker
from tests.builders.accounts import OTHER_UNIT
from tests.builders.case_api import point
from tests.builders.cases import DEPARTMENT, NOTE
from tests.builders.clients import gql
from tests.builders.databases import TEST_TRAIL_KEYS
from tests.builders.driver import Driver

pytestmark = pytest.mark.anyio

ACTORS = ("district_agent", "subdistrict_agent", "department_seat", "handler", "l3_worker",
          "outsider_worker", "resident")  # fmt: skip
STATE = """query ($id: Int!) { case(id: $id) { ... on Case { status version allowedActions
  verifiedAt events { action actorName } } } }"""
TRAIL = "query ($id: Int!) { caseTrail(id: $id) { ... on CaseTrail { verified } } }"
REPORT = """mutation ($input: ReportCaseInput!) { reportCase(input: $input) {
  ... on CaseReported { case { id version } } } }"""
#: What the closing policy prefers, first to last: forward along the loop; RETURN (a seat
#: recalling) only when nothing else moves, e.g. a case sent to a unit nobody staffs.
FORWARD = ("REOPEN", "RESUME", "ACCEPT", "DISPATCH", "START", "REPORT_HANDLED", "VERIFY_OK",
           "EVALUATE", "CLOSE", "RETURN")  # fmt: skip
FINISHERS = ("handler", "l3_worker", "department_seat", "subdistrict_agent", "district_agent",
             "resident")  # fmt: skip
TYPED = {"CaseActed", "IllegalTransitionError", "ActionNotPermittedError", "NoteRequiredError",
         "InvalidCaseInputError", "UnknownUnitError", "EvaluationPendingError",
         "CaseVersionConflictError", "MergeTargetInvalidError", "NotFoundError"}  # fmt: skip


async def _state(d: Driver, part: str, case: int) -> dict[str, Any] | None:
    found = (await gql(d.client, STATE, getattr(d.world, part), id=case))["case"]
    return found or None  # a case the part may not see answers as missing


def _params(action: str, pick: int) -> dict[str, Any]:
    match action:
        case "DISPATCH":
            return {"department": (None, DEPARTMENT, OTHER_UNIT)[pick % 3]}
        case "EVALUATE":
            return {"satisfaction": ("SATISFIED", "UNSATISFIED", "BASICALLY_SATISFIED")[pick % 3]}
        case "REROUTE":
            return {"grid": ("D111", "D111B", "D111A")[pick % 3], "note": NOTE}
        case "MERGE":
            return {"mergeInto": 1}
    return {"note": NOTE}


async def _step(d: Driver, case: int, part: str, pick: int) -> None:
    seen = await _state(d, part, case)
    if seen is None or not seen["allowedActions"]:
        return
    d.versions[case] = seen["version"]
    action = seen["allowedActions"][pick % len(seen["allowedActions"])]
    answer = await d.act(part, case, action, **_params(action, pick // 3))
    assert answer["__typename"] in TYPED, answer


async def _finish(d: Driver, engine: AsyncEngine, case: int) -> str:
    """Drives the case forward until it is closed (or was rejected or merged)."""
    for _ in range(40):
        seen = await _state(d, "district_agent", case)
        assert seen is not None
        d.versions[case] = seen["version"]
        if seen["status"] in ("CLOSED", "REJECTED", "MERGED"):
            return str(seen["status"])
        if not await _forward(d, case):
            assert seen["status"] == "VERIFIED", seen  # only waiting for the window is allowed
            await _system_close(engine, case, seen)
    raise AssertionError(f"case {case} did not close")


async def _forward(d: Driver, case: int) -> bool:
    options = []
    for part in FINISHERS:
        seen = await _state(d, part, case)
        for action in (seen or {}).get("allowedActions", ()):
            if action in FORWARD:
                options.append((FORWARD.index(action), part, action))
    if not options:
        return False
    _, part, action = min(options)
    params: dict[str, Any] = {"note": NOTE}
    if action == "DISPATCH":
        params = {"department": DEPARTMENT}
    elif action == "EVALUATE":
        params = {"satisfaction": "SATISFIED"}
    answer = await d.act(part, case, action, **params)
    assert answer["__typename"] == "CaseActed", (part, action, answer)
    return True


async def _system_close(engine: AsyncEngine, case: int, seen: dict[str, Any]) -> None:
    from datetime import datetime

    verified_at = datetime.fromisoformat(seen["verifiedAt"])
    async with make_sessionmaker(engine, trail_keys=TEST_TRAIL_KEYS).begin() as session:
        later = verified_at + timedelta(days=10)  # the evaluation window has passed
        await act(session, case_id=case, action="close", actor=Actor.system(),
                  expected_version=seen["version"], now=later)  # fmt: skip


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    reporter=st.sampled_from(["resident", "l3_worker", "anonymous", "anonymous_outside"]),
    steps=st.lists(st.tuples(st.sampled_from(ACTORS), st.integers(0, 80)), max_size=14),
)
async def test_random_sequences_leave_every_case_closable(
    driver: Driver, engine: AsyncEngine, reporter: str, steps: list[tuple[str, int]]
) -> None:
    d = driver
    token = None if reporter.startswith("anonymous") else getattr(d.world, reporter)
    where = point(40.0, 40.0) if reporter == "anonymous_outside" else point()
    data = {"category": "street_vending", "description": "占道经营", "location": where,
            "locationSource": "GPS"}  # fmt: skip
    case = int((await gql(d.client, REPORT, token, input=data))["reportCase"]["case"]["id"])
    for part, pick in steps:
        await _step(d, case, part, pick)
    await _finish(d, engine, case)

    trail = (await gql(d.client, TRAIL, d.world.district_agent, id=case))["caseTrail"]
    assert trail["verified"] is True
    events = (await _state(d, "district_agent", case) or {})["events"]
    _assert_no_self_certification(events)


def _assert_no_self_certification(events: list[dict[str, str]]) -> None:
    handler = verifier = None
    for event in events:
        match event["action"]:
            case "REPORT_HANDLED" | "HANDLE_ON_SITE":
                handler, verifier = event["actorName"], None
            case "VERIFY_OK" | "VERIFY_FAILED":
                assert event["actorName"] != handler, events
                verifier = event["actorName"] if event["action"] == "VERIFY_OK" else None
            case "EVALUATE":
                assert event["actorName"] not in (handler, verifier), events
