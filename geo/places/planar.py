"""The planar keys the nearest-first indexes hold, spelt once for the indexes and the queries.

Every place table keeps ``location`` as ``geometry(POINT, 4326)``. Its nearest-first index is
an SP-GiST quadtree over PostgreSQL's built-in ``point`` type holding the location in World
Mercator (EPSG:3395, metres on the WGS 84 ellipsoid): :data:`MERCATOR_XY`. Why Mercator:
it is conformal, so its planar order is almost the geodesic order (``nearest.py`` proves the
answer exact from there). Why SP-GiST on ``point`` rather than GiST on geometry: its leaves
hold the exact coordinates, so a KNN scan (``ORDER BY key <-> centre``) needs no recheck,
and a quadtree descends through a few four-way nodes where a GiST R-tree computes a
distance and a box test for every entry of every page it opens (a few hundred a page).
Measured on 1,000,000 merchants (``bench/bench_merchants.py``, EXPLAIN ANALYZE, 25 rows,
interleaved): 0.20 ms against 0.44 ms for the GiST index on ``ST_Transform(location, 3395)``.

Merchants have a second index for searches by category, :data:`CATEGORY_BANDED_XY`: the
same point moved east by ``category_key × BAND_M``. Mercator x lies within ±2.0038·10⁷ m, so
every category has a band of its own, and a search confined to a box around the centre
moved into a category's band (``<@ box``) sees only that category, nearest first, by the
same planar distance: one index answers "nearest pharmacy" however rare pharmacies are.
(A composite GiST ``(category_key, geometry)`` through btree_gist did this before, at 0.63
ms against 0.33 ms for this, and took 11.7 s to build against about 8 s.) The band moves
points to about 2.4·10⁹ m, where a double is good to 5·10⁻⁷ m: ``nearest.py`` allows 10⁻⁵ m.

The centre of a search is projected here, in Python (:func:`mercator_xy`, the closed form
PROJ also uses; within 10⁻⁸ m of PROJ, tested against pyproj), so a statement carries it as
two numbers.
"""

from __future__ import annotations

import math
from typing import Any, Final

from sqlalchemy import ColumnElement, Float, Integer, literal_column
from sqlalchemy import func as sql_func
from sqlalchemy.dialects.postgresql import base as postgresql_base
from sqlalchemy.types import UserDefinedType

from geo.coords import LonLat

_A_M: Final = 6_378_137.0  # WGS 84 semi-major axis
_E: Final = math.sqrt(0.00669437999014)  # WGS 84 first eccentricity
#: World Mercator on WGS 84.
MERCATOR_SRID: Final = 3395
#: Distance between neighbouring categories' bands in the banded index (metres).
BAND_M: Final = 100_000_000

#: The plain index's key, as PostgreSQL prints it back (``pg_get_indexdef``, pretty).
MERCATOR_XY: Final = "point(st_transform(location, 3395))"
#: The category index's key.
CATEGORY_BANDED_XY: Final = (
    "point(st_transform(location, 3395)) + point(category_key::double precision * "
    f"'{BAND_M}'::double precision, '0'::double precision)"
)


class PlanarPoint(UserDefinedType[Any]):
    """PostgreSQL's ``point``: the type of ``merchants.mercator``, :data:`MERCATOR_XY` stored
    (0011) so that counts can be answered from an index alone. Used in SQL only."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "point"


# So that reflection (alembic's comparison of models and schema) knows the column's type.
postgresql_base.ischema_names.setdefault("point", PlanarPoint)


def mercator_xy(point: LonLat) -> tuple[float, float]:
    """A WGS 84 point in World Mercator metres (x east, y north)."""
    sin = math.sin(math.radians(point.lat))
    y = _A_M * (math.atanh(sin) - _E * math.atanh(_E * sin))
    return _A_M * math.radians(point.lon), y


def xy(location: Any) -> ColumnElement[Any]:
    """A geometry column's key in the plain index (:data:`MERCATOR_XY`)."""
    # The SRID is written into the SQL, not bound: a cached generic plan only matches an
    # index expression when the statement's expression is the same, constants included.
    return sql_func.point(
        sql_func.ST_Transform(location, literal_column(str(MERCATOR_SRID), Integer))
    )


def banded_xy(location: Any, band: Any) -> ColumnElement[Any]:
    """The key of the category index (:data:`CATEGORY_BANDED_XY`) for band column ``band``."""
    offset = sql_func.point(
        band * literal_column(f"'{BAND_M}'::double precision", Float),
        literal_column("'0'::double precision", Float),
    )
    return xy(location).op("+")(offset)


def planar_point(x: Any, y: Any) -> ColumnElement[Any]:
    return sql_func.point(x, y)


def square(x: Any, y: Any, half: Any) -> ColumnElement[Any]:
    """The box of side ``2 × half`` centred on ``(x, y)``, as a ``box``."""
    return sql_func.box(planar_point(x - half, y - half), planar_point(x + half, y + half))


def distance(key: ColumnElement[Any], centre: ColumnElement[Any]) -> ColumnElement[float]:
    """Planar distance between two ``point`` expressions, the order the indexes serve."""
    return key.op("<->", return_type=Float)(centre)


def inside(key: ColumnElement[Any], box: ColumnElement[Any]) -> ColumnElement[bool]:
    return key.op("<@", is_comparison=True)(box)
