"""The grid API over HTTP, on the synthetic district (read-only) or an empty database."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from shapely.geometry import Point as ShapelyPoint
from shapely.geometry import shape
from shapely.ops import polylabel
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from geo.coords import wgs84_to_bd09, wgs84_to_gcj02
from geo.grids.synth import synth_district
from tests.builders.shapes import LAT0, LON0, tiny_district

pytestmark = pytest.mark.anyio


def json(value: Any) -> str:
    return orjson.dumps(value).decode()


async def gql(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def an_interior_point() -> tuple[str, float, float]:
    """A micro-grid and a point deep inside it (far from every edge)."""
    micros = [g for g in synth_district() if g.level == "MICRO"]
    micro = max(micros, key=lambda g: g.geometry.area)
    p = polylabel(micro.geometry.geoms[0], tolerance=1e-7)
    return micro.code, p.x, p.y


GRID_AT = """
query ($p: PointInput!, $out: CoordSystem) {
  gridAt(point: $p, output: $out) {
    __typename
    ... on GridMatch { grid { code level } ancestors { level code } distanceToBoundaryM
                       nearBoundary candidates { grid { code } distanceM }
                       point { longitude latitude system } }
    ... on OutsideCoverage { message nearest { code } distanceM }
    ... on InvalidCoordinateError { message longitude latitude }
  }
}
"""


async def test_grid_at_in_each_coordinate_system(seeded_client: httpx.AsyncClient) -> None:
    code, lon, lat = an_interior_point()
    for system, (x, y) in (
        ("WGS84", (lon, lat)),
        ("GCJ02", wgs84_to_gcj02(lon, lat)),
        ("BD09", wgs84_to_bd09(lon, lat)),
    ):
        point = {"longitude": x, "latitude": y, "system": system}
        body = await gql(seeded_client, GRID_AT, p=point)
        match = body["data"]["gridAt"]
        assert match["__typename"] == "GridMatch", (system, match)
        assert match["grid"]["code"] == code
        assert [a["level"] for a in match["ancestors"]] == ["DISTRICT", "L1", "L2", "L3", "MICRO"]
        assert match["ancestors"][-1]["code"] == code
        assert match["point"]["longitude"] == pytest.approx(lon, abs=1e-8)
        assert match["nearBoundary"] is False and match["candidates"] == []


async def test_grid_at_answers_in_gcj02_when_asked(seeded_client: httpx.AsyncClient) -> None:
    _, lon, lat = an_interior_point()
    point = {"longitude": lon, "latitude": lat}
    body = await gql(seeded_client, GRID_AT, p=point, out="GCJ02")
    out = body["data"]["gridAt"]["point"]
    assert (out["longitude"], out["latitude"]) == pytest.approx(wgs84_to_gcj02(lon, lat))
    assert out["system"] == "GCJ02"


async def test_stated_accuracy_widens_the_candidates(seeded_client: httpx.AsyncClient) -> None:
    code, lon, lat = an_interior_point()
    point = {"longitude": lon, "latitude": lat, "accuracyM": 300.0}
    match = (await gql(seeded_client, GRID_AT, p=point))["data"]["gridAt"]
    assert match["grid"]["code"] == code
    assert match["nearBoundary"] is True
    assert match["candidates"], "a 300 m uncertainty reaches neighbouring micro-grids"
    assert all(c["distanceM"] <= 300.0 for c in match["candidates"])


@pytest.mark.parametrize(
    ("lon", "lat", "message"),
    [(200.0, 34.7, "longitude"), (113.6, -91.0, "latitude"), (1e308, 34.7, "longitude")],
)
async def test_bad_coordinates_are_a_typed_error(
    seeded_client: httpx.AsyncClient, lon: float, lat: float, message: str
) -> None:
    point = {"longitude": lon, "latitude": lat}
    result = (await gql(seeded_client, GRID_AT, p=point))["data"]["gridAt"]
    assert result["__typename"] == "InvalidCoordinateError"
    assert message in result["message"]


async def test_outside_coverage_names_the_nearest_grid(seeded_client: httpx.AsyncClient) -> None:
    point = {"longitude": 113.40, "latitude": 34.72}
    result = (await gql(seeded_client, GRID_AT, p=point))["data"]["gridAt"]
    assert result["__typename"] == "OutsideCoverage"
    assert result["nearest"]["code"].startswith("410103")
    assert 10_000 < result["distanceM"] < 25_000


GRID = """
query ($code: String!) {
  grid(code: $code) {
    code name level parent { code } children { code level }
    ancestors { code } workers { name phone role }
    geometry wgs: geometry(system: WGS84) gcj: geometry(system: GCJ02)
  }
}
"""


async def test_grid_with_its_relations(seeded_client: httpx.AsyncClient) -> None:
    grids = {g.code: g for g in synth_district()}
    l3 = next(g for g in grids.values() if g.level == "L3")
    grid = (await gql(seeded_client, GRID, code=l3.code))["data"]["grid"]
    assert grid["level"] == "L3" and grid["parent"]["code"] == l3.parent_code
    want_children = sorted(g.code for g in grids.values() if g.parent_code == l3.code)
    assert [c["code"] for c in grid["children"]] == want_children
    assert {c["level"] for c in grid["children"]} == {"MICRO"}
    assert [a["code"] for a in grid["ancestors"]][-1] == l3.code
    assert len(grid["ancestors"]) == 4
    assert grid["workers"] and grid["workers"][0]["role"] == "L3_WORKER"
    assert shape(grid["geometry"]).equals_exact(l3.geometry, 1e-7)
    gcj = shape(grid["gcj"])
    lon, lat = wgs84_to_gcj02(*l3.geometry.centroid.coords[0])
    assert gcj.centroid.distance(ShapelyPoint(lon, lat)) < 1e-5


async def test_unknown_grid_is_null(seeded_client: httpx.AsyncClient) -> None:
    assert (await gql(seeded_client, GRID, code="nope"))["data"]["grid"] is None


PAGE = """
query ($after: String, $first: Int) {
  grids(level: L2, first: $first, after: $after) {
    __typename
    ... on GridConnection { edges { cursor node { code } } pageInfo { hasNextPage endCursor } }
    ... on InvalidArgumentError { message argument }
  }
}
"""


async def test_paging_yields_every_grid_once(seeded_client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = (await gql(seeded_client, PAGE, after=after, first=40))["data"]["grids"]
        seen += [e["node"]["code"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    want = sorted(g.code for g in synth_district() if g.level == "L2")
    assert seen == want


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"first": 101}, "first"),
        ({"first": 0}, "first"),
        ({"first": -5}, "first"),
        ({"after": "!!"}, "after"),
        ({"after": "Zm9v"}, "after"),  # base64 of "foo": not one of our cursors
    ],
)
async def test_bad_paging_arguments_are_a_typed_error(
    seeded_client: httpx.AsyncClient, variables: dict[str, Any], argument: str
) -> None:
    result = (await gql(seeded_client, PAGE, **variables))["data"]["grids"]
    assert result["__typename"] == "InvalidArgumentError"
    assert result["argument"] == argument
    assert argument in result["message"]


async def test_grid_at_brings_its_parent_in_one_statement(
    seeded_client: httpx.AsyncClient, statements: Any
) -> None:
    """What a resident's map asks on every tap: the grid and the community above it. The
    parent comes with the lookup's own row, not from a second statement."""
    code, lon, lat = an_interior_point()
    query = """query ($p: PointInput!) { gridAt(point: $p) { ... on GridMatch {
        grid { code level parent { code name level parent { code } } } } } }"""
    micro = next(g for g in synth_district() if g.code == code)
    l3 = next(g for g in synth_district() if g.code == micro.parent_code)
    with statements() as sent:
        body = await gql(seeded_client, query, p={"longitude": lon, "latitude": lat})
    grid = body["data"]["gridAt"]["grid"]
    assert grid["code"] == code and grid["level"] == "MICRO"
    assert grid["parent"]["code"] == l3.code and grid["parent"]["level"] == "L3"
    assert grid["parent"]["name"] == l3.name
    assert grid["parent"]["parent"]["code"] == l3.parent_code
    # the lookup with the parent, then the grandparent (not brought along) from the loader
    assert len(sent) == 2, sent


async def test_a_page_of_grids_with_relations_costs_a_few_statements(
    seeded_client: httpx.AsyncClient, seeded_engine: AsyncEngine
) -> None:
    query = """{ grids(level: MICRO, first: 100) { ... on GridConnection { edges { node {
        code parent { code } ancestors { code level } workers { name } children { code }
    } } } } }"""
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    # The app has its own engine; count on every engine by listening on the Engine class.
    from sqlalchemy.engine import Engine

    event.listen(Engine, "before_cursor_execute", count)
    try:
        body = await gql(seeded_client, query)
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert len(body["data"]["grids"]["edges"]) == 100
    assert len(statements) <= 5, statements


async def test_import_mutation_then_export_endpoint(admin_client: httpx.AsyncClient) -> None:
    client = admin_client
    mutation = """mutation ($fc: String!) { importGrids(geojson: $fc) {
        __typename ... on GridsImported { created updated }
        ... on GridImportError { message problems { code kind severity longitude latitude } } } }"""
    done = (await gql(client, mutation, fc=json(tiny_district())))["data"]["importGrids"]
    assert done == {"__typename": "GridsImported", "created": 8, "updated": 0}

    bad = tiny_district()
    bad["features"][4]["properties"]["parent_code"] = "NOPE"
    refused = (await gql(client, mutation, fc=json(bad)))["data"]["importGrids"]
    assert refused["__typename"] == "GridImportError"
    kinds = {(p["kind"], p["severity"], p["code"]) for p in refused["problems"]}
    assert ("UNKNOWN_PARENT", "ERROR", "D111A") in kinds
    garbage = (await gql(client, mutation, fc="{not json"))["data"]["importGrids"]
    assert garbage["__typename"] == "GridImportError"
    assert "not valid JSON" in garbage["message"]

    exported = await client.get("/grids.geojson", params={"level": "MICRO"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/geo+json")
    codes = [f["properties"]["code"] for f in exported.json()["features"]]
    assert codes == ["D111A", "D111B", "D111C", "D111E"]
    assert (await client.get("/grids.geojson", params={"level": "L9"})).status_code == 400


async def test_point_on_shared_edge_over_http(admin_client: httpx.AsyncClient) -> None:
    client = admin_client
    mutation = "mutation ($fc: String!) { importGrids(geojson: $fc) { __typename } }"
    await gql(client, mutation, fc=json(tiny_district()))
    point = {"longitude": LON0 + 0.005, "latitude": LAT0 + 0.0025}
    match = (await gql(client, GRID_AT, p=point))["data"]["gridAt"]
    assert match["grid"]["code"] == "D111A"
    assert match["nearBoundary"] is True
    assert [c["grid"]["code"] for c in match["candidates"]] == ["D111B"]
