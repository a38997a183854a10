"""Checks for a grid import (GeoJSON) before anything reaches the database.

Two pure steps, both of which report *every* problem instead of stopping at the first:

* :func:`parse_features` turns a FeatureCollection into :class:`GridFeature` objects and
  reports per-feature problems: structure, properties, coordinate ranges, geometry validity.
  Geometries are never repaired (no ``make_valid``/``buffer(0)``): a repair silently moves
  boundaries, and the people who drew them must decide where they go.
* :func:`validate_hierarchy` checks the parsed grids against each other and against grids
  already stored: parent known and exactly one level up, child inside its parent, siblings
  disjoint and, as a warning, children covering their parent.

Topology (covers, interiors intersect) is decided on the input lon/lat coordinates, where
shared vertices are bit-identical, so an exact partition never trips a tolerance. Sizes are
measured in metres after projecting to the UTM zone around the data (pyproj), so the
tolerances below are real metres and square metres, not degrees.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray
from shapely import MultiPolygon, Polygon, STRtree
from shapely.geometry.base import BaseGeometry

from geo.points import SRID

__all__ = [
    "GAP_TOLERANCE_M2",
    "LEVELS",
    "OUTSIDE_PARENT_TOLERANCE_M",
    "OVERLAP_TOLERANCE_M2",
    "ExistingGrid",
    "GridFeature",
    "GridLevel",
    "ImportProblem",
    "ProblemKind",
    "Severity",
    "parse_features",
    "validate_hierarchy",
]

# 1 m / 1 m²: well above float noise of a projected partition (micrometres), well below
# anything a person drawing boundaries on a map could mean.
OUTSIDE_PARENT_TOLERANCE_M: Final = 1.0
OVERLAP_TOLERANCE_M2: Final = 1.0
GAP_TOLERANCE_M2: Final = 1.0


class GridLevel(StrEnum):
    """Grid levels, top-down; every level partitions the one above it."""

    DISTRICT = "DISTRICT"
    L1 = "L1"
    L2 = "L2"
    L3 = "L3"
    MICRO = "MICRO"

    @property
    def depth(self) -> int:
        """0 for DISTRICT, 4 for MICRO; a parent's depth is its child's depth minus one."""
        return LEVELS.index(self.value)


LEVELS: Final = tuple(level.value for level in GridLevel)


class ProblemKind(StrEnum):
    """What is wrong; the values are part of the API (clients switch on them)."""

    MALFORMED_FEATURE = "malformed_feature"
    MISSING_PROPERTY = "missing_property"
    BAD_LEVEL = "bad_level"
    DUPLICATE_CODE = "duplicate_code"
    INVALID_GEOMETRY = "invalid_geometry"
    UNKNOWN_PARENT = "unknown_parent"
    WRONG_LEVEL_ORDER = "wrong_level_order"
    OUTSIDE_PARENT = "outside_parent"
    SIBLING_OVERLAP = "sibling_overlap"
    GAP = "gap"
    NOT_POLYGON = "not_polygon"
    OUT_OF_RANGE = "out_of_range"


class Severity(StrEnum):
    """Only GAP is a warning; everything else refuses the import."""

    ERROR = "error"  # the import must be refused
    WARNING = "warning"  # worth showing, but the import may go ahead


@dataclass(frozen=True, slots=True)
class GridFeature:
    """One well-formed feature: valid non-empty MultiPolygon, lon/lat within range."""

    index: int  # position in the file (0-based), for reports
    code: str
    parent_code: str | None
    level: GridLevel
    name: str
    geometry: MultiPolygon  # lon/lat WGS-84
    properties: dict[str, Any]  # the other properties, kept as-is


@dataclass(frozen=True, slots=True)
class ExistingGrid:
    """A stored grid that features in the file may name as their parent; ``level`` is a
    GridLevel even when given as a plain string (as read from the database)."""

    code: str
    level: GridLevel
    geometry: BaseGeometry  # (Multi)Polygon, lon/lat WGS-84
    id: int | None = None  # database id, for the importer's parent_id; unused here

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", GridLevel(self.level))  # frozen: bypass setattr


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One problem; ``message`` is a single user-safe sentence naming the grid (or feature #)."""

    index: int | None  # feature index; None for file-level problems and stored parents
    code: str | None
    kind: ProblemKind
    message: str
    location: tuple[float, float] | None  # lon, lat where it happens, when known
    severity: Severity = Severity.ERROR
    distance_m: float | None = None  # outside_parent: how far the child sticks out
    area_m2: float | None = None  # sibling_overlap / gap: size of the overlap or gap
    other_code: str | None = None  # the other grid: overlapping sibling, or the parent


_CORE_PROPERTIES: Final = frozenset({"code", "parent_code", "level", "name"})
_LIMITS: Final = np.array([180.0, 90.0])
_REASON_POINT: Final = re.compile(r"\[(\S+) (\S+)\]")


# ----------------------------------------------------------------------------- parsing


class _Rejected(Exception):
    """A geometry problem found while parsing; ``detail`` continues "Grid X ..."."""

    def __init__(
        self, kind: ProblemKind, detail: str, location: tuple[float, float] | None = None
    ) -> None:
        super().__init__(detail)
        self.kind, self.detail, self.location = kind, detail, location


def parse_features(
    collection: Mapping[str, Any],
) -> tuple[list[GridFeature], list[ImportProblem]]:
    """Well-formed features in file order, and one problem list covering all the others.

    A returned feature has a unique code (the first occurrence wins), a known level, a name
    and a valid, non-empty MultiPolygon (a Polygon is promoted) with finite coordinates in
    range. A feature with any problem is left out. Geometries are never repaired.
    """
    raw_features = collection.get("features") if isinstance(collection, Mapping) else None
    if _geojson_type(collection) != "FeatureCollection" or not isinstance(
        raw_features, list | tuple
    ):
        message = "The file is not a GeoJSON FeatureCollection with a list of features."
        return [], [ImportProblem(None, None, ProblemKind.MALFORMED_FEATURE, message, None)]
    features: list[GridFeature] = []
    problems: list[ImportProblem] = []
    first_seen: dict[str, int] = {}
    for index, raw in enumerate(raw_features):
        feature, found = _parse_feature(index, raw)
        code = _code_of(raw)
        if code is not None and code in first_seen:
            found.append(_duplicate(index, code, first_seen[code]))
        elif code is not None:
            first_seen[code] = index
        problems.extend(found)
        if feature is not None and not found:
            features.append(feature)
    return features, problems


def _geojson_type(collection: Any) -> str | None:
    """The GeoJSON ``type`` member, or None."""
    kind = collection.get("type") if isinstance(collection, Mapping) else None
    return kind if isinstance(kind, str) else None


def _code_of(raw: Any) -> str | None:
    props = raw.get("properties") if isinstance(raw, Mapping) else None
    code = props.get("code") if isinstance(props, Mapping) else None
    return code if isinstance(code, str) and code.strip() else None


def _duplicate(index: int, code: str, first: int) -> ImportProblem:
    message = f"Grid {code} appears again at feature #{index}; it was already at #{first}."
    return ImportProblem(index, code, ProblemKind.DUPLICATE_CODE, message, None)


def _parse_feature(index: int, raw: Any) -> tuple[GridFeature | None, list[ImportProblem]]:
    props = raw.get("properties") if isinstance(raw, Mapping) else None
    if _geojson_type(raw) != "Feature" or not isinstance(props, Mapping | None):
        message = f"Feature #{index} is not a GeoJSON Feature with an object of properties."
        return None, [ImportProblem(index, None, ProblemKind.MALFORMED_FEATURE, message, None)]
    props = props or {}
    code = _code_of(raw)
    who = f"Grid {code}" if code else f"Feature #{index}"
    problems = _property_problems(index, code, props, who)
    try:
        geometry = _parse_geometry(raw.get("geometry"))
    except _Rejected as exc:
        message = f"{who} {exc.detail}."
        problems.append(ImportProblem(index, code, exc.kind, message, exc.location))
        return None, problems
    if problems or code is None:
        return None, problems
    extra = {k: v for k, v in props.items() if k not in _CORE_PROPERTIES}
    parent = props.get("parent_code") or None  # "" is how many GIS exports write null
    level = GridLevel(props["level"])
    return GridFeature(index, code, parent, level, props["name"], geometry, extra), problems


def _property_problems(
    index: int, code: str | None, props: Mapping[str, Any], who: str
) -> list[ImportProblem]:
    """Problems with code, level, name and parent_code, in that order."""
    missing = ProblemKind.MISSING_PROPERTY
    found: list[tuple[ProblemKind, str]] = []
    if code is None and props.get("code") is not None and not isinstance(props["code"], str):
        text = f"{who} has a code that is not text (quote it so that leading zeros survive)"
        found.append((missing, text))
    elif code is None:
        found.append((missing, f"{who} has no code (a non-empty text string)"))
    level = props.get("level")
    if level is None:
        found.append((missing, f"{who} has no level"))
    elif level not in LEVELS:
        expected = ", ".join(LEVELS)
        found.append((ProblemKind.BAD_LEVEL, f"{who} has level {level!r:.40}; use {expected}"))
    name = props.get("name")
    if not (isinstance(name, str) and name.strip()):
        found.append((missing, f"{who} has no name (a non-empty text string)"))
    if not isinstance(props.get("parent_code"), str | None):
        found.append((missing, f"{who} has a parent_code that is neither text nor null"))
    return [ImportProblem(index, code, kind, f"{text}.", None) for kind, text in found]


def _parse_geometry(geometry: Any) -> MultiPolygon:
    """The geometry as a valid MultiPolygon, or :class:`_Rejected`."""
    kind = _geojson_type(geometry)
    if kind not in ("Polygon", "MultiPolygon"):
        what = f"a {kind:.30} geometry" if kind else "no geometry"
        raise _Rejected(
            ProblemKind.NOT_POLYGON, f"has {what}; only Polygon and MultiPolygon are accepted"
        )
    coordinates = geometry.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates
    if not isinstance(polygons, list | tuple) or not polygons:
        raise _Rejected(ProblemKind.INVALID_GEOMETRY, "has a geometry without coordinates")
    multi = MultiPolygon([_polygon(rings) for rings in polygons])
    reason = shapely.is_valid_reason(multi)
    if reason != "Valid Geometry":
        detail = f"has an invalid geometry ({reason})"
        raise _Rejected(ProblemKind.INVALID_GEOMETRY, detail, _reason_location(reason))
    return multi


def _polygon(rings: Any) -> Polygon:
    if not isinstance(rings, list | tuple) or not rings:
        raise _Rejected(ProblemKind.INVALID_GEOMETRY, "has a polygon without rings")
    arrays = [_ring(ring) for ring in rings]
    return Polygon(arrays[0], arrays[1:])


def _ring(ring: Any) -> NDArray[np.float64]:
    """A closed ring of at least 4 in-range positions, as an (n, 2) array."""
    xy = _positions(ring)
    _check_range(xy)
    start = (float(xy[0, 0]), float(xy[0, 1]))
    if len(xy) < 4:
        raise _Rejected(ProblemKind.INVALID_GEOMETRY, "has a ring of fewer than 4 positions", start)
    # Shapely would close an open ring silently; that is a repair, so refuse it.
    if not np.array_equal(xy[0], xy[-1]):
        detail = "has a ring whose last position differs from its first (ring not closed)"
        raise _Rejected(ProblemKind.INVALID_GEOMETRY, detail, start)
    return xy


def _positions(ring: Any) -> NDArray[np.float64]:
    try:
        array = np.asarray(ring)
    except ValueError:  # ragged nesting
        array = np.empty(0)
    # Checking the dtype (not asking numpy for float) rejects strings, booleans and nulls.
    if array.ndim != 2 or len(array) == 0 or array.shape[1] < 2 or array.dtype.kind not in "iuf":
        detail = "has coordinates that are not [longitude, latitude] number pairs"
        raise _Rejected(ProblemKind.INVALID_GEOMETRY, detail)
    return array[:, :2].astype(np.float64)


def _check_range(xy: NDArray[np.float64]) -> None:
    if (np.abs(xy) <= _LIMITS).all():  # NaN compares False, so it fails this too
        return
    if not np.isfinite(xy).all():
        raise _Rejected(ProblemKind.OUT_OF_RANGE, "has a coordinate that is not a finite number")
    bad = np.flatnonzero((np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90))
    if bad.size:
        lon, lat = xy[bad[0]]
        swapped = " (are longitude and latitude swapped?)" if abs(lon) <= 90 < abs(lat) else ""
        # No location: a point off the globe cannot be shown on a map.
        detail = f"has position ({lon:g}, {lat:g}) outside lon ±180 / lat ±90{swapped}"
        raise _Rejected(ProblemKind.OUT_OF_RANGE, detail)


def _reason_location(reason: str) -> tuple[float, float] | None:
    """The point GEOS names in ``reason`` ("Self-intersection[x y]"), if any."""
    match = _REASON_POINT.search(reason)
    if not match:
        return None
    try:
        lon, lat = float(match[1]), float(match[2])
    except ValueError:
        return None
    return (lon, lat) if math.isfinite(lon) and math.isfinite(lat) else None


# --------------------------------------------------------------------------- hierarchy

_Parent = GridFeature | ExistingGrid
_Pair = tuple[GridFeature, _Parent]


def validate_hierarchy(
    features: Sequence[GridFeature], existing: Mapping[str, ExistingGrid]
) -> list[ImportProblem]:
    """Every hierarchy problem of ``features``, ordered by feature index (stored parents last).

    A parent code is looked up in ``features`` first, then in ``existing``. A grid whose
    parent is unknown or not exactly one level up is reported and skips the spatial checks.
    Of the rest, these are all reported: each child sticking out of its parent by more than
    OUTSIDE_PARENT_TOLERANCE_M, each sibling pair overlapping by more than
    OVERLAP_TOLERANCE_M2 (districts count as siblings of each other), and, as warnings, each
    parent whose children in ``features`` leave more than GAP_TOLERANCE_M2 of it uncovered.
    """
    if not features:
        return []
    lookup: dict[str, _Parent] = dict(existing)
    lookup.update((f.code, f) for f in reversed(features))  # reversed: first occurrence wins
    placed, problems = _check_parents(features, lookup)
    pairs = [(f, lookup[f.parent_code]) for f in placed if f.parent_code is not None]
    metric = _Metric.around(np.array([f.geometry for f in features], dtype=object))
    outside, loose_parents = _outside_parent(pairs, metric)
    overlaps, overlapping_parents = _sibling_overlaps(placed, metric)
    gaps = _gaps(pairs, loose_parents | overlapping_parents, metric)
    problems += outside + overlaps + gaps
    return sorted(problems, key=lambda p: (p.index is None, p.index or 0))


def _check_parents(
    features: Sequence[GridFeature], lookup: Mapping[str, _Parent]
) -> tuple[list[GridFeature], list[ImportProblem]]:
    """Features whose parent is in order (districts: none), and problems for the others."""
    placed: list[GridFeature] = []
    problems: list[ImportProblem] = []
    for feature in features:
        problem = _parent_problem(feature, lookup)
        if problem is None:
            placed.append(feature)
        else:
            problems.append(problem)
    return placed, problems


def _parent_problem(f: GridFeature, lookup: Mapping[str, _Parent]) -> ImportProblem | None:
    wrong, unknown = ProblemKind.WRONG_LEVEL_ORDER, ProblemKind.UNKNOWN_PARENT
    if f.level is GridLevel.DISTRICT:
        if f.parent_code is None:
            return None
        text = f"Grid {f.code} is a DISTRICT, so its parent_code must be null, not {f.parent_code}."
        return ImportProblem(f.index, f.code, wrong, text, None)
    expected = LEVELS[f.level.depth - 1]
    if f.parent_code is None:
        text = f"Grid {f.code} is {f.level} and needs a parent at level {expected}, but has none."
        return ImportProblem(f.index, f.code, wrong, text, None)
    parent = lookup.get(f.parent_code)
    if parent is None:
        text = (
            f"Grid {f.code} names parent {f.parent_code}, which is neither a valid grid "
            "in this file nor an existing grid."
        )
        return ImportProblem(f.index, f.code, unknown, text, None)
    if parent.level.depth != f.level.depth - 1:
        text = (
            f"Grid {f.code} is {f.level} but its parent {parent.code} is {parent.level}; "
            f"the parent of a grid at level {f.level} must be at level {expected}."
        )
        return ImportProblem(f.index, f.code, wrong, text, None, other_code=parent.code)
    return None


def _outside_parent(
    pairs: Sequence[_Pair], metric: _Metric
) -> tuple[list[ImportProblem], set[str]]:
    """outside_parent problems, and the codes of parents with any child not exactly inside."""
    if not pairs:
        return [], set()
    children = np.array([child.geometry for child, _ in pairs], dtype=object)
    parents = np.array([parent.geometry for _, parent in pairs], dtype=object)
    # Exact test on the input coordinates first: an exact partition never gets projected.
    loose = np.flatnonzero(~shapely.covers(parents, children))
    if loose.size == 0:
        return [], set()
    kids_m, parents_m = metric.project(children[loose]), metric.project(parents[loose])
    # child ⊆ parent grown by the tolerance  <=>  no point of the child is farther out.
    grown = shapely.buffer(parents_m, OUTSIDE_PARENT_TOLERANCE_M, quad_segs=32)
    far = ~shapely.covers(grown, kids_m)
    distances, points = _farthest_outside(kids_m[far], parents_m[far])
    problems = [
        _outside_problem(*pairs[i], float(d), metric.to_lonlat(x, y))
        for i, d, (x, y) in zip(loose[far], distances, points.tolist(), strict=True)
    ]
    return problems, {pairs[i][1].code for i in loose}


def _outside_problem(
    child: GridFeature, parent: _Parent, distance: float, location: tuple[float, float]
) -> ImportProblem:
    text = (
        f"Grid {child.code} extends {distance:.1f} m outside its parent {parent.code} "
        f"(at most {OUTSIDE_PARENT_TOLERANCE_M:g} m is allowed)."
    )
    kind = ProblemKind.OUTSIDE_PARENT
    return ImportProblem(
        child.index, child.code, kind, text, location, distance_m=distance, other_code=parent.code
    )


def _farthest_outside(
    kids_m: NDArray[Any], parents_m: NDArray[Any]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per child, the largest distance (m) from its parent of a point outside it, and where.

    Candidates are the vertices of the outside part, which hold the maximum when a child is
    shifted or has a spike. A pocket whose rim lies on the parent's boundary has all its
    vertices at ~0 m, so those get a dense sample (see :func:`_pocket_depth`).
    """
    distances, points = np.zeros(len(kids_m)), np.zeros((len(kids_m), 2))
    if len(kids_m) == 0:
        return distances, points
    outside = shapely.difference(kids_m, parents_m)
    xy, owner = shapely.get_coordinates(outside, return_index=True)
    d = shapely.distance(parents_m[owner], shapely.points(xy))
    best = np.lexsort((d, owner))  # grouped by child, farthest vertex last in each group
    best = best[np.r_[owner[best][1:] != owner[best][:-1], True]]
    distances[owner[best]], points[owner[best]] = d[best], xy[best]
    for i in np.flatnonzero(distances <= OUTSIDE_PARENT_TOLERANCE_M):
        distances[i], points[i] = _pocket_depth(outside[i], parents_m[i])
    return distances, points


def _pocket_depth(outside: Any, parent_m: Any) -> tuple[float, NDArray[np.float64]]:
    """Farthest point of ``outside`` from ``parent_m``: its rim every <= 0.5 m (at most
    ~2,000 points) plus the centre of its largest inscribed circle."""
    step = max(0.5, shapely.length(outside) / 2000)
    rim = shapely.get_coordinates(shapely.segmentize(outside, step))
    centre = shapely.get_coordinates(shapely.maximum_inscribed_circle(outside))[:1]
    points = np.vstack((rim, centre))
    d = shapely.distance(parent_m, shapely.points(points))
    best = int(np.argmax(d))
    return float(d[best]), points[best]


def _sibling_overlaps(
    members: Sequence[GridFeature], metric: _Metric
) -> tuple[list[ImportProblem], set[str | None]]:
    """sibling_overlap problems, and the parent codes whose children's interiors meet at all."""
    if len(members) < 2:
        return [], set()
    geoms = np.array([f.geometry for f in members], dtype=object)
    group_ids: dict[str | None, int] = {}
    groups = np.array([group_ids.setdefault(f.parent_code, len(group_ids)) for f in members])
    left, right = STRtree(geoms).query(geoms)  # bounding boxes only: cheap candidates
    same = (left < right) & (groups[left] == groups[right])
    left, right = left[same], right[same]
    # Interiors meet (DE-9IM II = 2): exact on the input, so shared edges never count.
    inner = shapely.relate_pattern(geoms[left], geoms[right], "T********")
    left, right = left[inner], right[inner]
    pieces = shapely.intersection(geoms[left], geoms[right])
    areas = metric.area_m2(pieces)
    problems = [
        _overlap_problem(members[i], members[j], piece, float(area))
        for i, j, piece, area in zip(left, right, pieces, areas, strict=True)
        if area > OVERLAP_TOLERANCE_M2
    ]
    return problems, {members[i].parent_code for i in left}


def _overlap_problem(a: GridFeature, b: GridFeature, piece: Any, area: float) -> ImportProblem:
    text = (
        f"Grids {a.code} and {b.code} overlap by {area:.1f} m² "
        f"(grids under the same parent may share edges but not area)."
    )
    centroid = shapely.centroid(piece)
    kind = ProblemKind.SIBLING_OVERLAP
    return ImportProblem(
        b.index, b.code, kind, text, (centroid.x, centroid.y), area_m2=area, other_code=a.code
    )


def _gaps(pairs: Sequence[_Pair], untidy: set[str | None], metric: _Metric) -> list[ImportProblem]:
    """gap warnings: parents whose children in the file leave > GAP_TOLERANCE_M2 uncovered.

    ``untidy`` are the parents whose children stick out or overlap; for the others the
    uncovered area is simply the parent's area minus the children's.
    """
    families: dict[str, tuple[_Parent, list[BaseGeometry]]] = {}
    for child, parent in pairs:
        families.setdefault(parent.code, (parent, []))[1].append(child.geometry)
    if not families:
        return []
    parents = [parent for parent, _ in families.values()]
    kids = [geoms for _, geoms in families.values()]
    parent_area = metric.area_m2(np.array([p.geometry for p in parents], dtype=object))
    kid_area = metric.area_m2(np.array([g for geoms in kids for g in geoms], dtype=object))
    kid_sums = np.add.reduceat(kid_area, np.cumsum([0] + [len(g) for g in kids[:-1]]))
    # Half the tolerance: the subtraction only screens, the exact gap decides below.
    screened = parent_area - kid_sums > GAP_TOLERANCE_M2 / 2
    problems = []
    for i, parent in enumerate(parents):
        if screened[i] or parent.code in untidy:
            problem = _gap_problem(parent, kids[i], metric)
            problems += [problem] if problem else []
    return problems


def _gap_problem(
    parent: _Parent, kids: Sequence[BaseGeometry], metric: _Metric
) -> ImportProblem | None:
    gap = shapely.difference(parent.geometry, shapely.union_all(kids))
    parts = shapely.get_parts(gap)
    areas = metric.area_m2(parts)
    total = float(areas.sum())
    if total <= GAP_TOLERANCE_M2:
        return None
    where = shapely.point_on_surface(parts[int(np.argmax(areas))])
    text = f"The grids under {parent.code} in this import leave {total:.1f} m² of it uncovered."
    index = parent.index if isinstance(parent, GridFeature) else None
    kind, location = ProblemKind.GAP, (where.x, where.y)
    return ImportProblem(index, parent.code, kind, text, location, Severity.WARNING, area_m2=total)


# ------------------------------------------------------------------------------ metres


@dataclass(frozen=True, slots=True)
class _Metric:
    """Metres in the UTM zone around the data, with the origin moved to the data's centre.

    Moving the origin keeps coordinates small (UTM northings here are ~3.8e6 m), so area
    sums over a whole district stay accurate to far below a square metre. Over a district
    UTM's scale error is at most about 0.1 %: a millimetre on the 1 m tolerance.
    """

    transformer: pyproj.Transformer
    origin: tuple[float, float]

    @classmethod
    def around(cls, geometries: NDArray[Any]) -> _Metric:
        """Projection for the UTM zone holding the centre of ``geometries``' bounds."""
        west, south, east, north = shapely.total_bounds(geometries)
        lon, lat = (west + east) / 2, (south + north) / 2
        zone = min(int((lon + 180) // 6) + 1, 60)
        transformer = _utm(zone, lat >= 0)
        x, y = transformer.transform(lon, lat)
        return cls(transformer, (float(x), float(y)))

    def project(self, geometries: NDArray[Any]) -> NDArray[Any]:
        """``geometries`` in local metres (all coordinates in one pyproj call)."""
        return shapely.transform(geometries, self._forward)

    def area_m2(self, geometries: NDArray[Any]) -> NDArray[np.float64]:
        """Areas in square metres."""
        return shapely.area(self.project(geometries))

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        """Local metres back to lon/lat."""
        ox, oy = self.origin
        lon, lat = self.transformer.transform(x + ox, y + oy, direction="INVERSE")
        return (float(lon), float(lat))

    def _forward(self, xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = self.transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack((x - self.origin[0], y - self.origin[1]))


@functools.cache
def _utm(zone: int, north: bool) -> pyproj.Transformer:
    """lon/lat -> WGS 84 / UTM zone (EPSG:326zz north, 327zz south), always lon, lat order."""
    # Cached and shared: pyproj transformers are thread-safe since 3.1.
    epsg = (32600 if north else 32700) + zone
    return pyproj.Transformer.from_crs(f"EPSG:{SRID}", f"EPSG:{epsg}", always_xy=True)
