"""With introspection off, error messages name nothing of the schema the client did not
write itself: no suggestions, no type, field, argument, input field or enum value names."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLObjectType,
    is_specified_scalar_type,
)

from api.schema import schema
from api.settings import Settings
from api.web.redaction import client_names
from tests.builders.clients import served

pytestmark = pytest.mark.anyio


def schema_names() -> set[str]:
    """Every name the schema defines (types, fields, arguments, input fields, enum values),
    but the spec's own (introspection types, built-in scalars)."""
    names: set[str] = set()
    for name, kind in schema._schema.type_map.items():
        if name.startswith("__") or is_specified_scalar_type(kind):
            continue
        names.add(name)
        if isinstance(kind, GraphQLObjectType | GraphQLInputObjectType):
            for field_name, field in kind.fields.items():
                names.add(field_name)
                names.update(getattr(field, "args", {}) or {})
        if isinstance(kind, GraphQLEnumType):
            names.update(kind.values)
    return names


#: Documents a client might get wrong, each with the variables it sends.
MISTAKES: list[tuple[str, dict[str, Any] | None]] = [
    ("{ gridAtt(point: {longitude: 113.6, latitude: 34.7}) { __typename } }", None),
    ("{ gridAt { __typename } }", None),
    ("{ gridAt(pont: {longitude: 113.6, latitude: 34.7}) { __typename } }", None),
    (
        "{ serviceCircle(near: {longitude: 113.6, latitude: 34.7, system: WGS8}) { __typename } }",
        None,
    ),
    ("{ serviceCircle(near: {longitude: 113.6}) { __typename } }", None),
    ("{ serviceCircle(near: {longitude: 113.6, latitude: 34.7}) }", None),
    ("{ grids { ... on GridConection { edges { node { code } } } } }", None),
    ("{ grids { ... on GridConnection { edges { node { cod nme } } } } }", None),
    ("{ caseStats(groupBy: CATEGORIE) { __typename } }", None),
    ("query ($p: PointInput!) { gridAt(point: $p) { __typename } }", {"p": {"longitude": 1}}),
    ("query ($p: PointInput!) { gridAt(point: $p) { __typename } }", {"p": {"lon": 1, "lat": 2}}),
    (
        "query ($p: PointInput!) { gridAt(point: $p) { __typename } }",
        {"p": {"longitude": 1, "latitude": 2, "system": "GCJ2"}},
    ),
    ('mutation { reportCase(input: {category: "x"}) { __typename } }', None),
]


@pytest.fixture
async def closed(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with served(dataclasses.replace(settings, introspection=False)) as http:
        yield http


async def test_no_schema_name_the_client_did_not_write(closed: httpx.AsyncClient) -> None:
    secret = schema_names()
    for query, variables in MISTAKES:
        body = {"query": query, "variables": variables}
        response = await closed.post("/graphql", json=body)
        errors = response.json()["errors"]
        assert errors, query
        written = client_names(query, variables)
        for error in errors:
            quoted = " ".join(re.findall(r"'([^']*)'", error["message"]))
            named = set(re.findall(r"[_A-Za-z][_0-9A-Za-z]*", quoted))
            assert not (named & secret) - written, (query, error["message"])
            assert "Did you mean" not in error["message"] or "{ ... }" in error["message"]
            assert error.get("locations") or "variables" in query or "$" in query


async def test_with_introspection_on_the_suggestions_help(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": MISTAKES[0][0]})
    (error,) = response.json()["errors"]
    assert "Did you mean 'gridAt'" in error["message"]
