"""The one spatial reference of the database, and the one way SQL spells a point in it.

Every geometry column is stored in EPSG:4326, axis order (longitude, latitude). A point is
built as ``ST_SetSRID(ST_MakePoint(lon, lat), SRID)``: as a SQLAlchemy expression
(:func:`point_expr`, :func:`point_sql`), as text for reviewed raw SQL (:func:`point_text`,
:data:`PARAM_POINT`) and as EWKT for a value bound to a geometry column (:func:`ewkt`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import ColumnElement, func, literal

if TYPE_CHECKING:
    from geo.coords import LonLat

#: Every geometry column is stored in EPSG:4326, axis order (longitude, latitude).
SRID: Final = 4326
#: What :func:`ewkt` writes before the coordinates.
EWKT_PREFIX: Final = f"SRID={SRID};POINT("


def point_expr(lon: Any, lat: Any) -> ColumnElement[Any]:
    """The point of two SQL expressions (bound parameters, columns), longitude first."""
    return func.ST_SetSRID(func.ST_MakePoint(lon, lat), SRID)


def point_sql(point: LonLat) -> ColumnElement[Any]:
    """A WGS-84 position as a geometry(POINT, 4326) expression (bound values, lon first)."""
    return point_expr(literal(point.lon), literal(point.lat))


def point_text(lon: str, lat: str) -> str:
    """The same point in SQL text, from the SQL of its longitude and latitude
    (``":lon"``, ``"%(lon)s"``, a column name)."""
    return f"ST_SetSRID(ST_MakePoint({lon}, {lat}), {SRID})"


#: The point of the bound parameters ``:lon`` and ``:lat``, for ``text()`` statements.
PARAM_POINT: Final = point_text(":lon", ":lat")


def ewkt(lon: float, lat: float) -> str:
    """PostGIS EWKT; repr keeps every significant digit so the round trip is exact."""
    return f"{EWKT_PREFIX}{float(lon)!r} {float(lat)!r})"
