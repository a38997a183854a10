"""Grid workers' phones are for the grid a caller asks about, not a directory
(api.schema.permissions): staff see them everywhere, everyone else on a looked-up grid."""

from __future__ import annotations

import httpx
import pytest

from api.schema.permissions import WORKER_LOOKUPS_PER_REQUEST
from tests.builders.accounts import World
from tests.builders.case_api import point
from tests.builders.clients import gql

pytestmark = pytest.mark.anyio

LIST = """{ grids(first: 100) { ... on GridConnection { edges { node {
  code workers { name phone } children { workers { phone } } ancestors { workers { phone } }
} } } } }"""
AT = """query ($p: PointInput!) { gridAt(point: $p) { ... on GridMatch {
  grid { code workers { name phone } parent { workers { phone } } } } } }"""


def phones(value: object) -> list[str]:
    """Every phone anywhere in an answer."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in ([v] if k == "phone" else phones(v))]
    if isinstance(value, list):
        return [p for v in value for p in phones(v)]
    return []


async def test_lists_show_no_phones_to_anonymous_callers_or_residents(
    client: httpx.AsyncClient, world: World
) -> None:
    for token in (None, world.resident):
        listed = await gql(client, LIST, token)
        assert len(listed["grids"]["edges"]) == 8
        assert phones(listed) == [], "no directory of workers"
    staff = await gql(client, LIST, world.l3_worker)
    assert len(set(phones(staff))) == 4, "staff see every grid's workers"


async def test_the_worker_of_the_grid_at_a_point_or_a_code(
    client: httpx.AsyncClient, world: World
) -> None:
    found = (await gql(client, AT, p=point()))["gridAt"]["grid"]
    assert found["code"] == "D111A"
    assert found["workers"] == [{"name": "王伟", "phone": "13800000001"}]
    assert found["parent"]["workers"] == [], "the grid asked about, not its neighbours"
    coded = await gql(client, '{ grid(code: "D111") { workers { phone } } }')
    assert phones(coded) == ["13800000002"]


async def test_aliases_are_no_way_round(client: httpx.AsyncClient, world: World) -> None:
    codes = ["D1", "D11", "D111", "D111A"]
    query = (
        "{ "
        + " ".join(
            f'g{i}: grid(code: "{code}") {{ workers {{ phone }} }}' for i, code in enumerate(codes)
        )
        + " }"
    )
    anonymous = await gql(client, query)
    assert len(phones(anonymous)) == WORKER_LOOKUPS_PER_REQUEST < len(codes)
    assert len(phones(await gql(client, query, world.district_agent))) == len(codes)
