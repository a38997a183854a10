"""Rows written as JSON objects by PostgreSQL, in a shape the caller names.

A caller that only passes rows on into a JSON document (the API, for a list whose
selection is flat) can have PostgreSQL write each row's object: one text column comes back
instead of fourteen typed ones, and nothing is converted, built or serialised per row in
Python. The caller says which keys, in which order, hold what (a :data:`Template`); the
table's module says which SQL expression gives each :class:`Value`.

PostgreSQL writes ``json``, not ``jsonb``: key order is kept as given. Strings come out
JSON-escaped (control characters as ``\\uXXXX``), numbers in their shortest exact form
(``extra_float_digits`` at its default, 1), so a reader parsing the text gets the values
Python would have written, except that a whole ``float8`` is written without ``.0``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final, Union

from sqlalchemy import ARRAY, JSON, ColumnElement, String, Text, case, cast, func, literal_column
from sqlalchemy.dialects import postgresql

#: PostgreSQL functions take at most 100 arguments: 50 keys and their values.
MAX_KEYS: Final = 50


class Value(Enum):
    """What a key of a row's object may hold (a table offers some of these)."""

    ID_TEXT = "id_text"  # the id, as a string
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


@dataclass(frozen=True, slots=True)
class Lookup:
    """A value written through a fixed table: the value's text → the JSON text written
    (a value missing from the table is written as null)."""

    value: Value
    table: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Constant:
    """The same JSON text for every row."""

    json: str


Entry = Union[Value, Lookup, Constant, "Template"]
#: (key, entry) pairs in the order the object lists them; a nested Template is an object.
Template = tuple[tuple[str, Entry], ...]

_STRING = String().literal_processor(postgresql.dialect())


def fits(template: Template) -> bool:
    """True if PostgreSQL can write the template (at most MAX_KEYS keys per object)."""
    return len(template) <= MAX_KEYS and all(
        fits(entry) for _, entry in template if isinstance(entry, tuple)
    )


@dataclass(frozen=True, slots=True)
class Keyed:
    """A value also held as its 1-based position in ``values``: a lookup then takes one
    array subscript a row instead of a comparison per entry (0.1 ms a page for the
    merchant categories)."""

    key: ColumnElement[int]
    values: tuple[str, ...]


def json_text(
    template: Template,
    values: Mapping[Value, ColumnElement[Any]],
    keyed: Mapping[Value, Keyed] | None = None,
) -> ColumnElement[str]:
    """The SQL text of each row's object; ``values`` maps the table's values to SQL,
    ``keyed`` those also held as a position.

    Raises ValueError for a template that does not fit, KeyError for a value the table
    does not offer.
    """
    if not fits(template):
        raise ValueError(f"a JSON object of at most {MAX_KEYS} keys")
    return cast(_object(template, values, keyed or {}), Text)


def _object(
    template: Template, values: Mapping[Value, ColumnElement[Any]], keyed: Mapping[Value, Keyed]
) -> ColumnElement[Any]:
    arguments: list[ColumnElement[Any]] = []
    for key, entry in template:
        arguments += [_literal(key), _entry(entry, values, keyed)]
    return func.json_build_object(*arguments)


def _entry(
    entry: Entry, values: Mapping[Value, ColumnElement[Any]], keyed: Mapping[Value, Keyed]
) -> ColumnElement[Any]:
    if isinstance(entry, Value):
        return values[entry]
    if isinstance(entry, Constant):
        return _json(entry.json)
    if isinstance(entry, Lookup):
        return _lookup(entry, values[entry.value], keyed.get(entry.value))
    return _object(entry, values, keyed)


def _lookup(lookup: Lookup, value: ColumnElement[Any], keyed: Keyed | None) -> ColumnElement[Any]:
    table = dict(lookup.table)
    if keyed is not None:  # PostgreSQL folds the constant array once, when planning
        items = ", ".join(
            f"{_STRING(table[v])}::json" if v in table else "NULL::json" for v in keyed.values
        )
        array = literal_column(f"(ARRAY[{items}]::json[])", ARRAY(JSON))
        return array[keyed.key] if keyed.values else literal_column("NULL::json")
    whens = [(value == _literal(found), _json(json)) for found, json in lookup.table]
    return case(*whens, else_=literal_column("NULL::json"))


def _literal(text: str) -> ColumnElement[str]:
    """A string constant written into the statement (statements are cached and prepared:
    bound values would be sent and converted on every execution)."""
    if "\x00" in text:
        raise ValueError("PostgreSQL text cannot hold NUL")
    return literal_column(_STRING(text), Text)


def _json(text: str) -> ColumnElement[Any]:
    return literal_column(f"{_STRING(text)}::json")
