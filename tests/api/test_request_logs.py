"""Logs an operator can use: one JSON line per request, every route, with its request id,
client address, method, path, status, GraphQL operation, duration and account."""

from __future__ import annotations

import dataclasses
import logging
import re

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from api.settings import Settings
from api.web.logs import JsonFormatter
from geo.accounts.models import Role
from tests.builders.accounts import account_token
from tests.builders.clients import served
from tests.builders.databases import truncate_all

pytestmark = pytest.mark.anyio

PROXY = "10.0.0.2"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    """The access log's records, as the JSON formatter writes them."""
    formatter = JsonFormatter()
    return [orjson.loads(formatter.format(r)) for r in caplog.records if r.name == "circle.access"]


async def test_every_route_is_logged_once_with_what_an_operator_needs(
    settings: Settings, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    token = await account_token(engine, name="管理员", role=Role.ADMIN)
    behind_proxy = dataclasses.replace(settings, trusted_proxies=(PROXY,))
    forwarded = {"x-forwarded-for": "203.0.113.7"}
    try:
        with caplog.at_level(logging.INFO, logger="circle.access"):
            async with served(behind_proxy, client=(PROXY, 4000)) as http:
                named = {"query": "query Probe { __typename }"}
                await http.post("/graphql", json=named, headers=forwarded)
                signed_in = {**forwarded, "authorization": f"Bearer {token}"}
                await http.post("/graphql", json={"query": "query Me { viewer { name } }"},
                                headers=signed_in)  # fmt: skip
                await http.get("/healthz", headers=forwarded)
                await http.get("/c/NO-SUCH-CODE", headers=forwarded)
                await http.get("/metrics")
    finally:
        await truncate_all(engine)
    lines = access_lines(caplog)
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("POST", "/graphql", 200),
        ("POST", "/graphql", 200),
        ("GET", "/healthz", 200),
        ("GET", "/c/NO-SUCH-CODE", 404),
        ("GET", "/metrics", 200),
    ]
    assert [line.get("op") for line in lines[:2]] == ["Probe", "Me"]
    assert "account" not in lines[0]
    assert isinstance(lines[1]["account"], int)
    assert [line["client"] for line in lines] == ["203.0.113.7"] * 4 + [PROXY]
    for line in lines:
        assert ISO_UTC.match(str(line["ts"])), line["ts"]
        assert isinstance(line["ms"], float)
        assert re.fullmatch(r"[0-9a-f]{32}", str(line["request_id"]))
    assert len({line["request_id"] for line in lines}) == len(lines)


async def test_a_trusted_proxys_request_id_is_kept_and_echoed(settings: Settings) -> None:
    behind_proxy = dataclasses.replace(settings, trusted_proxies=(PROXY,))
    async with served(behind_proxy, client=(PROXY, 4000)) as http:
        response = await http.get("/healthz", headers={"x-request-id": "nginx-abc123"})
    assert response.headers["x-request-id"] == "nginx-abc123"


async def test_anybody_elses_request_id_is_replaced(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="circle.access"):
        async with served(settings, client=("198.51.100.9", 4000)) as http:
            chosen = await http.get("/healthz", headers={"x-request-id": "chosen-by-client"})
            # A trusted proxy's id must still look like one: no spaces, quotes or newlines.
    assert chosen.headers["x-request-id"] != "chosen-by-client"
    assert access_lines(caplog)[0]["request_id"] == chosen.headers["x-request-id"]
    behind_proxy = dataclasses.replace(settings, trusted_proxies=(PROXY,))
    async with served(behind_proxy, client=(PROXY, 4000)) as http:
        forged = await http.get("/healthz", headers={"x-request-id": 'x" \n{"level":"error"}'})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["x-request-id"])


def test_log_lines_have_iso_timestamps_and_no_colour_codes() -> None:
    record = logging.makeLogRecord(
        {
            "name": "uvicorn.error",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "Started server process [%d]",
            "args": (42,),
            "color_message": "Started server process [\x1b[36m%d\x1b[0m]",
        }
    )
    line = JsonFormatter().format(record)
    assert "\x1b" not in line
    parsed = orjson.loads(line)
    assert parsed["msg"] == "Started server process [42]"
    assert ISO_UTC.match(parsed["ts"])


async def test_the_graphql_outcome_is_in_the_line(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="circle.access"):
        await client.post("/graphql", json={"query": "{ nope }"})
    (line,) = access_lines(caplog)
    assert line["outcome"] == "rejected"


async def test_a_long_operation_name_is_logged_cut(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    name = "Q" * 100_000
    with caplog.at_level(logging.INFO, logger="circle.access"):
        body = {"query": "query Q { __typename }", "operationName": name}
        await client.post("/graphql", json=body)
    (line,) = access_lines(caplog)
    assert line["op"] == "Q" * 100
