"""An anonymous reporter's follow code over HTTP: answered once, reads the case as the
reporter sees it, evaluates it; a wrong code answers exactly as an unknown case."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.builders.accounts import World
from tests.builders.cases import DEPARTMENT, NOTE
from tests.builders.clients import gql
from tests.builders.driver import Driver

pytestmark = pytest.mark.anyio

REPORTED = """
mutation ($input: ReportCaseInput!) { reportCase(input: $input) {
  __typename
  ... on CaseReported { created followCode case { id number version } }
  ... on CaseAlreadyReported { number } } }
"""
FOLLOWED = """
query ($number: String!, $code: String!) { followedCase(number: $number, code: $code) {
  __typename
  ... on FollowedCase {
    number status version description department satisfaction reportedAt verifiedAt
    evaluationOpenUntil overdue category { code } grid { code }
    events { seq action fromStatus toStatus actorRole note occurredAt }
  }
  ... on NotFoundError { message kind id }
} }
"""
EVALUATE = """
mutation ($input: EvaluateCaseInput!) { evaluateCase(input: $input) {
  __typename
  ... on CaseEvaluated { case { number status version satisfaction } }
  ... on NotFoundError { message kind id }
  ... on CaseVersionConflictError { currentVersion }
  ... on IllegalTransitionError { status }
} }
"""
CODE = re.compile(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){5}-[A-Z2-7]{2}")


async def reported(client: httpx.AsyncClient, token: str | None = None, **extra: Any) -> Any:
    data = {"category": "street_vending", "description": "占道经营", "locationSource": "GPS",
            "location": {"longitude": 113.6025, "latitude": 34.7025}, **extra}  # fmt: skip
    return (await gql(client, REPORTED, token, input=data))["reportCase"]


async def followed(client: httpx.AsyncClient, number: str, code: str) -> Any:
    return (await gql(client, FOLLOWED, number=number, code=code))["followedCase"]


async def test_the_code_is_answered_once_to_anonymous_reporters_only(
    client: httpx.AsyncClient, world: World, engine: AsyncEngine
) -> None:
    first = await reported(client, idempotencyKey="follow-1")
    assert first["created"] and CODE.fullmatch(first["followCode"]), first
    again = await reported(client, idempotencyKey="follow-1")
    assert again == {"__typename": "CaseAlreadyReported", "number": first["case"]["number"]}
    signed_in = await reported(client, world.resident)
    assert signed_in["created"] and signed_in["followCode"] is None
    async with engine.connect() as conn:
        stored = await conn.scalar(
            text("SELECT follow_code_hash FROM cases WHERE id = :id"), {"id": first["case"]["id"]}
        )
    assert stored and len(stored) == 64 and first["followCode"] not in stored  # a hash only


async def test_a_wrong_code_answers_as_an_unknown_case(
    client: httpx.AsyncClient, world: World
) -> None:
    first = await reported(client)
    number, code = first["case"]["number"], first["followCode"]
    found = await followed(client, number, code.lower().replace("-", " "))  # as typed by hand
    assert found["__typename"] == "FollowedCase" and found["number"] == number
    other = await reported(client)
    signed_in = (await reported(client, world.resident))["case"]["number"]
    unknown = number[:5] + "999999"
    answers = [
        await followed(client, number, other["followCode"]),  # another case's code
        await followed(client, number, code[:-1] + ("A" if code[-1] != "A" else "B")),
        await followed(client, number, ""),
        await followed(client, signed_in, code),  # a case without a follow code
        await followed(client, unknown, code),
        await followed(client, number, "x" * 10_000),
        await followed(client, "2026-\x00001", code),  # no text column holds a NUL byte
    ]
    asked = [number, number, number, signed_in, unknown, number, "2026-\x00001"]
    for answer, asked_number in zip(answers, asked, strict=True):
        assert answer == {
            "__typename": "NotFoundError",
            "message": f"case {asked_number} was not found",
            "kind": "case",
            "id": asked_number,
        }


async def test_the_reporter_follows_without_staff_names_and_evaluates(
    client: httpx.AsyncClient, world: World
) -> None:
    first = await reported(client, reporterContact="13800000000")
    case_id, number, code = first["case"]["id"], first["case"]["number"], first["followCode"]
    d = Driver(client, world)
    d.versions[case_id] = 1
    await d.ok("district_agent", case_id, "ACCEPT", "ACCEPTED")
    await d.ok("district_agent", case_id, "DISPATCH", "DISPATCHED", department=DEPARTMENT)
    await d.ok("handler", case_id, "START", "IN_PROGRESS")
    await d.ok("handler", case_id, "REPORT_HANDLED", "HANDLED", note=NOTE)
    await d.ok("l3_worker", case_id, "VERIFY_OK", "VERIFIED")

    seen = await followed(client, number, code)
    assert (seen["status"], seen["version"], seen["grid"]["code"]) == ("VERIFIED", 6, "D111A")
    assert seen["evaluationOpenUntil"] > seen["verifiedAt"]
    assert [e["action"] for e in seen["events"]] == [
        "reported", "accept", "dispatch", "start", "report_handled", "verify_ok",
    ]  # fmt: skip
    assert seen["events"][0]["actorRole"] is None and seen["events"][3]["actorRole"] == "HANDLER"
    shown = str(seen)
    assert "13800000000" not in shown
    assert not any(name in shown for name in ("district_agent", "handler", "l3_worker"))

    def evaluate(code: str, version: int, satisfaction: str = "SATISFIED") -> Any:
        data = {"number": number, "followCode": code, "satisfaction": satisfaction,
                "expectedVersion": version, "note": "处理得很快"}  # fmt: skip
        return gql(client, EVALUATE, input=data)

    wrong = await evaluate(code[:-2] + ("AA" if not code.endswith("AA") else "BB"), 6)
    assert wrong["evaluateCase"]["__typename"] == "NotFoundError"
    stale = (await evaluate(code, 5))["evaluateCase"]
    assert stale == {"__typename": "CaseVersionConflictError", "currentVersion": 6}
    done = (await evaluate(code, 6))["evaluateCase"]
    assert done["__typename"] == "CaseEvaluated", done
    assert done["case"] == {
        "number": number, "status": "EVALUATED", "version": 7, "satisfaction": "SATISFIED",
    }  # fmt: skip
    twice = (await evaluate(code, 7))["evaluateCase"]
    assert twice["__typename"] == "IllegalTransitionError" and twice["status"] == "EVALUATED"
    trail = (await followed(client, number, code))["events"]
    assert trail[-1]["action"] == "evaluate" and trail[-1]["actorRole"] == "RESIDENT"


async def test_a_follower_cannot_evaluate_before_verification(
    client: httpx.AsyncClient, world: World
) -> None:
    first = await reported(client)
    data = {"number": first["case"]["number"], "followCode": first["followCode"],
            "satisfaction": "SATISFIED", "expectedVersion": 1}  # fmt: skip
    answer = (await gql(client, EVALUATE, input=data))["evaluateCase"]
    assert answer == {"__typename": "IllegalTransitionError", "status": "REPORTED"}
