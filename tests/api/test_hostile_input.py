"""Hostile input: every answer is a defined one (a 4xx, a typed error, or data), never a
500, a traceback or a changed database."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.settings import Settings
from tests.builders.accounts import World
from tests.builders.case_api import point
from tests.builders.clients import served

pytestmark = pytest.mark.anyio

SQL = "'; DROP TABLE grids; --"
NEARBY = "query ($r: Float!, $n: Int!) { nearbyMerchants(near: {longitude: 113.6, latitude: 34.7}, radiusM: $r, first: $n) { __typename ... on InvalidArgumentError { argument } } }"  # noqa: E501


async def _post(client: httpx.AsyncClient, body: Any, token: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    if isinstance(body, bytes):
        headers["content-type"] = "application/json"
        return await client.post("/graphql", content=body, headers=headers)
    return await client.post("/graphql", json=body, headers=headers)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"query": "{ __typename }", "variables": {"r": NaN}}',
        b'{"query": "{ __typename }", "variables": {"r": Infinity}}',
        b'{"query": "{ __typename }", "variables": {"r": -Infinity}}',
        b'{"query": "{ __typename }", "variables": {"r": 1e999}}',
        b'{"query": "{ __typename }"',
        b'["query"]',
        b'{"query": "{ __typename }", "variables": "\xff\xfe"}',
    ],
)
async def test_json_that_is_not_json_is_a_400(client: httpx.AsyncClient, raw: bytes) -> None:
    response = await _post(client, raw)
    assert response.status_code == 400
    assert "data" not in response.json()


@pytest.mark.parametrize(
    ("variables", "fragment"),
    [
        ({"r": 1000, "n": 2**40}, "Int cannot represent"),
        ({"r": 1000, "n": 10**30}, "Int cannot represent"),
        ({"r": "1000", "n": 20}, "Float cannot represent"),
        ({"r": None, "n": 20}, "not to be None"),
        ({"r": 1000, "n": 1.5}, "Int cannot represent"),
    ],
)
async def test_variables_of_the_wrong_size_or_type_are_refused_before_running(
    client: httpx.AsyncClient, variables: dict[str, Any], fragment: str
) -> None:
    response = await _post(client, {"query": NEARBY, "variables": variables})
    body = response.json()
    assert "data" not in body
    assert fragment in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("radius", "first", "argument"),
    [(1e308, 20, "radiusM"), (-1.0, 20, "radiusM"), (1000, 0, "first"), (1000, 101, "first")],
)
async def test_out_of_range_numbers_are_typed_errors(
    client: httpx.AsyncClient, radius: float, first: int, argument: str
) -> None:
    response = await _post(client, {"query": NEARBY, "variables": {"r": radius, "n": first}})
    answer = response.json()["data"]["nearbyMerchants"]
    assert answer == {"__typename": "InvalidArgumentError", "argument": argument}


async def test_a_literal_too_large_for_int_is_a_validation_error(
    client: httpx.AsyncClient,
) -> None:
    query = "{ grids(first: 99999999999) { __typename } }"
    response = await _post(client, {"query": query})
    assert "data" not in response.json()
    assert "Int cannot represent" in response.json()["errors"][0]["message"]


async def _grid_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM grids")) or 0)


#: Operations with string arguments, each string set to SQL-looking text (as the admin).
SQL_LOOKING = [
    ("query ($s: String!) { x: grid(code: $s) { code } }", {}),
    ("query ($s: String!) { x: grids(parent: $s) { __typename } }", {}),
    ("query ($s: String!) { x: grids(after: $s) { __typename } }", {}),
    ("query ($s: String!) { x: merchants(grid: $s) { __typename } }", {}),
    ('query ($s: String!) { x: merchants(grid: "D1", categories: [$s]) { __typename } }', {}),
    ('query ($s: String!) { x: servicePoints(grid: "D1", kinds: [$s]) { __typename } }', {}),
    ("query ($s: ID!) { x: merchant(id: $s) { name } }", {}),
    ("query ($s: String!) { x: circle(code: $s) { __typename } }", {}),
    (
        "query ($s: String!, $p: PointInput!) { x: nearbyMerchants(near: $p, text: $s) "
        "{ __typename } }",
        {"p": point()},
    ),
    (
        "query ($s: String!, $p: PointInput!) { x: nearbyMerchants(near: $p, after: $s) "
        "{ __typename } }",
        {"p": point()},
    ),
    ("query ($s: String!) { x: cases(after: $s) { __typename } }", {}),
    ("query ($s: String!) { x: cases(filter: {grid: $s}) { __typename } }", {}),
    ("query ($s: String!) { x: cases(filter: {categories: [$s]}) { __typename } }", {}),
    ("query ($s: String!) { x: caseStats(grid: $s) { __typename } }", {}),
    ("query ($s: String!) { x: caseStats(from: $s) { __typename } }", {}),
    ("query ($s: String!) { x: caseStats(category: $s) { __typename } }", {}),
    ("query ($s: String!) { x: ledgerItems(grid: $s) { __typename } }", {}),
    (
        "mutation ($s: String!, $p: PointInput!) { x: reportCase(input: {category: $s, "
        "description: $s, location: $p, locationSource: GPS}) { __typename } }",
        {"p": point()},
    ),
    (
        "mutation ($s: String!, $p: PointInput!) { x: reportCase(input: {category: "
        '"street_vending", description: $s, address: $s, reporterContact: $s, '
        "idempotencyKey: $s, photoUrls: [$s], location: $p, locationSource: GPS}) "
        "{ __typename } }",
        {"p": point()},
    ),
    (
        "mutation ($s: String!, $p: PointInput!) { x: createMerchant(input: {name: $s, "
        "category: $s, location: $p}) { __typename } }",
        {"p": point()},
    ),
    (
        "mutation ($s: String!, $p: PointInput!) { x: createMerchant(input: {name: $s, "
        'category: "pharmacy", phone: $s, address: $s, openingHours: $s, location: $p}) '
        "{ __typename } }",
        {"p": point()},
    ),
    (
        "mutation ($s: String!, $p: PointInput!) { x: createMerchant(input: {name: $s, "
        'category: "pharmacy", address: $s, location: $p}) { __typename } }',
        {"p": point()},
    ),
    ("mutation ($s: String!) { x: importGrids(geojson: $s) { __typename } }", {}),
    ("mutation ($s: String!) { x: retireCircleCode(code: $s) { __typename } }", {}),
    (
        "mutation ($s: String!) { x: createUser(input: {name: $s, role: RESIDENT, "
        "department: $s, phone: $s, grids: [$s]}) { __typename } }",
        {},
    ),
    ("mutation ($s: String!) { x: revokeToken(prefix: $s) { __typename } }", {}),
    (
        'mutation ($s: String!) { x: recordLedgerItem(input: {grid: "D111", meeting: $s, '
        "text: $s}) { __typename } }",
        {},
    ),
]


@pytest.mark.parametrize(
    "hostile", [SQL, SQL * 2_000, "药" * 50_000, "\u202e\ud7ff\U0010ffff", "a\x00b"]
)
async def test_hostile_strings_in_every_string_argument_are_answered(
    client: httpx.AsyncClient, world: World, engine: AsyncEngine, hostile: str
) -> None:
    grids = await _grid_count(engine)
    for query, extra in SQL_LOOKING:
        response = await _post(client, {"query": query, "variables": {"s": hostile, **extra}},
                               world.admin)  # fmt: skip
        assert response.status_code == 200, (query, response.text[:300])
        body = response.json()
        assert "errors" not in body, (query, body["errors"])
    assert await _grid_count(engine) == grids, "no statement ran the text"


@pytest.fixture
async def closed_schema(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with served(dataclasses.replace(settings, introspection=False)) as http:
        yield http


async def test_introspection_can_be_switched_off(closed_schema: httpx.AsyncClient) -> None:
    response = await _post(closed_schema, {"query": "{ __schema { types { name } } }"})
    assert "data" not in response.json()
    assert "introspection" in response.json()["errors"][0]["message"].lower()
    ide = await closed_schema.get("/graphql", headers={"accept": "text/html"})
    assert ide.status_code != 200 or "graphiql" not in ide.text.lower()
    assert (await _post(closed_schema, {"query": "{ __typename }"})).json() == {
        "data": {"__typename": "Query"}
    }
