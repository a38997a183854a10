"""The taxonomy, merchants by grid subtree, by id, the service circle and grid coverage
(seeded district, read-only)."""

from __future__ import annotations

import httpx
import psycopg
import pytest
from pyproj import Geod

from geo.places.walking import reach_radius_m
from tests.builders.clients import gql

pytestmark = pytest.mark.anyio

GEOD = Geod(ellps="WGS84")
CENTRE = {"longitude": 113.62, "latitude": 34.725}


async def test_the_taxonomy(seeded_client: httpx.AsyncClient) -> None:
    data = await gql(
        seeded_client,
        """{ all: merchantCategories { code zh en group groupZh reachMinutes reachM }
             basic: merchantCategories(group: BASIC) { code reachMinutes }
             servicePointKinds { code zh en } }""",
    )
    codes = [c["code"] for c in data["all"]]
    assert len(codes) == len(set(codes)) == 24
    basic = data["basic"]
    assert len(basic) == 12 and {c["reachMinutes"] for c in basic} == {5, 8, 15}
    assert codes[:12] == [c["code"] for c in basic], "basic ones first"
    pharmacy = next(c for c in data["all"] if c["code"] == "pharmacy")
    assert pharmacy == {
        "code": "pharmacy", "zh": "药店", "en": "Pharmacy", "group": "BASIC",
        "groupZh": "基本保障类", "reachMinutes": 8, "reachM": pytest.approx(8 * 80 / 1.3),
    }  # fmt: skip
    assert all(c["reachMinutes"] is None for c in data["all"] if c["group"] == "QUALITY")
    assert {k["code"] for k in data["servicePointKinds"]} >= {"public_toilet", "police_office"}


SUBTREE = """query ($grid: String!, $c: [String!], $after: String) {
  merchants(grid: $grid, categories: $c, first: 50, after: $after) {
    __typename
    ... on MerchantConnection { edges { cursor node { id category { code } grid { code } } }
                                pageInfo { hasNextPage endCursor } }
    ... on NotFoundError { kind id message }
    ... on UnknownCategoryError { code }
    ... on InvalidArgumentError { argument }
  }
}"""


async def test_merchants_of_a_grid_subtree_paged(
    seeded_client: httpx.AsyncClient, seeded_url: str
) -> None:
    with psycopg.connect(seeded_url) as conn:
        (l3,) = conn.execute(
            "SELECT code FROM grids WHERE level = 'L3' ORDER BY code LIMIT 1 OFFSET 40"
        ).fetchone()  # type: ignore[misc]
        want = [
            r[0]
            for r in conn.execute(
                "SELECT m.id FROM merchants m JOIN grids g ON g.id = m.grid_id "
                "WHERE g.code LIKE %s AND m.status <> 'CLOSED' ORDER BY m.id",
                (l3 + "%",),
            )
        ]
    seen: list[int] = []
    after = None
    while True:
        page = (await gql(seeded_client, SUBTREE, grid=l3, after=after))["merchants"]
        seen += [int(e["node"]["id"]) for e in page["edges"]]
        assert all(e["node"]["grid"]["code"].startswith(l3) for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert want and seen == want

    only = (await gql(seeded_client, SUBTREE, grid=l3, c=["restaurant"]))["merchants"]
    assert {e["node"]["category"]["code"] for e in only["edges"]} == {"restaurant"}
    missing = (await gql(seeded_client, SUBTREE, grid="NOPE"))["merchants"]
    assert missing["__typename"] == "NotFoundError" and missing["kind"] == "grid"
    bad = (await gql(seeded_client, SUBTREE, grid=l3, c=["nope"]))["merchants"]
    assert bad == {"__typename": "UnknownCategoryError", "code": "nope"}
    cursor = (await gql(seeded_client, SUBTREE, grid=l3, after="!!"))["merchants"]
    assert cursor == {"__typename": "InvalidArgumentError", "argument": "after"}


BY_ID = """query ($id: ID!) {
  merchant(id: $id, output: GCJ02) { id name location { system } grid { code } }
  servicePoint(id: $id) { id name kind { code } grid { code } }
}"""


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "99999999999999999999", "1e3", "١"])
async def test_lookups_by_id(seeded_client: httpx.AsyncClient, bad: str) -> None:
    found = await gql(seeded_client, BY_ID, id="7")
    assert found["merchant"]["id"] == "7" and found["merchant"]["location"]["system"] == "GCJ02"
    assert found["servicePoint"]["id"] == "7"
    assert await gql(seeded_client, BY_ID, id=bad) == {"merchant": None, "servicePoint": None}


CIRCLE = """query ($p: PointInput!, $m: Float) {
  serviceCircle(near: $p, minutes: $m) {
    __typename
    ... on ServiceCircle {
      minutes radiusM walkingSpeedMPerMin detourFactor center { longitude latitude }
      categories { category { code reachMinutes } count
                   nearest { distanceM walkingMinutes merchant { id status } } }
      gaps { code reachMinutes }
      servicePoints { kind { code } count nearest { distanceM servicePoint { name } } }
    }
    ... on InvalidArgumentError { argument }
    ... on InvalidCoordinateError { message }
  }
}"""


@pytest.mark.parametrize(
    "where", [CENTRE, {"longitude": 113.57, "latitude": 34.69}], ids=["centre", "outskirts"]
)
async def test_service_circle_against_an_independent_count(
    seeded_client: httpx.AsyncClient, seeded_url: str, where: dict[str, float]
) -> None:
    circle = (await gql(seeded_client, CIRCLE, p=where))["serviceCircle"]
    assert circle["minutes"] == 15 and circle["radiusM"] == pytest.approx(15 * 80 / 1.3)
    with psycopg.connect(seeded_url) as conn:
        rows = conn.execute(
            "SELECT id, category, ST_X(location), ST_Y(location) FROM merchants "
            "WHERE status = 'OPEN'"
        ).fetchall()
    _, _, metres = GEOD.inv(
        [where["longitude"]] * len(rows), [where["latitude"]] * len(rows),
        [r[2] for r in rows], [r[3] for r in rows],
    )  # fmt: skip
    by_category: dict[str, list[tuple[float, int]]] = {}
    for row, m in zip(rows, metres, strict=True):
        by_category.setdefault(row[1], []).append((float(m), row[0]))
    for reach in circle["categories"]:
        code = reach["category"]["code"]
        near = sorted(by_category.get(code, []))
        inside = [pair for pair in near if pair[0] <= circle["radiusM"]]
        assert reach["count"] == len(inside), code
        assert [int(n["merchant"]["id"]) for n in reach["nearest"]] == [i for _, i in inside[:3]]
        for n, (m, _) in zip(reach["nearest"], inside, strict=False):
            assert n["distanceM"] == pytest.approx(m, abs=1e-3)
            assert n["walkingMinutes"] == pytest.approx(m * 1.3 / 80)
    gaps = {g["code"] for g in circle["gaps"]}
    for reach in circle["categories"]:
        tier = reach["category"]["reachMinutes"]
        if tier is None:
            continue
        near = sorted(by_category.get(reach["category"]["code"], []))
        assert (reach["category"]["code"] in gaps) == (
            not near or near[0][0] > reach_radius_m(tier)
        )


async def test_service_circle_bad_arguments(seeded_client: httpx.AsyncClient) -> None:
    for minutes in (0.0, 61.0, -1.0):
        out = (await gql(seeded_client, CIRCLE, p=CENTRE, m=minutes))["serviceCircle"]
        assert out == {"__typename": "InvalidArgumentError", "argument": "minutes"}
    bad = {"longitude": 181.0, "latitude": 0.0}
    out = (await gql(seeded_client, CIRCLE, p=bad))["serviceCircle"]
    assert out["__typename"] == "InvalidCoordinateError"


COVERAGE = """query ($code: String!, $s: Float) { grid(code: $code) {
  serviceCoverage(spacingM: $s) {
    __typename
    ... on GridServiceCoverage { spacingM samples shares { category { code } covered share } }
    ... on InvalidArgumentError { argument }
  }
  merchants(first: 1) { __typename }
} }"""


async def test_grid_service_coverage(seeded_client: httpx.AsyncClient) -> None:
    centre_micro = await gql(
        seeded_client,
        "query ($p: PointInput!) { gridAt(point: $p) { ... on GridMatch { grid { code } } } }",
        p=CENTRE,
    )
    code = centre_micro["gridAt"]["grid"]["code"]
    out = (await gql(seeded_client, COVERAGE, code=code))["grid"]["serviceCoverage"]
    assert out["__typename"] == "GridServiceCoverage"
    assert out["samples"] >= 1 and out["spacingM"] >= 50
    assert len(out["shares"]) == 12
    for share in out["shares"]:
        assert share["share"] == pytest.approx(share["covered"] / out["samples"])
    assert {s["category"]["code"] for s in out["shares"] if s["share"] == 1.0} >= {
        "convenience_store"
    }, "the centre has a convenience store within 5 minutes everywhere"
    bad = (await gql(seeded_client, COVERAGE, code=code, s=5.0))["grid"]["serviceCoverage"]
    assert bad == {"__typename": "InvalidArgumentError", "argument": "spacingM"}
