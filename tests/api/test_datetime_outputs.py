"""One convention for every DateTime output: Asia/Shanghai time, written with its +08:00
offset; inputs in any offset are read as the instants they name.

Checked on values the database hands back in UTC (reportedAt, occurredAt, updatedAt,
createdAt, expiresAt), on values computed in Python (deadlines), on the executor's fast
path for plain fields and on nearby lists whose other fields PostgreSQL writes as JSON."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.builders.accounts import World
from tests.builders.case_api import point, report, report_input
from tests.builders.clients import gql

pytestmark = pytest.mark.anyio

SHANGHAI_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+08:00")


def times(answer: Any) -> list[str]:
    """Every string under ``answer`` that reads as a date and time."""
    if isinstance(answer, dict):
        return [t for value in answer.values() for t in times(value)]
    if isinstance(answer, list):
        return [t for value in answer for t in times(value)]
    if isinstance(answer, str) and re.match(r"\d{4}-\d\d-\d\dT", answer):
        return [answer]
    return []


def assert_shanghai(answer: Any, at_least: int) -> None:
    found = times(answer)
    assert len(found) >= at_least, answer
    assert [t for t in found if not SHANGHAI_ISO.fullmatch(t)] == [], found


CASE = """query ($id: Int!) { case(id: $id) { ... on Case {
  reportedAt acceptedAt dispatchedAt deadline handleDeadline
  lastEvent { occurredAt } events { occurredAt } } } }"""
DUPLICATE = """mutation ($input: ReportCaseInput!) { reportCase(input: $input) {
  ... on CaseReported { possibleDuplicates { reportedAt } } } }"""
ACT = """mutation ($input: ActOnCaseInput!) { actOnCase(input: $input) {
  ... on CaseActed { case { id version dispatchedAt deadline } event { occurredAt } } } }"""


async def test_case_times_are_shanghai_times(client: httpx.AsyncClient, world: World) -> None:
    reported = await report(client)
    assert_shanghai(reported["case"]["deadline"], 1)
    case_id = reported["case"]["id"]
    for n, (action, extra) in enumerate((("ACCEPT", {}), ("DISPATCH", {"department": None}))):
        payload = {"caseId": case_id, "action": action, "expectedVersion": n + 1, **extra}
        acted = (await gql(client, ACT, world.district_agent, input=payload))["actOnCase"]
        assert_shanghai(acted, 2)
    seen = (await gql(client, CASE, world.district_agent, id=case_id))["case"]
    assert_shanghai(seen, 8)
    duplicate = await gql(client, DUPLICATE, world.district_agent, input=report_input())
    assert_shanghai(duplicate["reportCase"]["possibleDuplicates"], 1)


async def test_the_same_instant_whatever_offset_it_came_in(
    client: httpx.AsyncClient, world: World
) -> None:
    query = """query ($p: PointInput!, $at: DateTime) { nearbyMerchants(near: $p, openAt: $at) {
      __typename } }"""
    for given in ("2026-12-06T01:00:00Z", "2026-12-06T09:00:00+08:00", "2026-12-06T09:00:00"):
        answer = await gql(client, query, p=point(), at=given)
        assert answer["nearbyMerchants"]["__typename"] == "NearbyMerchantConnection", answer


MERCHANT = """mutation ($p: PointInput!) { createMerchant(input: {name: "大药房",
  category: "pharmacy", location: $p, phone: "13800000009"}) {
  ... on MerchantSaved { merchant { id updatedAt } } } }"""
NEARBY = """query ($p: PointInput!) { nearbyMerchants(near: $p) { ... on NearbyMerchantConnection {
  edges { distanceM node { name updatedAt } } } } }"""
FLAT = """query ($p: PointInput!) { nearbyMerchants(near: $p) { ... on NearbyMerchantConnection {
  edges { node { name updatedAt } } } } }"""


async def test_merchant_and_account_times_through_every_path(
    admin_client: httpx.AsyncClient,
) -> None:
    token = admin_client.headers["authorization"].split()[1]
    created = await gql(admin_client, MERCHANT, token, p=point())
    assert_shanghai(created, 1)
    for query in (NEARBY, FLAT):  # edges and nodes, the JSON path's two shapes
        listed = await gql(admin_client, query, p=point())
        assert_shanghai(listed, 1)
    code = await gql(
        admin_client,
        """mutation ($p: PointInput!) { createCircleCode(input: {name: "公告栏", center: $p}) {
        ... on CircleCodeSaved { circleCode { createdAt } } } }""",
        token,
        p=point(),
    )
    assert_shanghai(code, 1)
    user = await gql(
        admin_client,
        """mutation { createUser(input: {name: "甲", role: RESIDENT}) {
        ... on UserSaved { user { id } } } }""",
    )
    issued = await gql(
        admin_client,
        """mutation ($id: Int!) { issueToken(userId: $id) { ... on TokenIssued { expiresAt } } }""",
        id=user["createUser"]["user"]["id"],
    )
    assert_shanghai(issued, 1)
