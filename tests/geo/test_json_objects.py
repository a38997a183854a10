"""Templates written as JSON by PostgreSQL (geo.json_objects), read back and compared."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Float, Integer, Text, literal, select
from sqlalchemy.ext.asyncio import AsyncEngine

from geo.json_objects import (
    HOLE,
    MAX_VALUES,
    Constant,
    Hole,
    Keyed,
    Lookup,
    Value,
    fits,
    holes,
    json_text,
)

pytestmark = pytest.mark.anyio

AWKWARD = ['双"引号"', "back\\slash", "it's", "tab\there", "new\nline", "面馆 🍜", "\x01"]
#: Written by Python as 0.30000000000000004: PostgreSQL must give back the same double.
INEXACT = 0.1 + 0.2
LABELS = (("a", '{"label":"甲"}'), ("b", '"乙"'))


async def written(engine: AsyncEngine, template: Any, values: dict[Value, Any], **kw: Any) -> Any:
    async with engine.connect() as conn:
        text = await conn.scalar(select(json_text(template, values, **kw)))
    return json.loads(text, object_pairs_hook=lambda pairs: [list(p) for p in pairs])


@pytest.mark.parametrize("name", AWKWARD)
async def test_strings_come_back_as_they_were(engine: AsyncEngine, name: str) -> None:
    template = (("n", Value.NAME), ("x", Value.LONGITUDE), ("none", Value.PHONE))
    values = {Value.NAME: literal(name, Text), Value.LONGITUDE: literal(113.6516718),
              Value.PHONE: literal(None, Text)}  # fmt: skip
    assert await written(engine, template, values) == [
        ["n", name],
        ["x", 113.6516718],
        ["none", None],
    ]


async def test_keys_keep_their_order_and_nest(engine: AsyncEngine) -> None:
    template = (
        ("z", Value.NAME),
        ("a", (("y", Constant('"WGS84"')), ("b", Value.VERSION))),
        ("m", Constant("null")),
    )
    values = {Value.NAME: literal("店", Text), Value.VERSION: literal(3, Integer)}
    assert await written(engine, template, values) == [
        ["z", "店"],
        ["a", [["y", "WGS84"], ["b", 3]]],
        ["m", None],
    ]


@pytest.mark.parametrize("code", ["a", "b", "c"])
async def test_a_lookup_by_value_or_by_key_writes_the_same(engine: AsyncEngine, code: str) -> None:
    template = (("k", Lookup(Value.CATEGORY, LABELS)),)
    by_value = await written(engine, template, {Value.CATEGORY: literal(code, Text)})
    position = ["a", "b", "c"].index(code) + 1
    keyed = {Value.CATEGORY: Keyed(literal(position, Integer), ("a", "b", "c"))}
    by_key = await written(engine, template, {Value.CATEGORY: literal(code, Text)}, keyed=keyed)
    expected = {"a": [["label", "甲"]], "b": "乙", "c": None}[code]  # c: not in the table
    assert by_value == by_key == [["k", expected]]


def test_templates_past_postgresqls_argument_limit_are_refused() -> None:
    wide = tuple((f"k{i}", Value.NAME) for i in range(MAX_VALUES + 1))
    assert fits(wide[:MAX_VALUES]) and not fits(wide) and not fits((("in", wide),))
    half = wide[: MAX_VALUES // 2 + 1]
    assert fits(half) and not fits((("a", half), ("b", half)))  # nested objects count too
    assert fits((*wide[:MAX_VALUES], ("c", Constant("1"))))  # constants take no argument
    with pytest.raises(ValueError):
        json_text(wide, {Value.NAME: literal("x", Text)})


async def test_holes_are_left_in_order_for_the_caller(engine: AsyncEngine) -> None:
    # A name holding the marker's character is escaped by to_json, so only holes are raw.
    lat, lon = Hole(Value.LATITUDE), Hole(Value.LONGITUDE)
    at = (("y", lat), ("x", lon), ("again", lat))
    template = (("n", Value.NAME), ("at", at), ("v", Value.VERSION))
    assert holes(template) == (Value.LATITUDE, Value.LONGITUDE, Value.LATITUDE)
    values = {Value.NAME: literal(f"店{HOLE}", Text), Value.VERSION: literal(2, Integer)}
    async with engine.connect() as conn:
        text = await conn.scalar(select(json_text(template, values)))
    pieces = text.split(HOLE)
    assert len(pieces) == 4
    filled = pieces[0] + "34.5" + pieces[1] + "113.25" + pieces[2] + "-1" + pieces[3]
    assert json.loads(filled) == {"n": f"店{HOLE}", "at": {"y": 34.5, "x": 113.25, "again": -1},
                                  "v": 2}  # fmt: skip


def test_a_constant_holding_the_hole_marker_is_refused() -> None:
    for template in ((("a", Constant(f'"{HOLE}"')),), (("a", Lookup(Value.NAME, (("x", HOLE),))),)):
        with pytest.raises(ValueError):
            json_text(template, {Value.NAME: literal("x", Text)})


def test_a_constant_holding_nul_is_refused() -> None:
    with pytest.raises(ValueError):
        json_text((("a", Constant('"a\x00b"')),), {})


async def test_a_key_holding_nul_is_escaped(engine: AsyncEngine) -> None:
    template = (("a\x00b", Value.NAME),)
    assert await written(engine, template, {Value.NAME: literal("x", Text)}) == [["a\x00b", "x"]]


async def test_booleans_and_numbers_are_json(engine: AsyncEngine) -> None:
    template = (("t", Value.VERIFIED), ("f", Value.OUTSIDE_COVERAGE), ("v", Value.VERSION),
                ("id", Value.ID_TEXT), ("d", Value.DISTANCE), ("n", Value.LATITUDE))  # fmt: skip
    values = {Value.VERIFIED: literal(True), Value.OUTSIDE_COVERAGE: literal(False),
              Value.VERSION: literal(7, Integer), Value.ID_TEXT: literal(42, Integer),
              Value.DISTANCE: literal(INEXACT), Value.LATITUDE: literal(-1e-05, Float)}  # fmt: skip
    assert await written(engine, template, values) == [
        ["t", True],
        ["f", False],
        ["v", 7],
        ["id", "42"],
        ["d", INEXACT],
        ["n", -1e-05],
    ]
