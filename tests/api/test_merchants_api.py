"""nearbyMerchants and nearbyServicePoints over HTTP, on the seeded district (read-only).

What the API answers is checked against an independent computation: every row of the table
read with plain SQL, distances from pyproj's Geod (GeographicLib, WGS 84), filters applied
in Python.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest
from pyproj import Geod

from geo.coords import gcj02_to_wgs84, wgs84_to_gcj02
from geo.places.hours import TIMEZONE, from_json, is_open_at
from tests.builders.clients import gql
from tests.builders.places import CENTRE

pytestmark = pytest.mark.anyio

GEOD = Geod(ellps="WGS84")
#: A quieter spot a few kilometres out.
EDGE = (113.585, 34.745)


@dataclass(frozen=True)
class Row:
    id: int
    name: str
    category: str
    status: str
    hours: Any
    lon: float
    lat: float


@pytest.fixture(scope="module")
def merchant_rows(seeded_url: str) -> list[Row]:
    with psycopg.connect(seeded_url) as conn:
        found = conn.execute(
            "SELECT id, name, category, status, opening_hours, ST_X(location), ST_Y(location) "
            "FROM merchants"
        ).fetchall()
    return [Row(*r) for r in found]


def expected(
    rows: list[Row], lon: float, lat: float, radius_m: float, keep: Any = None
) -> list[tuple[int, float]]:
    """(id, metres) within the radius, not CLOSED, by (distance, id): pyproj, not PostGIS."""
    chosen = [r for r in rows if r.status != "CLOSED" and (keep is None or keep(r))]
    lons = np.array([r.lon for r in chosen])
    lats = np.array([r.lat for r in chosen])
    _, _, metres = GEOD.inv(np.full(len(chosen), lon), np.full(len(chosen), lat), lons, lats)
    inside = [(r.id, float(m)) for r, m in zip(chosen, metres, strict=True) if m <= radius_m]
    return sorted(inside, key=lambda pair: (pair[1], pair[0]))


NEARBY = """
query ($p: PointInput!, $r: Float, $c: [String!], $t: String, $at: DateTime, $first: Int,
       $after: String, $out: CoordSystem) {
  nearbyMerchants(near: $p, radiusM: $r, categories: $c, text: $t, openAt: $at, first: $first,
                  after: $after, output: $out) {
    __typename
    ... on NearbyMerchantConnection {
      edges { cursor distanceM walkingMinutes
              node { id name status category { code } location { longitude latitude system } } }
      pageInfo { hasNextPage endCursor }
    }
    ... on InvalidArgumentError { message argument }
    ... on InvalidCoordinateError { message }
    ... on UnknownCategoryError { message code }
  }
}
"""


def point(lon: float, lat: float, system: str = "WGS84") -> dict[str, Any]:
    return {"longitude": lon, "latitude": lat, "system": system}


async def all_pages(client: httpx.AsyncClient, first: int, **variables: Any) -> list[Any]:
    edges: list[Any] = []
    after = None
    while True:
        page = (await gql(client, NEARBY, first=first, after=after, **variables))["nearbyMerchants"]
        assert page["__typename"] == "NearbyMerchantConnection", page
        assert len(page["edges"]) <= first
        edges += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            return edges
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]


def same_answer(edges: list[Any], want: list[tuple[int, float]]) -> None:
    got = [(int(e["node"]["id"]), e["distanceM"]) for e in edges]
    assert [i for i, _ in got] == [i for i, _ in want]
    for (_, metres), (_, geodesic) in zip(got, want, strict=True):
        assert metres == pytest.approx(geodesic, abs=1e-3)  # PostGIS vs GeographicLib: < 1 mm


async def test_paging_yields_every_merchant_once_in_geodesic_order(
    seeded_client: httpx.AsyncClient, merchant_rows: list[Row]
) -> None:
    edges = await all_pages(seeded_client, 37, p=point(*CENTRE), r=250.0)
    want = expected(merchant_rows, *CENTRE, 250.0)
    assert len(want) > 100, "the centre is dense: several pages"
    same_answer(edges, want)
    assert len({e["node"]["id"] for e in edges}) == len(edges)
    assert all(e["node"]["status"] != "CLOSED" for e in edges)
    for e in edges:
        assert e["walkingMinutes"] == pytest.approx(e["distanceM"] * 1.3 / 80.0)


async def test_a_sparse_place_and_the_default_radius(
    seeded_client: httpx.AsyncClient, merchant_rows: list[Row]
) -> None:
    edges = await all_pages(seeded_client, 100, p=point(*EDGE))  # radiusM defaults to 1000
    same_answer(edges, expected(merchant_rows, *EDGE, 1000.0))


async def test_the_radius_edge_is_inclusive(seeded_client: httpx.AsyncClient) -> None:
    first = await gql(seeded_client, NEARBY, p=point(*EDGE), r=800.0, first=10)
    tenth = first["nearbyMerchants"]["edges"][9]
    edge_m = tenth["distanceM"]
    at_edge = await all_pages(seeded_client, 100, p=point(*EDGE), r=edge_m)
    assert at_edge[-1]["node"]["id"] == tenth["node"]["id"]
    just_inside = await all_pages(seeded_client, 100, p=point(*EDGE), r=edge_m - 0.01)
    assert [e["node"]["id"] for e in just_inside] == [e["node"]["id"] for e in at_edge[:-1]]


async def test_category_filter(seeded_client: httpx.AsyncClient, merchant_rows: list[Row]) -> None:
    wanted = {"pharmacy", "bookstore"}
    edges = await all_pages(seeded_client, 50, p=point(*CENTRE), r=1500.0, c=sorted(wanted))
    want = expected(merchant_rows, *CENTRE, 1500.0, keep=lambda r: r.category in wanted)
    same_answer(edges, want)
    assert {e["node"]["category"]["code"] for e in edges} == wanted


async def test_text_filter_matches_chinese_substrings(
    seeded_client: httpx.AsyncClient, merchant_rows: list[Row]
) -> None:
    def has(text: str) -> Any:
        return lambda r: text in unicodedata.normalize("NFKC", r.name).lower()

    for text in ("药", "超市", "老王"):
        edges = await all_pages(seeded_client, 100, p=point(*CENTRE), r=2000.0, t=text)
        same_answer(edges, expected(merchant_rows, *CENTRE, 2000.0, keep=has(text)))


@pytest.mark.parametrize(
    "local",
    [
        "2026-11-28T01:30:00",  # Saturday past midnight: bars and 24-hour shops
        "2026-11-30T07:00:00",  # Monday breakfast time
        "2026-11-29T23:59:00",  # Sunday's last minute
    ],
)
async def test_open_at_honours_the_opening_hours(
    seeded_client: httpx.AsyncClient, merchant_rows: list[Row], local: str
) -> None:
    when = datetime.fromisoformat(local).replace(tzinfo=TIMEZONE)

    def open_then(r: Row) -> bool:
        return r.status == "OPEN" and r.hours is not None and is_open_at(from_json(r.hours), when)

    want = expected(merchant_rows, *CENTRE, 600.0, keep=open_then)
    for at in (local, when.isoformat(), when.astimezone(UTC).isoformat()):  # same instant
        edges = await all_pages(seeded_client, 100, p=point(*CENTRE), r=600.0, at=at)
        same_answer(edges, want)


async def test_gcj02_in_and_out(seeded_client: httpx.AsyncClient) -> None:
    gcj = wgs84_to_gcj02(*CENTRE)
    wgs = await gql(seeded_client, NEARBY, p=point(*CENTRE), r=300.0, first=5)
    from_gcj = await gql(
        seeded_client, NEARBY, p=point(*gcj, "GCJ02"), r=300.0, first=5, out="GCJ02"
    )
    a, b = wgs["nearbyMerchants"]["edges"], from_gcj["nearbyMerchants"]["edges"]
    assert [e["node"]["id"] for e in a] == [e["node"]["id"] for e in b]
    for x, y in zip(a, b, strict=True):
        assert y["distanceM"] == pytest.approx(x["distanceM"], abs=0.01)
        loc = y["node"]["location"]
        assert loc["system"] == "GCJ02"
        back = gcj02_to_wgs84(loc["longitude"], loc["latitude"])
        assert back == pytest.approx((x["node"]["location"]["longitude"],
                                      x["node"]["location"]["latitude"]), abs=1e-8)  # fmt: skip


@pytest.mark.parametrize(
    ("variables", "typename", "argument"),
    [
        ({"r": 6000.0}, "InvalidArgumentError", "radiusM"),
        ({"r": 5000.0001}, "InvalidArgumentError", "radiusM"),
        ({"r": 0.0}, "InvalidArgumentError", "radiusM"),
        ({"r": -10.0}, "InvalidArgumentError", "radiusM"),
        ({"first": 101}, "InvalidArgumentError", "first"),
        ({"first": 0}, "InvalidArgumentError", "first"),
        ({"after": "!!"}, "InvalidArgumentError", "after"),
        ({"after": "aTo5NA"}, "InvalidArgumentError", "after"),  # an id cursor, not a distance one
        ({"after": "x" * 500}, "InvalidArgumentError", "after"),
        ({"t": "药" * 51}, "InvalidArgumentError", "text"),
        ({"t": "药\x00"}, "InvalidArgumentError", "text"),
        ({"at": "0001-01-01T00:00:00+14:00"}, "InvalidArgumentError", "openAt"),
        ({"c": ["pharmacy", "nope"]}, "UnknownCategoryError", None),
        ({"p": point(113.6, 91.0)}, "InvalidCoordinateError", None),
        ({"p": point(1e308, 34.7)}, "InvalidCoordinateError", None),
        ({"p": point(-180.5, 34.7, "GCJ02")}, "InvalidCoordinateError", None),
    ],
)
async def test_bad_arguments_are_typed_errors(
    seeded_client: httpx.AsyncClient, variables: dict[str, Any], typename: str, argument: Any
) -> None:
    variables = {"p": point(*CENTRE), **variables}
    result = (await gql(seeded_client, NEARBY, **variables))["nearbyMerchants"]
    assert result["__typename"] == typename, result
    assert result["message"]
    if argument:
        assert result["argument"] == argument
    if typename == "UnknownCategoryError":
        assert result["code"] == "nope" and "merchantCategories" in result["message"]


SERVICE_POINTS = """
query ($p: PointInput!, $r: Float, $k: [String!], $first: Int, $after: String) {
  nearbyServicePoints(near: $p, radiusM: $r, kinds: $k, first: $first, after: $after) {
    __typename
    ... on NearbyServicePointConnection {
      edges { distanceM node { id kind { code zh } name telUri } }
      pageInfo { hasNextPage endCursor }
    }
    ... on UnknownServicePointKindError { code message }
  }
}
"""


async def test_nearby_service_points(seeded_client: httpx.AsyncClient, seeded_url: str) -> None:
    with psycopg.connect(seeded_url) as conn:
        rows = conn.execute(
            "SELECT id, kind, ST_X(location), ST_Y(location) FROM service_points"
        ).fetchall()
    kinds = ["public_toilet", "community_service_station"]
    chosen = [r for r in rows if r[1] in kinds]
    _, _, metres = GEOD.inv(
        [CENTRE[0]] * len(chosen), [CENTRE[1]] * len(chosen), [r[2] for r in chosen],
        [r[3] for r in chosen],
    )  # fmt: skip
    want = sorted((m, r[0]) for r, m in zip(chosen, metres, strict=True) if m <= 2500)
    got: list[Any] = []
    after = None
    while True:
        page = (
            await gql(seeded_client, SERVICE_POINTS, p=point(*CENTRE), r=2500.0, k=kinds,
                      first=7, after=after)
        )["nearbyServicePoints"]  # fmt: skip
        got += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [int(e["node"]["id"]) for e in got] == [i for _, i in want]
    assert {e["node"]["kind"]["code"] for e in got} <= set(kinds)
    bad = await gql(seeded_client, SERVICE_POINTS, p=point(*CENTRE), k=["toilet"])
    assert bad["nearbyServicePoints"]["__typename"] == "UnknownServicePointKindError"
    assert "servicePointKinds" in bad["nearbyServicePoints"]["message"]


async def test_a_page_of_100_merchants_with_grids_and_ancestors_costs_a_few_statements(
    seeded_client: httpx.AsyncClient, statements: Any
) -> None:
    query = """query ($p: PointInput!) { nearbyMerchants(near: $p, first: 100) {
        ... on NearbyMerchantConnection { edges { node { id name telUri openingHours
            grid { code ancestors { code level } parent { code } } } } } } }"""
    await gql(seeded_client, query, p=point(*CENTRE))  # connections open (and set up) first
    with statements() as sent:
        data = await gql(seeded_client, query, p=point(*CENTRE))
    edges = data["nearbyMerchants"]["edges"]
    assert len(edges) == 100
    assert all(len(e["node"]["grid"]["ancestors"]) == 5 for e in edges)
    assert len(sent) <= 5, sent


async def test_a_page_of_grids_with_their_merchants_costs_a_few_statements(
    seeded_client: httpx.AsyncClient, statements: Any
) -> None:
    query = """{ grids(level: MICRO, first: 100) { ... on GridConnection { edges { node { code
        merchants(first: 3) { ... on MerchantConnection { edges { node { name
            grid { code } } } } }
        servicePoints(first: 2) { ... on ServicePointConnection { edges { node { name } } } }
    } } } } }"""
    await gql(seeded_client, query)
    with statements() as sent:
        data = await gql(seeded_client, query)
    nodes = [e["node"] for e in data["grids"]["edges"]]
    assert len(nodes) == 100
    for node in nodes:
        assert all(m["node"]["grid"]["code"] == node["code"] for m in node["merchants"]["edges"])
    assert len(sent) <= 6, sent
