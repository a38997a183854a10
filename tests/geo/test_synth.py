"""Tests for geo.grids.synth: counts, codes, determinism, exact partition (in metres), workers.

The district is built once per module (``functools.cache``); metric checks project to
UTM zone 49N (EPSG:32649) with pyproj.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import random
import re
from collections import Counter

import numpy as np
import pyproj
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import MultiPolygon, STRtree, box
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo.grids.synth import (
    DISTRICT_BOUNDS,
    DISTRICT_CODE,
    DISTRICT_NAME,
    LEVELS,
    ROLE_BY_LEVEL,
    UNSTAFFED_MICRO_SHARE,
    SynthGrid,
    SynthWorker,
    _allocate,
    synth_district,
    synth_feature_collection,
    synth_workers,
)

EXPECTED_COUNTS = {"DISTRICT": 1, "L1": 17, "L2": 175, "L3": 846, "MICRO": 5657}
TOL_M2 = 1.0
TOL_M = 1.0
_UTM = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32649", always_xy=True)
_PHONE = re.compile(r"^1[3-9]\d{9}$")
_HAN = re.compile(r"^[\u4e00-\u9fff]{2,3}$")


@functools.cache
def district() -> tuple[SynthGrid, ...]:
    return tuple(synth_district())


@functools.cache
def by_code() -> dict[str, SynthGrid]:
    return {g.code: g for g in district()}


@functools.cache
def children() -> dict[str, tuple[str, ...]]:
    kids: dict[str, list[str]] = {}
    for g in district():
        if g.parent_code is not None:
            kids.setdefault(g.parent_code, []).append(g.code)
    return {code: tuple(codes) for code, codes in kids.items()}


def _to_utm(coords: np.ndarray) -> np.ndarray:
    x, y = _UTM.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


@functools.cache
def metric() -> dict[str, BaseGeometry]:
    grids = district()
    projected = shapely.transform(np.array([g.geometry for g in grids]), _to_utm)
    return {g.code: geom for g, geom in zip(grids, projected, strict=True)}


@functools.cache
def workers() -> tuple[SynthWorker, ...]:
    return tuple(synth_workers(district()))


def _fingerprint(grids: tuple[SynthGrid, ...] | list[SynthGrid]) -> str:
    digest = hashlib.sha256()
    for g in grids:
        digest.update(f"{g.code}|{g.parent_code}|{g.level}|{g.name}|".encode())
        digest.update(shapely.to_wkb(g.geometry))
    return digest.hexdigest()


def _worst_errors(parent: str, kids: tuple[str, ...]) -> dict[str, float]:
    """Partition errors of one parent, in m² and m (UTM 49N)."""
    geoms = metric()
    outer, inner = geoms[parent], np.array([geoms[k] for k in kids])
    tree = STRtree(inner)
    left, right = tree.query(inner, predicate="intersects")
    pair = left < right
    overlaps = shapely.area(shapely.intersection(inner[left[pair]], inner[right[pair]]))
    vertices = shapely.points(shapely.get_coordinates(inner))
    return {
        "overlap_m2": float(overlaps.max(initial=0.0)),
        "symdiff_m2": shapely.symmetric_difference(shapely.union_all(inner), outer).area,
        "area_sum_m2": abs(float(shapely.area(inner).sum()) - outer.area),
        "outside_m2": float(shapely.area(shapely.difference(inner, outer)).max()),
        "vertex_outside_m": float(shapely.distance(vertices, outer).max()),
        "not_within_1m": float(not shapely.buffer(outer, TOL_M).covers(shapely.union_all(inner))),
    }


@functools.cache
def partition_report() -> dict[str, dict[str, float]]:
    """Worst partition error per child level."""
    report: dict[str, dict[str, float]] = {}
    for parent, kids in children().items():
        level = by_code()[kids[0]].level
        worst = report.setdefault(level, {})
        for key, value in _worst_errors(parent, kids).items():
            worst[key] = max(worst.get(key, 0.0), value)
    return report


# ------------------------------------------------------------------- counts and codes


def test_exact_counts_per_level() -> None:
    assert Counter(g.level for g in district()) == EXPECTED_COUNTS
    assert len(district()) == 6696


def test_codes_unique_and_parents_one_level_up() -> None:
    grids = district()
    assert len({g.code for g in grids}) == len(grids)
    position = {g.code: i for i, g in enumerate(grids)}
    for g in grids:
        depth = LEVELS.index(g.level)
        assert re.fullmatch(rf"{DISTRICT_CODE}(\d{{3}}){{{depth}}}", g.code), g.code
        if depth == 0:
            assert g.parent_code is None
            continue
        parent = by_code()[str(g.parent_code)]
        assert g.code[:-3] == parent.code
        assert LEVELS.index(parent.level) == depth - 1
        assert position[parent.code] < position[g.code]  # parents before children


def test_sibling_suffixes_are_contiguous_from_001() -> None:
    for parent, kids in children().items():
        assert [k[len(parent) :] for k in kids] == [f"{i:03d}" for i in range(1, len(kids) + 1)]


def test_children_per_parent_vary_and_are_at_least_two() -> None:
    for level in LEVELS[:-1]:
        counts = [len(children()[g.code]) for g in district() if g.level == level]
        assert min(counts) >= 2
        if level != "DISTRICT":
            assert len(set(counts)) > 2, f"{level} children counts are too regular: {counts}"


def test_names() -> None:
    grids = district()
    assert grids[0].name == DISTRICT_NAME
    l1 = [g.name for g in grids if g.level == "L1"]
    assert len(set(l1)) == 17
    assert all(n.endswith(("街道", "镇", "乡")) for n in l1)
    l2 = [g.name for g in grids if g.level == "L2"]
    assert len(set(l2)) == 175
    assert all(n.endswith("社区") for n in l2)
    assert all(re.fullmatch(r"第\d+网格", g.name) for g in grids if g.level == "L3")
    assert all("号" in g.name for g in grids if g.level == "MICRO")


def test_deterministic_and_seed_dependent() -> None:
    assert _fingerprint(synth_district()) == _fingerprint(district())
    other = synth_district(seed=28)
    assert Counter(g.level for g in other) == EXPECTED_COUNTS
    assert _fingerprint(other) != _fingerprint(district())


@settings(database=None, max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0.01, 100.0), min_size=1, max_size=40),
    st.integers(0, 2000),
)
def test_allocate_is_exact_largest_remainder(weights: list[float], extra: int) -> None:
    total = 2 * len(weights) + extra
    counts = _allocate(total, weights)
    assert sum(counts) == total
    assert min(counts) >= 2
    quotas = [extra * w / sum(weights) for w in weights]
    assert all(abs(c - 2 - q) < 1 + 1e-9 for c, q in zip(counts, quotas, strict=True))


# ------------------------------------------------------------------------- geometry


def test_geometries_valid_multipolygons_inside_bounds() -> None:
    x0, y0, x1, y1 = DISTRICT_BOUNDS
    for g in district():
        assert isinstance(g.geometry, MultiPolygon), g.code
        assert g.geometry.is_valid, g.code
        assert g.geometry.area > 0, g.code
        gx0, gy0, gx1, gy1 = g.geometry.bounds
        assert x0 <= gx0 and gx1 <= x1 and y0 <= gy0 and gy1 <= y1, g.code


def test_coordinates_lie_on_the_1e7_degree_grid() -> None:
    coords = shapely.get_coordinates(np.array([g.geometry for g in district()]))
    assert np.array_equal(np.round(coords, 7), coords)


def test_district_outline_is_irregular() -> None:
    outline = district()[0].geometry
    assert len(outline.geoms) == 1
    assert 0.6 < outline.area / outline.envelope.area < 0.9  # neither a box nor a sliver
    assert len(outline.geoms[0].exterior.coords) >= 41
    assert len(outline.geoms[0].interiors) == 0


def test_children_exactly_covered_by_parent() -> None:
    grids = district()
    parents = np.array([by_code()[str(g.parent_code)].geometry for g in grids[1:]])
    assert shapely.covers(parents, np.array([g.geometry for g in grids[1:]])).all()


def test_partition_in_metres_at_every_level() -> None:
    report = partition_report()
    assert set(report) == set(LEVELS[1:])
    for level, worst in report.items():
        assert worst["overlap_m2"] < TOL_M2, (level, worst)
        assert worst["symdiff_m2"] < TOL_M2, (level, worst)
        assert worst["area_sum_m2"] < TOL_M2, (level, worst)
        assert worst["outside_m2"] < TOL_M2, (level, worst)
        assert worst["vertex_outside_m"] < TOL_M, (level, worst)
        assert worst["not_within_1m"] == 0.0, (level, worst)


def test_micro_grids_are_denser_near_the_centre() -> None:
    centre = metric()[DISTRICT_CODE].centroid
    micro = [metric()[g.code] for g in district() if g.level == "MICRO"]
    dist = shapely.distance(shapely.centroid(np.array(micro)), centre)
    area = shapely.area(np.array(micro))
    inner, outer = area[dist < 1500].mean(), area[dist > 4000].mean()
    assert inner < 0.6 * outer
    assert area.min() > 1_000 and area.max() < 200_000


def _random_points_in_district(n: int, seed: int) -> np.ndarray:
    rng = random.Random(seed)
    outline = district()[0].geometry
    x0, y0, x1, y1 = outline.bounds
    points: list[BaseGeometry] = []
    while len(points) < n:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if shapely.contains_xy(outline, x, y):
            points.append(shapely.Point(x, y))
    return np.array(points)


def test_random_points_fall_in_exactly_one_micro_grid_and_its_ancestors() -> None:
    points = _random_points_in_district(2000, seed=2024)
    micro = [g for g in district() if g.level == "MICRO"]
    tree = STRtree(np.array([g.geometry for g in micro]))
    point_idx, micro_idx = tree.query(points, predicate="covered_by")
    assert np.array_equal(np.bincount(point_idx, minlength=len(points)), np.ones(len(points)))
    codes = [micro[i].code for i in micro_idx[np.argsort(point_idx)]]
    for _ in LEVELS:
        geoms = np.array([by_code()[c].geometry for c in codes])
        assert shapely.covers(geoms, points).all()
        codes = [str(by_code()[c].parent_code) for c in codes if by_code()[c].parent_code]
        if not codes:
            break


# -------------------------------------------------------------------------- workers


def test_workers_staff_every_grid_but_the_documented_micro_share() -> None:
    staffed = Counter(w.grid_code for w in workers())
    unstaffed = [g for g in district()[1:] if g.code not in staffed]
    micro_total = EXPECTED_COUNTS["MICRO"]
    assert len(unstaffed) == round(UNSTAFFED_MICRO_SHARE * micro_total) == 113
    assert all(g.level == "MICRO" for g in unstaffed)
    assert DISTRICT_CODE not in staffed
    assert set(staffed.values()) == {1, 2}
    for g in unstaffed:  # routing can fall back one level up
        assert staffed[str(g.parent_code)] >= 1


def test_worker_fields() -> None:
    phones = [w.phone for w in workers()]
    assert len(set(phones)) == len(phones)
    assert all(_PHONE.fullmatch(p) for p in phones)
    for w in workers():
        assert w.role == ROLE_BY_LEVEL[by_code()[w.grid_code].level]
        assert _HAN.fullmatch(w.name), w.name
    assert synth_workers(district()) == list(workers())


# -------------------------------------------------------------------------- GeoJSON


def test_feature_collection_matches_grids_exactly() -> None:
    fc = synth_feature_collection(district())
    assert fc["type"] == "FeatureCollection"
    assert len(fc["features"]) == len(district())
    json.dumps(fc, ensure_ascii=False)
    geoms = []
    for feature, grid in zip(fc["features"], district(), strict=True):
        props = feature["properties"]
        assert (props["code"], props["parent_code"]) == (grid.code, grid.parent_code)
        assert (props["level"], props["name"]) == (grid.level, grid.name)
        geoms.append(shape(feature["geometry"]))
    originals = np.array([g.geometry for g in district()])
    assert shapely.equals_exact(np.array(geoms), originals, 0.0).all()  # rounding lost nothing


def _tiny_hierarchy(split_x: float) -> list[SynthGrid]:
    x0, y0, x1, y1 = 113.600000012345, 34.700000034567, 113.610000056789, 34.710000078901
    parent = MultiPolygon([box(x0, y0, x1, y1)])
    west = MultiPolygon([box(x0, y0, split_x, y1)])
    east = MultiPolygon([box(split_x, y0, x1, y1)])
    return [
        SynthGrid("410103", None, "DISTRICT", "二七区", parent),
        SynthGrid("410103001", "410103", "L1", "淮河路街道", west),
        SynthGrid("410103002", "410103", "L1", "解放路街道", east),
    ]


def _coords(fc: dict) -> np.ndarray:
    return shapely.get_coordinates(np.array([shape(f["geometry"]) for f in fc["features"]]))


def test_feature_collection_rounds_when_partition_survives() -> None:
    coords = _coords(synth_feature_collection(_tiny_hierarchy(113.605000098765)))
    assert np.array_equal(np.round(coords, 7), coords)
    assert not math.isclose(coords[0, 0], 113.600000012345, rel_tol=0, abs_tol=1e-12)


def test_feature_collection_keeps_coordinates_when_rounding_breaks_partition() -> None:
    grids = _tiny_hierarchy(113.600000041)  # the west child is 3 mm wide: rounding kills it
    coords = _coords(synth_feature_collection(grids))
    expected = shapely.get_coordinates(np.array([g.geometry for g in grids]))
    assert np.array_equal(coords, expected)
