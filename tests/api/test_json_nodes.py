"""Edges and nodes written as JSON by PostgreSQL (api.fast.json_nodes) answer exactly as those
built in Python: same keys, same order, same values (walkingMinutes included, computed on
each side); selections it cannot write fall back."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from api.settings import Settings
from tests.builders.clients import gql, served
from tests.builders.places import CENTRE
from tests.builders.shapes import LAT0, LON0, tiny_district

pytestmark = pytest.mark.anyio

#: What the statement of written nodes says (geo.places.queries labels the column).
WRITTEN_SQL = " AS json"
NEAR = {"longitude": CENTRE[0], "latitude": CENTRE[1]}
FULL_NODE = """__typename id name phone address status verified outsideCoverage version
  category { code zh en group groupZh reachMinutes reachM __typename }
  loc: location { longitude latitude system __typename } ...Named"""


def nearby(node: str, arguments: str = "", edge: str = "distanceM") -> str:
    fragment = "fragment Named on Merchant { name x: id }" if "...Named" in node else ""
    return f"""query ($p: PointInput!, $after: String) {{
      nearbyMerchants(near: $p, radiusM: 1500, first: 30, after: $after{arguments}) {{
        __typename
        ... on NearbyMerchantConnection {{
          edges {{ {edge} node {{ {node} }} }} pageInfo {{ endCursor hasNextPage }} }}
        ... on Error {{ message }}
      }} }}
    {fragment}"""


def nearby_points(node: str, arguments: str = "", edge: str = "distanceM") -> str:
    return f"""query ($p: PointInput!, $after: String) {{
      nearbyServicePoints(near: $p, radiusM: 5000, first: 30, after: $after{arguments}) {{
        __typename
        ... on NearbyServicePointConnection {{
          edges {{ {edge} node {{ {node} }} }} pageInfo {{ endCursor hasNextPage }} }}
        ... on Error {{ message }}
      }} }}"""


SERVICE_POINT_NODE = """__typename id name phone address outsideCoverage version
  kind { code zh en __typename } location { longitude latitude system }"""
WRITTEN = {
    "every field, aliases, a fragment": nearby(
        FULL_NODE, edge="walkingMinutes __typename d: distanceM"
    ),
    "one category": nearby("id name category { code }", ', categories: ["pharmacy"]'),
    "two categories": nearby("id name", ', categories: ["pharmacy", "bookstore"]'),
    "text and hours": nearby("name", ', text: "店", openAt: "2026-11-27T10:00:00+08:00"'),
    "fields merged": nearby("id", edge="node { name category { zh } } distanceM"),
    "a fragment on the union": """query ($p: PointInput!, $after: String) {
      nearbyMerchants(near: $p, first: 10, after: $after) {
        ... on NearbyMerchantsResult { ... on NearbyMerchantConnection {
          edges { node { ... on Merchant { id } name } } } } } }""",
    "edges without their node": """query ($p: PointInput!, $after: String) {
      nearbyMerchants(near: $p, first: 12, after: $after) {
        ... on NearbyMerchantConnection { edges { walkingMinutes d: distanceM __typename }
          pageInfo { endCursor } } } }""",
    "the node twice": nearby("id", edge="distanceM other: node { name }"),
    "GCJ-02 output": nearby("id location { longitude latitude system }", ", output: GCJ02"),
    "service points, every field": nearby_points(
        SERVICE_POINT_NODE, edge="walkingMinutes d: distanceM"
    ),
    "service points of two kinds, GCJ-02": nearby_points(
        "id kind { zh } location { longitude latitude }",
        ', kinds: ["health_service_station", "community_service_station"], output: GCJ02',
    ),
    "BD-09 output, coordinates twice": nearby(
        "id loc: location { system y: latitude x: longitude } location { latitude }",
        ", output: BD09",
        edge="distanceM",
    ),
}
BUILT = {
    "the edge's cursor": nearby("id", edge="cursor distanceM walkingMinutes"),
    "service points and their cursors": nearby_points("name", edge="cursor distanceM"),
    "a resolver field": nearby("id telUri openingHours"),
    "a linked grid": nearby("id grid { code }"),
    "a timestamp": nearby("id updatedAt"),
    "a directive": nearby("id name @include(if: true)"),
    "two lists of edges": nearby("id", edge="distanceM } more: edges { node { name }"),
    "more keys than PostgreSQL takes": nearby(" ".join(f"n{i}: name" for i in range(60))),
    "a service point's hours": nearby_points("id openingHours"),
}


@pytest.fixture
async def built_client(seeded_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """`seeded_client` with every node built in Python."""
    async with served(dataclasses.replace(seeded_settings, json_nodes=False)) as http:
        yield http


async def answer(client: httpx.AsyncClient, query: str, after: str | None = None) -> str:
    response = await client.post(
        "/graphql", json={"query": query, "variables": {"p": NEAR, "after": after}}
    )
    assert response.status_code == 200, response.text
    assert "errors" not in orjson.loads(response.text), response.text
    return response.text


def ordered(text: str) -> Any:
    """The answer with every object as its list of (key, value) pairs: order counts."""
    return json.loads(text, object_pairs_hook=list)


def page(text: str) -> tuple[list[Any], str | None]:
    """The edges and the end cursor (None when not asked for)."""
    (result,) = orjson.loads(text)["data"].values()
    return result["edges"], result.get("pageInfo", {}).get("endCursor")


@pytest.mark.parametrize("query", WRITTEN.values(), ids=WRITTEN.keys())
async def test_written_nodes_answer_as_built_ones(
    seeded_client: httpx.AsyncClient, built_client: httpx.AsyncClient, query: str, statements: Any
) -> None:
    with statements() as sent:
        written = await answer(seeded_client, query)
    assert any(WRITTEN_SQL in s for s in sent), "PostgreSQL wrote the nodes"
    assert ordered(written) == ordered(await answer(built_client, query))
    edges, cursor = page(written)
    assert len(edges) >= 10  # a list worth comparing
    if cursor is not None:  # the next page too, from the written page's cursor
        again = await answer(seeded_client, query, cursor)
        assert ordered(again) == ordered(await answer(built_client, query, cursor))
        assert page(again)[0] and page(again)[0][0] not in edges


async def test_aliases_all_the_way_down_and_an_empty_list(
    seeded_client: httpx.AsyncClient, built_client: httpx.AsyncClient, statements: Any
) -> None:
    query = """query ($p: PointInput!) { n: nearbyMerchants(near: $p, radiusM: 800) {
      ... on NearbyMerchantConnection { e: edges { m: distanceM n: node { i: id } } } } }"""
    for near, rows in ((NEAR, 20), ({"longitude": 116.4, "latitude": 39.9}, 0)):  # Beijing
        variables = {"query": query, "variables": {"p": near}}
        with statements() as sent:
            written = (await seeded_client.post("/graphql", json=variables)).text
        assert any(WRITTEN_SQL in s for s in sent)
        built = (await built_client.post("/graphql", json=variables)).text
        assert ordered(written) == ordered(built)
        assert len(orjson.loads(written)["data"]["n"]["e"]) == rows


@pytest.mark.parametrize("query", BUILT.values(), ids=BUILT.keys())
async def test_other_selections_are_built_in_python(
    seeded_client: httpx.AsyncClient, built_client: httpx.AsyncClient, query: str, statements: Any
) -> None:
    with statements() as sent:
        written = await answer(seeded_client, query)
    assert sent and not any(WRITTEN_SQL in s for s in sent)
    assert ordered(written) == ordered(await answer(built_client, query))
    assert len(page(written)[0]) >= 10


# -- values PostgreSQL must escape -----------------------------------------------------------

INSIDE = {"longitude": LON0 + 0.002, "latitude": LAT0 + 0.002}
NAMES = ['老王"便利店"', "back\\slash 店", "它's 店", "面馆 🍜", "<b>&amp;</b>", "一 二  三"]


async def test_names_that_need_escaping_come_back_exactly(
    admin_client: httpx.AsyncClient, statements: Any
) -> None:
    client = admin_client
    grids = "mutation ($fc: String!) { importGrids(geojson: $fc) { __typename } }"
    await gql(client, grids, fc=orjson.dumps(tiny_district()).decode())
    create = """mutation ($i: CreateMerchantInput!) { createMerchant(input: $i) {
      __typename ... on MerchantSaved { merchant { id name address phone } } } }"""
    made = {}
    for i, name in enumerate(NAMES):
        saved = await gql(client, create, i={
            "name": name, "category": "convenience_store", "address": f"{name} 路{i}号",
            "location": {**INSIDE, "longitude": INSIDE["longitude"] + i * 1e-5},
            "phone": "13800138000" if i % 2 else None,
        })  # fmt: skip
        merchant = saved["createMerchant"]["merchant"]
        made[merchant["id"]] = merchant
    query = """query ($p: PointInput!) { nearbyMerchants(near: $p, radiusM: 500) {
      ... on NearbyMerchantConnection { edges { node { id name address phone } } } } }"""
    with statements() as sent:
        found = await gql(client, query, p=INSIDE)
    assert any(WRITTEN_SQL in s for s in sent)
    nodes = {e["node"]["id"]: e["node"] for e in found["nearbyMerchants"]["edges"]}
    assert nodes == made
