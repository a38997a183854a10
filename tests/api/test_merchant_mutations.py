"""Merchant and service point writes over HTTP, on an empty database with the tiny district."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from geo.accounts.models import Role
from geo.coords import gcj02_to_wgs84, wgs84_to_gcj02
from tests.builders.accounts import account_token
from tests.builders.clients import gql
from tests.builders.shapes import LAT0, LON0, tiny_district

pytestmark = pytest.mark.anyio

INSIDE_A = {"longitude": LON0 + 0.002, "latitude": LAT0 + 0.002}  # micro-grid D111A
FAR_AWAY = {"longitude": 116.40, "latitude": 39.90}  # Beijing: no grid covers it


@pytest.fixture
async def district(admin_client: httpx.AsyncClient) -> httpx.AsyncClient:
    client = admin_client
    mutation = "mutation ($fc: String!) { importGrids(geojson: $fc) { __typename } }"
    await gql(client, mutation, fc=orjson.dumps(tiny_district()).decode())
    return client


MERCHANT = """id name version status verified phone telUri address openingHours outsideCoverage
              category { code } grid { code } location { longitude latitude system }"""
CREATE = f"""mutation ($i: CreateMerchantInput!, $out: CoordSystem) {{
  createMerchant(input: $i, output: $out) {{
    __typename
    ... on MerchantSaved {{ merchant {{ {MERCHANT} }} }}
    ... on Error {{ message }}
    ... on InvalidArgumentError {{ argument }}
    ... on UnknownCategoryError {{ code }}
    ... on InvalidPhoneError {{ phone }}
    ... on InvalidOpeningHoursError {{ hours position }}
  }}
}}"""
UPDATE = f"""mutation ($i: UpdateMerchantInput!) {{
  updateMerchant(input: $i) {{
    __typename
    ... on MerchantSaved {{ merchant {{ {MERCHANT} }} }}
    ... on Error {{ message }}
    ... on InvalidArgumentError {{ argument }}
    ... on VersionConflictError {{ expectedVersion currentVersion }}
    ... on NotFoundError {{ kind id }}
  }}
}}"""
CLOSE = """mutation ($id: ID!, $v: Int!) { closeMerchant(id: $id, expectedVersion: $v) {
  __typename ... on MerchantSaved { merchant { status version } }
  ... on VersionConflictError { currentVersion } ... on NotFoundError { kind } } }"""


def shop(**fields: Any) -> dict[str, Any]:
    return {"name": "老王便利店", "category": "convenience_store", "location": INSIDE_A, **fields}


async def test_create_assigns_the_grid_and_normalises(district: httpx.AsyncClient) -> None:
    made = await gql(
        district,
        CREATE,
        i=shop(phone="+86 138-0013-8000", address=" 大学路1号 ", openingHours="Mo-Su 22:00-02:00"),
    )
    m = made["createMerchant"]["merchant"]
    assert m["grid"] == {"code": "D111A"} and m["outsideCoverage"] is False
    assert (m["version"], m["status"], m["verified"]) == (1, "OPEN", False)
    assert (m["phone"], m["telUri"]) == ("13800138000", "tel:+8613800138000")
    assert m["address"] == "大学路1号" and m["openingHours"] == "Mo-Su 22:00-02:00"


async def test_outside_coverage_is_stored_and_flagged(district: httpx.AsyncClient) -> None:
    made = (await gql(district, CREATE, i=shop(location=FAR_AWAY)))["createMerchant"]
    assert made["__typename"] == "MerchantSaved"
    assert made["merchant"]["outsideCoverage"] is True and made["merchant"]["grid"] is None
    again = await gql(district, "query ($id: ID!) { merchant(id: $id) { name } }",
                      id=made["merchant"]["id"])  # fmt: skip
    assert again["merchant"]["name"] == "老王便利店"


async def test_gcj02_in_and_out(district: httpx.AsyncClient) -> None:
    lon, lat = wgs84_to_gcj02(INSIDE_A["longitude"], INSIDE_A["latitude"])
    gcj = {"longitude": lon, "latitude": lat, "system": "GCJ02"}
    m = (await gql(district, CREATE, i=shop(location=gcj), out="GCJ02"))["createMerchant"]
    loc = m["merchant"]["location"]
    assert loc["system"] == "GCJ02"
    assert (loc["longitude"], loc["latitude"]) == pytest.approx((lon, lat), abs=1e-9)
    assert gcj02_to_wgs84(lon, lat) == pytest.approx(
        (INSIDE_A["longitude"], INSIDE_A["latitude"]), abs=1e-8
    )
    assert m["merchant"]["grid"]["code"] == "D111A"


@pytest.mark.parametrize(
    ("fields", "typename", "detail"),
    [
        ({"category": "bakery"}, "UnknownCategoryError", {"code": "bakery"}),
        ({"phone": "12345"}, "InvalidPhoneError", {"phone": "12345"}),
        ({"phone": "6789123"}, "InvalidPhoneError", {"phone": "6789123"}),
        ({"openingHours": "Mo-Fr 9-17"}, "InvalidOpeningHoursError", {"hours": "Mo-Fr 9-17"}),
        ({"name": "  "}, "InvalidArgumentError", {"argument": "name"}),
        ({"name": "店\x00"}, "InvalidArgumentError", {"argument": "name"}),
        ({"address": "路\x00"}, "InvalidArgumentError", {"argument": "address"}),
        ({"location": {"longitude": 200.0, "latitude": 0.0}}, "InvalidCoordinateError", {}),
    ],
)
async def test_create_refusals_are_typed(
    district: httpx.AsyncClient, fields: dict[str, Any], typename: str, detail: dict[str, Any]
) -> None:
    out = (await gql(district, CREATE, i=shop(**fields)))["createMerchant"]
    assert out["__typename"] == typename, out
    assert out["message"]
    assert detail.items() <= out.items()


async def test_update_with_versions_and_clearing(district: httpx.AsyncClient) -> None:
    made = await gql(district, CREATE, i=shop(phone="13800138000"))
    mid = made["createMerchant"]["merchant"]["id"]
    moved = {"longitude": LON0 + 0.007, "latitude": LAT0 + 0.007}  # into D111E
    changed = await gql(
        district, UPDATE, i={"id": mid, "expectedVersion": 1, "name": "老王超市",
                             "category": "supermarket", "location": moved, "phone": None}
    )  # fmt: skip
    m = changed["updateMerchant"]["merchant"]
    assert (m["name"], m["category"]["code"], m["phone"], m["version"]) == (
        "老王超市", "supermarket", None, 2,
    )  # fmt: skip
    assert m["grid"]["code"] == "D111E", "an update re-routes the merchant"

    stale = await gql(district, UPDATE, i={"id": mid, "expectedVersion": 1, "name": "x"})
    assert stale["updateMerchant"] == {
        "__typename": "VersionConflictError",
        "message": f"merchant {mid} changed: you expected version 1, it is at version 2",
        "expectedVersion": 1,
        "currentVersion": 2,
    }
    untouched = await gql(district, UPDATE, i={"id": mid, "expectedVersion": 2})
    assert untouched["updateMerchant"]["merchant"]["name"] == "老王超市"
    null_name = await gql(district, UPDATE, i={"id": mid, "expectedVersion": 3, "name": None})
    assert null_name["updateMerchant"]["argument"] == "name"
    for bad_id in ("999", "abc", "99999999999"):
        missing = await gql(district, UPDATE, i={"id": bad_id, "expectedVersion": 1})
        assert missing["updateMerchant"]["__typename"] == "NotFoundError"
        assert missing["updateMerchant"]["kind"] == "merchant"


async def test_close_keeps_the_merchant_out_of_lists(district: httpx.AsyncClient) -> None:
    mid = (await gql(district, CREATE, i=shop()))["createMerchant"]["merchant"]["id"]
    nearby = """query ($p: PointInput!) { nearbyMerchants(near: $p, radiusM: 50) {
        ... on NearbyMerchantConnection { edges { node { id } } } } }"""
    assert (await gql(district, nearby, p=INSIDE_A))["nearbyMerchants"]["edges"]
    stale = await gql(district, CLOSE, id=mid, v=7)
    assert stale["closeMerchant"] == {"__typename": "VersionConflictError", "currentVersion": 1}
    closed = await gql(district, CLOSE, id=mid, v=1)
    assert closed["closeMerchant"]["merchant"] == {"status": "CLOSED", "version": 2}
    assert (await gql(district, nearby, p=INSIDE_A))["nearbyMerchants"]["edges"] == []
    kept = await gql(district, "query ($id: ID!) { merchant(id: $id) { status } }", id=mid)
    assert kept["merchant"]["status"] == "CLOSED"
    assert (await gql(district, CLOSE, id="0", v=1))["closeMerchant"]["kind"] == "merchant"


SERVICE_POINT = """... on ServicePointSaved { servicePoint { id name version kind { code }
                       grid { code } phone outsideCoverage } }
    ... on Error { message } ... on UnknownServicePointKindError { code }"""


async def test_service_point_writes(district: httpx.AsyncClient) -> None:
    create = f"""mutation ($i: CreateServicePointInput!) {{ createServicePoint(input: $i) {{
        __typename {SERVICE_POINT} }} }}"""
    update = f"""mutation ($i: UpdateServicePointInput!) {{ updateServicePoint(input: $i) {{
        __typename {SERVICE_POINT} ... on VersionConflictError {{ currentVersion }} }} }}"""
    point = {"kind": "public_toilet", "name": "大学路公厕", "location": INSIDE_A}
    made = (await gql(district, create, i=point))["createServicePoint"]
    sp = made["servicePoint"]
    assert (sp["kind"]["code"], sp["grid"]["code"], sp["version"]) == ("public_toilet", "D111A", 1)
    unknown = (await gql(district, create, i={**point, "kind": "toilet"}))["createServicePoint"]
    assert unknown["__typename"] == "UnknownServicePointKindError" and unknown["code"] == "toilet"
    change = {
        "id": sp["id"],
        "expectedVersion": 1,
        "name": "大学路公共厕所",
        "phone": "0371-67891234",
    }
    renamed = await gql(district, update, i=change)
    assert renamed["updateServicePoint"]["servicePoint"]["version"] == 2
    stale = await gql(district, update, i={"id": sp["id"], "expectedVersion": 1, "name": "x"})
    assert stale["updateServicePoint"]["currentVersion"] == 2


WRITES = """mutation {
  createMerchant(input: {name: "店", category: "pharmacy",
    location: {longitude: 113.6, latitude: 34.7}}) { __typename }
  updateMerchant(input: {id: "1", expectedVersion: 1}) { __typename }
  closeMerchant(id: "1", expectedVersion: 1) { __typename }
  createServicePoint(input: {kind: "public_toilet", name: "厕",
    location: {longitude: 113.6, latitude: 34.7}}) { __typename }
  updateServicePoint(input: {id: "1", expectedVersion: 1}) { __typename }
  createCircleCode(input: {name: "板", center: {longitude: 113.6, latitude: 34.7}}) {
    __typename }
  retireCircleCode(code: "nope") { __typename }
  importGrids(geojson: "{}") { __typename } }"""


async def test_every_write_is_refused_to_anyone_but_an_administrator(
    district: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    created = await gql(district, CREATE, i=shop())
    assert created["createMerchant"]["__typename"] == "MerchantSaved"
    district.headers.pop("authorization")
    answers = (await district.post("/graphql", json={"query": WRITES})).json()["data"]
    assert set(answers) == {
        "createMerchant", "updateMerchant", "closeMerchant", "createServicePoint",
        "updateServicePoint", "createCircleCode", "retireCircleCode", "importGrids",
    }  # fmt: skip
    assert {a["__typename"] for a in answers.values()} == {"AuthenticationRequiredError"}
    token = await account_token(engine, name="居民", role=Role.RESIDENT)
    district.headers["authorization"] = f"Bearer {token}"
    answers = (await district.post("/graphql", json={"query": WRITES})).json()["data"]
    assert {a["__typename"] for a in answers.values()} == {"NotPermittedError"}
    # The merchant that exists (id 1) and the one that does not are refused alike, and
    # nothing changed.
    merchant = await gql(district, '{ merchant(id: "1") { version status } }')
    assert merchant["merchant"] == {"version": 1, "status": "OPEN"}
