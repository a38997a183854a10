"""One visibility rule for the single read and the lists: staff see their own reports
outside their grids in `cases` and `grid.cases` as they do through `case(id)`."""

from __future__ import annotations

import httpx
import pytest

from tests.builders.accounts import World
from tests.builders.case_api import CASE, point, report
from tests.builders.clients import gql

pytestmark = pytest.mark.anyio

LIST = """query ($grid: String) { cases(first: 100, filter: {grid: $grid}) {
  ... on CaseConnection { edges { node { id } } } } }"""
GRID_LIST = """query ($code: String!) { grid(code: $code) { cases(first: 100) {
  ... on CaseConnection { edges { node { id } } } } } }"""


async def listed(client: httpx.AsyncClient, token: str, grid: str | None = None) -> set[int]:
    answer = (await gql(client, LIST, token, grid=grid))["cases"]
    return {edge["node"]["id"] for edge in answer["edges"]}


async def test_a_workers_own_report_outside_his_grid_is_listed(
    client: httpx.AsyncClient, world: World
) -> None:
    mine = (await report(client, world.outsider_worker, channel="PATROL"))["case"]["id"]
    theirs = (await report(client, world.resident))["case"]["id"]  # also in D111A, not his
    in_b = (await report(client, world.resident, location=point(7.5, 2.5)))["case"]["id"]
    seen = (await gql(client, CASE, world.outsider_worker, id=mine))["case"]
    assert seen["__typename"] == "Case"
    assert (await gql(client, CASE, world.outsider_worker, id=theirs))["case"]["__typename"] == (
        "NotFoundError"
    )
    token = world.outsider_worker
    assert await listed(client, token) == {mine, in_b}
    assert await listed(client, token, grid="D111A") == {mine}
    assert await listed(client, token, grid="D111B") == {in_b}
    by_grid = (await gql(client, GRID_LIST, token, code="D111A"))["grid"]["cases"]
    assert [e["node"]["id"] for e in by_grid["edges"]] == [mine]


async def test_units_and_residents_see_their_own_reports_in_lists_too(
    client: httpx.AsyncClient, world: World
) -> None:
    for part in ("handler", "department_seat", "resident"):
        token = getattr(world, part)
        own = (await report(client, token))["case"]["id"]
        assert (await gql(client, CASE, token, id=own))["case"]["__typename"] == "Case"
        assert await listed(client, token) == {own}, part
