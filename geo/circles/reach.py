"""The 15-minute service circle of a place: what is within walking reach, and the gaps.

Walking time is straight-line distance × ``walking.DETOUR_FACTOR`` (1.3) at
``walking.WALKING_SPEED_M_PER_MIN`` (80 m/min): 15 minutes reach ≈ 923 m. Only merchants
trading (status OPEN) count; a temporarily closed pharmacy serves no one.

:func:`service_circle` answers in three statements whatever the density (a dense centre
holds tens of thousands of shops within 15 minutes): an index-driven nearest-first stream
per category gives the nearest three and the gap test, a count per category settles most
rows by planar bounds, and a window function ranks the few service points. How well a
whole grid is served is ``coverage.py``'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import bindparam, literal_column, text

from geo.coords import LonLat
from geo.db import Queryable, fetch_mappings
from geo.merchants.models import KEY_OF_CATEGORY, MerchantStatus
from geo.merchants.queries import MERCHANT_COLUMNS, MERCHANTS, MerchantRow, merchant_row
from geo.merchants.taxonomy import BASIC_CATEGORIES, CATEGORIES, Category
from geo.places.errors import OutOfRange
from geo.places.nearest import candidates, count_within, counted, nearest_each, window
from geo.places.planar import MERCATOR_XY, mercator_xy
from geo.places.queries import Nearby
from geo.places.walking import reach_radius_m
from geo.points import PARAM_POINT
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


async def service_circle(session: Queryable, point: LonLat, minutes: float = 15) -> ServiceCircle:
    """What is within ``minutes`` on foot of a WGS-84 point, per category, and the gaps.

    Three statements: the nearest open merchants of every category (one index-driven
    stream each, exact geodesic order, see ``geo.places.nearest``), the count per category inside
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
    session: Queryable, point: LonLat, radius_m: float
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
