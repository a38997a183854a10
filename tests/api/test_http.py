"""The GraphQL-over-HTTP behaviour of /graphql, /healthz and /metrics, through the ASGI app."""

from __future__ import annotations

import logging

import httpx
import orjson
import pytest
import strawberry
from starlette.requests import Request

from api.settings import Settings
from api.web.http import GRAPHQL_RESPONSE, GraphQLEndpoint
from tests.builders.clients import served
from tests.builders.databases import TRAIL_KEYS_TEXT

pytestmark = pytest.mark.anyio

QUERY_TYPENAME = {"query": "{ __typename }"}


async def test_post_typename_answers_query(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json=QUERY_TYPENAME)
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}
    assert response.headers["content-type"].startswith("application/json")


async def test_get_query_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ apiVersion }"})
    assert response.status_code == 200
    assert isinstance(response.json()["data"]["apiVersion"], str)


async def test_graphql_response_media_type_when_preferred(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json=QUERY_TYPENAME, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)


@pytest.mark.parametrize(("accept", "status"), [(GRAPHQL_RESPONSE, 400), ("application/json", 200)])
async def test_parse_error_has_no_data_and_status_by_media_type(
    client: httpx.AsyncClient, accept: str, status: int
) -> None:
    response = await client.post("/graphql", json={"query": "{"}, headers={"accept": accept})
    assert response.status_code == status
    body = response.json()
    assert "data" not in body
    assert "Syntax Error" in body["errors"][0]["message"]


async def test_validation_error_names_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ nope }"}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    assert "nope" in response.json()["errors"][0]["message"]


async def test_malformed_json_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b'{"query": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "The request body is not valid JSON."


async def test_invalid_utf8_body_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b'{"query": "\xff\xfe"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


async def test_wrong_content_type_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", content=b"{ __typename }")
    assert response.status_code == 415


async def test_mutation_over_get_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "mutation { __typename }"},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert 400 <= response.status_code < 500
    assert "data" not in response.json()


async def test_oversized_body_is_refused(client: httpx.AsyncClient, settings: Settings) -> None:
    padding = " " * (settings.max_body_bytes + 1)
    response = await client.post("/graphql", json={"query": "{ __typename }" + padding})
    assert response.status_code == 413
    assert "larger than" in response.json()["errors"][0]["message"]


async def test_oversized_document_is_refused(client: httpx.AsyncClient, settings: Settings) -> None:
    query = "{ " + "__typename " * (settings.max_document_chars // 10) + "}"
    response = await client.post("/graphql", json={"query": query})
    message = response.json()["errors"][0]["message"]
    assert "longer than" in message or "token" in message


async def test_too_deep_query_is_refused(client: httpx.AsyncClient, settings: Settings) -> None:
    depth = settings.max_depth + 1
    query = '{ grid(code: "x") { ' + "parent { " * (depth - 1) + "code" + " }" * depth + " }"
    response = await client.post("/graphql", json={"query": query})
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    assert f"nested {depth} levels" in errors[0]["message"]
    at_limit = '{ grid(code: "x") { ' + "parent { " * (depth - 2) + "code" + " }" * (depth - 1)
    response = await client.post("/graphql", json={"query": at_limit + " }"})
    assert response.json() == {"data": {"grid": None}}


async def test_introspection_is_not_limited_by_depth(client: httpx.AsyncClient) -> None:
    from graphql import get_introspection_query

    response = await client.post("/graphql", json={"query": get_introspection_query()})
    assert response.status_code == 200
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_variables_of_wrong_type_are_a_request_error(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "query ($n: String!) { __type(name: $n) { name } }", "variables": {"n": 5}},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    assert "data" not in response.json()


async def test_graphiql_for_browsers(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_healthz_checks_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["postgis"].startswith("3.")


async def test_healthz_reports_an_unreachable_database(tmp_path) -> None:
    # A port nothing listens on: the app must say 503, with a reason, not crash.
    settings = Settings(
        database_url="postgresql://circle_app@127.0.0.1:9/none",
        data_dir=tmp_path,
        trail_keys=TRAIL_KEYS_TEXT,
    )
    async with served(settings, base_url="http://t") as http:
        response = await http.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["reason"]


async def test_metrics_count_operations(client: httpx.AsyncClient) -> None:
    await client.post("/graphql", json={"query": "query Probe { __typename }"})
    text = (await client.get("/metrics")).text
    assert 'circle_graphql_requests_total{operation="Probe",outcome="ok"}' in text
    assert "circle_db_pool_size" in text


async def test_unexpected_errors_are_masked_and_logged(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def boom(self) -> str | None:
            raise RuntimeError("secret connection string")

    endpoint = GraphQLEndpoint(strawberry.Schema(Query), settings, lambda request: None)
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "headers": [(b"content-type", b"application/json")],
        "query_string": b"",
    }
    body = orjson.dumps({"query": "{ boom }"})

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    with caplog.at_level(logging.ERROR, logger="circle.errors"):
        response = await endpoint.handle(Request(scope, receive))
    payload = orjson.loads(response.body)
    assert payload["data"] == {"boom": None}
    assert payload["errors"][0]["message"] == "Unexpected error."
    assert "secret" not in response.body.decode()
    assert any("secret connection string" in str(r.exc_info) for r in caplog.records)


async def test_nul_characters_are_answered_not_crashed_on(admin_client: httpx.AsyncClient) -> None:
    client = admin_client
    # PostgreSQL text cannot hold U+0000: no grid has such a code, so the answer is null.
    query = "query ($c: String!) { grid(code: $c) { code } }"
    response = await client.post("/graphql", json={"query": query, "variables": {"c": "a\x00"}})
    assert response.json() == {"data": {"grid": None}}
    literal = {"query": '{ grid(code: "a\\u0000b") { code } }'}
    response = await client.post("/graphql", json=literal)
    assert response.json() == {"data": {"grid": None}}
    mutation = "mutation ($g: String!) { importGrids(geojson: $g) { __typename } }"
    geojson = '{"type": "FeatureCollection", "features": [], "x": "\\u0000"}'
    response = await client.post("/graphql", json={"query": mutation, "variables": {"g": geojson}})
    assert response.json() == {"data": {"importGrids": {"__typename": "GridImportError"}}}


async def test_an_unreachable_database_is_503_with_retry_after_on_every_route(tmp_path) -> None:
    """Never a 200 with "Unexpected error.": reads (read pool and sessions), a write, the
    pages and the export all say 503 with Retry-After while the database is away."""
    settings = Settings(
        database_url="postgresql://circle_app@127.0.0.1:9/none",
        data_dir=tmp_path,
        trail_keys=TRAIL_KEYS_TEXT,
    )
    grid_at = "{ gridAt(point: {longitude: 113.65, latitude: 34.76}) { __typename } }"
    grid = '{ grid(code: "D1") { code } }'
    report = """mutation { reportCase(input: {category: "street_vending", description: "x",
        location: {longitude: 113.65, latitude: 34.76}, locationSource: GPS}) { __typename } }"""
    async with served(settings, base_url="http://t") as http:
        for query in (grid_at, grid, report):
            response = await http.post("/graphql", json={"query": query})
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "1"
            assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        for path in ("/c/SOMECODE", "/qr/SOMECODE.svg", "/grids.geojson"):
            response = await http.get(path)
            assert response.status_code == 503, (path, response.text)
            assert response.headers["retry-after"] == "1"
        assert (await http.get("/healthz")).headers["retry-after"] == "1"
