"""Every workflow action through actOnCase with the right role, and refused with the wrong role
or from the wrong status (typed errors), and a version conflict between concurrent agents."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from geo.accounts.models import Role
from geo.cases.workflow import Action
from tests.builders.accounts import account_token
from tests.builders.case_api import point
from tests.builders.cases import CO_HANDLERS, DEPARTMENT, NOTE
from tests.builders.clients import gql
from tests.builders.driver import ACT, REPORT, Driver

pytestmark = pytest.mark.anyio


async def test_every_action_with_the_right_role(driver: Driver) -> None:
    d = driver
    case = await d.report(d.world.resident)
    await d.ok("district_agent", case, "ACCEPT", "ACCEPTED")
    sent = await d.ok("subdistrict_agent", case, "DISPATCH", "DISPATCHED", department=DEPARTMENT)
    assert sent["case"]["department"] == DEPARTMENT and sent["case"]["deadline"]
    extended = await d.ok("district_agent", case, "EXTEND", "DISPATCHED", note=NOTE)
    assert extended["case"]["extensionCount"] == 1
    assert extended["case"]["deadline"] > sent["case"]["deadline"]
    started = await d.ok("handler", case, "START", "IN_PROGRESS")
    assert started["event"]["actorRole"] == "HANDLER"
    await d.ok("handler", case, "REPORT_HANDLED", "HANDLED", note=NOTE)
    rework = await d.ok("l3_worker", case, "VERIFY_FAILED", "DISPATCHED", note=NOTE)
    assert rework["case"]["reworkCount"] == 1
    for _ in range(2):  # once reopened by rework, once by an unsatisfied reporter
        await d.ok("handler", case, "START", "IN_PROGRESS")
        await d.ok("handler", case, "REPORT_HANDLED", "HANDLED", note=NOTE)
        verified = await d.ok("l3_worker", case, "VERIFY_OK", "VERIFIED")
        assert verified["case"]["allowedActions"] == []  # the l3 worker has nothing left to do
        if d.versions[case] < 12:
            await d.ok("resident", case, "EVALUATE", "DISPATCHED", satisfaction="UNSATISFIED")
    evaluated = await d.ok("resident", case, "EVALUATE", "EVALUATED", satisfaction="SATISFIED")
    assert evaluated["case"]["satisfaction"] == "SATISFIED"
    closed = await d.ok("district_agent", case, "CLOSE", "CLOSED")
    assert closed["case"]["version"] == 16 and closed["case"]["deadline"] is None

    rejected = await d.report()
    await d.ok("district_agent", rejected, "REJECT", "REJECTED", note="不属于平台受理范围")
    survivor, duplicate = await d.report(), await d.report()
    merged = await d.ok("subdistrict_agent", duplicate, "MERGE", "MERGED", mergeInto=survivor)
    assert merged["case"]["mergedIntoId"] == survivor

    hard = await d.report()
    await d.ok("district_agent", hard, "ACCEPT", "ACCEPTED")
    await d.ok("district_agent", hard, "DISPATCH", "DISPATCHED")  # to the grid team
    await d.ok("l3_worker", hard, "RETURN", "ACCEPTED", note="不属于网格处置范围")
    units = list(CO_HANDLERS)
    escalated = await d.ok("subdistrict_agent", hard, "ESCALATE", "ESCALATED", note=NOTE,
                           coHandlers=units)  # fmt: skip
    assert escalated["event"]["details"]["lead"] == "district operations centre"
    refused = await d.act("subdistrict_agent", hard, "DISPATCH", department=DEPARTMENT)
    assert refused["__typename"] == "ActionNotPermittedError"  # the centre dispatches 三跨
    lead = await d.ok("district_agent", hard, "DISPATCH", "DISPATCHED", department=DEPARTMENT,
                      coHandlers=units)  # fmt: skip
    assert lead["case"]["coHandlers"] == units
    await d.ok("district_agent", hard, "POSTPONE", "POSTPONED", note=NOTE)
    await d.ok("district_agent", hard, "RESUME", "DISPATCHED")
    await d.ok("district_agent", hard, "SHELVE", "SHELVED", note=NOTE)
    await d.ok("district_agent", hard, "REOPEN", "ACCEPTED", note=NOTE)
    await d.ok("district_agent", hard, "REROUTE", "ACCEPTED", grid="D111B", note="位置核实")

    patrol = await d.report(d.world.l3_worker)
    await d.ok("l3_worker", patrol, "HANDLE_ON_SITE", "HANDLED", note="现场自行处置")

    assert d.taken == {a.name for a in Action}


async def case_in_handled(d: Driver) -> int:
    case = await d.report(d.world.resident)
    await d.ok("district_agent", case, "ACCEPT", "ACCEPTED")
    await d.ok("district_agent", case, "DISPATCH", "DISPATCHED", department=DEPARTMENT)
    await d.ok("handler", case, "START", "IN_PROGRESS")
    await d.ok("handler", case, "REPORT_HANDLED", "HANDLED", note=NOTE)
    return case


@pytest.mark.parametrize(
    ("part", "action", "roles"),
    [
        ("resident", "ACCEPT", ["AGENT"]),  # the reporter sees the case, may not accept it
        ("handler", "VERIFY_OK", ["AGENT", "GRID_WORKER"]),
        ("l3_worker", "CLOSE", ["AGENT", "SYSTEM"]),
        ("admin", "START", ["GRID_WORKER", "HANDLER"]),
        ("department_seat", "VERIFY_OK", ["AGENT", "GRID_WORKER"]),  # not its own unit's work
    ],
)
async def test_the_wrong_role_is_refused_naming_who_may(
    driver: Driver, part: str, action: str, roles: list[str]
) -> None:
    case = await case_in_handled(driver)
    before = driver.versions[case]
    answer = await driver.act(part, case, action, note=NOTE)
    assert answer["__typename"] == "ActionNotPermittedError", answer
    assert answer["action"] == action and sorted(answer["allowedRoles"]) == roles
    assert driver.versions[case] == before


async def test_the_wrong_status_names_what_is_allowed(driver: Driver) -> None:
    case = await driver.report()
    answer = await driver.act("district_agent", case, "CLOSE")
    assert answer["__typename"] == "IllegalTransitionError"
    assert answer["status"] == "REPORTED" and answer["action"] == "CLOSE"
    assert answer["allowedActions"] == ["ACCEPT", "REJECT", "MERGE", "REROUTE"]
    assert "allowed now: accept, reject, merge, reroute" in answer["message"]


async def test_other_refusals_are_typed(driver: Driver) -> None:
    d = driver
    case = await d.report()
    no_note = await d.act("district_agent", case, "REJECT")
    assert no_note["__typename"] == "NoteRequiredError" and no_note["action"] == "REJECT"
    wrong_param = await d.act("district_agent", case, "ACCEPT", department=DEPARTMENT)
    assert wrong_param["__typename"] == "InvalidCaseInputError"
    assert wrong_param["field"] == "department"
    bad_grid = await d.act("district_agent", case, "ACCEPT", grid="NOPE")
    assert bad_grid["__typename"] == "InvalidCaseInputError" and bad_grid["field"] == "grid"
    anonymous = await d.act("anonymous", case, "ACCEPT")
    assert anonymous["__typename"] == "AuthenticationRequiredError"
    hidden = await d.act("outsider_worker", case, "ACCEPT")
    missing = await d.act("outsider_worker", 10**6, "ACCEPT")
    assert hidden["__typename"] == missing["__typename"] == "NotFoundError"
    assert hidden["message"] == f"case {case} was not found"

    handled = await case_in_handled(d)
    bad_time = await d.act("district_agent", handled, "EXTEND", note=NOTE, extendTo="soon")
    assert (bad_time["__typename"], bad_time["field"]) == ("InvalidCaseInputError", "extendTo")
    await d.ok("l3_worker", handled, "VERIFY_OK", "VERIFIED")
    early = await d.act("district_agent", handled, "CLOSE")
    assert early["__typename"] == "EvaluationPendingError"
    unrated = await d.act("resident", handled, "EVALUATE")
    assert unrated["__typename"] == "SatisfactionRequiredError"


async def test_an_agent_confirms_the_grid_of_a_queued_case(driver: Driver) -> None:
    queued = (
        await gql(
            driver.client,
            REPORT,
            None,
            input={
                "category": "sanitation",
                "description": "垃圾堆放",
                "location": point(),
                "locationSource": "NETWORK",
            },
        )
    )["reportCase"]["case"]["id"]
    driver.versions[queued] = 1
    accepted = await driver.ok("district_agent", queued, "ACCEPT", "ACCEPTED", grid="D111C")
    assert accepted["event"]["details"]["routing"] == "CONFIRMED_BY_AGENT"
    assert accepted["event"]["details"]["grid"] == "D111C"


async def test_two_agents_at_once_one_wins_the_other_gets_a_conflict(driver: Driver) -> None:
    case = await driver.report()
    answers = await asyncio.gather(
        driver.act("district_agent", case, "ACCEPT", version=1),
        driver.act("subdistrict_agent", case, "REJECT", version=1, note=NOTE),
    )
    kinds = sorted(a["__typename"] for a in answers)
    assert kinds == ["CaseActed", "CaseVersionConflictError"]
    winner = next(a for a in answers if a["__typename"] == "CaseActed")
    loser = next(a for a in answers if a["__typename"] != "CaseActed")
    assert loser["expectedVersion"] == 1 and loser["currentVersion"] == 2
    assert loser["currentStatus"] == winner["case"]["status"]
    stale = await driver.act("district_agent", case, "ESCALATE", version=1, note=NOTE)
    assert stale["__typename"] == "CaseVersionConflictError"
    trail = await gql(
        driver.client,
        "query ($id: Int!) { caseTrail(id: $id) { ... on CaseTrail { verified events { seq } } } }",
        driver.world.district_agent,
        id=case,
    )
    assert trail["caseTrail"] == {"verified": True, "events": [{"seq": 1}, {"seq": 2}]}


async def _handler_of(engine: AsyncEngine, unit: str) -> str:
    return await account_token(engine, name=f"{unit}办事员", role=Role.HANDLER, department=unit)


async def test_co_handling_units_read_the_case_but_only_the_lead_acts(
    driver: Driver, engine: AsyncEngine
) -> None:
    d = driver
    case = await d.report(d.world.resident)
    await d.ok("district_agent", case, "ACCEPT", "ACCEPTED")
    await d.ok("district_agent", case, "DISPATCH", "DISPATCHED", department=DEPARTMENT,
               coHandlers=["住建局"])  # fmt: skip
    co_handler, stranger = await _handler_of(engine, "住建局"), await _handler_of(engine, "水务局")
    read = (
        "query ($id: Int!) { case(id: $id) { __typename ... on Case { department coHandlers } } }"
    )
    listed = "{ cases { ... on CaseConnection { edges { node { id } } } } }"
    seen = (await gql(d.client, read, co_handler, id=case))["case"]
    assert seen == {"__typename": "Case", "department": DEPARTMENT, "coHandlers": ["住建局"]}
    edges = (await gql(d.client, listed, co_handler))["cases"]["edges"]
    assert [e["node"]["id"] for e in edges] == [case]
    assert (await gql(d.client, read, stranger, id=case))["case"]["__typename"] == "NotFoundError"
    assert (await gql(d.client, listed, stranger))["cases"]["edges"] == []
    start = {"caseId": case, "action": "START", "expectedVersion": d.versions[case]}
    refused = (await gql(d.client, ACT, co_handler, input=start))["actOnCase"]
    assert refused["__typename"] == "ActionNotPermittedError", "co-handlers do not act"
    await d.ok("handler", case, "START", "IN_PROGRESS")  # the lead unit does
