"""caseStats grouped by child grid: without a grid the rows are the district's subdistricts
(L1 grids), as they are when the district's own code is given."""

from __future__ import annotations

import httpx
import pytest

from geo.grids.synth import synth_district
from tests.builders.accounts import World
from tests.builders.case_api import report
from tests.builders.clients import gql

pytestmark = pytest.mark.anyio

BY_CHILD = """query ($grid: String) { caseStats(grid: $grid, groupBy: CHILD_GRID) {
  ... on CaseStatsReport { grid { code } rows { childGrid { code level } reported } } } }"""


async def test_without_a_grid_the_children_are_the_subdistricts(
    client: httpx.AsyncClient, world: World
) -> None:
    await report(client)
    await report(client)
    whole = (await gql(client, BY_CHILD, world.district_agent))["caseStats"]
    named = (await gql(client, BY_CHILD, world.district_agent, grid="D"))["caseStats"]
    assert whole["grid"] is None and named["grid"] == {"code": "D"}
    assert (
        whole["rows"]
        == named["rows"]
        == [{"childGrid": {"code": "D1", "level": "L1"}, "reported": 2}]
    )


async def test_the_demo_district_has_seventeen(
    seeded_client: httpx.AsyncClient, seeded_tokens: dict[str, str]
) -> None:
    answer = await gql(seeded_client, BY_CHILD, seeded_tokens["district_agent"])
    rows = answer["caseStats"]["rows"]
    children = [r["childGrid"] for r in rows if r["childGrid"] is not None]
    l1 = sorted(g.code for g in synth_district() if g.level == "L1")
    assert sorted(c["code"] for c in children) == l1 and len(l1) == 17
    assert {c["level"] for c in children} == {"L1"}
    assert len(rows) - len(children) <= 1  # the queue (no grid), in a row of its own
