"""How the tests reach the app: served in process over ASGI, one GraphQL call, the command."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from api.settings import Settings
from api.web.app import create_app

#: The `circle` command of the project's virtual environment.
CIRCLE = str(Path(__file__).parents[2] / ".venv" / "bin" / "circle")


@asynccontextmanager
async def served(
    settings: Settings,
    *,
    client: tuple[str, int] = ("127.0.0.1", 123),
    base_url: str = "http://testserver",
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client driving the app of ``settings`` in process, lifespan included (the
    pools open, the sweeper runs); ``client`` is the peer address the app sees."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            yield http


async def gql(
    client: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    """POSTs the query as the holder of ``token`` (anonymous without); returns `data`."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = {"query": query, "variables": variables}
    response = await client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert "errors" not in payload, payload
    return payload["data"]  # type: ignore[no-any-return]


def serving_env(settings: Settings, **more: str) -> dict[str, str]:
    """The environment of a `circle serve` process on the database of ``settings``, as the
    application's roles and with its trail keys."""
    return {
        **os.environ,
        "DATABASE_URL": settings.database(),
        "DATABASE_READ_URL": settings.read_database(),
        "TRAIL_KEYS": settings.trail_keys or "",
        "LOG_LEVEL": "WARNING",
        **more,
    }
