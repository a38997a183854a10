"""Circle codes (一码通) over GraphQL: issue, look up the place's circle, retire."""

from __future__ import annotations

import re

import httpx
import orjson
import pytest

from tests.builders.clients import gql
from tests.builders.shapes import LAT0, LON0, tiny_district

pytestmark = pytest.mark.anyio

CENTRE = {"longitude": LON0 + 0.002, "latitude": LAT0 + 0.002}  # micro-grid D111A


CREATE = """mutation ($i: CreateCircleCodeInput!) { createCircleCode(input: $i) {
  __typename
  ... on CircleCodeSaved { circleCode { code name active url qrSvgUrl qrPngUrl
                                        grid { code } center { longitude latitude } } }
  ... on Error { message } ... on InvalidArgumentError { argument }
  ... on NotFoundError { kind id } ... on InvalidCoordinateError { longitude }
} }"""
CIRCLE = """query ($code: String!) { circle(code: $code) {
  __typename
  ... on PlaceCircle { place { code name } circle { radiusM
      categories { category { code } count nearest { merchant { name } distanceM } } } }
  ... on NotFoundError { kind id message }
} }"""
RETIRE = """mutation ($code: String!) { retireCircleCode(code: $code) {
  __typename ... on CircleCodeSaved { circleCode { active retiredAt } }
  ... on NotFoundError { kind id } } }"""


@pytest.fixture
async def district(admin_client: httpx.AsyncClient) -> httpx.AsyncClient:
    client = admin_client
    mutation = "mutation ($fc: String!) { importGrids(geojson: $fc) { __typename } }"
    await gql(client, mutation, fc=orjson.dumps(tiny_district()).decode())
    shop = """mutation { createMerchant(input: {name: "大学路药房", category: "pharmacy",
        location: {longitude: 113.6021, latitude: 34.7021}}) { __typename } }"""
    await gql(client, shop)
    return client


async def test_issue_a_code_and_open_its_circle(district: httpx.AsyncClient) -> None:
    made = await gql(district, CREATE, i={"name": "大学路社区公告栏", "center": CENTRE})
    code = made["createCircleCode"]["circleCode"]
    assert re.fullmatch(r"[0-9a-hjkmnp-tv-z]{10}", code["code"]), code["code"]
    assert code["grid"] == {"code": "D111A"} and code["active"] is True
    assert code["url"] == f"http://127.0.0.1:8000/c/{code['code']}"
    assert code["qrSvgUrl"].endswith(f"/qr/{code['code']}.svg")
    circle = (await gql(district, CIRCLE, code=code["code"]))["circle"]
    assert circle["__typename"] == "PlaceCircle"
    assert circle["place"] == {"code": code["code"], "name": "大学路社区公告栏"}
    pharmacy = next(
        c for c in circle["circle"]["categories"] if c["category"]["code"] == "pharmacy"
    )
    assert pharmacy["count"] == 1 and pharmacy["nearest"][0]["merchant"]["name"] == "大学路药房"


async def test_chosen_codes_grids_and_refusals(district: httpx.AsyncClient) -> None:
    chosen = {"name": "板", "center": CENTRE, "code": "erqi-board_01", "grid": "D111"}
    made = (await gql(district, CREATE, i=chosen))["createCircleCode"]
    assert made["circleCode"]["code"] == "erqi-board_01"
    assert made["circleCode"]["grid"] == {"code": "D111"}
    taken = (await gql(district, CREATE, i=chosen))["createCircleCode"]
    assert taken["__typename"] == "InvalidArgumentError" and taken["argument"] == "code"
    for bad in ("abc", "x" * 33, "有中文的码", "a/b?c", "a b c d"):
        out = (await gql(district, CREATE, i={**chosen, "code": bad}))["createCircleCode"]
        assert out == {**out, "__typename": "InvalidArgumentError", "argument": "code"}, bad
    no_grid = await gql(district, CREATE, i={**chosen, "code": None, "grid": "X9"})
    assert no_grid["createCircleCode"]["kind"] == "grid"
    for name in ("", "  ", "名\x00"):
        out = (await gql(district, CREATE, i={"name": name, "center": CENTRE}))["createCircleCode"]
        assert out["__typename"] == "InvalidArgumentError" and out["argument"] == "name"
    far = {"name": "北京", "center": {"longitude": 116.4, "latitude": 39.9}}
    outside = (await gql(district, CREATE, i=far))["createCircleCode"]
    assert outside["__typename"] == "CircleCodeSaved" and outside["circleCode"]["grid"] is None
    bad_point = {"name": "x", "center": {"longitude": 0.0, "latitude": 95.0}}
    assert (await gql(district, CREATE, i=bad_point))["createCircleCode"]["__typename"] == (
        "InvalidCoordinateError"
    )


async def test_retired_and_unknown_codes_are_not_found(district: httpx.AsyncClient) -> None:
    code = (await gql(district, CREATE, i={"name": "板", "center": CENTRE}))["createCircleCode"]
    text = code["circleCode"]["code"]
    retired = (await gql(district, RETIRE, code=text))["retireCircleCode"]
    assert retired["circleCode"]["active"] is False and retired["circleCode"]["retiredAt"]
    again = (await gql(district, RETIRE, code=text))["retireCircleCode"]
    assert again["circleCode"]["retiredAt"] == retired["circleCode"]["retiredAt"]
    for unknown in (text, "never-issued", "", "\x00", "x" * 500):
        out = (await gql(district, CIRCLE, code=unknown))["circle"]
        assert out["__typename"] == "NotFoundError" and out["kind"] == "circle_code"
    assert (await gql(district, RETIRE, code="nope!"))["retireCircleCode"]["kind"] == "circle_code"
