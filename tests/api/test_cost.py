"""The cost limit: pages of pages are refused before anything runs (api.web.cost)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, get_introspection_query, parse, validate

from api.schema import schema
from api.settings import Settings
from api.web.cost import LIST_ESTIMATE, ROOT_FIELD, CostEstimator
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
    assert estimate(GRID_PAGE) == ROOT_FIELD + (1 + 100 * per_grid)
    # Variables set the page sizes; out-of-range sizes count as the cap (the resolver
    # refuses them anyway).
    small = estimate(PAGES_OF_PAGES, {"outer": 2, "inner": 3})
    inner_page = 1 + (1 + 3 * (1 + 1))  # merchants { edges(3) { node { name } } }
    merchant = 1 + 1 + (1 + inner_page)  # node { name grid { <inner page> } }
    grid = 1 + (1 + (1 + 3 * merchant))  # node { merchants { edges(3) { <merchant> } } }
    assert small == ROOT_FIELD + (1 + 2 * grid) == ROOT_FIELD + 73
    assert estimate(PAGES_OF_PAGES, {"outer": 10**9, "inner": 100}) == estimate(
        PAGES_OF_PAGES, {"outer": 100, "inner": 100}
    )
    assert estimate(get_introspection_query()) == 0, "introspection is bounded by the schema"


@pytest.fixture
async def small_budget(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with served(dataclasses.replace(settings, max_cost=6_000)) as http:
        yield http


async def test_a_costly_operation_is_refused_before_it_runs(
    small_budget: httpx.AsyncClient,
) -> None:
    accept = {"accept": "application/graphql-response+json"}
    assert estimate(GRID_PAGE) < 6_000
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
        "limit": 6_000,
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


# -- work, not field count -------------------------------------------------------------------

# As an attacker writes them: one variable, many aliases, within the token limit.
ALIASED_CIRCLES = (
    "query ($p: PointInput!) { "
    + " ".join(f"c{i}: serviceCircle(near: $p) {{ __typename }}" for i in range(165))
    + " }"
)
ALIASED_STATS = "{ " + " ".join(f"s{i}: caseStats {{ __typename }}" for i in range(180)) + " }"


@pytest.mark.parametrize("document", [ALIASED_CIRCLES, ALIASED_STATS], ids=["circles", "stats"])
async def test_many_aliases_of_a_costly_field_are_refused_before_they_run(
    client: httpx.AsyncClient, statements: Any, document: str
) -> None:
    # Estimated by field count these were about 500 and 1,300: far below the limit, and
    # they ran for 1.0 s and 4.4 s. Each call is now priced by its work.
    assert estimate(document) > Settings().max_cost
    body = {"query": document, "variables": {"p": {"longitude": 113.62, "latitude": 34.74}}}
    with statements() as sent:
        response = await client.post("/graphql", json=body)
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert "data" not in response.json()
    assert sent == [], "nothing ran"


def test_the_work_follows_the_arguments_that_make_it() -> None:
    def circle(arguments: str) -> int:
        return estimate(f"{{ serviceCircle({arguments}) {{ __typename }} }}")

    near = "near: {longitude: 113.6, latitude: 34.7}"
    assert circle(near) == circle(f"{near}, minutes: 15") < circle(f"{near}, minutes: 60")

    def grid_at(point: str) -> int:
        return estimate(f"query ($p: PointInput!) {{ gridAt(point: {point}) {{ __typename }} }}")

    plain = grid_at("{longitude: 113.6, latitude: 34.7}")
    wide = grid_at("{longitude: 113.6, latitude: 34.7, accuracyM: 5000}")
    assert plain < grid_at("{longitude: 113.6, latitude: 34.7, accuracyM: 500}") < wide
    assert grid_at("$p") == wide, "a variable is taken at its worst"
    stats = estimate("{ caseStats { __typename } }")
    assert stats < estimate("{ caseStats(groupBy: CHILD_GRID) { __typename } }")


#: What the documented clients send (README, DESIGN.md's callers): each must pass.
CLIENT_OPERATIONS = {
    "mini-app: what is near me": """query Nearby($p: PointInput!, $c: [String!]) {
      nearbyMerchants(near: $p, categories: $c, first: 20) { __typename
        ... on NearbyMerchantConnection { edges { distanceM walkingMinutes node {
          id name phone address category { code zh } location { longitude latitude } } }
          pageInfo { hasNextPage endCursor } } } }""",
    "mini-app: the service circle": """query Circle($p: PointInput!) {
      serviceCircle(near: $p, output: GCJ02) { __typename ... on ServiceCircle {
        radiusM center { longitude latitude }
        categories { category { code zh reachMinutes } count
          nearest { distanceM walkingMinutes merchant { id name phone address
            location { longitude latitude } } } }
        gaps { code zh } servicePoints { kind { code } count
          nearest { distanceM servicePoint { id name phone } } } } } }""",
    "QR board: a circle code": """query Board($code: String!) { circle(code: $code) {
      __typename ... on PlaceCircle { place { code name center { longitude latitude } }
        circle { radiusM categories { category { code zh } count
          nearest { distanceM walkingMinutes merchant { name phone address } } }
          gaps { code zh } } } } }""",
    "resident: my grid and its worker": """query Mine($p: PointInput!) { gridAt(point: $p) {
      __typename ... on GridMatch { grid { code name level workers { name phone role }
        ancestors { code name level } } distanceToBoundaryM nearBoundary
        candidates { distanceM grid { code name } } }
      ... on OutsideCoverage { message distanceM nearest { code name } } } }""",
    "resident: report a case": """mutation Report($input: ReportCaseInput!) {
      reportCase(input: $input) { __typename
        ... on CaseReported { created followCode routingReason routingExplanation
          similarCasesNearby possibleDuplicates { id number status distanceM }
          case { id number status deadline grid { code name } assignedWorker { name phone } } }
        ... on CaseAlreadyReported { number reportedAt }
        ... on Error { message } ... on RateLimitedError { retryAfterS } } }""",
    "resident: follow a case": """query Follow($number: String!, $code: String!) {
      followedCase(number: $number, code: $code) { __typename ... on FollowedCase {
        number status version description deadline reportedAt evaluationOpenUntil
        events { seq action toStatus actorRole note occurredAt } } } }""",
    "grid worker: my cases": """query Mine($after: String) {
      cases(first: 100, after: $after) { __typename ... on CaseConnection {
        edges { cursor node { id number status version description deadline overdue
          category { code zh } location { longitude latitude } grid { code name
            ancestors { code name } } assignedWorker { name } handler { name role }
          lastEvent { seq action occurredAt actorName } allowedActions } }
        pageInfo { hasNextPage endCursor } } } }""",
    "grid worker: a case's trail": """query Trail($id: Int!) { caseTrail(id: $id) {
      __typename ... on CaseTrail { verified brokenAt reason case { id number status }
        events { seq action fromStatus toStatus actorName actorRole note details
          occurredAt prevHash hash } } } }""",
    "agent: act on a case": """mutation Act($input: ActOnCaseInput!) {
      actOnCase(input: $input) { __typename ... on CaseActed {
        case { id status version deadline allowedActions department coHandlers }
        event { seq action note occurredAt } } ... on Error { message } } }""",
    "agent: the dashboard": """query Dashboard($grid: String, $from: String, $to: String) {
      total: caseStats(grid: $grid, from: $from, to: $to) { __typename
        ... on CaseStatsReport { rows { reported received closed closureRate onTimeClosureRate
          satisfactionRate reworkRate } } }
      byChild: caseStats(grid: $grid, from: $from, to: $to, groupBy: CHILD_GRID) {
        __typename ... on CaseStatsReport { rows { childGrid { code name } received
          closed closureRate } } }
      byCategory: caseStats(grid: $grid, from: $from, to: $to, groupBy: CATEGORY) {
        __typename ... on CaseStatsReport { rows { category { code zh } received closed } } }
      byMonth: caseStats(grid: $grid, from: $from, to: $to, groupBy: MONTH) {
        __typename ... on CaseStatsReport { rows { month received closed } } } }""",
    "agent: the ledger": """query Ledger($grid: String!) { ledgerItems(grid: $grid, first: 50) {
      __typename ... on LedgerItemConnection { edges { node { id meeting raisedAt text status
        convertedCaseId grid { code name } } } pageInfo { hasNextPage endCursor } } } }""",
    "admin: the grid tree": """query Tree($after: String) {
      grids(first: 100, after: $after) { __typename ... on GridConnection { edges { node {
        code name level parent { code } workers { name phone role } children { code name } } }
        pageInfo { hasNextPage endCursor } } } }""",
    "admin: a grid's merchants": """query Shops($grid: String!, $after: String) {
      merchants(grid: $grid, first: 100, after: $after) { __typename
        ... on MerchantConnection { edges { cursor node { id name phone address status
          verified category { code zh } location { longitude latitude } grid { code } } }
          pageInfo { hasNextPage endCursor } } } }""",
    "admin: coverage of a grid": """query Coverage($code: String!) { grid(code: $code) {
      code name serviceCoverage { __typename ... on GridServiceCoverage { spacingM samples
        shares { category { code zh } covered share } } } } }""",
    "anyone: the working calendar": """query Days($from: Date!, $to: Date!) {
      workingCalendar(from: $from, to: $to) { __typename ... on WorkingCalendar {
        days { date working holiday } } } }""",
}


@pytest.mark.parametrize("name", list(CLIENT_OPERATIONS))
def test_every_documented_client_operation_passes(name: str) -> None:
    document = parse(CLIENT_OPERATIONS[name])
    assert validate(schema._schema, document) == [], name
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    assert estimate(CLIENT_OPERATIONS[name]) <= Settings().max_cost, name
    assert operation.name is not None


async def test_a_request_past_its_wall_clock_budget_is_stopped(settings: Settings) -> None:
    # A budget no request with a database round trip can meet: the answer says so, typed.
    hurried = dataclasses.replace(settings, request_timeout_s=1e-6)
    async with served(hurried) as http:
        response = await http.post("/graphql", json={"query": '{ grid(code: "D1") { code } }'})
        assert response.status_code == 503
        (error,) = response.json()["errors"]
        assert error["extensions"] == {"code": "REQUEST_TIMEOUT"}
        assert "data" not in response.json()
        # The server goes on serving (what needs no await is not stopped).
        fine = await http.post("/graphql", json={"query": "{ __typename }"})
        assert fine.json() == {"data": {"__typename": "Query"}}
