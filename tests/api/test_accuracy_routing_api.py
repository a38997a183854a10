"""reportCase routes by the accuracy circle, over HTTP, on the tiny district (micro-grids A,
B, C, E of 457 m × 555 m inside one L3 grid D111; see tests.builders.shapes.tiny_district)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from geo.coords import wgs84_to_gcj02
from tests.builders.accounts import World
from tests.builders.case_api import point
from tests.builders.cases import at
from tests.builders.clients import gql

pytestmark = pytest.mark.anyio

REPORT = """
mutation ($input: ReportCaseInput!) { reportCase(input: $input) {
  __typename
  ... on CaseReported {
    routingReason routingExplanation routingDetails
    case { id grid { code } assignedWorker { name } }
  }
  ... on Error { message }
} }
"""

CASE = "query ($id: Int!) { case(id: $id) { __typename } }"


async def report(
    client: httpx.AsyncClient, location: dict[str, Any], source: str = "GPS"
) -> dict[str, Any]:
    payload = {
        "category": "street_vending",
        "description": "公园门口占道经营",
        "location": location,
        "locationSource": source,
    }
    answer = (await gql(client, REPORT, input=payload))["reportCase"]
    assert answer["__typename"] == "CaseReported", answer
    return answer  # type: ignore[no-any-return]


async def test_a_circle_across_micro_grids_is_reported_to_the_l3_grid(
    client: httpx.AsyncClient, world: World
) -> None:
    # 46 m from micro-grid B: a 100 m circle crosses into it, and lies wholly in D111.
    answer = await report(client, point(4.5, 2.5, accuracyM=100), "MAP_PICK")
    assert answer["routingReason"] == "ACCURACY_CIRCLE_L3"
    assert answer["case"]["grid"] == {"code": "D111"}
    assert answer["case"]["assignedWorker"] == {"name": "李强"}, "not micro-grid A's 王伟"
    assert "wholly in one L3 grid" in answer["routingExplanation"]
    details = answer["routingDetails"]
    assert (details["grid"], details["point_grid"], details["accuracy_m"]) == (
        "D111",
        "D111A",
        100,
    )
    # B's worker does not get a case that may not be in B; the L3 grid's worker does.
    case_id = answer["case"]["id"]
    seen = await gql(client, CASE, world.outsider_worker, id=case_id)
    assert seen["case"]["__typename"] != "Case"
    seen = await gql(client, CASE, world.l3_worker, id=case_id)
    assert seen["case"]["__typename"] == "Case"


async def test_the_same_point_with_a_precise_fix_goes_to_its_micro_grid(
    client: httpx.AsyncClient, world: World
) -> None:
    answer = await report(client, point(4.5, 2.5, accuracyM=10))
    assert answer["routingReason"] == "MICRO_GRID_WORKER"
    assert answer["case"]["grid"] == {"code": "D111A"}
    assert answer["case"]["assignedWorker"] == {"name": "王伟"}


async def test_a_wechat_fix_is_routed_by_its_circle_around_the_converted_point(
    client: httpx.AsyncClient, world: World
) -> None:
    # GCJ-02 is hundreds of metres off WGS-84 here. 200 m around this point of A (137 m from
    # B, 277 m and more from the district's edges) crosses into B and stays inside D111.
    p = at(3.5, 2.5)
    lon, lat = wgs84_to_gcj02(p.lon, p.lat)
    location = {"longitude": lon, "latitude": lat, "system": "GCJ02", "accuracyM": 200}
    answer = await report(client, location)
    assert answer["routingReason"] == "ACCURACY_CIRCLE_L3"
    assert answer["routingDetails"]["point_grid"] == "D111A"


@pytest.mark.parametrize(
    ("location", "source"),
    [
        (point(2.5, 2.5, accuracyM=400), "ADDRESS"),  # crosses the district's west edge
        (point(2.5, 2.5, accuracyM=10), "NETWORK"),  # counted as 5 km whatever it claims
    ],
)
async def test_a_circle_no_l1_grid_holds_goes_to_the_district_queue(
    client: httpx.AsyncClient, world: World, location: dict[str, Any], source: str
) -> None:
    answer = await report(client, location, source)
    assert answer["routingReason"] == "COARSE_LOCATION"
    assert answer["case"]["grid"] is None and answer["case"]["assignedWorker"] is None
    assert answer["routingDetails"]["point_grid"] == "D111A"
