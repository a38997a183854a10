"""Routing by the accuracy circle: the deepest grid that holds the whole circle takes the case.

Hand-drawn grids first (every level and reason, a hole, a shared vertex, the NETWORK floor),
then the synthetic district against shapely + pyproj, independently of PostGIS: each random
point and radius is projected to an azimuthal equidistant plane centred on the point (there
the distance from the centre is the geodesic distance), buffered, and tested for containment
in the projected grid polygons.
"""

from __future__ import annotations

import logging
import math
import random
from collections import Counter
from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, box
from shapely.strtree import STRtree
from sqlalchemy.ext.asyncio import AsyncSession

from geo.cases.categories import LocationSource
from geo.cases.routing import RoutingReason, route_case
from geo.coords import LonLat
from geo.grids.service import WorkerInput, import_grids, replace_workers
from geo.grids.synth import SynthGrid, synth_district, synth_workers
from tests.builders.cases import at, report, tiny_grids
from tests.builders.shapes import LAT0, LON0, collection, feature

pytestmark = pytest.mark.anyio
log = logging.getLogger(__name__)

#: Samples whose circle comes nearer than this to a grid boundary (either side) are not
#: judged: the projected plane and PostGIS's geodesic measure differ by centimetres.
TOLERANCE_M = 0.5
SAMPLES = 600


# -- the two complaints, on the tiny district ----------------------------------------


async def test_a_circle_across_micro_grids_goes_to_their_l3_grid_not_a_micro_worker(
    db: AsyncSession,
) -> None:
    # 0.5 units (46 m) from micro-grid B; the L3 grid's edges are 277 m and more away.
    grids = await tiny_grids(db)
    result = await report(
        db, actor=None, point=at(4.5, 2.5), source=LocationSource.MAP_PICK, accuracy_m=100.0
    )
    assert result.case.grid_id == grids["D111"]
    assert result.case.routing_reason == RoutingReason.ACCURACY_CIRCLE_L3
    assert result.routing is not None
    details = result.routing.details
    assert details["worker"] == "李强", "the L3 grid's worker, not micro-grid A's 王伟"
    assert (details["grid"], details["point_grid"], details["point_edge_m"]) == (
        "D111",
        "D111A",
        46,
    )
    assert details["edge_m"] >= 100 and "near_grids" not in details


async def test_a_circle_inside_one_l3_grid_is_not_sent_to_the_district_queue(
    db: AsyncSession,
) -> None:
    # 300 m around the corner the four micro-grids share: larger than any of them (their
    # equivalent radius is 284 m), well inside the L3 grid (457 m to its nearest edge).
    grids = await tiny_grids(db)
    result = await report(
        db, actor=None, point=at(5.2, 5.3), source=LocationSource.ADDRESS, accuracy_m=300.0
    )
    assert result.case.grid_id == grids["D111"], "not the queue (COARSE_LOCATION)"
    assert result.case.routing_reason == RoutingReason.ACCURACY_CIRCLE_L3
    assert result.case.assignee_worker_id is not None


# -- every level, on a hand-drawn district ----------------------------------------------------


def rect(x0: float, y0: float, x1: float, y1: float) -> MultiPolygon:
    """A rectangle in tiny-district units (0.001° from tests.builders.shapes' south-west corner)."""
    return MultiPolygon(
        [box(LON0 + x0 / 1000, LAT0 + y0 / 1000, LON0 + x1 / 1000, LAT0 + y1 / 1000)]
    )


def nested_district() -> dict[str, object]:
    """N (40×20 units) → L1 N1 | N2; N1 → L2 N11 | N12; N11 → L3 N111 (south) | N112.

    ┌─────────┬─────────┬───────────────────┐   micro-grids: N111A (0,0)-(5,10),
    │  N112A  │         │                   │   N111B (5,0)-(10,10), N112A (0,10)-(10,20),
    ├────┬────┤  N121A  │  N211A  ┌──┐      │   N121A (10,0)-(20,20), N211B the square
    │N111│N111│         │         │B │      │   (28,8)-(32,12), N211A the rest of N2 (with
    │ A  │ B  │         │         └──┘      │   a hole where N211B is). Grids above a single
    └────┴────┴─────────┴───────────────────┘   child have its outline. One unit: 0.001°
                                                  (91 m east-west, 111 m north-south).
    """
    n2, inner = rect(20, 0, 40, 20), rect(28, 8, 32, 12)
    ring = MultiPolygon([n2.geoms[0].difference(inner.geoms[0])])
    return collection(
        feature("N", "DISTRICT", rect(0, 0, 40, 20), None),
        feature("N1", "L1", rect(0, 0, 20, 20), "N"),
        feature("N2", "L1", n2, "N"),
        feature("N11", "L2", rect(0, 0, 10, 20), "N1"),
        feature("N12", "L2", rect(10, 0, 20, 20), "N1"),
        feature("N21", "L2", n2, "N2"),
        feature("N111", "L3", rect(0, 0, 10, 10), "N11"),
        feature("N112", "L3", rect(0, 10, 10, 20), "N11"),
        feature("N121", "L3", rect(10, 0, 20, 20), "N12"),
        feature("N211", "L3", n2, "N21"),
        feature("N111A", "MICRO", rect(0, 0, 5, 10), "N111"),
        feature("N111B", "MICRO", rect(5, 0, 10, 10), "N111"),
        feature("N112A", "MICRO", rect(0, 10, 10, 20), "N112"),
        feature("N121A", "MICRO", rect(10, 0, 20, 20), "N121"),
        feature("N211A", "MICRO", ring, "N211"),
        feature("N211B", "MICRO", inner, "N211"),
    )


ROLE = {"L1": "L1_AGENT", "L2": "L2_WORKER", "L3": "L3_WORKER", "MICRO": "MICRO_WORKER"}


async def nested_grids(session: AsyncSession, unstaffed: tuple[str, ...] = ()) -> None:
    """Imports nested_district; every grid below the district but ``unstaffed`` gets a
    worker named after it."""
    district = nested_district()
    await import_grids(session, district)
    workers = [
        WorkerInput(code, f"W-{code}", f"1380000{i:04d}", ROLE[props["level"]])
        for i, f in enumerate(district["features"])  # type: ignore[attr-defined]
        if (props := f["properties"])["level"] != "DISTRICT"
        and (code := props["code"]) not in unstaffed
    ]
    await replace_workers(session, workers)


@pytest.mark.parametrize(
    ("x", "y", "accuracy_m", "grid", "reason"),
    [
        (2.5, 5, 20.0, "N111A", "MICRO_GRID_WORKER"),  # 229 m from A's nearest edge
        (4.8, 5, 50.0, "N111", "ACCURACY_CIRCLE_L3"),  # 18 m from B, 439 m from N111's edge
        (5, 9.8, 50.0, "N11", "ACCURACY_CIRCLE_L2"),  # 22 m from N112
        (9.8, 10, 50.0, "N1", "ACCURACY_CIRCLE_L1"),  # 18 m from N12
        (19.8, 10, 50.0, None, "COARSE_LOCATION"),  # 18 m from N2: no L1 holds it
        (25, 3, 50.0, "N211A", "MICRO_GRID_WORKER"),  # 274 m from the hole
        (27.5, 10, 50.0, "N211", "ACCURACY_CIRCLE_L3"),  # 46 m from the hole's edge
        (30, 10, 200.0, "N211", "ACCURACY_CIRCLE_L3"),  # in the hole, 183 m from its edge
        (10, 10, 1.0, "N1", "ACCURACY_CIRCLE_L1"),  # the vertex of N111, N112 and N12
        (45, 10, 20.0, None, "OUTSIDE_COVERAGE"),
    ],
)
async def test_the_deepest_grid_holding_the_circle_takes_the_case(
    db: AsyncSession, x: float, y: float, accuracy_m: float, grid: str | None, reason: str
) -> None:
    await nested_grids(db)
    routing = await route_case(db, at(x, y), accuracy_m=accuracy_m, source=LocationSource.MAP_PICK)
    assert (routing.grid.code if routing.grid else None, routing.reason) == (grid, reason)
    assert routing.details.get("worker") == (f"W-{grid}" if grid else None)


async def test_a_point_on_a_shared_vertex_names_the_smallest_code_as_its_own_grid(
    db: AsyncSession,
) -> None:
    await nested_grids(db)
    routing = await route_case(db, at(10, 10), accuracy_m=1.0, source=LocationSource.GPS)
    # N111B, N112A and N121A all cover the point; the circle fits none of them.
    assert routing.details["point_grid"] == "N111B" and routing.details["point_edge_m"] == 0
    assert routing.details["near_grids"] == ["N112A", "N121A"]


@pytest.mark.parametrize(
    ("unstaffed", "reason", "worker"),
    [
        (("N111",), "NO_WORKER_FALLBACK_L2", "W-N11"),
        (("N111", "N11"), "NO_WORKER_FALLBACK_L1", "W-N1"),
        (("N111", "N11", "N1"), "NO_WORKER_DISTRICT_QUEUE", None),
    ],
)
async def test_an_unstaffed_grid_that_holds_the_circle_falls_back_up_its_path(
    db: AsyncSession, unstaffed: tuple[str, ...], reason: str, worker: str | None
) -> None:
    await nested_grids(db, unstaffed)
    routing = await route_case(db, at(4.8, 5), accuracy_m=50.0, source=LocationSource.GPS)
    assert (routing.grid.code if routing.grid else None, routing.reason) == ("N111", reason)
    assert routing.details.get("worker") == worker


async def test_a_network_fix_is_routed_with_at_least_its_default_radius(
    db: AsyncSession,
) -> None:
    # WeChat's fuzzy location is kilometres off whatever accuracy the client claims: 5 km
    # holds in no L1 grid here (nor in the synthetic district: its L1 grids are 0.7-1.4 km).
    await nested_grids(db)
    result = await report(
        db, actor=None, point=at(5, 5), source=LocationSource.NETWORK, accuracy_m=10.0
    )
    assert (result.case.grid_id, result.case.routing_reason) == (None, "COARSE_LOCATION")
    assert result.case.accuracy_m == 10.0, "the claim is stored as made"
    assert result.routing is not None
    assert result.routing.details["circle_m"] == 5000
    assert result.routing.details["point_grid"] == "N111A"


# -- the synthetic district against shapely ---------------------------------------------------

DEPTH = {"L1": 1, "L2": 2, "L3": 3, "MICRO": 4}
OWN = {"MICRO": "MICRO_GRID_WORKER", "L3": "ACCURACY_CIRCLE_L3", "L2": "ACCURACY_CIRCLE_L2"}
OWN_L1 = "ACCURACY_CIRCLE_L1"


@cache
def demo() -> dict[str, SynthGrid]:
    return {g.code: g for g in synth_district()}


@cache
def demo_index() -> tuple[STRtree, list[SynthGrid]]:
    below = [g for g in demo().values() if g.level != "DISTRICT"]
    return STRtree([g.geometry for g in below]), below


@cache
def first_worker() -> dict[str, str]:
    """Each staffed grid's first worker (the seed stores them in this order)."""
    out: dict[str, str] = {}
    for worker in synth_workers(list(demo().values())):
        out.setdefault(worker.grid_code, worker.name)
    return out


@dataclass(frozen=True)
class Expected:
    grid: str | None  # None: a queue
    outside: bool
    margin_m: float  # nearest |distance to a covering grid's boundary − radius|


def expected(lon: float, lat: float, radius_m: float) -> Expected:
    """The deepest grid whose polygon contains the circle, by shapely in metres."""
    tree, grids = demo_index()
    p = Point(lon, lat)
    covering = [grids[i] for i in tree.query(p) if grids[i].geometry.covers(p)]
    if not covering:
        return Expected(None, True, math.inf)
    aeqd = f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m"
    to_plane = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_plane.transform(xy[:, 0], xy[:, 1]))

    centre = Point(0, 0)
    circle = centre.buffer(radius_m, quad_segs=64)  # chords within 0.01 % of the radius
    holding, margin = [], math.inf
    for grid in covering:
        polygon = shapely.transform(grid.geometry, project)
        margin = min(margin, abs(polygon.boundary.distance(centre) - radius_m))
        if polygon.contains(circle):
            holding.append(grid)
    best = min(holding, key=lambda g: (-DEPTH[g.level], g.code), default=None)
    return Expected(best.code if best else None, False, margin)


def expected_staff(code: str) -> tuple[str, str]:
    """(reason, worker) for a case routed to ``code``: the deepest staffed grid on its path."""
    grid: SynthGrid | None = demo()[code]
    while grid is not None and grid.level != "DISTRICT":
        if grid.code in first_worker():
            if grid.code == code:
                return OWN.get(grid.level, OWN_L1), first_worker()[grid.code]
            return f"NO_WORKER_FALLBACK_{grid.level}", first_worker()[grid.code]
        grid = demo()[grid.parent_code] if grid.parent_code else None
    raise AssertionError(f"nobody staffs the path of {code}")


def samples(n: int, seed: int = 14) -> list[tuple[float, float, float]]:
    """Half anywhere in the district's box (some outside the district), half within 60 m of
    a micro-grid's edge, where the answer changes; radii log-uniform from 2 m to 3 km."""
    rng = random.Random(seed)
    whole = next(g for g in demo().values() if g.level == "DISTRICT").geometry
    minx, miny, maxx, maxy = whole.bounds
    micros = [g for g in demo().values() if g.level == "MICRO"]
    out = []
    for i in range(n):
        if i % 2:
            lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        else:
            q = rng.choice(micros).geometry.boundary.interpolate(rng.random(), normalized=True)
            d, a = rng.uniform(0, 60), rng.uniform(0, 2 * math.pi)
            lon = q.x + d * math.cos(a) / (111_320 * math.cos(math.radians(q.y)))
            lat = q.y + d * math.sin(a) / 110_574
        out.append((lon, lat, math.exp(rng.uniform(math.log(2), math.log(3000)))))
    return out


async def test_routing_matches_shapely_buffers_over_the_demo_district(
    seeded_db: AsyncSession,
) -> None:
    outcomes: Counter[str] = Counter()
    for lon, lat, radius_m in samples(SAMPLES):
        want = expected(lon, lat, radius_m)
        if want.margin_m < TOLERANCE_M:
            outcomes["skipped"] += 1
            continue
        routing = await route_case(
            seeded_db, LonLat(lon, lat), accuracy_m=radius_m, source=LocationSource.MAP_PICK
        )
        sample = (lon, lat, radius_m, routing.details)
        assert (routing.grid.code if routing.grid else None) == want.grid, sample
        if want.outside:
            assert routing.reason == RoutingReason.OUTSIDE_COVERAGE, sample
            outcomes["outside"] += 1
        elif want.grid is None:
            assert routing.reason == RoutingReason.COARSE_LOCATION, sample
            outcomes["queue"] += 1
        else:
            reason, worker = expected_staff(want.grid)
            assert (routing.reason, routing.details["worker"]) == (reason, worker), sample
            outcomes[demo()[want.grid].level] += 1
    log.info("%d samples against shapely: %s", SAMPLES, dict(outcomes))
    assert outcomes["skipped"] < SAMPLES // 50
    assert min(outcomes[k] for k in ("MICRO", "L3", "L2", "L1", "queue", "outside")) >= 10
