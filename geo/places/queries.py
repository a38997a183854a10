"""What every nearby list and listing of places shares: pages, distances, search filters,
and the rows PostgreSQL writes as JSON.

Merchants (``geo.merchants.queries``) and service points (``geo.service_points.queries``)
build their statements from these parts and run them through :func:`nearby_page`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Float,
    Integer,
    Select,
    Text,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
)
from sqlalchemy import select as sa_select

from geo.coords import LonLat
from geo.db import Queryable
from geo.json_objects import Keyed, Template, Value, json_text
from geo.places.errors import InvalidField
from geo.places.nearest import nearest
from geo.places.text import MAX_QUERY_CHARS, normalize_text, query_grams
from geo.places.walking import DETOUR_FACTOR, WALKING_SPEED_M_PER_MIN, walking_minutes

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Nearby(Generic[T]):
    """A row with its geodesic distance from the search point."""

    item: T
    distance_m: float

    @property
    def walking_minutes(self) -> float:
        """Minutes on foot: distance × detour factor / walking speed (``walking``)."""
        return walking_minutes(self.distance_m)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    has_next_page: bool


def written_rows(
    found: Any,
    template: Template,
    values: Mapping[Value, ColumnElement[Any]],
    keyed: Mapping[Value, Keyed] | None = None,
) -> Select[Any]:
    """Each row of the ``found`` candidates (a subquery of ``nearest.candidates``) as its
    id, location, distance, stream and the JSON text ``template`` asks for: written after
    the LIMIT, so only for the rows fetched. ``values`` and ``keyed`` give what the place's
    table has of its own; what every place has is added here."""
    c = found.c
    walking = c.distance_m * literal(DETOUR_FACTOR, Float) / literal(WALKING_SPEED_M_PER_MIN, Float)
    common = {
        Value.ID_TEXT: cast(c.id, Text),
        Value.NAME: c.name,
        Value.PHONE: c.phone,
        Value.ADDRESS: c.address,
        Value.LONGITUDE: c.longitude,
        Value.LATITUDE: c.latitude,
        Value.OUTSIDE_COVERAGE: c.outside_coverage,
        Value.VERSION: c.version,
        Value.DISTANCE: c.distance_m,
        Value.WALKING_MINUTES: walking,  # as Python computes it: (d × 1.3) / 80, in doubles
    }
    written = json_text(template, {**common, **values}, keyed).label("json")
    return sa_select(c.id, c.longitude, c.latitude, c.distance_m, c.stream, written)


def any_of(column: Any, values: Sequence[Any], item_type: Any = Integer) -> ColumnElement[bool]:
    """``column = ANY(:array)``: one statement text whatever the number of values."""
    return column == func.any(literal(list(values), ARRAY(item_type)))


def text_params(text: str | None) -> dict[str, Any]:
    """``{"text": normalised}`` plus ``"grams"`` when it has bigrams; ``{}`` when blank.

    Raises InvalidField for a text longer than MAX_QUERY_CHARS.
    """
    norm = normalize_text(text or "")
    if len(norm) > MAX_QUERY_CHARS:
        raise InvalidField("text", f"search text is at most {MAX_QUERY_CHARS} characters")
    if not norm:
        return {}
    grams = query_grams(norm)
    return {"text": norm, "grams": grams} if grams else {"text": norm}


def name_conditions(name_column: Any, grams_column: Any = None) -> list[ColumnElement[bool]]:
    """ "The name contains :text" (see text.py); with ``grams_column``, its bigrams hold
    every bigram in :grams first, which the GIN index answers."""
    normalized = func.lower(func.normalize(name_column, literal_column("NFKC")))
    found = [func.strpos(normalized, bindparam("text", type_=Text)) > 0]
    if grams_column is not None:
        found.insert(0, grams_column.op("@>")(bindparam("grams", type_=ARRAY(Text))))
    return found


def open_condition(minutes_column: Any) -> ColumnElement[bool]:
    """Open at minute-of-week :minute per the stored week ranges (unknown hours never match)."""
    return minutes_column.op("@>")(bindparam("minute", type_=Integer))


class Written(NamedTuple):
    """A merchant as the JSON object its template asked for (``geo.json_objects``), with its
    location (WGS-84 degrees) for the holes the caller fills."""

    id: int
    json: str
    longitude: float
    latitude: float


async def nearby_page(
    session: Queryable,
    statement: Select[Any],
    params: dict[str, Any],
    make: Callable[[Any], T],
    *,
    point: LonLat,
    radius_m: float,
    limit: int,
    after: tuple[float, int] | None,
) -> Page[Nearby[T]]:
    """Runs a nearby statement (``nearest.nearest``) for ``limit`` rows and one more, which
    tells whether a next page exists; each row made by ``make``."""
    found = await nearest(
        session, statement, params, point=point, radius_m=radius_m, limit=limit + 1, after=after
    )
    items = tuple(Nearby(make(row), distance) for row, distance in found[:limit])
    return Page(items, has_next_page=len(found) > limit)


def written_row(row: Any) -> Written:
    return Written(row["id"], row["json"], row["longitude"], row["latitude"])
