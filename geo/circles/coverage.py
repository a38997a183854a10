"""How well a grid is served: the share of it within walking reach of each basic category.

:func:`grid_service_coverage` samples the grid on a regular lattice (see its docstring)
and asks, for every sample and every basic category, whether one is within that
category's reach tier; PostgreSQL answers with one index probe per pair.
:func:`coverage_of_grids` computes it for the grids of a DataLoader batch, within a budget of
lattice points per request.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Float, SmallInteger, String

from geo.coords import LonLat
from geo.errors import DomainError
from geo.merchants.models import KEY_OF_CATEGORY
from geo.merchants.taxonomy import BASIC_CATEGORIES, Category
from geo.places.errors import NotFound, OutOfRange
from geo.places.nearest import window
from geo.places.planar import BAND_M, CATEGORY_BANDED_XY
from geo.places.walking import reach_radius_m
from geo.points import point_text

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
# Each probe is one scan of the category index inside the category's band (``geo.places.planar``);
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


#: Lattice points of grid coverage one request may have computed: about 0.3 ms each, so a
#: request asking for the coverage of a page of large grids stays within seconds.
COVERAGE_SAMPLE_BUDGET = 10_000


@dataclass
class SampleBudget:
    """Lattice points a caller may still have computed (one per request)."""

    left: int = COVERAGE_SAMPLE_BUDGET


class CoverageBudgetSpent(DomainError):
    def __init__(self, budget: int) -> None:
        super().__init__(
            f"grid coverage is computed for at most {budget:,} lattice points per request; "
            "ask for fewer grids at a time, or a wider spacingM"
        )


async def coverage_of_grids(
    session: AsyncSession,
    keys: Sequence[tuple[int, float]],
    *,
    budget: SampleBudget | None = None,
) -> dict[tuple[int, float], GridCoverage | DomainError]:
    """``grid_service_coverage`` of each ``(grid_id, spacing_m)``, or the DomainError it
    raised (NotFound, OutOfRange, CoverageBudgetSpent) as the value, so one bad key fails
    alone. Grids are computed while ``budget`` lasts (the grid that overdraws it included).

    One statement per grid: each is a lattice of up to 2,500 samples, not a row lookup.
    """
    budget = budget or SampleBudget()
    out: dict[tuple[int, float], GridCoverage | DomainError] = {}
    for grid_id, spacing_m in dict.fromkeys(keys):
        found: GridCoverage | DomainError
        if budget.left <= 0:
            found = CoverageBudgetSpent(COVERAGE_SAMPLE_BUDGET)
        else:
            try:
                found = await grid_service_coverage(session, grid_id, spacing_m=spacing_m)
                budget.left -= found.samples
            except DomainError as error:
                found = error
        out[(grid_id, spacing_m)] = found
    return out
