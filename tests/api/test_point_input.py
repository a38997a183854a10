"""PointInput is built by its own from_input hook (api.schema.common): same values as the
generic conversion would give, defaults included."""

from __future__ import annotations

import strawberry

from api.schema.common import PointInput
from geo.coords import CoordSystem

SEEN: list[PointInput] = []


@strawberry.type
class Query:
    @strawberry.field
    def echo(self, p: PointInput, more: list[PointInput] | None = None) -> int:
        SEEN.append(p)
        SEEN.extend(more or [])
        return 1


SCHEMA = strawberry.Schema(query=Query)


def test_literals_variables_and_defaults() -> None:
    SEEN.clear()
    result = SCHEMA.execute_sync(
        """query ($v: PointInput!) { a: echo(p: {longitude: 113.6, latitude: 34.7})
        b: echo(p: $v, more: [{longitude: 1, latitude: 2, system: BD09}]) }""",
        variable_values={"v": {"longitude": 113.61, "latitude": 34.71, "system": "GCJ02",
                               "accuracyM": 35}},
    )  # fmt: skip
    assert result.errors is None
    literal, variable, listed = SEEN
    assert (literal.longitude, literal.latitude, literal.accuracy_m) == (113.6, 34.7, None)
    assert literal.system is CoordSystem.WGS84
    assert (variable.longitude, variable.latitude, variable.accuracy_m) == (113.61, 34.71, 35)
    assert variable.system is CoordSystem.GCJ02
    assert listed.system is CoordSystem.BD09 and isinstance(listed.longitude, float)
    assert all(isinstance(p, PointInput) for p in SEEN)


def test_bad_values_are_still_refused_by_graphql() -> None:
    result = SCHEMA.execute_sync('{ echo(p: {longitude: "x", latitude: 1}) }')
    assert result.errors and "Float cannot represent" in result.errors[0].message
    result = SCHEMA.execute_sync("{ echo(p: {longitude: 1}) }")
    assert result.errors and "latitude" in result.errors[0].message
