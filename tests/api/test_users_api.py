"""Accounts over GraphQL: administrators create users and give and take their tokens."""

from __future__ import annotations

import httpx
import pytest

from tests.builders.accounts import World
from tests.builders.clients import gql

pytestmark = pytest.mark.anyio

CREATE = """mutation ($input: CreateUserInput!) { createUser(input: $input) { __typename
  ... on UserSaved { user { id name role seat department active gridCodes } }
  ... on Error { message } ... on NotFoundError { kind id } } }"""
ISSUE = """mutation ($user: Int!, $days: Int!) { issueToken(userId: $user, days: $days) {
  __typename ... on TokenIssued { token prefix expiresAt } ... on Error { message } } }"""
REVOKE = """mutation ($prefix: String!) { revokeToken(prefix: $prefix) { __typename
  ... on TokenRevoked { prefix revokedAt } ... on NotFoundError { kind } } }"""
DEACTIVATE = """mutation ($id: Int!) { deactivateUser(id: $id) { __typename
  ... on UserSaved { user { active } } ... on NotFoundError { kind } } }"""
USERS = """query ($first: Int!, $after: Int) { users(first: $first, after: $after) { __typename
  ... on UserList { users { id name liveTokens gridCodes } hasNextPage }
  ... on InvalidArgumentError { argument } } }"""
VIEWER = "{ viewer { name role } }"


async def test_an_administrator_creates_a_worker_who_signs_in_until_revoked(
    client: httpx.AsyncClient, world: World
) -> None:
    worker = {"name": "赵敏", "role": "GRID_WORKER", "grids": ["D111A"], "phone": "13800000001"}
    made = (await gql(client, CREATE, world.admin, input=worker))["createUser"]
    assert made["__typename"] == "UserSaved"
    user = made["user"]
    assert (user["role"], user["active"], user["gridCodes"]) == ("GRID_WORKER", True, ["D111A"])

    issued = (await gql(client, ISSUE, world.admin, user=user["id"], days=7))["issueToken"]
    assert issued["__typename"] == "TokenIssued"
    assert (await gql(client, VIEWER, issued["token"]))["viewer"] == {
        "name": "赵敏",
        "role": "GRID_WORKER",
    }
    listed = (await gql(client, USERS, world.admin, first=100))["users"]
    mine = next(u for u in listed["users"] if u["id"] == user["id"])
    assert mine == {"id": user["id"], "name": "赵敏", "liveTokens": 1, "gridCodes": ["D111A"]}

    revoked = (await gql(client, REVOKE, world.admin, prefix=issued["prefix"]))["revokeToken"]
    assert revoked["__typename"] == "TokenRevoked"
    response = await client.post(
        "/graphql",
        json={"query": VIEWER},
        headers={"authorization": f"Bearer {issued['token']}"},
    )
    assert response.status_code == 401

    again = (await gql(client, ISSUE, world.admin, user=user["id"], days=1))["issueToken"]
    gone = (await gql(client, DEACTIVATE, world.admin, id=user["id"]))["deactivateUser"]
    assert gone == {"__typename": "UserSaved", "user": {"active": False}}
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"authorization": f"Bearer {again['token']}"}
    )
    assert response.status_code == 401, "a deactivated user's tokens stop working"


async def test_account_inputs_are_checked(client: httpx.AsyncClient, world: World) -> None:
    no_grid = {"name": "钱", "role": "GRID_WORKER", "grids": []}
    refused = (await gql(client, CREATE, world.admin, input=no_grid))["createUser"]
    assert refused["__typename"] == "InvalidArgumentError"
    unknown = {"name": "钱", "role": "GRID_WORKER", "grids": ["NOPE"]}
    missing = (await gql(client, CREATE, world.admin, input=unknown))["createUser"]
    assert (missing["__typename"], missing["kind"], missing["id"]) == (
        "NotFoundError",
        "grid",
        "NOPE",
    )
    too_long = (await gql(client, ISSUE, world.admin, user=1, days=400))["issueToken"]
    assert too_long["__typename"] == "InvalidArgumentError"
    nobody = (await gql(client, ISSUE, world.admin, user=999_999, days=1))["issueToken"]
    assert nobody["__typename"] == "NotFoundError"
    assert (await gql(client, REVOKE, world.admin, prefix="nope"))["revokeToken"] == {
        "__typename": "NotFoundError",
        "kind": "token",
    }
    page = (await gql(client, USERS, world.admin, first=101))["users"]
    assert page == {"__typename": "InvalidArgumentError", "argument": "first"}


async def test_users_are_paged_by_id(client: httpx.AsyncClient, world: World) -> None:
    seen: list[int] = []
    after = None
    while True:
        page = (await gql(client, USERS, world.admin, first=4, after=after))["users"]
        seen += [u["id"] for u in page["users"]]
        if not page["hasNextPage"]:
            break
        after = seen[-1]
    assert seen == sorted(world.user_ids.values())
