"""Rows written as JSON objects by PostgreSQL, in a shape the caller names.

A caller that only passes rows on into a JSON document (the API, for a list whose
selection is flat) can have PostgreSQL write each row's object: one text column comes back
instead of fourteen typed ones, and nothing is converted, built or serialised per row in
Python. The caller says which keys, in which order, hold what (a :data:`Template`); the
table's module says which SQL expression gives each :class:`Value`.

How it is written: one ``concat()`` per row, of the constant text between the values and
the values themselves (nested objects inline). ``json_build_object`` would do, at twice
the cost (6.4 against 3.5 µs a row, 100,000 merchants in psql; in a nearby page, 0.24
against 0.06 ms by EXPLAIN ANALYZE): it looks up every argument's type on every row, where
``concat`` looks each one up once per statement. So each value is given in a form whose
text is already JSON:

* strings through ``to_json`` (JSON-escaped, control characters as ``\\u00XX``);
* numbers as PostgreSQL writes them, in their shortest exact form (``extra_float_digits``
  at its default, 1; a whole ``float8`` comes without ``.0``, which a reader parses to the
  same value). Only finite numbers may be given: ``NaN`` is not JSON;
* booleans as ``true`` / ``false``; null, for the values that may be null
  (:data:`NULLABLE`) and for a lookup that finds nothing, as ``null``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final, Union

import orjson
from sqlalchemy import ARRAY, ColumnElement, String, Text, case, cast, func, literal_column
from sqlalchemy.dialects import postgresql

#: PostgreSQL functions take at most 100 arguments: an object of n values (nested objects'
#: included) takes at most 2n + 1.
MAX_VALUES: Final = 49


class Value(Enum):
    """What a key of a row's object may hold (a table offers some of these)."""

    ID_TEXT = "id_text"  # the (integer, never null) id, as a string
    NAME = "name"
    CATEGORY = "category"
    KIND = "kind"
    PHONE = "phone"
    ADDRESS = "address"
    LONGITUDE = "longitude"  # WGS 84 degrees
    LATITUDE = "latitude"
    STATUS = "status"
    VERIFIED = "verified"
    OUTSIDE_COVERAGE = "outside_coverage"
    VERSION = "version"
    DISTANCE = "distance"  # a nearby search's geodesic metres from its point
    WALKING_MINUTES = "walking_minutes"  # those metres on foot (taxonomy.walking_minutes)


_STRINGS = frozenset({Value.NAME, Value.CATEGORY, Value.KIND, Value.PHONE, Value.ADDRESS})
_STRINGS |= {Value.STATUS}
_BOOLEANS = frozenset({Value.VERIFIED, Value.OUTSIDE_COVERAGE})
#: The rest are numbers (ID_TEXT an integer, quoted here).

#: Values that may be null. A table must give every other value as a NOT NULL expression:
#: concat() writes a null as nothing at all, so each of these costs a coalesce() a row.
NULLABLE: Final = frozenset({Value.PHONE})


@dataclass(frozen=True, slots=True)
class Lookup:
    """A value written through a fixed table: the value's text → the JSON text written
    (a value missing from the table is written as null)."""

    value: Value
    table: tuple[tuple[str, str], ...]


#: Where a :class:`Hole` is in the text: a control character, which nothing else written here
#: holds raw (``to_json`` and orjson escape them; numbers, booleans and keys never hold one).
HOLE: Final = "\x1f"


@dataclass(frozen=True, slots=True)
class Hole:
    """A value the caller writes in after the query, for one the database cannot give as it
    is asked for (coordinates in another system): PostgreSQL writes :data:`HOLE` in its
    place, and the holes come in the order :func:`holes` lists them."""

    value: Value


@dataclass(frozen=True, slots=True)
class Constant:
    """The same JSON text for every row."""

    json: str


Entry = Union[Value, Lookup, Constant, Hole, "Template"]
#: (key, entry) pairs in the order the object lists them; a nested Template is an object.
Template = tuple[tuple[str, Entry], ...]


@dataclass(frozen=True, slots=True)
class Keyed:
    """A value also held as its 1-based position in ``values``: a lookup then takes one
    array subscript a row instead of a comparison per entry (0.1 ms a page for the
    merchant categories' CASE)."""

    key: ColumnElement[int]
    values: tuple[str, ...]


_STRING = String().literal_processor(postgresql.dialect())


def fits(template: Template) -> bool:
    """True if PostgreSQL can write the template: at most MAX_VALUES values, nested objects'
    included (one ``concat`` writes the whole object)."""
    return _count(template) <= MAX_VALUES


def _count(template: Template) -> int:
    return sum(
        _count(entry) if isinstance(entry, tuple) else not isinstance(entry, Constant | Hole)
        for _, entry in template
    )


def holes(template: Template) -> tuple[Value, ...]:
    """The values of the template's holes, in the order the text holds them."""
    found: list[Value] = []
    for _, entry in template:
        if isinstance(entry, Hole):
            found.append(entry.value)
        elif isinstance(entry, tuple):
            found += holes(entry)
    return tuple(found)


def json_text(
    template: Template,
    values: Mapping[Value, ColumnElement[Any]],
    keyed: Mapping[Value, Keyed] | None = None,
) -> ColumnElement[str]:
    """The SQL text of each row's object; ``values`` maps the table's values to SQL,
    ``keyed`` those also held as a position.

    Raises ValueError for a template that does not fit or text holding NUL (or a constant
    holding :data:`HOLE`), KeyError for a value the table does not offer.
    """
    if not fits(template):
        raise ValueError(f"a JSON object of at most {MAX_VALUES} values")
    parts: list[str | ColumnElement[Any]] = []
    _write(template, values, keyed or {}, parts)
    merged: list[str | ColumnElement[Any]] = []
    for part in parts:  # neighbouring constants as one argument
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return func.concat(*(_literal(p) if isinstance(p, str) else p for p in merged), type_=Text)


def _write(
    template: Template,
    values: Mapping[Value, ColumnElement[Any]],
    keyed: Mapping[Value, Keyed],
    parts: list[str | ColumnElement[Any]],
) -> None:
    """Appends the object's parts: constant text, and SQL whose text is JSON."""
    for n, (key, entry) in enumerate(template):
        parts.append(("{" if n == 0 else ",") + orjson.dumps(key).decode() + ":")
        if isinstance(entry, Constant):
            parts.append(_no_hole(entry.json))
        elif isinstance(entry, Hole):
            parts.append(HOLE)
        elif isinstance(entry, Lookup):
            for _, json in entry.table:
                _no_hole(json)
            found = _lookup(entry, values[entry.value], keyed.get(entry.value))
            parts.append(func.coalesce(found, literal_column("'null'")))
        elif isinstance(entry, tuple):
            _write(entry, values, keyed, parts)
        elif entry is Value.ID_TEXT:
            parts += ['"', values[entry], '"']
        elif entry in NULLABLE:
            found = cast(_json_value(entry, values[entry]), Text)
            parts.append(func.coalesce(found, literal_column("'null'")))
        else:
            parts.append(_json_value(entry, values[entry]))
    parts.append("}" if template else "{}")


def _json_value(value: Value, sql: ColumnElement[Any]) -> ColumnElement[Any]:
    if value in _STRINGS:
        return cast(func.to_json(sql), Text)
    if value in _BOOLEANS:
        return cast(sql, Text)  # true / false: concat alone would write t / f
    return sql  # a number: concat writes it as JSON


def _lookup(lookup: Lookup, value: ColumnElement[Any], keyed: Keyed | None) -> ColumnElement[Any]:
    table = dict(lookup.table)
    if keyed is not None:  # PostgreSQL folds the constant array once, when planning
        items = ", ".join(_STRING(table[v]) if v in table else "NULL" for v in keyed.values)
        array = literal_column(f"(ARRAY[{items}]::text[])", ARRAY(Text))
        return array[keyed.key] if keyed.values else literal_column("NULL::text")
    whens = [(value == _literal(found), _literal(json)) for found, json in lookup.table]
    return case(*whens, else_=literal_column("NULL::text"))


def _no_hole(json: str) -> str:
    if HOLE in json:
        raise ValueError("a constant cannot hold the hole marker raw (JSON escapes it)")
    return json


def _literal(text: str) -> ColumnElement[str]:
    """A string constant written into the statement (statements are cached and prepared:
    bound values would be sent and converted on every execution)."""
    if "\x00" in text:
        raise ValueError("PostgreSQL text cannot hold NUL")
    return literal_column(_STRING(text), Text)
