"""Routing a reported case by its accuracy circle: to the deepest grid that holds the whole
circle and to that grid's staff, or to the district agents' queue.

A report is a point and an accuracy radius ``accuracy_m``: the problem lies somewhere in the
geodesic circle of that radius around the point. Rules, in order:

1. No grid below the district covers the point → the queue, ``OUTSIDE_COVERAGE`` (the
   nearest micro-grid and its distance go into the details).
2. The case goes to the deepest grid — MICRO, then L3, L2, L1 — that holds the whole
   circle: the grid covers the point and the point's geodesic distance to the grid's
   boundary (outer rings and holes) is at least the radius. Grids of a level do not
   overlap, so at most one per level holds a circle of positive radius (and a report's
   accuracy is positive); the point's own grid is, as for ``gridAt``, the micro-grid that
   covers it, the smallest code on a shared edge or vertex.
   A NETWORK fix (cell/Wi-Fi/WeChat fuzzy: kilometres off) is routed with at least its
   default radius (5 km), whatever accuracy the client claims: the synthetic district's L1
   grids have equivalent radii of 0.7-1.4 km, so it goes to the queue; a district with
   subdistricts large enough to hold it would send it to that subdistrict, which is right.
3. No L1 grid holds the circle → the queue, ``COARSE_LOCATION``.
4. The staff is the first worker of the deepest staffed grid on the routed grid's path (the
   grid itself, then its ancestors), and the reason names the level that took the case:
   the routed grid's own worker is ``MICRO_GRID_WORKER`` for a micro-grid and
   ``ACCURACY_CIRCLE_L3`` / ``_L2`` / ``_L1`` for a circle too wide for the levels below;
   a worker of an ancestor is ``NO_WORKER_FALLBACK_L3`` / ``_L2`` / ``_L1`` (the ancestor's
   level); nobody on the whole path → the queue, ``NO_WORKER_DISTRICT_QUEUE``, keeping the
   grid.

Details (hashed into the REPORTED event): ``accuracy_m``, ``circle_m`` when the radius used
differs (NETWORK), ``grid`` and ``edge_m`` (the routed grid and the point's distance to its
edge), ``point_grid`` and ``point_edge_m`` when the point's own grid did not take the case,
``near_grids`` (other micro-grids within 20 m of the point), ``worker``.

In the synthetic district (micro-grids of equivalent radius 22-95 m, median 55 m; edges
shared across levels) 1,000 random points with each source's default radius went: GPS
(20 m) 37 % to their micro-grid, 33 % L3, 16 % L2, 10 % L1, 4 % queue; MAP_PICK (30 m) 18 %,
40 %, 23 %, 14 %, 6 %; QR_BOARD (50 m) 2 %, 33 %, 32 %, 22 %, 11 %; ADDRESS (100 m) 0 %, 7 %,
35 %, 38 %, 20 %; NETWORK all to the queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from geo.cases.categories import LocationSource
from geo.coords import LonLat
from geo.db import fetch_mappings
from geo.grids.queries import LEVEL_DEPTH, GridRow, nearest_micro, route_params
from geo.points import PARAM_POINT

#: Other micro-grids closer than this to the point are listed in the routing details.
NEAR_EDGE_M = 20.0


class RoutingReason(StrEnum):
    MICRO_GRID_WORKER = "MICRO_GRID_WORKER"  # the routed micro-grid's own worker
    ACCURACY_CIRCLE_L3 = "ACCURACY_CIRCLE_L3"  # the circle fits an L3 grid, not a micro-grid
    ACCURACY_CIRCLE_L2 = "ACCURACY_CIRCLE_L2"
    ACCURACY_CIRCLE_L1 = "ACCURACY_CIRCLE_L1"
    NO_WORKER_FALLBACK_L3 = "NO_WORKER_FALLBACK_L3"
    NO_WORKER_FALLBACK_L2 = "NO_WORKER_FALLBACK_L2"
    NO_WORKER_FALLBACK_L1 = "NO_WORKER_FALLBACK_L1"
    NO_WORKER_DISTRICT_QUEUE = "NO_WORKER_DISTRICT_QUEUE"
    OUTSIDE_COVERAGE = "OUTSIDE_COVERAGE"
    COARSE_LOCATION = "COARSE_LOCATION"
    CONFIRMED_BY_AGENT = "CONFIRMED_BY_AGENT"  # an agent set the grid when accepting


#: The routed grid's own worker, by the grid's depth.
_OWN_BY_DEPTH = {
    LEVEL_DEPTH["MICRO"]: RoutingReason.MICRO_GRID_WORKER,
    LEVEL_DEPTH["L3"]: RoutingReason.ACCURACY_CIRCLE_L3,
    LEVEL_DEPTH["L2"]: RoutingReason.ACCURACY_CIRCLE_L2,
    LEVEL_DEPTH["L1"]: RoutingReason.ACCURACY_CIRCLE_L1,
}
#: A worker found above the routed grid names the level that took the case.
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


# Reviewed SQL, one round trip on every report: an expression tree would cost more Python
# time than PostgreSQL spends here. `here` is the point's own grid: its micro-grid (partial
# GiST index; smallest code on shared edges, as in geo.grids.queries), or for a point in a
# gap between micro-grids the deepest grid below the district covering it (the second
# branch runs only when the first finds nothing). A grid holds the whole accuracy circle iff
# it covers the point and the point's geodesic distance to its boundary (outer rings and
# holes) is at least the radius. Levels partition their parents, so the grids that may hold
# the circle are `here` and its ancestors: `walk` climbs the parent links and stops at the
# first that holds it, or below the district. The distances are most of the cost (an L1
# outline has ~150 vertices, a micro-grid ~7), so a fix that fits its micro-grid measures
# one. The lateral join finds the first worker of the deepest staffed grid on the path of
# the grid that holds the circle (array_position ranks by depth); the array lists the other
# micro-grids within :near_m when the point is that near its own grid's edge.
# No row: no grid below the district covers the point.
_ROUTE_CIRCLE = text(
    f"""
    WITH RECURSIVE pt AS (SELECT {PARAM_POINT} AS geom),
    here AS (
        (SELECT g.id FROM grids g, pt
         WHERE g.level = 'MICRO' AND ST_Covers(g.boundary, pt.geom)
         ORDER BY g.code LIMIT 1)
        UNION ALL
        (SELECT g.id FROM grids g, pt
         WHERE g.level <> 'DISTRICT' AND ST_Covers(g.boundary, pt.geom)
         ORDER BY array_length(g.path, 1) DESC, g.code LIMIT 1)
        LIMIT 1
    ),
    walk AS (
        SELECT g.id, g.code, g.name, g.level, g.parent_id, g.path, g.properties, d.edge_m
        FROM grids g JOIN here USING (id), pt,
             LATERAL (SELECT ST_Distance(geography(ST_Boundary(g.boundary)),
                                         geography(pt.geom)) AS edge_m) AS d
        UNION ALL
        SELECT g.id, g.code, g.name, g.level, g.parent_id, g.path, g.properties, d.edge_m
        FROM walk w JOIN grids g ON g.id = w.parent_id, pt,
             LATERAL (SELECT ST_Distance(geography(ST_Boundary(g.boundary)),
                                         geography(pt.geom)) AS edge_m) AS d
        WHERE w.edge_m < :radius_m AND g.level <> 'DISTRICT'
    )
    SELECT h.code AS here_code, h.edge_m AS here_edge_m,
           fit.id, fit.code, fit.name, fit.level, fit.parent_id, fit.path, fit.properties,
           fit.edge_m, w.id AS worker_id, w.name AS worker_name, w.grid_id AS worker_grid_id,
           ARRAY(
               SELECT o.code FROM grids o, pt
               WHERE h.edge_m < :near_m AND o.level = 'MICRO' AND o.id <> h.id
                 AND o.boundary && ST_Expand(pt.geom, :margin_deg)
                 AND ST_DWithin(geography(o.boundary), geography(pt.geom), :near_m)
               ORDER BY ST_Distance(geography(o.boundary), geography(pt.geom)), o.code
               LIMIT :max_candidates
           ) AS near_codes
    FROM walk h JOIN here USING (id)
    LEFT JOIN walk fit ON fit.edge_m >= :radius_m
    LEFT JOIN LATERAL (
        SELECT id, name, grid_id FROM grid_workers
        WHERE grid_id = ANY(fit.path)
        ORDER BY array_position(fit.path, grid_id) DESC, id
        LIMIT 1
    ) AS w ON true
    """
)

# Reviewed SQL: the first worker of the deepest staffed grid on a path (as above).
_FIRST_WORKER = text(
    """
    SELECT id AS worker_id, name AS worker_name, grid_id AS worker_grid_id FROM grid_workers
    WHERE grid_id = ANY(CAST(:path AS int[]))
    ORDER BY array_position(CAST(:path AS int[]), grid_id) DESC, id
    LIMIT 1
    """
)


def circle_radius_m(accuracy_m: float, source: LocationSource) -> float:
    """The radius a fix is routed with: its accuracy, at least 5 km for a NETWORK fix."""
    if source is LocationSource.NETWORK:
        return max(accuracy_m, source.default_accuracy_m)
    return accuracy_m


async def route_case(
    session: AsyncSession, point: LonLat, *, accuracy_m: float, source: LocationSource
) -> Routing:
    """Routes a reported point by the rules in the module docstring."""
    radius_m = circle_radius_m(accuracy_m, source)
    params = route_params(point, NEAR_EDGE_M) | {"radius_m": radius_m}
    rows = await fetch_mappings(session, _ROUTE_CIRCLE, params)
    facts: dict[str, Any] = {"accuracy_m": round(accuracy_m)}
    if radius_m != accuracy_m:
        facts["circle_m"] = round(radius_m)
    if not rows:
        nearest = await nearest_micro(session, point)
        if nearest is not None:
            facts |= {"nearest_grid": nearest.grid.code, "nearest_m": round(nearest.distance_m)}
        return Routing(RoutingReason.OUTSIDE_COVERAGE, None, details=facts)
    row = rows[0]
    if row["id"] is not None:
        facts |= {"grid": row["code"], "edge_m": round(row["edge_m"])}
    if row["id"] is None or row["code"] != row["here_code"]:
        facts["point_grid"] = row["here_code"]
        if row["here_edge_m"] is not None:
            facts["point_edge_m"] = round(row["here_edge_m"])
    if row["near_codes"]:
        facts["near_grids"] = list(row["near_codes"])
    if row["id"] is None:
        return Routing(RoutingReason.COARSE_LOCATION, None, details=facts)
    return _staffed(_grid(row), row, facts)


def _grid(m: Mapping[str, Any]) -> GridRow:
    path = tuple(m["path"])
    return GridRow(m["id"], m["code"], m["name"], m["level"], m["parent_id"], path, m["properties"])


def _staffed(grid: GridRow, row: Mapping[str, Any] | None, facts: dict[str, Any]) -> Routing:
    if row is None or row["worker_id"] is None:
        return Routing(RoutingReason.NO_WORKER_DISTRICT_QUEUE, grid, details=facts)
    depth = grid.path.index(row["worker_grid_id"])
    if depth < len(grid.path) - 1:
        reason = _FALLBACK_BY_DEPTH.get(depth, RoutingReason.NO_WORKER_FALLBACK_L1)
    else:
        reason = _OWN_BY_DEPTH.get(depth, RoutingReason.MICRO_GRID_WORKER)
    return Routing(reason, grid, row["worker_id"], facts | {"worker": row["worker_name"]})


async def route_to_grid(session: AsyncSession, grid: GridRow) -> Routing:
    """Routes to a grid an agent chose (confirming a queued case): its deepest staffed worker."""
    rows = await fetch_mappings(session, _FIRST_WORKER, {"path": list(grid.path)})
    routed = _staffed(grid, rows[0] if rows else None, {"grid": grid.code})
    return Routing(RoutingReason.CONFIRMED_BY_AGENT, grid, routed.worker_id, routed.details)
