"""The 15-minute service circle of a place, and how well a grid is served.

Walking time is straight-line distance × ``taxonomy.DETOUR_FACTOR`` (1.3) at
``taxonomy.WALKING_SPEED_M_PER_MIN`` (80 m/min): 15 minutes reach ≈ 923 m. Only merchants
trading (status OPEN) count; a temporarily closed pharmacy serves no one.

:func:`service_circle` answers in three statements whatever the density (a dense centre
holds tens of thousands of shops within 15 minutes): an index-driven nearest-first stream
per category gives the nearest three and the gap test, a count per category settles most
rows by planar bounds, and a window function ranks the few service points.

:func:`grid_service_coverage` samples the grid on a regular lattice (see its docstring)
and asks, for every sample and every basic category, whether one is within that
category's reach tier; PostgreSQL answers with one index probe per pair.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import bindparam, literal_column, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Float, SmallInteger, String

from geo.coords import LonLat
from geo.db import Executor, fetch_mappings
from geo.merchants.errors import NotFound, OutOfRange
from geo.merchants.models import KEY_OF_CATEGORY, MerchantStatus
from geo.merchants.nearest import candidates, count_within, counted, nearest_each, window
from geo.merchants.planar import BAND_M, CATEGORY_BANDED_XY, MERCATOR_XY, mercator_xy
from geo.merchants.queries import MERCHANT_COLUMNS, MERCHANTS, MerchantRow, Nearby, merchant_row
from geo.merchants.taxonomy import BASIC_CATEGORIES, CATEGORIES, Category, reach_radius_m
from geo.points import PARAM_POINT, point_text
from geo.service_points.kinds import ServicePointKind
from geo.service_points.queries import ServicePointRow, service_point_row

MAX_MINUTES: Final = 60
NEAREST_SHOWN: Final = 3
#: The radius every basic category is judged against, whatever ``minutes`` asks for.
_LARGEST_TIER_M: Final = max(reach_radius_m(c.reach_minutes or 0) for c in BASIC_CATEGORIES)


@dataclass(frozen=True, slots=True)
class CategoryReach:
    category: Category
    #: Open merchants of the category within the circle.
    count: int
    #: The nearest (up to three) within the circle, nearest first.
    nearest: tuple[Nearby[MerchantRow], ...]


@dataclass(frozen=True, slots=True)
class KindReach:
    kind: ServicePointKind
    count: int
    nearest: tuple[Nearby[ServicePointRow], ...]


@dataclass(frozen=True, slots=True)
class ServiceCircle:
    center: LonLat
    minutes: float
    radius_m: float
    #: Every category, in taxonomy order (basic ones first), including empty ones.
    categories: tuple[CategoryReach, ...]
    #: Basic categories with no open merchant within their own reach tier (5, 8 or 15 min).
    gaps: tuple[Category, ...]
    #: Every service point kind, in enum order.
    service_points: tuple[KindReach, ...]


async def service_circle(session: Executor, point: LonLat, minutes: float = 15) -> ServiceCircle:
    """What is within ``minutes`` on foot of a WGS-84 point, per category, and the gaps.

    Three statements: the nearest open merchants of every category (one index-driven
    stream each, exact geodesic order, see ``nearest.py``), the count per category inside
    the circle, and the service points with a window function (a thousand rows).
    ``session`` may be a read-pool psycopg connection (``geo.db.make_read_pool``), the
    cheapest way to run it.
    """
    if not (math.isfinite(minutes) and 1 <= minutes <= MAX_MINUTES):
        raise OutOfRange("minutes", minutes, 1, MAX_MINUTES)
    radius_m = reach_radius_m(minutes)
    nearest = await nearest_each(
        session,
        _NEAREST_OPEN,
        {"open": MerchantStatus.OPEN.value},
        point=point,
        radius_m=max(radius_m, _LARGEST_TIER_M),  # far enough to judge every tier
        limit=NEAREST_SHOWN,
        streams=list(KEY_OF_CATEGORY.values()),
    )
    counts = await count_within(session, _COUNT_OPEN, point=point, radius_m=radius_m)
    categories = tuple(
        CategoryReach(
            c,
            counts.get(KEY_OF_CATEGORY[c.code], 0),
            tuple(
                Nearby(merchant_row(r), d)
                for r, d in nearest[KEY_OF_CATEGORY[c.code]]
                if d <= radius_m
            ),
        )
        for c in CATEGORIES.values()
    )
    gaps = tuple(c for c in BASIC_CATEGORIES if _is_gap(c, nearest[KEY_OF_CATEGORY[c.code]]))
    return ServiceCircle(
        point, minutes, radius_m, categories, gaps, await _service_points(session, point, radius_m)
    )


_NEAREST_OPEN = candidates(
    MERCHANTS,
    MERCHANT_COLUMNS,
    where=[MERCHANTS.c.status == bindparam("open")],
    stream_column=MERCHANTS.c.category_key,
)


_COUNT_OPEN = counted(
    MERCHANTS,
    MERCHANTS.c.category_key,
    where=[MERCHANTS.c.status == literal_column(f"'{MerchantStatus.OPEN.value}'")],
)


def _is_gap(category: Category, nearest: list[tuple[Any, float]]) -> bool:
    """No open merchant of the category within its own tier (``nearest`` is sorted)."""
    return not nearest or nearest[0][1] > reach_radius_m(category.reach_minutes or 0)


async def _service_points(
    session: Executor, point: LonLat, radius_m: float
) -> tuple[KindReach, ...]:
    box = window(point, radius_m)
    cx, cy = mercator_xy(point)
    params = {
        "lon": point.lon,
        "lat": point.lat,
        "cx": cx,
        "cy": cy,
        "reach": box.reach,
        "radius": radius_m,
        "shown": NEAREST_SHOWN,
    }
    ranked: dict[str, list[Any]] = {}
    for row in await fetch_mappings(session, _SERVICE_POINTS_NEAR, params):
        ranked.setdefault(row["kind"], []).append(row)
    return tuple(
        KindReach(
            kind,
            ranked[kind.value][0]["within"] if kind.value in ranked else 0,
            tuple(
                Nearby(service_point_row(r), r["distance_m"]) for r in ranked.get(kind.value, [])
            ),
        )
        for kind in ServicePointKind
    )


# Every service point in the circle gets its geodesic distance once; the window function
# numbers each kind's nearest first and counts the kind, in the same pass.
_SERVICE_POINTS_NEAR = text(
    f"""
    WITH near AS (
        SELECT id, kind, name, phone, address,
               ST_X(location) AS longitude, ST_Y(location) AS latitude,
               hours_text, outside_coverage, grid_id, version,
               updated_at,
               ST_Distance(location::geography,
                           {PARAM_POINT}::geography) AS distance_m
        FROM service_points
        WHERE {MERCATOR_XY}
              <@ box(point(:cx - :reach, :cy - :reach), point(:cx + :reach, :cy + :reach))
    ), ranked AS (
        SELECT near.*,
               row_number() OVER (PARTITION BY kind ORDER BY distance_m, id) AS rank,
               count(*) OVER (PARTITION BY kind) AS within
        FROM near
        WHERE distance_m <= :radius
    )
    SELECT * FROM ranked WHERE rank <= :shown ORDER BY kind, rank
    """
)


# --- grid coverage ---------------------------------------------------------------------

#: Most lattice points per grid; a larger grid gets a wider spacing (reported back).
MAX_SAMPLES: Final = 2_500
_A_M: Final = 6_378_137.0
_E2: Final = 0.00669437999014
#: A point of the lattice: whole multiples of the steps in degrees.
_LATTICE_POINT: Final = point_text("i * :dlon", "j * :dlat")


@dataclass(frozen=True, slots=True)
class CategoryShare:
    category: Category
    #: Lattice points with an open merchant of the category within its reach tier.
    covered: int
    #: ``covered / samples``: the share of the grid's area served (0..1).
    share: float


@dataclass(frozen=True, slots=True)
class GridCoverage:
    grid_id: int
    #: Distance between neighbouring lattice points actually used, in metres.
    spacing_m: float
    samples: int
    #: Every basic category, nearest tier first.
    shares: tuple[CategoryShare, ...]


async def grid_service_coverage(
    session: AsyncSession, grid_id: int, *, spacing_m: float = 50.0
) -> GridCoverage:
    """For each basic category, the share of the grid within its reach tier of one.

    The grid is sampled on a regular lattice ``spacing_m`` metres apart east-west and
    north-south (converted to degrees at the grid's centroid on the WGS 84 ellipsoid),
    anchored at whole multiples of the step, so the lattice does not depend on the grid's
    bounding box. Lattice points on the boundary count (``ST_Covers``). A grid too small to
    hold a lattice point is sampled at one point inside it (``ST_PointOnSurface``); a
    grid that would need more than :data:`MAX_SAMPLES` points gets a wider spacing, which
    the result reports. A sample is covered when an open merchant of the category lies
    within the category's tier (geodesic, boundary included). Raises NotFound for an
    unknown grid and OutOfRange for a spacing outside 10-1000 m.
    """
    if not (math.isfinite(spacing_m) and 10 <= spacing_m <= 1000):
        raise OutOfRange("spacingM", spacing_m, 10, 1000)
    found = (await session.execute(_GRID_SIZE, {"id": grid_id})).first()
    if found is None:
        raise NotFound("grid", grid_id)
    area_m2, lat, poleward = found
    spacing = max(spacing_m, math.sqrt(area_m2 / MAX_SAMPLES))
    lat_m, lon_m = _metres_per_degree(lat)
    reach = [reach_radius_m(c.reach_minutes or 0) for c in BASIC_CATEGORIES]
    params = {
        "id": grid_id,
        "dlat": spacing / lat_m,
        "dlon": spacing / lon_m,
        "keys": [KEY_OF_CATEGORY[c.code] for c in BASIC_CATEGORIES],
        "codes": [c.code for c in BASIC_CATEGORIES],
        "reach": reach,
        # Probe squares in World Mercator metres (the index's), as nearest.window makes them
        # for a point at the grid's poleward edge, where Mercator stretches most.
        "box_m": [window(LonLat(0.0, poleward), r).reach for r in reach],
    }
    rows = {r["code"]: r for r in (await session.execute(_COVERAGE, params)).mappings()}
    samples = next(iter(rows.values()))["samples"] if rows else 0
    shares = tuple(
        CategoryShare(c, rows[c.code]["covered"], rows[c.code]["covered"] / samples)
        for c in BASIC_CATEGORIES
    )
    return GridCoverage(grid_id, spacing, samples, shares)


def _metres_per_degree(lat: float) -> tuple[float, float]:
    """Metres per degree of latitude and of longitude at ``lat`` on WGS 84."""
    phi = math.radians(lat)
    w = math.sqrt(1 - _E2 * math.sin(phi) ** 2)
    meridian = _A_M * (1 - _E2) / w**3
    prime = _A_M / w
    return math.radians(1) * meridian, math.radians(1) * prime * math.cos(phi)


_GRID_SIZE = text(
    "SELECT ST_Area(boundary::geography), ST_Y(ST_Centroid(boundary)),"
    " greatest(abs(ST_YMin(boundary)), abs(ST_YMax(boundary))) FROM grids WHERE id = :id"
)
# Each probe is one scan of the category index inside the category's band (planar.py);
# the index key is spelt on the merchants' own columns, unqualified, as the index has it.
_COVERAGE = text(
    f"""
    WITH g AS (
        SELECT boundary, ST_XMin(boundary) AS x0, ST_XMax(boundary) AS x1,
               ST_YMin(boundary) AS y0, ST_YMax(boundary) AS y1
        FROM grids WHERE id = :id
    ), lattice AS (
        SELECT {_LATTICE_POINT} AS pt
        FROM g,
             generate_series(ceil(g.x0 / :dlon)::int, floor(g.x1 / :dlon)::int) AS i,
             generate_series(ceil(g.y0 / :dlat)::int, floor(g.y1 / :dlat)::int) AS j
        WHERE ST_Covers(g.boundary, {_LATTICE_POINT})
    ), sampled AS (
        SELECT pt FROM lattice
        UNION ALL
        SELECT ST_PointOnSurface(boundary) FROM g WHERE NOT EXISTS (SELECT FROM lattice)
    ), samples AS (
        SELECT pt, ST_X(ST_Transform(pt, 3395)) AS x, ST_Y(ST_Transform(pt, 3395)) AS y
        FROM sampled
    ), tiers AS (
        SELECT * FROM unnest(:keys, :codes, :reach, :box_m) AS t(key, code, reach, box_m)
    )
    SELECT t.code,
           count(*) AS samples,
           count(*) FILTER (WHERE EXISTS (
               SELECT FROM merchants m
               WHERE ({CATEGORY_BANDED_XY}) <@ box(
                         point(s.x + t.key * {BAND_M}::float8 - t.box_m, s.y - t.box_m),
                         point(s.x + t.key * {BAND_M}::float8 + t.box_m, s.y + t.box_m))
                 AND m.category_key = t.key
                 AND m.status = 'OPEN'
                 AND ST_DWithin(m.location::geography, s.pt::geography, t.reach)
           )) AS covered
    FROM samples s CROSS JOIN tiers t
    GROUP BY t.code
    """
).bindparams(
    bindparam("keys", type_=ARRAY(SmallInteger)),
    bindparam("codes", type_=ARRAY(String)),
    bindparam("reach", type_=ARRAY(Float)),
    bindparam("box_m", type_=ARRAY(Float)),
)
