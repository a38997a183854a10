"""Issue 14, through the served API: nobody certifies their own work, no case is stuck,
no case is moved out of sight, units are registered, extensions are bounded.

Each test first reproduced the reported failure (it failed before the fix).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from geo.cases.worktime import add_working_hours, working_hours_between
from tests.builders.accounts import OTHER_UNIT
from tests.builders.case_api import point
from tests.builders.cases import DEPARTMENT, NOTE
from tests.builders.clients import gql
from tests.builders.driver import Driver

pytestmark = pytest.mark.anyio

REPORT = """mutation ($input: ReportCaseInput!) { reportCase(input: $input) {
  __typename ... on CaseReported { case { id version } } ... on Error { message } } }"""
ALLOWED = """query ($id: Int!) { case(id: $id) {
  ... on Case { status allowedActions selfHandled } } }"""


async def _report(d: Driver, token: str | None, channel: str = "PATROL", **where: float) -> int:
    data = {"category": "fire_safety", "description": "三楼窗口飞线充电",
            "location": point(**where) if where else point(), "locationSource": "GPS",
            "channel": channel}  # fmt: skip
    answer = (await gql(d.client, REPORT, token, input=data))["reportCase"]
    assert answer["__typename"] == "CaseReported", answer
    d.versions[answer["case"]["id"]] = answer["case"]["version"]
    return int(answer["case"]["id"])


async def _allowed(d: Driver, part: str, case: int) -> list[str]:
    found = (await gql(d.client, ALLOWED, getattr(d.world, part), id=case))["case"]
    return list(found["allowedActions"]) if found else []


async def test_a_worker_cannot_verify_or_evaluate_what_he_handled(driver: Driver) -> None:
    d = driver
    case = await _report(d, d.world.l3_worker)
    await d.ok("subdistrict_agent", case, "ACCEPT", "ACCEPTED")
    await d.ok("subdistrict_agent", case, "DISPATCH", "DISPATCHED")  # to the grid team
    await d.ok("l3_worker", case, "START", "IN_PROGRESS")
    await d.ok("l3_worker", case, "REPORT_HANDLED", "HANDLED", note=NOTE)

    assert await _allowed(d, "l3_worker", case) == []
    refused = await d.act("l3_worker", case, "VERIFY_OK")
    assert refused["__typename"] == "ActionNotPermittedError"
    assert "someone else" in refused["message"]

    assert "VERIFY_OK" in await _allowed(d, "subdistrict_agent", case)
    await d.ok("subdistrict_agent", case, "VERIFY_OK", "VERIFIED")
    assert "EVALUATE" not in await _allowed(d, "l3_worker", case)
    refused = await d.act("l3_worker", case, "EVALUATE", satisfaction="SATISFIED")
    assert refused["__typename"] == "ActionNotPermittedError"


async def test_found_and_fixed_on_patrol_is_verified_by_someone_else(driver: Driver) -> None:
    d = driver
    case = await _report(d, d.world.l3_worker)
    assert "HANDLE_ON_SITE" in await _allowed(d, "l3_worker", case)
    missing_note = await d.act("l3_worker", case, "HANDLE_ON_SITE")
    assert missing_note["__typename"] == "NoteRequiredError"
    fixed = await d.ok("l3_worker", case, "HANDLE_ON_SITE", "HANDLED", note="找到车主，飞线已拆除")
    assert fixed["case"]["deadline"]  # the verification clock runs
    found = (await gql(d.client, ALLOWED, d.world.l3_worker, id=case))["case"]
    assert found["selfHandled"] is True and found["allowedActions"] == []
    await d.ok("subdistrict_agent", case, "VERIFY_OK", "VERIFIED")


async def test_only_the_reporting_worker_handles_on_site(driver: Driver) -> None:
    d = driver
    resident_case = await _report(d, d.world.resident, channel="RESIDENT_APP")
    assert "HANDLE_ON_SITE" not in await _allowed(d, "l3_worker", resident_case)
    answer = await d.act("l3_worker", resident_case, "HANDLE_ON_SITE", note=NOTE)
    assert answer["__typename"] in ("ActionNotPermittedError", "NotFoundError")


async def test_a_queued_case_sent_to_a_department_can_be_verified(driver: Driver) -> None:
    d = driver
    case = await _report(d, None, channel="RESIDENT_APP", x=40.0, y=40.0)  # outside coverage
    await d.ok("district_agent", case, "ACCEPT", "ACCEPTED")  # no grid confirmed
    await d.ok("district_agent", case, "DISPATCH", "DISPATCHED", department=DEPARTMENT)
    await d.ok("handler", case, "START", "IN_PROGRESS")
    await d.ok("handler", case, "REPORT_HANDLED", "HANDLED", note=NOTE)
    assert "VERIFY_OK" in await _allowed(d, "district_agent", case)
    await d.ok("district_agent", case, "VERIFY_OK", "VERIFIED")


async def test_dispatch_names_a_registered_unit(driver: Driver) -> None:
    d = driver
    case = await _report(d, d.world.resident, channel="RESIDENT_APP")
    await d.ok("district_agent", case, "ACCEPT", "ACCEPTED")
    refused = await d.act("district_agent", case, "DISPATCH", department="不存在的单位")
    assert refused["__typename"] == "UnknownUnitError"
    co = await d.act("district_agent", case, "DISPATCH", department=DEPARTMENT, coHandlers=["某局"])
    assert co["__typename"] == "UnknownUnitError"
    assert (await d.act("district_agent", case, "DISPATCH"))["case"]["status"] == "DISPATCHED"


async def test_a_case_sent_to_a_unit_nobody_staffs_comes_back(driver: Driver) -> None:
    d = driver
    case = await _report(d, d.world.resident, channel="RESIDENT_APP")
    await d.ok("subdistrict_agent", case, "ACCEPT", "ACCEPTED")
    await d.ok("subdistrict_agent", case, "DISPATCH", "DISPATCHED", department=OTHER_UNIT)
    assert "RETURN" in await _allowed(d, "subdistrict_agent", case)
    await d.ok("subdistrict_agent", case, "RETURN", "ACCEPTED", note="改派其他单位")
    await d.ok("subdistrict_agent", case, "DISPATCH", "DISPATCHED", department=DEPARTMENT)


async def test_a_department_seat_acts_on_its_units_cases(driver: Driver) -> None:
    d = driver
    case = await _report(d, d.world.resident, channel="RESIDENT_APP")
    await d.ok("district_agent", case, "ACCEPT", "ACCEPTED")
    await d.ok("district_agent", case, "DISPATCH", "DISPATCHED", department=DEPARTMENT)
    allowed = await _allowed(d, "department_seat", case)
    assert {"RETURN", "EXTEND", "POSTPONE", "ESCALATE"} <= set(allowed)
    await d.ok("department_seat", case, "EXTEND", "DISPATCHED", note=NOTE)


async def test_accept_with_a_grid_is_for_queued_cases_only(driver: Driver) -> None:
    d = driver
    case = await _report(d, d.world.resident, channel="RESIDENT_APP")  # routed to D111A
    moved = await d.act("subdistrict_agent", case, "ACCEPT", grid="D111B")
    assert moved["__typename"] == "InvalidCaseInputError" and moved["field"] == "grid_id"


async def test_reroute_only_to_a_grid_that_covers_the_point(driver: Driver) -> None:
    d = driver
    case = await _report(d, d.world.resident, channel="RESIDENT_APP")  # in D111A
    no_note = await d.act("subdistrict_agent", case, "REROUTE", grid="D111B")
    assert no_note["__typename"] == "NoteRequiredError"
    elsewhere = await d.act("subdistrict_agent", case, "REROUTE", grid="D111B", note="误判")
    assert elsewhere["__typename"] == "InvalidCaseInputError"
    covering = await d.ok("subdistrict_agent", case, "REROUTE", "REPORTED", grid="D111",
                          note="由三级网格统筹")  # fmt: skip
    assert covering["event"]["details"]["from_grid"] == "D111A"
    assert covering["event"]["details"]["to_grid"] == "D111"
    # Still in the seat's sight:
    assert "ACCEPT" in await _allowed(d, "subdistrict_agent", case)
    # A district seat may move it anywhere, stating why.
    anywhere = await d.ok("district_agent", case, "REROUTE", "REPORTED", grid="D111B",
                          note="现场核实问题位于B网格")  # fmt: skip
    assert anywhere["event"]["details"]["to_grid"] == "D111B"


async def test_extensions_are_bounded(driver: Driver) -> None:
    d = driver
    case = await _report(d, d.world.resident, channel="RESIDENT_APP")
    await d.ok("subdistrict_agent", case, "ACCEPT", "ACCEPTED")
    await d.ok("subdistrict_agent", case, "DISPATCH", "DISPATCHED", department=DEPARTMENT)
    far = await d.act("subdistrict_agent", case, "EXTEND", note=NOTE, extendTo="2099-01-01")
    assert far["__typename"] == "InvalidCaseInputError" and far["field"] == "extend_to"
    for _ in range(2):
        await d.ok("subdistrict_agent", case, "EXTEND", "DISPATCHED", note=NOTE)
    third = await d.act("subdistrict_agent", case, "EXTEND", note=NOTE)
    assert third["__typename"] == "InvalidCaseInputError"
    await d.ok("district_agent", case, "EXTEND", "DISPATCHED", note="区级批准再次延期")


async def test_resume_keeps_extensions_and_adds_the_postponed_time(driver: Driver) -> None:
    d = driver
    case = await _report(d, d.world.resident, channel="RESIDENT_APP")
    await d.ok("subdistrict_agent", case, "ACCEPT", "ACCEPTED")
    await d.ok("subdistrict_agent", case, "DISPATCH", "DISPATCHED", department=DEPARTMENT)
    extended = await d.ok("subdistrict_agent", case, "EXTEND", "DISPATCHED", note=NOTE)
    before = datetime.fromisoformat(extended["case"]["deadline"])
    postponed = await d.ok("subdistrict_agent", case, "POSTPONE", "POSTPONED", note=NOTE)
    resumed = await d.ok("subdistrict_agent", case, "RESUME", "DISPATCHED")
    after = datetime.fromisoformat(resumed["case"]["deadline"])
    assert after >= before  # the extension is kept
    # Independently: the deadline moved by the working time between the two events.
    paused = working_hours_between(
        datetime.fromisoformat(_occurred(postponed)), datetime.fromisoformat(_occurred(resumed))
    )
    assert abs(working_hours_between(before, after) - paused) < 1 / 60
    assert after - add_working_hours(before, paused) < timedelta(seconds=1)


def _occurred(answer: dict) -> str:  # type: ignore[type-arg]
    return str(answer["event"]["occurredAt"])
