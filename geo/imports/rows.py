"""Reading import files into records, and checking one record into the values we store.

A record is ``(row, fields)``: ``row`` is the number a person looks for, ``fields`` the raw
values by column name. CSV rows are numbered as a spreadsheet shows them (the header is
row 1, the first merchant row 2); GeoJSON features from 1 in file order.

Columns (CSV header names, GeoJSON property names): ``name``, ``category`` (service points:
``kind``), ``phone``, ``address``, ``longitude``, ``latitude`` (GeoJSON: the Point's
coordinates), ``system`` (WGS84, GCJ02 or BD09, default WGS84; converted to WGS-84 here),
``hours`` (``geo.places.hours.parse_hours`` text), and for merchants ``status`` (default OPEN) and
``verified`` (default false). Other columns are ignored.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, Any, Final

from geo.coords import CoordSystem, InvalidCoordinate, LonLat, to_wgs84
from geo.errors import DomainError
from geo.merchants.fields import clean_status, clean_verified
from geo.merchants.taxonomy import get_category
from geo.places.fields import clean_address, clean_hours, clean_name, clean_phone
from geo.places.hours import format_hours, minutes_of_week_ranges, to_json
from geo.places.text import name_grams
from geo.service_points.kinds import get_kind

Record = tuple[int, Mapping[str, Any]]

MERCHANT_REQUIRED: Final = ("name", "category", "longitude", "latitude")
SERVICE_POINT_REQUIRED: Final = ("name", "kind", "longitude", "latitude")


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why one row (or the header, row 1) cannot be imported."""

    row: int
    column: str
    message: str


class BadRecord(Exception):
    """Raised by a row checker with every problem it found in the row."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(problems)
        self.problems = problems


def read_csv(stream: IO[str]) -> tuple[list[str], Iterator[Record]]:
    """The header and the records of a CSV file (UTF-8, the BOM Excel writes is fine)."""
    reader = csv.DictReader(stream)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    return header, ((n, fields) for n, fields in enumerate(reader, start=2))


def read_geojson(collection: Mapping[str, Any]) -> Iterator[Record]:
    """Records of a FeatureCollection of Points; a bad geometry shows up as a row problem."""
    for n, feature in enumerate(collection.get("features") or [], start=1):
        fields = dict(feature.get("properties") or {}) if isinstance(feature, dict) else {}
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if (
            isinstance(geometry, dict)
            and geometry.get("type") == "Point"
            and isinstance(coords, list)
            and len(coords) >= 2
        ):
            fields["longitude"], fields["latitude"] = coords[0], coords[1]
        else:
            fields["longitude"] = fields["latitude"] = None
            fields["_geometry"] = "a Point geometry is required"
        yield n, fields


def load_geojson(stream: IO[str]) -> Mapping[str, Any]:
    data = json.load(stream)
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ValueError("expected a GeoJSON FeatureCollection")
    return data


def missing_columns(header: Iterable[str], required: Iterable[str]) -> list[RowProblem]:
    have = set(header)
    return [RowProblem(1, c, "required column is missing") for c in required if c not in have]


class Schedules:
    """The distinct opening hours of one import, numbered from 1.

    Shops of a kind share a handful of schedules, so each text is parsed once and the
    staging rows carry its number; the JSON and the week ranges travel once per schedule.
    """

    def __init__(self) -> None:
        self._numbers: dict[str, int | None] = {}
        #: (number, JSON, canonical text, multirange literal)
        self.rows: list[tuple[int, str, str, str]] = []

    def number(self, text: str) -> int | None:
        """The schedule's number, None for blank (unknown) hours; raises InvalidOpeningHours."""
        try:
            return self._numbers[text]
        except KeyError:
            pass
        hours = clean_hours(text)
        number = None
        if hours is not None:
            number = len(self.rows) + 1
            ranges = ",".join(f"[{a},{b})" for a, b in minutes_of_week_ranges(hours))
            self.rows.append(
                (number, json.dumps(to_json(hours)), format_hours(hours), "{" + ranges + "}")
            )
        self._numbers[text] = number
        return number


def merchant_values(row: int, fields: Mapping[str, Any], schedules: Schedules) -> tuple[Any, ...]:
    """Staging values ``(row, name, category, phone, address, lon, lat, schedule, status,
    verified, name grams)``; raises BadRecord naming every bad column."""
    try:
        # Straight-line checks for the common, valid row; any failure re-checks the row
        # column by column to report every problem.
        name = clean_name(fields["name"])
        lon, lat = _fast_location(fields)
        return (
            row,
            name,
            get_category(fields["category"].strip()).code,
            clean_phone(fields.get("phone")),
            clean_address(fields.get("address")),
            lon,
            lat,
            schedules.number(fields.get("hours") or ""),
            _status(fields.get("status") or ""),
            clean_verified(fields.get("verified") or ""),
            _grams_literal(name),
        )
    except (DomainError, KeyError, TypeError, ValueError, AttributeError):
        return _careful_merchant_values(row, fields, schedules)


def _careful_merchant_values(
    row: int, fields: Mapping[str, Any], schedules: Schedules
) -> tuple[Any, ...]:
    c = _Checker(row, fields)
    name = c.check("name", clean_name)
    category = c.check("category", lambda v: get_category(v.strip()).code)
    phone = c.check("phone", clean_phone)
    address = c.check("address", clean_address)
    lon, lat = _location(c)
    schedule = c.check("hours", schedules.number)
    status = c.check("status", _status)
    verified = c.check("verified", clean_verified)
    c.done()
    return (row, name, category, phone, address, lon, lat, schedule, status, verified,
            _grams_literal(name))  # fmt: skip


def service_point_values(
    row: int, fields: Mapping[str, Any], schedules: Schedules
) -> tuple[Any, ...]:
    """Staging values ``(row, kind, name, phone, address, lon, lat, schedule)``; raises
    BadRecord naming every bad column."""
    c = _Checker(row, fields)
    kind = c.check("kind", lambda v: get_kind(v.strip()).value)
    name = c.check("name", clean_name)
    phone = c.check("phone", clean_phone)
    address = c.check("address", clean_address)
    lon, lat = _location(c)
    schedule = c.check("hours", schedules.number)
    c.done()
    return (row, kind, name, phone, address, lon, lat, schedule)


class _Checker:
    """Collects the problems of one record column by column."""

    def __init__(self, row: int, fields: Mapping[str, Any]) -> None:
        self.row, self.fields = row, fields
        self.problems: list[RowProblem] = []

    def text(self, column: str) -> str:
        value = self.fields.get(column)
        return "" if value is None else str(value)

    def check(self, column: str, parse: Callable[[str], Any]) -> Any:
        try:
            return parse(self.text(column))
        except DomainError as error:
            self.problems.append(RowProblem(self.row, column, str(error)))
            return None

    def done(self) -> None:
        if "_geometry" in self.fields:
            self.problems.append(RowProblem(self.row, "geometry", self.fields["_geometry"]))
        if self.problems:
            raise BadRecord(self.problems)


def _fast_location(fields: Mapping[str, Any]) -> tuple[float, float]:
    lon, lat = float(fields["longitude"]), float(fields["latitude"])
    if _system(fields.get("system") or "") is CoordSystem.WGS84 and (
        -180 <= lon <= 180 and -90 <= lat <= 90
    ):
        return lon, lat
    raise ValueError("not a plain WGS-84 position")  # the careful path converts or reports


def _location(c: _Checker) -> tuple[float, float]:
    if "_geometry" in c.fields:
        return 0.0, 0.0  # a GeoJSON feature without a Point: reported once, as "geometry"
    system = c.check("system", _system)
    lon = c.check("longitude", _number)
    lat = c.check("latitude", _number)
    if system is None or lon is None or lat is None:
        return 0.0, 0.0  # the record is bad already
    try:
        wgs = to_wgs84(LonLat(lon, lat), system)
    except InvalidCoordinate as error:
        column = "longitude" if str(error).startswith("longitude") else "latitude"
        c.problems.append(RowProblem(c.row, column, str(error)))
        return 0.0, 0.0
    return wgs.lon, wgs.lat


class _NotANumber(DomainError):
    pass


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise _NotANumber(f"expected a number in degrees, got {text!r}") from None


class _UnknownSystem(DomainError):
    pass


@lru_cache(maxsize=64)
def _system(text: str) -> CoordSystem:
    code = text.strip().upper().replace("-", "").replace("_", "") or "WGS84"
    try:
        return CoordSystem(code)
    except ValueError:
        raise _UnknownSystem(f"system must be WGS84, GCJ02 or BD09, got {text!r}") from None


@lru_cache(maxsize=64)
def _status(text: str) -> str:
    return clean_status(text.strip() or "OPEN").value


_ARRAY_ESCAPES: Final = str.maketrans({"\\": "\\\\", '"': '\\"'})


def _grams_literal(name: str) -> str:
    """``name_grams(name)`` as a PostgreSQL text[] literal, every element quoted."""
    grams = name_grams(name, normalized=True)
    if '"' in name or "\\" in name:
        grams = [g.translate(_ARRAY_ESCAPES) for g in grams]
    return '{"' + '","'.join(grams) + '"}' if grams else "{}"
