"""Operations answered without the executor (api.fast.operations) answer byte for byte as the
executor does, and step aside for everything they do not plan."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from shapely.geometry import Point as ShapelyPoint

import api.web.http
from api.settings import Settings
from geo.grids.synth import synth_district
from tests.api.test_grids_api import an_interior_point
from tests.builders.clients import served
from tests.builders.places import CENTRE

pytestmark = pytest.mark.anyio

NEAR = {"longitude": CENTRE[0], "latitude": CENTRE[1]}

PLANNED = {
    "gridAt with its parent": """query ($p: PointInput!) { gridAt(point: $p) {
        ... on GridMatch { grid { code name level parent { code name level } }
        distanceToBoundaryM } } }""",
    "gridAt, typenames, aliases, a fragment": """query G($p: PointInput!) { __typename
        where: gridAt(point: $p) { __typename ... on GridMatch { g: grid { ...G up: parent {
        __typename code } } near: nearBoundary d: distanceToBoundaryM } ... on Error {
        message } } } fragment G on Grid { __typename level name code }""",
    "nearby merchants and pageInfo": """query ($p: PointInput!) { nearbyMerchants(near: $p,
        radiusM: 1200, first: 15) { __typename ... on NearbyMerchantConnection { edges {
        distanceM walkingMinutes node { id name phone category { code zh } location {
        longitude latitude } } } pageInfo { hasNextPage endCursor __typename } } } }""",
    "a category, GCJ-02": """query ($p: PointInput!, $c: [String!]) { nearbyMerchants(
        near: $p, categories: $c, output: GCJ02) { ... on NearbyMerchantConnection { edges {
        node { id location { longitude latitude system } } } } } }""",
    "both kinds and the grid at once": """query ($p: PointInput!) {
        m: nearbyMerchants(near: $p, first: 5) { ... on NearbyMerchantConnection { edges {
        node { name } } } }
        s: nearbyServicePoints(near: $p, radiusM: 5000) { ... on NearbyServicePointConnection {
        edges { distanceM node { name kind { code } } } pageInfo { hasNextPage } } }
        gridAt(point: $p) { ... on GridMatch { grid { code } } } }""",
}
EXECUTED = {
    "an edge's cursor": """query ($p: PointInput!) { nearbyMerchants(near: $p) {
        ... on NearbyMerchantConnection { edges { cursor node { id } } } } }""",
    "a field planning does not know": """query ($p: PointInput!) { gridAt(point: $p) {
        ... on GridMatch { grid { code workers { name } } } } }""",
    "the grandparent": """query ($p: PointInput!) { gridAt(point: $p) {
        ... on GridMatch { grid { parent { parent { code } } } } } }""",
    "a directive": """query ($p: PointInput!) { gridAt(point: $p) {
        ... on GridMatch { grid { code @include(if: true) } } } }""",
}


@pytest.fixture
async def executed_client(seeded_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """`seeded_client` with the fast path off: every operation through the executor."""
    async with served(dataclasses.replace(seeded_settings, json_nodes=False)) as http:
        yield http


@pytest.fixture
def executions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Operations the endpoint handed to graphql-core's executor."""
    seen: list[str] = []
    original = api.web.http.execute

    def execute(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("operation_name") or "")
        return original(*args, **kwargs)

    monkeypatch.setattr(api.web.http, "execute", execute)
    return seen


async def both(
    fast: httpx.AsyncClient, executed: httpx.AsyncClient, query: str, variables: dict[str, Any]
) -> tuple[httpx.Response, httpx.Response]:
    body = {"query": query, "variables": variables}
    return await fast.post("/graphql", json=body), await executed.post("/graphql", json=body)


def interior() -> dict[str, float]:
    _, lon, lat = an_interior_point()
    return {"longitude": lon, "latitude": lat}


def near_an_edge() -> dict[str, float]:
    """A point about 5 m inside a micro-grid's edge (nearer than the 20 m warning)."""
    micro = next(g for g in synth_district() if g.level == "MICRO")
    ring = list(micro.geometry.geoms[0].exterior.coords)
    (x0, y0), (x1, y1) = ring[0], ring[1]
    mid = ShapelyPoint((x0 + x1) / 2, (y0 + y1) / 2)
    centre = micro.geometry.centroid
    step = 5 / mid.distance(centre) / 111_000  # about 5 m towards the centre
    inside = ShapelyPoint(mid.x + (centre.x - mid.x) * step, mid.y + (centre.y - mid.y) * step)
    assert micro.geometry.contains(inside)
    return {"longitude": inside.x, "latitude": inside.y}


@pytest.mark.parametrize("query", PLANNED.values(), ids=PLANNED.keys())
async def test_planned_operations_answer_as_the_executor(
    seeded_client: httpx.AsyncClient,
    executed_client: httpx.AsyncClient,
    executions: list[str],
    query: str,
) -> None:
    for p in (interior(), NEAR, near_an_edge()):
        fast, executed = await both(
            seeded_client, executed_client, query, {"p": p, "c": ["pharmacy"]}
        )
        assert fast.status_code == executed.status_code == 200
        assert fast.content == executed.content  # the same bytes: keys, order, numbers
        assert "errors" not in orjson.loads(fast.content)
    # the executor ran only for executed_client's requests
    assert len(executions) == 3


async def test_a_point_near_an_edge_is_near_the_boundary_both_ways(
    seeded_client: httpx.AsyncClient, executed_client: httpx.AsyncClient
) -> None:
    query = """query ($p: PointInput!) { gridAt(point: $p) { ... on GridMatch {
        nearBoundary distanceToBoundaryM grid { code } } } }"""
    fast, executed = await both(seeded_client, executed_client, query, {"p": near_an_edge()})
    assert fast.content == executed.content
    match = orjson.loads(fast.content)["data"]["gridAt"]
    assert match["nearBoundary"] is True and match["distanceToBoundaryM"] < 20


@pytest.mark.parametrize("query", EXECUTED.values(), ids=EXECUTED.keys())
async def test_other_operations_go_through_the_executor(
    seeded_client: httpx.AsyncClient,
    executed_client: httpx.AsyncClient,
    executions: list[str],
    query: str,
) -> None:
    fast, executed = await both(seeded_client, executed_client, query, {"p": interior()})
    assert fast.content == executed.content
    assert len(executions) == 2


STEP_ASIDE = {
    "a radius past the limit": (
        """query ($p: PointInput!) { nearbyMerchants(near: $p, radiusM: 6000) {
        __typename ... on NearbyMerchantConnection { edges { node { id } } }
        ... on Error { message } } }""",
        {"p": NEAR},
    ),
    "an unknown category": (
        """query ($p: PointInput!) { nearbyMerchants(near: $p, categories: ["nope"]) {
        __typename ... on NearbyMerchantConnection { edges { node { id } } }
        ... on Error { message } } }""",
        {"p": NEAR},
    ),
    "a latitude past the pole": (
        """query ($p: PointInput!) { gridAt(point: $p) { __typename
        ... on GridMatch { grid { code } } ... on Error { message } } }""",
        {"p": {"longitude": 113.6, "latitude": 91.0}},
    ),
    "a point no grid covers": (
        """query ($p: PointInput!) { gridAt(point: $p) { __typename
        ... on GridMatch { grid { code } } ... on Error { message } } }""",
        {"p": {"longitude": 116.4, "latitude": 39.9}},
    ),
    "a variable of the wrong type": (
        """query ($p: PointInput!) { gridAt(point: $p) { __typename } }""",
        {"p": {"longitude": "east", "latitude": 39.9}},
    ),
}


@pytest.mark.parametrize(("query", "variables"), STEP_ASIDE.values(), ids=STEP_ASIDE.keys())
async def test_a_plan_steps_aside_for_what_is_not_ordinary(
    seeded_client: httpx.AsyncClient,
    executed_client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
) -> None:
    fast, executed = await both(seeded_client, executed_client, query, variables)
    assert fast.status_code == executed.status_code
    assert fast.content == executed.content
    answer = orjson.loads(fast.content)
    assert "errors" in answer or answer["data"][next(iter(answer["data"]))]["__typename"] != (
        "GridMatch"
    )
