"""CORS: browsers on the allowed origins (CORS_ORIGINS) may call the API; others are refused,
and with no allow-list (the default) every cross-origin preflight is."""

from __future__ import annotations

import dataclasses

import pytest

from api.settings import Settings
from tests.builders.clients import served

pytestmark = pytest.mark.anyio

APP = "https://mini.example.cn"
PREFLIGHT = {
    "access-control-request-method": "POST",
    "access-control-request-headers": "content-type, authorization",
}


async def test_a_preflight_from_an_allowed_origin_is_answered(settings: Settings) -> None:
    allowing = dataclasses.replace(settings, cors_origins=(APP,))
    async with served(allowing) as http:
        response = await http.options("/graphql", headers={"origin": APP, **PREFLIGHT})
        call = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": APP}
        )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert call.headers["access-control-allow-origin"] == APP
    assert "x-request-id" in call.headers["access-control-expose-headers"].lower()


@pytest.mark.parametrize("origins", [(APP,), ()])
async def test_a_preflight_from_another_origin_is_refused(
    settings: Settings, origins: tuple[str, ...]
) -> None:
    async with served(dataclasses.replace(settings, cors_origins=origins)) as http:
        response = await http.options(
            "/graphql", headers={"origin": "https://evil.example", **PREFLIGHT}
        )
        call = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": "https://evil.example"}
        )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in call.headers
