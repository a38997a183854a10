"""The demo year over HTTP (READ-ONLY database): the headline statistics, their roll-up
through the grid levels, and what a page of 100 cases costs in SQL statements."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from geo.cases.synth import SEED_CLOSED, SEED_RECEIVED
from geo.grids.synth import LEVELS, synth_district
from tests.builders.clients import gql

pytestmark = pytest.mark.anyio

STATS = """
query ($grid: String, $groupBy: CaseStatsGroupBy, $from: String) {
  caseStats(grid: $grid, groupBy: $groupBy, from: $from) {
    __typename
    ... on CaseStatsReport {
      grid { code }
      rows { childGrid { code level } category { code } month reported received due closed
             closedOnTime postponed evaluated satisfied reworked extended closureRate
             onTimeClosureRate satisfactionRate reworkRate extensionRate meanHoursToClose
             p90HoursToClose }
    }
    ... on Error { message }
  }
}
"""


async def test_the_seed_headline_figures(
    seeded_client: httpx.AsyncClient, seeded_tokens: dict[str, str]
) -> None:
    answer = (await gql(seeded_client, STATS, seeded_tokens["district_agent"]))["caseStats"]
    (row,) = answer["rows"]
    assert (row["received"], row["closed"]) == (SEED_RECEIVED, SEED_CLOSED)  # 17,182 / 17,154
    assert round(row["closureRate"] * 100, 2) == 99.88
    assert round(row["satisfactionRate"] * 100, 2) == 99.34
    assert 0.95 < row["onTimeClosureRate"] < 1
    assert 0 < row["reworkRate"] < 0.05 and 0 < row["extensionRate"] < 0.05
    assert row["p90HoursToClose"] > row["meanHoursToClose"] > 0


async def test_statistics_roll_up_and_group(
    seeded_client: httpx.AsyncClient, seeded_tokens: dict[str, str]
) -> None:
    token = seeded_tokens["district_agent"]
    district = next(g.code for g in synth_district() if g.level == "DISTRICT")
    by_l1 = await gql(seeded_client, STATS, token, grid=district, groupBy="CHILD_GRID")
    rows = by_l1["caseStats"]["rows"]
    assert len(rows) == 17 and {r["childGrid"]["level"] for r in rows} == {"L1"}
    (whole,) = (await gql(seeded_client, STATS, token, grid=district))["caseStats"]["rows"]
    assert sum(r["closed"] for r in rows) == whole["closed"]
    months = (await gql(seeded_client, STATS, token, groupBy="MONTH"))["caseStats"]["rows"]
    assert 12 <= len(months) <= 13 and all(len(m["month"]) == 7 for m in months)
    categories = (await gql(seeded_client, STATS, token, groupBy="CATEGORY"))["caseStats"]["rows"]
    assert len(categories) == 10 and all(r["category"]["code"] for r in categories)
    later = (await gql(seeded_client, STATS, token, **{"from": "2100-01-01"}))["caseStats"]
    assert later["rows"][0]["reported"] == 0 and later["rows"][0]["closureRate"] is None


GRID_STATS = """
query ($code: String!) { grid(code: $code) { caseStats { __typename
  ... on CaseStatsReport { rows { received closed } } } } }
"""


async def test_grid_case_stats_within_and_outside_the_callers_grids(
    seeded_client: httpx.AsyncClient, seeded_tokens: dict[str, str]
) -> None:
    token = seeded_tokens["subdistrict_agent"]
    viewer = await gql(seeded_client, "{ viewer { role seat grids { code } } }", token)
    (own,) = [g["code"] for g in viewer["viewer"]["grids"]]
    other = next(g.code for g in synth_district() if g.level == "L1" and g.code != own)
    mine = (await gql(seeded_client, GRID_STATS, token, code=own))["grid"]["caseStats"]
    assert mine["__typename"] == "CaseStatsReport" and mine["rows"][0]["received"] > 100
    theirs = (await gql(seeded_client, GRID_STATS, token, code=other))["grid"]["caseStats"]
    assert theirs["__typename"] == "NotPermittedError"
    resident = (await gql(seeded_client, STATS, seeded_tokens["resident"]))["caseStats"]
    assert resident["__typename"] == "NotPermittedError"
    anonymous = (await gql(seeded_client, STATS))["caseStats"]
    assert anonymous["__typename"] == "AuthenticationRequiredError"


PAGE = """{ cases(first: 100) { ... on CaseConnection { edges { node {
  id number status overdue deadline version reporterContact allowedActions
  grid { code level ancestors { code level } parent { code } }
  lastEvent { action occurredAt actorName }
  assignedWorker { name }
} } pageInfo { hasNextPage } } } }"""


async def test_a_page_of_100_cases_with_grids_ancestors_and_last_events_costs_5_statements(
    seeded_client: httpx.AsyncClient, seeded_tokens: dict[str, str], statements: Any
) -> None:
    token = seeded_tokens["district_agent"]
    await gql(seeded_client, "{ viewer { name } }", token)  # the token's first use is recorded
    with statements() as sent:
        page = (await gql(seeded_client, PAGE, token))["cases"]
    nodes = [e["node"] for e in page["edges"]]
    assert len(nodes) == 100 and page["pageInfo"]["hasNextPage"]
    # A grid's ancestors are its path, down to itself: cases sit on every level from L1 (a
    # wide accuracy circle) to MICRO.
    paths = [[a["level"] for a in n["grid"]["ancestors"]] for n in nodes if n["grid"]]
    assert all(p == list(LEVELS[: len(p)]) and len(p) > 1 for p in paths), paths
    assert all(n["lastEvent"]["action"] for n in nodes)
    # authentication, the page, grids with their ancestors, last events, assigned workers
    assert 3 <= len(sent) <= 5, sent
