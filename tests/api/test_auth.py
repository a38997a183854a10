"""Bearer tokens: issued, listed and revoked with the `circle` command, presented over HTTP.

No header: anonymous. A header that does not authenticate (another scheme, a malformed,
unknown, expired or revoked token, an inactive user): HTTP 401 before anything runs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import anyio
import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.builders.accounts import World
from tests.builders.clients import gql
from tests.builders.shapes import tiny_district

pytestmark = pytest.mark.anyio

CIRCLE = str(Path(__file__).parents[2] / ".venv" / "bin" / "circle")
VIEWER = "{ viewer { name role seat department grids { code } } }"


async def refused(client: httpx.AsyncClient, authorization: str) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"authorization": authorization}
    )
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    return error  # type: ignore[no-any-return]


async def test_no_header_is_anonymous_and_a_token_names_its_user(
    client: httpx.AsyncClient, world: World
) -> None:
    assert (await gql(client, VIEWER))["viewer"] is None
    viewer = (await gql(client, VIEWER, world.subdistrict_agent))["viewer"]
    assert viewer == {
        "name": "subdistrict_agent",
        "role": "AGENT",
        "seat": "SUBDISTRICT",
        "department": None,
        "grids": [{"code": "D1"}],
    }
    got = await client.get(
        "/graphql",
        params={"query": VIEWER},
        headers={"authorization": f"bearer {world.handler}"},  # the scheme is case-insensitive
    )
    assert got.json()["data"]["viewer"]["role"] == "HANDLER"


@pytest.mark.parametrize(
    "authorization",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-token", "Bearer circle_0123456789_" + "A" * 43],
)
async def test_bad_credentials_are_401(client: httpx.AsyncClient, authorization: str) -> None:
    error = await refused(client, authorization)
    assert "Bearer" in error["message"] or "not valid" in error["message"]


async def test_expired_revoked_and_inactive_are_401(
    client: httpx.AsyncClient, world: World, engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE api_tokens SET expires_at = now() - interval '1 s' WHERE user_id = :u"),
            {"u": world.user_ids["resident"]},
        )
        await conn.execute(
            text("UPDATE api_tokens SET revoked_at = now() WHERE user_id = :u"),
            {"u": world.user_ids["handler"]},
        )
        await conn.execute(
            text("UPDATE users SET active = false WHERE id = :u"), {"u": world.user_ids["admin"]}
        )
    for token in (world.resident, world.handler, world.admin):
        await refused(client, f"Bearer {token}")
    assert (await gql(client, VIEWER, world.l3_worker))["viewer"]["role"] == "GRID_WORKER"


async def circle(database_url: str, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    done = await anyio.run_process([CIRCLE, *args], env=env, check=False)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


async def test_users_and_tokens_through_the_cli(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    grids = tmp_path / "tiny.geojson"
    grids.write_bytes(orjson.dumps(tiny_district()))
    assert (await circle(database_url, "import", "grids", str(grids)))[0] == 0

    code, out, _ = await circle(
        database_url, "user", "add", "--name", "王伟", "--role", "grid_worker", "--grid", "D111"
    )
    assert code == 0 and re.fullmatch(r"user: \d+ 王伟 \(grid_worker; grids D111\)\n", out), out
    user_id = out.split()[1]
    for bad, says in (
        (["--role", "AGENT"], "agents, and only agents, have a seat"),
        (["--role", "GRID_WORKER", "--grid", "NOPE"], "no grid has the code NOPE"),
        (["--role", "HANDLER"], "handlers and department seats need a department"),
    ):
        code, _, err = await circle(database_url, "user", "add", "--name", "某人", *bad)
        assert code == 1 and says in err and "Traceback" not in err, err

    code, out, _ = await circle(database_url, "token", "issue", user_id, "--days", "1")
    assert code == 0, out
    token = re.search(r"^token: (circle_\S+)$", out, re.M).group(1)  # type: ignore[union-attr]
    prefix = re.search(r"token id ([0-9a-f]{10}) ", out).group(1)  # type: ignore[union-attr]
    viewer = (await gql(client, VIEWER, token))["viewer"]
    assert viewer["name"] == "王伟" and viewer["grids"] == [{"code": "D111"}]

    code, out, _ = await circle(database_url, "user", "list")
    assert code == 0 and "王伟" in out and "grids D111" in out and "1 tokens" in out, out

    code, out, _ = await circle(database_url, "token", "revoke", prefix)
    assert code == 0 and f"token {prefix} revoked" in out
    await refused(client, f"Bearer {token}")
    assert "0 tokens" in (await circle(database_url, "user", "list"))[1]

    code, _, err = await circle(database_url, "token", "revoke", "0000000000")
    assert code == 1 and "token 0000000000 does not exist" in err
    code, _, err = await circle(database_url, "token", "issue", user_id, "--days", "0")
    assert code == 1 and "--days" in err
    code, _, err = await circle(database_url, "token", "issue", "999999")
    assert code == 1 and "user 999999 does not exist" in err


async def test_a_cli_token_expires(client: httpx.AsyncClient, database_url: str) -> None:
    code, out, _ = await circle(database_url, "user", "add", "--name", "居民", "--role", "resident")
    assert code == 0, out
    user_id = out.split()[1]
    code, out, _ = await circle(database_url, "token", "issue", user_id, "--days", "0.00003")
    assert code == 0, out
    token = re.search(r"^token: (circle_\S+)$", out, re.M).group(1)  # type: ignore[union-attr]
    assert (await gql(client, VIEWER, token))["viewer"]["name"] == "居民"  # about 2.6 s to live
    await anyio.sleep(3)
    await refused(client, f"Bearer {token}")
