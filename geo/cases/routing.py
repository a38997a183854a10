"""Routing a reported case: to the covering micro-grid and its named worker, or to the queue.

Rules, in order:

1. No grid covers the point → the district agents' queue, ``OUTSIDE_COVERAGE`` (the nearest
   micro-grid and its distance go into the event details).
2. The location is too coarse to name one micro-grid → the queue, ``COARSE_LOCATION``:
   a NETWORK fix (cell/Wi-Fi/WeChat fuzzy: kilometres off) always; any other fix when its
   accuracy circle does not fit inside the covering grid, i.e. ``accuracy_m`` exceeds both
   the point's distance to the grid's edge and the grid's equivalent radius √(area/π) (the
   circle is then larger than the grid itself). In the synthetic district micro-grids have
   equivalent radii of 28-95 m (median 55 m): a GPS fix (20 m) always routes, a typed
   address (100 m) never does, a map pick or a QR board only when the grid is big enough
   or the point far enough from its edge.
3. Otherwise the case goes to the covering grid (shared edges: the smallest code, see
   geo.grids.queries) and to the first worker of the deepest grid on the path, micro-grid
   first; when the micro-grid has nobody the reason names the level that took it
   (``NO_WORKER_FALLBACK_L3`` …), and with nobody on the whole path the case goes to the
   queue as ``NO_WORKER_DISTRICT_QUEUE`` (keeping its grid).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from geo.cases.categories import LocationSource
from geo.coords import LonLat
from geo.grids.queries import LEVEL_DEPTH, Covered, GridRow, route_point

#: Candidate grids closer than this to the point are listed in the routing details.
NEAR_EDGE_M = 20.0


class RoutingReason(StrEnum):
    MICRO_GRID_WORKER = "MICRO_GRID_WORKER"  # the routed grid's own worker
    NO_WORKER_FALLBACK_L3 = "NO_WORKER_FALLBACK_L3"
    NO_WORKER_FALLBACK_L2 = "NO_WORKER_FALLBACK_L2"
    NO_WORKER_FALLBACK_L1 = "NO_WORKER_FALLBACK_L1"
    NO_WORKER_DISTRICT_QUEUE = "NO_WORKER_DISTRICT_QUEUE"
    OUTSIDE_COVERAGE = "OUTSIDE_COVERAGE"
    COARSE_LOCATION = "COARSE_LOCATION"
    CONFIRMED_BY_AGENT = "CONFIRMED_BY_AGENT"  # an agent set the grid when accepting


#: A worker found above the micro-grid names the level that took the case.
_FALLBACK_BY_DEPTH = {
    LEVEL_DEPTH["L3"]: RoutingReason.NO_WORKER_FALLBACK_L3,
    LEVEL_DEPTH["L2"]: RoutingReason.NO_WORKER_FALLBACK_L2,
    LEVEL_DEPTH["L1"]: RoutingReason.NO_WORKER_FALLBACK_L1,
}


@dataclass(frozen=True, slots=True)
class Routing:
    """Where a case goes. ``grid`` None: the district agents' queue."""

    reason: RoutingReason
    grid: GridRow | None
    worker_id: int | None = None
    #: JSON-safe facts for the REPORTED event (integers and strings only: they are hashed).
    details: dict[str, Any] = field(default_factory=dict)


# Reviewed SQL: the grid's area (geodesic, m²) and the deepest staffed grid's first worker
# in one round trip. array_position ranks the worker's grid by depth along the path.
_WORKER_AND_AREA = text(
    """
    SELECT (SELECT ST_Area(boundary::geography) FROM grids WHERE id = :grid_id) AS area_m2,
           w.id AS worker_id, w.name AS worker_name, w.grid_id AS worker_grid_id
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (
        SELECT id, name, grid_id FROM grid_workers
        WHERE grid_id = ANY(CAST(:path AS int[]))
        ORDER BY array_position(CAST(:path AS int[]), grid_id) DESC, id
        LIMIT 1
    ) AS w ON true
    """
)


async def route_case(
    session: AsyncSession, point: LonLat, *, accuracy_m: float, source: LocationSource
) -> Routing:
    """Routes a reported point by the rules in the module docstring."""
    found = await route_point(session, point, near_m=NEAR_EDGE_M)
    if not isinstance(found, Covered):
        details: dict[str, Any] = {"accuracy_m": round(accuracy_m)}
        if found.nearest is not None:
            details |= {
                "nearest_grid": found.nearest.grid.code,
                "nearest_m": round(found.nearest.distance_m),
            }
        return Routing(RoutingReason.OUTSIDE_COVERAGE, None, details=details)
    row = (
        await session.execute(
            _WORKER_AND_AREA, {"grid_id": found.grid.id, "path": list(found.grid.path)}
        )
    ).one()
    radius_m = math.sqrt(float(row.area_m2 or 0.0) / math.pi)
    facts = {
        "grid": found.grid.code,
        "accuracy_m": round(accuracy_m),
        "edge_m": round(found.distance_to_edge_m),
        "grid_radius_m": round(radius_m),
    }
    if found.others:
        facts["near_grids"] = [c.grid.code for c in found.others]
    if _too_coarse(accuracy_m, source, found.distance_to_edge_m, radius_m):
        return Routing(RoutingReason.COARSE_LOCATION, None, details=facts)
    return _staffed(found.grid, row, facts)


def _too_coarse(accuracy_m: float, source: LocationSource, edge_m: float, radius_m: float) -> bool:
    if source is LocationSource.NETWORK:
        return True
    return accuracy_m > edge_m and accuracy_m > radius_m


def _staffed(grid: GridRow, row: Any, facts: dict[str, Any]) -> Routing:
    if row.worker_id is None:
        return Routing(RoutingReason.NO_WORKER_DISTRICT_QUEUE, grid, details=facts)
    facts = facts | {"worker": row.worker_name}
    depth = grid.path.index(row.worker_grid_id)
    reason = _FALLBACK_BY_DEPTH.get(depth, RoutingReason.MICRO_GRID_WORKER)
    return Routing(reason, grid, row.worker_id, facts)


async def route_to_grid(session: AsyncSession, grid: GridRow) -> Routing:
    """Routes to a grid an agent chose (confirming a queued case): its deepest staffed worker."""
    row = (
        await session.execute(_WORKER_AND_AREA, {"grid_id": grid.id, "path": list(grid.path)})
    ).one()
    routed = _staffed(grid, row, {"grid": grid.code})
    return Routing(RoutingReason.CONFIRMED_BY_AGENT, grid, routed.worker_id, routed.details)
