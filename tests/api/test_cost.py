"""The cost limit: pages of pages are refused before anything runs (api.web.cost)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from graphql import OperationDefinitionNode, get_introspection_query, parse

from api.schema import schema
from api.settings import Settings
from api.web.cost import LIST_ESTIMATE, CostEstimator
from tests.builders.clients import served

pytestmark = pytest.mark.anyio

GRID_PAGE = """{ grids(level: MICRO, first: 100) { ... on GridConnection { edges { node {
    code parent { code } ancestors { code level } workers { name } children { code }
} } } } }"""

#: A page of grids, each with a page of merchants, each with its grid's page of merchants.
PAGES_OF_PAGES = """query ($outer: Int!, $inner: Int!) {
  grids(first: $outer) { ... on GridConnection { edges { node {
    merchants(first: $inner) { ... on MerchantConnection { edges { node { name
      grid { merchants(first: $inner) { ... on MerchantConnection { edges { node { name } } } } }
} } } } } } } } }"""


def estimate(query: str, variables: dict[str, int] | None = None) -> int:
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return CostEstimator(schema._schema, {}).cost(operation, variables)


def test_the_estimate_counts_each_field_once_per_item() -> None:
    # Per grid: node, code, parent+code, ancestors and workers and children (lists of 10 by
    # estimate) with their 2, 1 and 1 fields.
    per_grid = 1 + (1 + 2 + (1 + LIST_ESTIMATE * 2) + (1 + LIST_ESTIMATE) + (1 + LIST_ESTIMATE))
    assert estimate(GRID_PAGE) == 1 + (1 + 100 * per_grid)
    # Variables set the page sizes; out-of-range sizes count as the cap (the resolver
    # refuses them anyway).
    small = estimate(PAGES_OF_PAGES, {"outer": 2, "inner": 3})
    inner_page = 1 + (1 + 3 * (1 + 1))  # merchants { edges(3) { node { name } } }
    merchant = 1 + 1 + (1 + inner_page)  # node { name grid { <inner page> } }
    grid = 1 + (1 + (1 + 3 * merchant))  # node { merchants { edges(3) { <merchant> } } }
    assert small == 1 + (1 + 2 * grid) == 74
    assert estimate(PAGES_OF_PAGES, {"outer": 10**9, "inner": 100}) == estimate(
        PAGES_OF_PAGES, {"outer": 100, "inner": 100}
    )
    assert estimate(get_introspection_query()) == 0, "introspection is bounded by the schema"


@pytest.fixture
async def small_budget(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with served(dataclasses.replace(settings, max_cost=5_000)) as http:
        yield http


async def test_a_costly_operation_is_refused_before_it_runs(
    small_budget: httpx.AsyncClient,
) -> None:
    accept = {"accept": "application/graphql-response+json"}
    assert estimate(GRID_PAGE) < 5_000
    fine = await small_budget.post("/graphql", json={"query": GRID_PAGE}, headers=accept)
    assert fine.status_code == 200 and "errors" not in fine.json()

    costly = "{ a: " + GRID_PAGE[2:-2] + " b: " + GRID_PAGE[2:-2] + " }"
    response = await small_budget.post("/graphql", json={"query": costly}, headers=accept)
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    (error,) = body["errors"]
    assert error["extensions"] == {
        "code": "QUERY_TOO_COSTLY",
        "cost": 2 * estimate(GRID_PAGE),
        "limit": 5_000,
    }
    legacy = await small_budget.post("/graphql", json={"query": costly})
    assert legacy.status_code == 200 and "data" not in legacy.json()


async def test_page_sizes_from_variables_are_costed_per_request(
    small_budget: httpx.AsyncClient,
) -> None:
    cheap = {"query": PAGES_OF_PAGES, "variables": {"outer": 2, "inner": 3}}
    response = await small_budget.post("/graphql", json=cheap)
    assert response.json() == {"data": {"grids": {"edges": []}}}
    dear = {"query": PAGES_OF_PAGES, "variables": {"outer": 20, "inner": 20}}
    response = await small_budget.post("/graphql", json=dear)
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] == estimate(PAGES_OF_PAGES, {"outer": 20, "inner": 20})
    # The same document with cheap variables again: the refusal was not cached.
    assert (await small_budget.post("/graphql", json=cheap)).json()["data"] is not None


async def test_introspection_passes_whatever_the_budget(small_budget: httpx.AsyncClient) -> None:
    response = await small_budget.post("/graphql", json={"query": get_introspection_query()})
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"
