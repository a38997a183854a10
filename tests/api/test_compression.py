"""Compression in the app, for when no proxy in front does it: large answers go out gzipped
to clients that accept it, small ones and clients that do not get them as they are."""

from __future__ import annotations

import gzip

import httpx
import pytest

pytestmark = pytest.mark.anyio

NEARBY = """{ nearbyMerchants(near: {longitude: 113.65, latitude: 34.75}, radiusM: 3000,
  first: 100) { ... on NearbyMerchantConnection { edges { distanceM node { name phone } } } } }"""


async def raw(
    client: httpx.AsyncClient, method: str, path: str, **options: object
) -> httpx.Response:
    """The response as sent: httpx would otherwise decode it."""
    request = client.build_request(method, path, **options)  # type: ignore[arg-type]
    response = await client.send(request, stream=True)
    body = b"".join([chunk async for chunk in response.aiter_raw()])
    await response.aclose()
    response._content = body
    return response


async def test_the_grid_export_goes_out_gzipped(seeded_client: httpx.AsyncClient) -> None:
    plain = await seeded_client.get("/grids.geojson", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert len(plain.content) > 1_000_000  # the whole district, some 3 MB
    zipped = await raw(seeded_client, "GET", "/grids.geojson", headers={"accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in zipped.headers["vary"].lower()
    assert len(zipped.content) < len(plain.content) / 3
    assert gzip.decompress(zipped.content) == plain.content


async def test_a_large_graphql_answer_is_gzipped(seeded_client: httpx.AsyncClient) -> None:
    body = {"query": NEARBY}
    plain = await seeded_client.post("/graphql", json=body, headers={"accept-encoding": "identity"})
    zipped = await raw(seeded_client, "POST", "/graphql", json=body,
                       headers={"accept-encoding": "gzip, br"})  # fmt: skip
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) == len(zipped.content)
    assert gzip.decompress(zipped.content) == plain.content


async def test_small_answers_and_refusing_clients_get_them_as_they_are(
    seeded_client: httpx.AsyncClient,
) -> None:
    small = await raw(seeded_client, "POST", "/graphql", json={"query": "{ __typename }"},
                      headers={"accept-encoding": "gzip"})  # fmt: skip
    assert "content-encoding" not in small.headers
    assert small.content == b'{"data":{"__typename":"Query"}}'
    refusing = await raw(seeded_client, "GET", "/grids.geojson?level=L1",
                         headers={"accept-encoding": "gzip;q=0, identity"})  # fmt: skip
    assert "content-encoding" not in refusing.headers
