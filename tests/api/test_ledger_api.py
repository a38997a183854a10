"""The meeting ledger's checks over HTTP: a meeting date must be a past day (today in
Zhengzhou at the latest, a year back at the earliest), and an item becomes a case only at
a location its grid covers (edges included); both refusals are typed errors."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from geo.cases.worktime import SHANGHAI
from geo.clock import utcnow
from tests.builders.accounts import World
from tests.builders.case_api import point
from tests.builders.clients import gql

pytestmark = pytest.mark.anyio

RECORD = """mutation ($input: RecordLedgerItemInput!) { recordLedgerItem(input: $input) {
  __typename
  ... on LedgerItemRecorded { item { id raisedAt } }
  ... on LedgerDateOutOfRangeError { message earliest latest }
  ... on Error { message }
} }"""
CONVERT = """mutation ($input: ConvertLedgerItemInput!) { convertLedgerItem(input: $input) {
  __typename
  ... on LedgerItemConverted { item { status } report { case { grid { code } } } }
  ... on LocationOutsideGridError { message grid }
  ... on Error { message }
} }"""


def today() -> date:
    return utcnow().astimezone(SHANGHAI).date()


async def record(client: httpx.AsyncClient, world: World, grid: str, raised: str | None) -> Any:
    item = {"grid": grid, "meeting": "楼院议事会", "text": "楼道堆物", "raisedAt": raised}
    return (await gql(client, RECORD, world.l3_worker, input=item))["recordLedgerItem"]


async def test_meeting_dates_lie_in_the_past_year(client: httpx.AsyncClient, world: World) -> None:
    day = today()
    for raised in (None, day.isoformat(), f"{day}T23:59:00+08:00", str(day - timedelta(days=365))):
        answer = await record(client, world, "D111", raised)
        assert answer["__typename"] == "LedgerItemRecorded", (raised, answer)
    refused = [
        "2030-01-01",
        str(day + timedelta(days=1)),
        f"{day + timedelta(days=1)}T00:00:00+08:00",  # tomorrow in Zhengzhou, today in UTC
        str(day - timedelta(days=367)),
        "1999-12-31",
    ]
    for raised in refused:
        answer = await record(client, world, "D111", raised)
        assert answer["__typename"] == "LedgerDateOutOfRangeError", (raised, answer)
        assert answer["latest"] == day.isoformat(), answer
        assert answer["earliest"] == (day - timedelta(days=366)).isoformat(), answer


async def test_an_item_becomes_a_case_only_inside_its_grid(
    client: httpx.AsyncClient, world: World
) -> None:
    item = (await record(client, world, "D111A", None))["item"]["id"]

    async def convert(location: dict[str, Any]) -> Any:
        data = {"itemId": item, "category": "sanitation", "location": location}
        return (await gql(client, CONVERT, world.l3_worker, input=data))["convertLedgerItem"]

    for outside in (point(7.5, 2.5), point(2.5, 7.5), point(20, 20)):  # in B, in C, nowhere
        refused = await convert(outside)
        assert refused == {
            "__typename": "LocationOutsideGridError",
            "message": "the location lies outside grid D111A, whose ledger holds the item",
            "grid": "D111A",
        }
    on_the_edge = await convert(point(5, 2.5))  # A's boundary with B: A covers it
    assert on_the_edge["__typename"] == "LedgerItemConverted", on_the_edge
    assert on_the_edge["item"]["status"] == "CONVERTED"
