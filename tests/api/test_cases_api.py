"""Reporting and reading cases over HTTP: routing, idempotency, duplicates, typed failures,
who sees what, the trail and its tamper check, the meeting ledger."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
from shapely.geometry import Point as ShapelyPoint
from shapely.geometry import shape
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from geo.coords import wgs84_to_gcj02
from tests.builders.accounts import World
from tests.builders.case_api import CASE, point, report
from tests.builders.cases import DEPARTMENT, at
from tests.builders.clients import gql
from tests.builders.shapes import tiny_district

pytestmark = pytest.mark.anyio

ACT = """
mutation ($input: ActOnCaseInput!) { actOnCase(input: $input) {
  __typename
  ... on CaseActed { case { id status version } }
  ... on Error { message }
} }
"""


async def test_anonymous_report_is_routed_and_a_retry_returns_the_same_case(
    client: httpx.AsyncClient, world: World
) -> None:
    first = await report(client, idempotencyKey="k-1", reporterContact="13800000000")
    assert first["__typename"] == "CaseReported" and first["created"] is True
    case = first["case"]
    assert (case["status"], case["version"], case["grid"]["code"]) == ("REPORTED", 1, "D111A")
    assert first["routingReason"] == "MICRO_GRID_WORKER"
    assert first["routingDetails"]["grid"] == "D111A"
    assert case["assignedWorker"]["name"] == "王伟"
    assert case["reporterContact"] is None, "the anonymous reporter is not staff of the grid"
    assert case["deadline"] and case["overdue"] is False

    # An anonymous retry cannot be told from a stranger who learnt the key: the number and
    # time the first answer gave, nothing of the case (worker, grid, events) since.
    again = await report(client, idempotencyKey="k-1", reporterContact="13800000000")
    assert again == {
        "__typename": "CaseAlreadyReported",
        "number": case["number"],
        "reportedAt": again["reportedAt"],
    }
    # The signed-in reporter's own retry is answered in full.
    mine = await report(client, world.resident, idempotencyKey="k-2")
    mine_again = await report(client, world.resident, idempotencyKey="k-2")
    assert mine_again["created"] is False and mine_again["case"]["id"] == mine["case"]["id"]
    assert mine_again["routingDetails"] is None
    stolen = await report(client, world.other_resident, idempotencyKey="k-2")
    assert stolen["__typename"] == "IdempotencyKeyReusedError"
    reused = await report(client, idempotencyKey="k-1", description="另一件事")
    assert reused["__typename"] == "IdempotencyKeyReusedError"
    listed = await gql(
        client,
        "{ cases(first: 100) { ... on CaseConnection { edges { cursor } } } }",
        world.district_agent,
    )
    assert len(listed["cases"]["edges"]) == 2


async def test_routing_reasons_are_in_the_answer(client: httpx.AsyncClient, world: World) -> None:
    fallback = await report(client, location=point(7.5, 2.5))
    assert fallback["routingReason"] == "NO_WORKER_FALLBACK_L3"
    assert fallback["case"]["grid"]["code"] == "D111B"
    assert fallback["case"]["assignedWorker"]["name"] == "李强"
    outside = await report(client, location=point(20, 20))
    assert outside["routingReason"] == "OUTSIDE_COVERAGE" and outside["case"]["grid"] is None
    assert outside["routingDetails"]["nearest_grid"] == "D111E"
    coarse = await report(client, locationSource="NETWORK")
    assert coarse["routingReason"] == "COARSE_LOCATION" and coarse["case"]["grid"] is None
    assert "too coarse" in coarse["routingExplanation"]


async def test_reported_points_route_as_shapely_says(
    client: httpx.AsyncClient, world: World
) -> None:
    micro = [
        (f["properties"]["code"], shape(f["geometry"]))
        for f in tiny_district()["features"]
        if f["properties"]["level"] == "MICRO"
    ]
    rng = random.Random(5)
    for _ in range(12):
        x, y = rng.uniform(0.3, 9.7), rng.uniform(0.3, 9.7)
        p = at(x, y)
        lon, lat = wgs84_to_gcj02(p.lon, p.lat)  # as WeChat gives it
        location = {"longitude": lon, "latitude": lat, "system": "GCJ02"}
        answer = await report(client, location=location)
        want = [code for code, poly in micro if poly.covers(ShapelyPoint(p.lon, p.lat))]
        assert [answer["case"]["grid"]["code"]] == want, (x, y)


async def test_nearby_open_reports_of_the_category_are_possible_duplicates(
    client: httpx.AsyncClient, world: World
) -> None:
    first = (await report(client, world.resident))["case"]
    near = point(2.5, 2.8)  # about 33 m north
    # Staff of the grid, and the first case's reporter, see which case it may duplicate.
    for token in (world.l3_worker, world.resident):
        seen = await report(client, token, location=near)
        assert seen["similarCasesNearby"] is True
        assert first["id"] in [d["id"] for d in seen["possibleDuplicates"]]
        assert 25 < seen["possibleDuplicates"][-1]["distanceM"] < 40
    # Anonymous callers and other residents learn only that similar cases exist.
    for token in (None, world.other_resident):
        hidden = await report(client, token, location=near)
        assert hidden["similarCasesNearby"] is True
        assert hidden["possibleDuplicates"] == []
    other = await report(client, category="sanitation", location=near)
    assert other["similarCasesNearby"] is False and other["possibleDuplicates"] == []


@pytest.mark.parametrize(
    ("overrides", "typename", "detail"),
    [
        ({"category": "nope"}, "UnknownCaseCategoryError", "street_vending"),
        ({"channel": "HOTLINE"}, "ChannelNotAllowedError", "HOTLINE"),
        ({"location": {"longitude": 200.0, "latitude": 34.7}}, "InvalidCoordinateError", None),
        ({"description": "  "}, "InvalidCaseInputError", "description"),
        ({"location": point(accuracyM=-1.0)}, "InvalidCaseInputError", "accuracy_m"),
        ({"photoUrls": ["ftp://x"]}, "InvalidCaseInputError", "photo_urls"),
        ({"description": "x\x00y"}, "InvalidCaseInputError", "description"),
    ],
)
async def test_bad_reports_are_typed_errors(
    client: httpx.AsyncClient, overrides: dict[str, Any], typename: str, detail: str | None
) -> None:
    answer = await report(client, **overrides)
    assert answer["__typename"] == typename, answer
    if detail:
        assert detail in str(answer)


async def test_staff_report_through_their_channels(client: httpx.AsyncClient, world: World) -> None:
    patrol = await report(client, world.l3_worker, channel="PATROL")
    assert patrol["case"]["channel"] == "PATROL"
    assert patrol["case"]["reporterContact"] is None  # none was given


async def test_who_sees_a_case_and_its_reporter_contact(
    client: httpx.AsyncClient, world: World
) -> None:
    case = (await report(client, world.resident, reporterContact="13800000000"))["case"]

    async def seen(token: str | None) -> tuple[str, str | None]:
        found = (await gql(client, CASE, token, id=case["id"]))["case"]
        return found["__typename"], found.get("reporterContact")

    contact = ("Case", "13800000000")
    assert await seen(world.resident) == contact  # the reporter
    assert await seen(world.l3_worker) == contact
    assert await seen(world.subdistrict_agent) == contact
    assert await seen(world.district_agent) == contact
    assert await seen(world.admin) == ("Case", None)
    assert await seen(world.other_resident) == ("NotFoundError", None)
    assert await seen(world.outsider_worker) == ("NotFoundError", None)
    assert await seen(world.handler) == ("NotFoundError", None)  # not dispatched to them yet
    assert await seen(None) == ("AuthenticationRequiredError", None)

    for action, extra, token in (
        ("ACCEPT", {}, world.district_agent),
        ("DISPATCH", {"department": DEPARTMENT}, world.district_agent),
    ):
        answer = await gql(
            client,
            ACT,
            token,
            input={
                "caseId": case["id"],
                "action": action,
                "expectedVersion": 1 + (action == "DISPATCH"),
                **extra,
            },
        )
        assert answer["actOnCase"]["__typename"] == "CaseActed", answer
    assert await seen(world.handler) == ("Case", None)
    assert await seen(world.department_seat) == ("Case", None)

    # The resident's name on the report event is private in the same way as the contact.
    trail = """query ($id: Int!) { case(id: $id) { ... on Case {
        events { seq actorName } lastEvent { actorName } } } }"""

    async def reporter_name(token: str) -> str:
        found = (await gql(client, trail, token, id=case["id"]))["case"]
        assert found["lastEvent"]["actorName"] == "district_agent", "staff names stay"
        return str(found["events"][0]["actorName"])

    for token in (world.resident, world.l3_worker, world.district_agent):
        assert await reporter_name(token) == "resident"
    for token in (world.handler, world.department_seat, world.admin):
        assert await reporter_name(token) == "居民"
    verified = """query ($id: Int!) { caseTrail(id: $id) { ... on CaseTrail { verified
        events { actorName } } } }"""
    checked = (await gql(client, verified, world.handler, id=case["id"]))["caseTrail"]
    assert checked["verified"] is True and checked["events"][0]["actorName"] == "居民"

    missing = (await gql(client, CASE, world.outsider_worker, id=10**6))["case"]
    hidden = (await gql(client, CASE, world.outsider_worker, id=case["id"]))["case"]
    assert missing["message"] == "case 1000000 was not found"
    assert hidden["message"] == f"case {case['id']} was not found"


LIST = """
query ($filter: CaseFilterInput, $first: Int, $after: String) {
  cases(filter: $filter, first: $first, after: $after) {
    __typename
    ... on CaseConnection { edges { cursor node { id } } pageInfo { hasNextPage endCursor } }
    ... on Error { message }
    ... on InvalidArgumentError { argument }
  }
}
"""


async def test_lists_hold_the_callers_scope_only(client: httpx.AsyncClient, world: World) -> None:
    mine = [(await report(client, world.resident))["case"]["id"] for _ in range(2)]
    in_b = (await report(client, location=point(7.5, 2.5)))["case"]["id"]
    queued = (await report(client, location=point(20, 20)))["case"]["id"]

    async def ids(token: str, **variables: Any) -> list[int]:
        found = (await gql(client, LIST, token, **variables))["cases"]
        return sorted(e["node"]["id"] for e in found["edges"])

    assert await ids(world.resident) == sorted(mine)
    assert await ids(world.other_resident) == []
    assert await ids(world.outsider_worker) == [in_b]
    assert await ids(world.l3_worker) == sorted([*mine, in_b])
    assert await ids(world.district_agent) == sorted([*mine, in_b, queued])
    assert await ids(world.handler) == []
    assert await ids(world.district_agent, filter={"grid": "D111A"}) == sorted(mine)
    assert await ids(world.district_agent, filter={"states": ["ACCEPTED"]}) == []
    assert await ids(world.district_agent, filter={"from": "2000-01-01", "to": "2001-01-01"}) == []
    grid_query = (
        '{ grid(code: "D111B") { cases { ... on CaseConnection { edges { node { id } } } } } }'
    )
    answer = await gql(client, grid_query, world.l3_worker)
    assert [e["node"]["id"] for e in answer["grid"]["cases"]["edges"]] == [in_b]

    pages: list[int] = []
    after = None
    while True:
        page = (await gql(client, LIST, world.district_agent, first=1, after=after))["cases"]
        pages += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == sorted(pages, reverse=True) == sorted([*mine, in_b, queued], reverse=True)


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"first": 101}, "first"),
        ({"after": "bm9wZQ"}, "after"),
        ({"filter": {"grid": "NOPE"}}, "filter.grid"),
        ({"filter": {"categories": ["nope"]}}, "filter.categories"),
        ({"filter": {"from": "last tuesday"}}, "filter.from"),
    ],
)
async def test_bad_list_arguments_are_typed_errors(
    client: httpx.AsyncClient, world: World, variables: dict[str, Any], argument: str
) -> None:
    answer = (await gql(client, LIST, world.district_agent, **variables))["cases"]
    assert answer["__typename"] == "InvalidArgumentError" and answer["argument"] == argument
    anonymous = (await gql(client, LIST, None, **variables))["cases"]
    assert anonymous["__typename"] == "AuthenticationRequiredError"


TRAIL = """
query ($id: Int!) { caseTrail(id: $id) {
  __typename
  ... on CaseTrail { verified brokenAt reason
                     events { seq action fromStatus toStatus actorName hash prevHash } }
  ... on Error { message }
} }
"""


async def test_the_trail_verifies_and_tampering_in_sql_is_detected(
    client: httpx.AsyncClient, world: World, engine: AsyncEngine
) -> None:
    case = (await report(client, world.resident))["case"]
    for version, action in enumerate(("ACCEPT", "ESCALATE"), start=1):
        step = {"caseId": case["id"], "action": action, "expectedVersion": version, "note": "说明"}
        if action == "ACCEPT":
            del step["note"]
        assert (await gql(client, ACT, world.district_agent, input=step))["actOnCase"][
            "__typename"
        ] == "CaseActed"
    trail = (await gql(client, TRAIL, world.district_agent, id=case["id"]))["caseTrail"]
    assert trail["verified"] is True and trail["brokenAt"] is None
    assert [e["action"] for e in trail["events"]] == ["reported", "accept", "escalate"]
    assert [e["actorName"] for e in trail["events"]] == [
        "resident",
        "district_agent",
        "district_agent",
    ]
    assert trail["events"][1]["prevHash"] == trail["events"][0]["hash"]

    async with engine.begin() as conn:  # a superuser bypasses the append-only trigger
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        await conn.execute(
            text("UPDATE case_events SET note = '没有问题' WHERE case_id = :id AND seq = 2"),
            {"id": case["id"]},
        )
    broken = (await gql(client, TRAIL, world.district_agent, id=case["id"]))["caseTrail"]
    assert broken["verified"] is False and broken["brokenAt"] == 1
    assert "hash" in broken["reason"]
    refused = (await gql(client, TRAIL, world.other_resident, id=case["id"]))["caseTrail"]
    assert refused["__typename"] == "NotFoundError"


LEDGER = """
mutation ($input: RecordLedgerItemInput!) { recordLedgerItem(input: $input) {
  __typename ... on LedgerItemRecorded { item { id status meeting grid { code } } }
  ... on Error { message }
} }
"""
CONVERT = """
mutation ($input: ConvertLedgerItemInput!) { convertLedgerItem(input: $input) {
  __typename
  ... on LedgerItemConverted { item { status convertedCaseId }
                               report { created case { id channel grid { code } } } }
  ... on Error { message }
} }
"""


async def test_the_meeting_ledger(client: httpx.AsyncClient, world: World) -> None:
    item = {"grid": "D111", "meeting": "11月楼院议事会", "text": "楼道堆物影响通行"}
    for token, refusal in (
        (None, "AuthenticationRequiredError"),
        (world.resident, "NotPermittedError"),
        (world.outsider_worker, "NotPermittedError"),  # D111 lies above its grid, not below
    ):
        assert (await gql(client, LEDGER, token, input=item))["recordLedgerItem"][
            "__typename"
        ] == refusal
    recorded = (await gql(client, LEDGER, world.l3_worker, input=item))["recordLedgerItem"]
    assert recorded["item"]["status"] == "OPEN" and recorded["item"]["grid"]["code"] == "D111"
    items = """{ ledgerItems(grid: "D1") { __typename
        ... on LedgerItemConnection { edges { node { id text } } } } }"""
    listed = (await gql(client, items, world.subdistrict_agent))["ledgerItems"]
    assert [e["node"]["text"] for e in listed["edges"]] == [item["text"]]
    assert (await gql(client, items, world.resident))["ledgerItems"][
        "__typename"
    ] == "NotPermittedError"

    convert = {"itemId": recorded["item"]["id"], "category": "sanitation", "location": point()}
    hidden = (await gql(client, CONVERT, world.outsider_worker, input=convert))["convertLedgerItem"]
    assert hidden["__typename"] == "NotFoundError"
    done = (await gql(client, CONVERT, world.l3_worker, input=convert))["convertLedgerItem"]
    assert done["item"]["status"] == "CONVERTED"
    assert done["report"]["case"]["channel"] == "MEETING_LEDGER"
    assert done["item"]["convertedCaseId"] == done["report"]["case"]["id"]
    again = (await gql(client, CONVERT, world.l3_worker, input=convert))["convertLedgerItem"]
    assert again["__typename"] == "LedgerItemSettledError"

    settle = """mutation ($id: Int!, $how: LedgerSettlement!) {
        settleLedgerItem(itemId: $id, settlement: $how) { __typename
        ... on LedgerItemSettled { item { id status } } ... on Error { message } } }"""
    other = (await gql(client, LEDGER, world.l3_worker, input=item))["recordLedgerItem"]["item"]
    for token, answer in (
        (None, "AuthenticationRequiredError"),
        (world.outsider_worker, "NotFoundError"),  # not theirs: as if missing
        (world.resident, "NotFoundError"),
    ):
        refused = await gql(client, settle, token, id=other["id"], how="DROPPED")
        assert refused["settleLedgerItem"]["__typename"] == answer
    settled = await gql(client, settle, world.l3_worker, id=other["id"], how="RESOLVED")
    assert settled["settleLedgerItem"]["item"] == {"id": other["id"], "status": "RESOLVED"}
    twice = await gql(client, settle, world.l3_worker, id=other["id"], how="DROPPED")
    assert twice["settleLedgerItem"]["__typename"] == "LedgerItemSettledError"
    converted = await gql(client, settle, world.l3_worker, id=recorded["item"]["id"], how="DROPPED")
    assert converted["settleLedgerItem"]["__typename"] == "LedgerItemSettledError"
