# ruff: noqa: E501  (the expected table reads best one role per column)
"""The permission matrix: every role against every operation of the schema, one by one.

Each caller of the tiny world (tests/builders/accounts.py) runs every Query and Mutation
field on objects that exist: a merchant, a service point, a circle code, a case reported by
the resident in micro-grid D111A and an anonymous one beside it (its number and follow
code), a ledger item of grid D111. The answer is classified:

- ``ok``: the operation ran (its answer is data, or a domain error past the access check);
- ``auth``: AuthenticationRequiredError (anonymous caller, an account is needed);
- ``denied``: NotPermittedError / ActionNotPermittedError (the role or grids do not allow it);
- ``hidden``: NotFoundError for an object that exists (the caller may not even know it does);
- ``null``: a nullable field answered null (viewer, for an anonymous caller);
- ``ok:N``: a list the caller may read holds N cases (its scope);
- ``contact`` / ``no contact``: whether the case's reporter contact is readable.

Choices the table records: administrators manage the system (grids, places, codes,
accounts) and read every case, but take no workflow action and keep no meeting ledger
(separation of duties: the workflow table names the roles per action); a ledger item the
caller may not keep answers NotFound, like a case the caller may not see.

The expected table is written out below, row by row; a test checks every schema field has a
row, so a new operation cannot ship without deciding who may call it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from api.schema import schema
from api.schema.permissions import ROLES, Permission
from tests.builders.accounts import World
from tests.builders.case_api import point
from tests.builders.shapes import tiny_district

pytestmark = pytest.mark.anyio

PARTS = (
    "anonymous",
    "resident",
    "other_resident",
    "l3_worker",
    "outsider_worker",
    "district_agent",
    "subdistrict_agent",
    "department_seat",
    "handler",
    "admin",
)

# fmt: off
#: operation -> expected outcome per part, in the order of PARTS.
EXPECTED: dict[str, tuple[str, ...]] = {
    #                   anon      resident  other_res  l3_worker  outsider  dist_agent sub_agent  dept_seat  handler    admin
    "apiVersion":       ("ok",)*10,
    "grid":             ("ok",)*10,
    "grids":            ("ok",)*10,
    "gridAt":           ("ok",)*10,
    "nearbyMerchants":  ("ok",)*10,
    "nearbyServicePoints": ("ok",)*10,
    "merchants":        ("ok",)*10,
    "servicePoints":    ("ok",)*10,
    "merchant":         ("ok",)*10,
    "servicePoint":     ("ok",)*10,
    "merchantCategories": ("ok",)*10,
    "servicePointKinds": ("ok",)*10,
    "serviceCircle":    ("ok",)*10,
    "circle":           ("ok",)*10,
    "caseCategories":   ("ok",)*10,
    "workingCalendar":  ("ok",)*10,
    "viewer":           ("null", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"),
    "case":             ("auth", "ok", "hidden", "ok", "hidden", "ok", "ok", "hidden", "hidden", "ok"),
    "case.contact":     ("auth", "contact", "hidden", "contact", "hidden", "contact", "contact", "hidden", "hidden", "no contact"),
    "cases":            ("auth", "ok:1", "ok:0", "ok:2", "ok:0", "ok:2", "ok:2", "ok:0", "ok:0", "ok:2"),
    "caseTrail":        ("auth", "ok", "hidden", "ok", "hidden", "ok", "ok", "hidden", "hidden", "ok"),
    "caseStats":        ("auth", "denied", "denied", "denied", "denied", "ok", "denied", "ok", "ok", "ok"),
    "caseStats.D111A":  ("auth", "denied", "denied", "ok", "denied", "ok", "ok", "ok", "ok", "ok"),
    "ledgerItems":      ("auth", "denied", "denied", "ok", "denied", "ok", "ok", "denied", "denied", "denied"),
    "users":            ("auth", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    "importGrids":      ("auth", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    "createMerchant":   ("auth", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    "updateMerchant":   ("auth", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    "closeMerchant":    ("auth", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    "createServicePoint": ("auth", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    "updateServicePoint": ("auth", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    "createCircleCode": ("auth", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    "retireCircleCode": ("auth", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    "createUser":       ("auth", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    "deactivateUser":   ("auth", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    "issueToken":       ("auth", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    "revokeToken":      ("auth", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    "units":            ("auth", "denied", "denied", "ok", "ok", "ok", "ok", "ok", "ok", "ok"),
    "registerUnit":     ("auth", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    "retireUnit":       ("auth", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    "setWorkingCalendarYear": ("auth", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "denied", "ok"),
    "reportCase":       ("ok",)*10,
    "followedCase":     ("ok",)*10,
    "evaluateCase":     ("ok",)*10,
    "actOnCase":        ("auth", "denied", "hidden", "denied", "hidden", "ok", "ok", "hidden", "hidden", "denied"),
    "recordLedgerItem": ("auth", "denied", "denied", "ok", "denied", "ok", "ok", "denied", "denied", "denied"),
    "convertLedgerItem": ("auth", "hidden", "hidden", "ok", "hidden", "ok", "ok", "hidden", "hidden", "hidden"),
    "settleLedgerItem":  ("auth", "hidden", "hidden", "ok", "hidden", "ok", "ok", "hidden", "hidden", "hidden"),
}
# fmt: on

INSIDE_A = point()
TYPENAME = "{ __typename ... on Error { message } }"


@dataclass
class Objects:
    """Ids of what the operations act on (made by the administrator and the resident)."""

    merchant: str
    closable: str
    service_point: str
    circle_code: str
    case_id: int
    ledger_item: int
    throwaway_user: int
    throwaway_prefix: str
    #: An active account to issue a token for (the throwaway is deactivated earlier).
    resident_user: int
    #: A second ledger item (the first one is converted earlier).
    settle_item: int
    #: An anonymous report's number and follow code (anyone holding both follows it).
    followed_number: str
    follow_code: str


Operation = tuple[str, Callable[[Objects], dict[str, Any]]]

# fmt: off
OPERATIONS: dict[str, Operation] = {
    "apiVersion": ("{ x: apiVersion }", lambda o: {}),
    "grid": ('{ x: grid(code: "D111A") { code } }', lambda o: {}),
    "grids": ("{ x: grids(first: 5) " + TYPENAME + " }", lambda o: {}),
    "gridAt": (
        "query ($p: PointInput!) { x: gridAt(point: $p) { __typename } }",
        lambda o: {"p": INSIDE_A},
    ),
    "nearbyMerchants": (
        "query ($p: PointInput!) { x: nearbyMerchants(near: $p) " + TYPENAME + " }",
        lambda o: {"p": INSIDE_A},
    ),
    "nearbyServicePoints": (
        "query ($p: PointInput!) { x: nearbyServicePoints(near: $p) " + TYPENAME + " }",
        lambda o: {"p": INSIDE_A},
    ),
    "merchants": ('{ x: merchants(grid: "D1") ' + TYPENAME + " }", lambda o: {}),
    "servicePoints": ('{ x: servicePoints(grid: "D1") ' + TYPENAME + " }", lambda o: {}),
    "merchant": (
        "query ($id: ID!) { x: merchant(id: $id) { name } }",
        lambda o: {"id": o.merchant},
    ),
    "servicePoint": (
        "query ($id: ID!) { x: servicePoint(id: $id) { name } }",
        lambda o: {"id": o.service_point},
    ),
    "merchantCategories": ("{ x: merchantCategories { code } }", lambda o: {}),
    "servicePointKinds": ("{ x: servicePointKinds { code } }", lambda o: {}),
    "serviceCircle": (
        "query ($p: PointInput!) { x: serviceCircle(near: $p) " + TYPENAME + " }",
        lambda o: {"p": INSIDE_A},
    ),
    "circle": (
        "query ($c: String!) { x: circle(code: $c) " + TYPENAME + " }",
        lambda o: {"c": o.circle_code},
    ),
    "caseCategories": ("{ x: caseCategories { code } }", lambda o: {}),
    "workingCalendar": (
        '{ x: workingCalendar(from: "2027-02-01", to: "2027-02-28") { __typename } }',
        lambda o: {},
    ),
    "viewer": ("{ x: viewer { name } }", lambda o: {}),
    "case": (
        "query ($id: Int!) { x: case(id: $id) " + TYPENAME + " }",
        lambda o: {"id": o.case_id},
    ),
    "case.contact": (
        "query ($id: Int!) { x: case(id: $id) { __typename ... on Case { reporterContact } } }",
        lambda o: {"id": o.case_id},
    ),
    "cases": (
        "{ x: cases(first: 50) { __typename ... on CaseConnection { edges { node { id } } } } }",
        lambda o: {},
    ),
    "caseTrail": (
        "query ($id: Int!) { x: caseTrail(id: $id) " + TYPENAME + " }",
        lambda o: {"id": o.case_id},
    ),
    "caseStats": ("{ x: caseStats " + TYPENAME + " }", lambda o: {}),
    "caseStats.D111A": ('{ x: caseStats(grid: "D111A") ' + TYPENAME + " }", lambda o: {}),
    "ledgerItems": ('{ x: ledgerItems(grid: "D111") ' + TYPENAME + " }", lambda o: {}),
    "users": ("{ x: users " + TYPENAME + " }", lambda o: {}),
    "importGrids": (
        "mutation ($g: String!) { x: importGrids(geojson: $g) " + TYPENAME + " }",
        lambda o: {"g": orjson.dumps(tiny_district()).decode()},
    ),
    "createMerchant": (
        'mutation ($p: PointInput!) { x: createMerchant(input: {name: "新店", '
        'category: "pharmacy", location: $p}) ' + TYPENAME + " }",
        lambda o: {"p": INSIDE_A},
    ),
    "updateMerchant": (
        "mutation ($id: ID!) { x: updateMerchant(input: {id: $id, expectedVersion: 1, "
        'name: "改名"}) ' + TYPENAME + " }",
        lambda o: {"id": o.merchant},
    ),
    "closeMerchant": (
        "mutation ($id: ID!) { x: closeMerchant(id: $id, expectedVersion: 1) " + TYPENAME + " }",
        lambda o: {"id": o.closable},
    ),
    "createServicePoint": (
        'mutation ($p: PointInput!) { x: createServicePoint(input: {kind: "public_toilet", '
        'name: "公厕", location: $p}) ' + TYPENAME + " }",
        lambda o: {"p": INSIDE_A},
    ),
    "updateServicePoint": (
        "mutation ($id: ID!) { x: updateServicePoint(input: {id: $id, expectedVersion: 1, "
        'name: "改名"}) ' + TYPENAME + " }",
        lambda o: {"id": o.service_point},
    ),
    "createCircleCode": (
        'mutation ($p: PointInput!) { x: createCircleCode(input: {name: "板", center: $p}) '
        + TYPENAME
        + " }",
        lambda o: {"p": INSIDE_A},
    ),
    "retireCircleCode": (
        "mutation ($c: String!) { x: retireCircleCode(code: $c) " + TYPENAME + " }",
        lambda o: {"c": o.circle_code},
    ),
    "createUser": (
        'mutation { x: createUser(input: {name: "新人", role: RESIDENT}) ' + TYPENAME + " }",
        lambda o: {},
    ),
    "units": ("{ x: units " + TYPENAME + " }", lambda o: {}),
    "registerUnit": (
        'mutation { x: registerUnit(name: "区民政局") ' + TYPENAME + " }",
        lambda o: {},
    ),
    "retireUnit": (
        'mutation { x: retireUnit(name: "区住房和城乡建设局") ' + TYPENAME + " }",
        lambda o: {},
    ),
    "deactivateUser": (
        "mutation ($id: Int!) { x: deactivateUser(id: $id) " + TYPENAME + " }",
        lambda o: {"id": o.throwaway_user},
    ),
    "issueToken": (
        "mutation ($id: Int!) { x: issueToken(userId: $id) " + TYPENAME + " }",
        lambda o: {"id": o.resident_user},
    ),
    "revokeToken": (
        "mutation ($p: String!) { x: revokeToken(prefix: $p) " + TYPENAME + " }",
        lambda o: {"p": o.throwaway_prefix},
    ),
    "setWorkingCalendarYear": (  # a year chinesecalendar ships: refused past the access check
        "mutation { x: setWorkingCalendarYear(input: {year: 2026, days: []}) " + TYPENAME + " }",
        lambda o: {},
    ),
    "reportCase": (
        'mutation ($p: PointInput!) { x: reportCase(input: {category: "street_vending", '
        'description: "占道经营", location: $p, locationSource: GPS}) ' + TYPENAME + " }",
        lambda o: {"p": INSIDE_A},
    ),
    "followedCase": (
        "query ($n: String!, $c: String!) { x: followedCase(number: $n, code: $c) "
        + TYPENAME + " }",
        lambda o: {"n": o.followed_number, "c": o.follow_code},
    ),
    "evaluateCase": (
        "mutation ($n: String!, $c: String!) { x: evaluateCase(input: {number: $n, "
        "followCode: $c, satisfaction: SATISFIED, expectedVersion: 1}) " + TYPENAME + " }",
        lambda o: {"n": o.followed_number, "c": o.follow_code},
    ),
    "actOnCase": (
        "mutation ($id: Int!) { x: actOnCase(input: {caseId: $id, action: ACCEPT, "
        "expectedVersion: 1}) " + TYPENAME + " }",
        lambda o: {"id": o.case_id},
    ),
    "recordLedgerItem": (
        'mutation { x: recordLedgerItem(input: {grid: "D111", meeting: "议事会", text: "堆物"}) '
        + TYPENAME
        + " }",
        lambda o: {},
    ),
    "convertLedgerItem": (
        "mutation ($id: Int!, $p: PointInput!) { x: convertLedgerItem(input: {itemId: $id, "
        'category: "street_vending", location: $p}) ' + TYPENAME + " }",
        lambda o: {"id": o.ledger_item, "p": INSIDE_A},
    ),
    "settleLedgerItem": (
        "mutation ($id: Int!) { x: settleLedgerItem(itemId: $id, settlement: RESOLVED) "
        + TYPENAME + " }",
        lambda o: {"id": o.settle_item},
    ),
}
# fmt: on

DENIED = {"NotPermittedError", "ActionNotPermittedError"}


def classify(name: str, answer: Any) -> str:
    if answer is None:
        return "null"
    if isinstance(answer, dict) and "__typename" in answer:
        kind = answer["__typename"]
        if kind == "AuthenticationRequiredError":
            return "auth"
        if kind in DENIED:
            return "denied"
        if kind == "NotFoundError":
            return "hidden"
        if name == "cases":
            return f"ok:{len(answer['edges'])}"
        if name == "case.contact":
            return "contact" if answer["reporterContact"] else "no contact"
    return "ok"


async def post(client: httpx.AsyncClient, token: str | None, query: str, **variables: Any) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["x"]


async def make_objects(client: httpx.AsyncClient, world: World) -> Objects:
    admin = world.admin
    shop = """mutation ($p: PointInput!, $n: String!) { x: createMerchant(input: {name: $n,
        category: "pharmacy", location: $p, phone: "13800000009"}) {
        ... on MerchantSaved { merchant { id } } } }"""
    merchant = (await post(client, admin, shop, p=INSIDE_A, n="大药房"))["merchant"]["id"]
    closable = (await post(client, admin, shop, p=INSIDE_A, n="小药房"))["merchant"]["id"]
    toilet = """mutation ($p: PointInput!) { x: createServicePoint(input: {kind: "public_toilet",
        name: "公厕", location: $p}) { ... on ServicePointSaved { servicePoint { id } } } }"""
    service_point = (await post(client, admin, toilet, p=INSIDE_A))["servicePoint"]["id"]
    board = """mutation ($p: PointInput!) { x: createCircleCode(input: {name: "公告栏",
        center: $p}) { ... on CircleCodeSaved { circleCode { code } } } }"""
    code = (await post(client, admin, board, p=INSIDE_A))["circleCode"]["code"]
    report = """mutation ($p: PointInput!) { x: reportCase(input: {category: "street_vending",
        description: "门口占道", location: $p, locationSource: GPS,
        reporterContact: "13900000000"}) { ... on CaseReported { case { id } } } }"""
    case_id = (await post(client, world.resident, report, p=INSIDE_A))["case"]["id"]
    ledger = """mutation { x: recordLedgerItem(input: {grid: "D111", meeting: "议事会",
        text: "楼道堆物"}) { ... on LedgerItemRecorded { item { id } } } }"""
    item = (await post(client, world.l3_worker, ledger))["item"]["id"]
    user = """mutation { x: createUser(input: {name: "临时", role: RESIDENT}) {
        ... on UserSaved { user { id } } } }"""
    throwaway = (await post(client, admin, user))["user"]["id"]
    token = "mutation ($id: Int!) { x: issueToken(userId: $id) { ... on TokenIssued { prefix } } }"
    prefix = (await post(client, admin, token, id=throwaway))["prefix"]
    resident = world.user_ids["resident"]
    second = (await post(client, world.l3_worker, ledger))["item"]["id"]
    anonymous = """mutation ($p: PointInput!) { x: reportCase(input: {category: "sanitation",
        description: "垃圾满溢", location: $p, locationSource: GPS}) {
        ... on CaseReported { followCode case { number } } } }"""
    followed = await post(client, None, anonymous, p=INSIDE_A)
    return Objects(
        merchant, closable, service_point, code, case_id, item, throwaway, prefix, resident,
        second, followed["case"]["number"], followed["followCode"],
    )  # fmt: skip


def test_every_operation_of_the_schema_has_a_row() -> None:
    fields = {
        *schema._schema.query_type.fields,  # type: ignore[union-attr]
        *schema._schema.mutation_type.fields,  # type: ignore[union-attr]
    }
    assert {name.split(".")[0] for name in EXPECTED} == fields
    assert set(EXPECTED) == set(OPERATIONS)
    assert all(len(row) == len(PARTS) for row in EXPECTED.values())
    assert set(ROLES) == set(Permission), "every permission has its roles written down"


@pytest.mark.parametrize("part", PARTS)
async def test_the_matrix(client: httpx.AsyncClient, world: World, part: str) -> None:
    objects = await make_objects(client, world)
    token = None if part == "anonymous" else world.tokens[part]
    column = PARTS.index(part)
    wrong = []
    for name, (query, variables) in OPERATIONS.items():
        got = classify(name, await post(client, token, query, **variables(objects)))
        expected = EXPECTED[name][column]
        if got != expected:
            wrong.append(f"{name}: expected {expected}, got {got}")
    assert not wrong, f"{part}:\n" + "\n".join(wrong)
