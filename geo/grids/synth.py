"""Deterministic synthetic grid hierarchy for 二七区 (Erqi District, Zhengzhou).

The real district is divided into 17 first-level grids (one per 街道/镇/乡), 175 second-level
grids (社区), 846 third-level grids and 5,657 micro-grids. :func:`synth_district` builds a
fake hierarchy with exactly those counts for demo data and benchmarks, and
:func:`synth_workers` staffs it with grid workers.

Codes
-----
The district is ``410103`` (its GB/T 2260 code). Each level appends a 3-digit, 1-based
sibling index, mirroring the real 街道 code pattern::

    DISTRICT 410103
    L1       410103 001                    (1..17, the most central subdistrict first)
    L2       410103 001 001                (siblings numbered north to south)
    L3       410103 001 001 001
    MICRO    410103 001 001 001 001

so a grid's parent code is its code minus the last three digits.

Method
------
1. *Outline*: a 64-vertex perturbed ellipse (four random sine harmonics on the radius)
   inside :data:`DISTRICT_BOUNDS`, snapped to the 1e-7 degree grid.
2. *Provisional regions, top-down*: for each level, the level total is shared among the
   parents by a largest-remainder scheme over ``area * density * jitter`` (at least two
   children each). ``density`` is 1 + 2.5 at the district centre falling off as a
   Gaussian, so central grids get more, hence smaller, children. Each parent draws its
   children's seed points inside its provisional region (rejection sampling with a minimum
   spacing and a margin from the parent's edge, biased towards the centre) and a child's
   provisional region is its Voronoi cell (``shapely.voronoi_polygons``) intersected with
   the parent's provisional region. Each parent has its own ``random.Random`` seeded with
   ``f"{seed}:{code}"``; the global generator is never used.
3. *Exact geometry, bottom-up*: the boundaries of all 5,657 provisional micro regions
   contain every boundary of every level. They are noded together *once*, with
   snap-rounding on the 1e-7 degree grid (``shapely.union_all(..., grid_size=1e-7)``),
   and polygonized into faces. Each face goes to the provisional micro region containing
   an interior point of it (nearest one for the odd centimetre-wide sliver that snapping
   pushes outside every region). A micro-grid is the coverage union of its faces, an L3
   grid the coverage union of its micro-grids, and so on up to the district.

Exactness guarantee
-------------------
All final geometries are unions of faces of one planar arrangement, so every vertex of
every grid is a node of that arrangement: siblings share boundary vertices bit-for-bit
(no T-junctions, not even across parents), siblings never overlap, a parent is *exactly*
the union of its children and uses only their vertices, and every coordinate is a multiple
of 1e-7 degrees. The partition is therefore exact at every level, not merely to within
floating-point noise, and rounding to 7 decimals (see :func:`synth_feature_collection`)
is the identity. The price is that a parent's boundary keeps the nodes where its
children's edges meet it, and a cell that the Voronoi/clip step cut into pieces would be a
multi-part MultiPolygon.

Workers
-------
Every grid below the district has one or two workers, except exactly
``round(UNSTAFFED_MICRO_SHARE * n_micro)`` (2 %) micro-grids chosen at random, which have
none, so that case routing must fall back to the L3 (and upper) workers.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely import MultiPolygon, Polygon, STRtree
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

__all__ = [
    "CODE_DIGITS",
    "COORD_DECIMALS",
    "DISTRICT_BOUNDS",
    "DISTRICT_CODE",
    "DISTRICT_NAME",
    "GRID_SIZE",
    "LEVELS",
    "LEVEL_TOTALS",
    "ROLE_BY_LEVEL",
    "UNSTAFFED_MICRO_SHARE",
    "SynthGrid",
    "SynthWorker",
    "synth_district",
    "synth_feature_collection",
    "synth_workers",
]

DISTRICT_BOUNDS = (113.56, 34.68, 113.68, 34.77)
DISTRICT_CODE = "410103"
DISTRICT_NAME = "二七区"
LEVELS = ("DISTRICT", "L1", "L2", "L3", "MICRO")
LEVEL_TOTALS = {"L1": 17, "L2": 175, "L3": 846, "MICRO": 5657}
CODE_DIGITS = 3
GRID_SIZE = 1e-7
COORD_DECIMALS = 7
MIN_CHILDREN = 2
UNSTAFFED_MICRO_SHARE = 0.02
ROLE_BY_LEVEL = {
    "L1": "L1_AGENT",
    "L2": "L2_WORKER",
    "L3": "L3_WORKER",
    "MICRO": "MICRO_WORKER",
}

_CENTER = (113.62, 34.725)
_COS_LAT = math.cos(math.radians(_CENTER[1]))
_RADII = (0.05, 0.038)
_OUTLINE_VERTICES = 64
_DENSITY_PEAK = 2.5
_DENSITY_SIGMA = 0.02
_BATCH = 64
_SECOND_WORKER_P = {"L1": 0.6, "L2": 0.5, "L3": 0.35, "MICRO": 0.2}
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON = 111_320.0 * _COS_LAT
_TOL_M2 = 1.0
_TOL_M = 1.0

_L1_NAMES = (
    "淮河路街道", "解放路街道", "铭功路街道", "一马路街道", "蜜蜂张街道", "五里堡街道",
    "大学路街道", "建中街街道", "福华街街道", "德化街街道", "嵩山路街道", "京广路街道",
    "长江路街道", "人和路街道", "金水源街道", "马寨镇", "侯寨乡",
)  # fmt: skip
_L2_PREFIXES = (
    "长江", "航海", "大学", "嵩山", "京广", "兴华", "政通", "福寿", "民主", "勤劳", "幸福",
    "和平", "建新", "康复", "永安", "绿云", "铭功", "交通", "棉纺", "齐礼阎", "王胡砦",
    "碧云", "汝河", "淮南", "陇海", "庆丰", "兴隆", "工人", "翠竹", "芦庄", "罗庄", "冯庄",
    "贾寨", "樱桃沟", "尖岗", "南仓",
)  # fmt: skip
_L2_SUFFIXES = ("", "东", "西", "南", "北", "新村", "花园", "里", "苑")
_ESTATES = (
    "锦艺", "升龙", "正商", "绿城", "永威", "康桥", "亚星", "保利", "建业", "华林", "鑫苑",
    "名门", "碧水", "金色", "阳光", "紫荆", "民航", "铁路", "电力", "棉纺厂", "煤机厂",
)  # fmt: skip
_SURNAMES = (
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高",
    "林", "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧",
    "程", "曹", "袁", "邓", "许", "傅", "沈", "曾", "彭", "吕", "苏", "卢", "蒋", "蔡", "贾",
    "丁", "魏", "薛", "叶", "阎", "余", "潘", "杜", "戴", "夏", "钟", "汪", "田", "任", "姜",
)  # fmt: skip
_GIVEN = (
    "伟", "芳", "娜", "秀", "英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰",
    "娟", "涛", "明", "超", "兰", "霞", "平", "刚", "桂", "文", "辉", "玲", "华", "红", "建",
    "国", "志", "海", "燕", "晓", "鹏", "宇", "浩", "欣", "怡", "佳", "俊", "博", "帅", "雪",
    "梅", "琳", "宁", "凯", "亮", "嘉", "颖", "婷", "倩", "彬", "鑫", "飞", "振", "东", "春",
)  # fmt: skip
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151",
    "152", "153", "155", "156", "157", "158", "159", "166", "176", "177", "178", "180",
    "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SynthGrid:
    """One grid: ``code`` follows the scheme in the module docstring."""

    code: str
    parent_code: str | None
    level: str
    name: str
    geometry: MultiPolygon  # lon/lat WGS84 degrees, every coordinate a multiple of 1e-7


@dataclass(frozen=True, slots=True)
class SynthWorker:
    grid_code: str
    name: str
    phone: str
    role: str


@dataclass(frozen=True, slots=True)
class _Node:
    """A grid during construction; ``region`` is provisional (Voronoi cell ∩ parent)."""

    code: str
    parent_code: str | None
    level: str
    name: str
    region: BaseGeometry


# --------------------------------------------------------------------------- geometry


def synth_district(seed: int = 27) -> list[SynthGrid]:
    """All 1 + 17 + 175 + 846 + 5657 grids, parents before children, sorted by code."""
    tiers = _provisional_tiers(seed)
    exact = _exact_geometries(tiers)
    return [
        SynthGrid(n.code, n.parent_code, n.level, n.name, exact[n.code])
        for tier in tiers
        for n in tier
    ]


def _provisional_tiers(seed: int) -> list[list[_Node]]:
    outline = _outline(random.Random(f"{seed}:outline"))
    tiers = [[_Node(DISTRICT_CODE, None, "DISTRICT", DISTRICT_NAME, outline)]]
    alloc_rng = random.Random(f"{seed}:allocation")
    for depth, level in enumerate(LEVELS[1:], start=1):
        parents = tiers[-1]
        weights = [_weight(p.region, alloc_rng) for p in parents]
        counts = _allocate(LEVEL_TOTALS[level], weights)
        names = _l2_names(seed) if level == "L2" else None
        children: list[_Node] = []
        for parent, count in zip(parents, counts, strict=True):
            rng = random.Random(f"{seed}:{parent.code}")
            children.extend(_split(parent, count, LEVELS[depth], rng, names))
        tiers.append(children)
    return tiers


def _outline(rng: random.Random) -> Polygon:
    """A star-shaped blob (so always simple) with vertices on the 1e-7 grid."""
    waves = [(k, rng.uniform(0.015, 0.03), rng.uniform(0, 2 * math.pi)) for k in (2, 3, 5, 7)]
    coords = []
    for i in range(_OUTLINE_VERTICES):
        t = 2 * math.pi * i / _OUTLINE_VERTICES
        f = 1 + sum(a * math.sin(k * t + ph) for k, a, ph in waves) + rng.uniform(-0.02, 0.02)
        x = _CENTER[0] + _RADII[0] * f * math.cos(t)
        y = _CENTER[1] + _RADII[1] * f * math.sin(t)
        coords.append((round(x, COORD_DECIMALS), round(y, COORD_DECIMALS)))
    return Polygon(coords)


def _density(x: Any, y: Any) -> Any:
    """Relative grid density (works on floats and numpy arrays): peaks at the centre."""
    d2 = ((x - _CENTER[0]) * _COS_LAT) ** 2 + (y - _CENTER[1]) ** 2
    return 1.0 + _DENSITY_PEAK * np.exp(-d2 / _DENSITY_SIGMA**2)


def _weight(region: BaseGeometry, rng: random.Random) -> float:
    c = region.centroid
    return region.area * float(_density(c.x, c.y)) * rng.uniform(0.75, 1.25)


def _allocate(total: int, weights: Sequence[float], minimum: int = MIN_CHILDREN) -> list[int]:
    """Largest-remainder apportionment of ``total`` with ``minimum`` each (when possible)."""
    base = min(minimum, total // len(weights))
    spare = total - base * len(weights)
    wsum = sum(weights)
    quotas = [spare * w / wsum for w in weights]
    counts = [base + math.floor(q) for q in quotas]
    by_remainder = sorted(range(len(weights)), key=lambda i: (math.floor(quotas[i]) - quotas[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _split(
    parent: _Node, n: int, level: str, rng: random.Random, l2_names: list[str] | None
) -> list[_Node]:
    """Children of ``parent``: Voronoi cells of ``n`` seeds, clipped to the parent."""
    seeds = _sample_seeds(parent.region, n, rng)
    if level == "L1":
        seeds.sort(key=lambda p: math.hypot((p[0] - _CENTER[0]) * _COS_LAT, p[1] - _CENTER[1]))
    else:
        seeds.sort(key=lambda p: (-p[1], p[0]))
    points = shapely.multipoints(np.asarray(seeds))
    cells = shapely.voronoi_polygons(points, extend_to=parent.region, ordered=True)
    regions = shapely.intersection(shapely.get_parts(cells), parent.region)
    estate = rng.choice(_ESTATES)
    nodes = []
    for i, region in enumerate(regions):
        code = f"{parent.code}{i + 1:0{CODE_DIGITS}d}"
        name = _grid_name(level, i, rng, estate, l2_names)
        nodes.append(_Node(code, parent.code, level, name, _polygonal(region)))
    return nodes


def _sample_seeds(region: BaseGeometry, n: int, rng: random.Random) -> list[tuple[float, float]]:
    """``n`` points inside ``region``, spaced apart, away from its edge, centre-biased."""
    x0, y0, x1, y1 = region.bounds
    spacing = math.sqrt(region.area / n)
    r_min, margin = 0.5 * spacing, 0.2 * spacing
    shapely.prepare(region)
    edge = region.boundary
    seeds: list[tuple[float, float]] = []
    for attempt in range(1, 400):
        xs = np.array([x0 + (x1 - x0) * rng.random() for _ in range(_BATCH)])
        ys = np.array([y0 + (y1 - y0) * rng.random() for _ in range(_BATCH)])
        dens = _density(xs, ys)
        accept = np.array([rng.random() for _ in range(_BATCH)]) * dens.max() < dens
        ok = accept & shapely.contains_xy(region, xs, ys)
        ok &= shapely.distance(edge, shapely.points(xs, ys)) >= margin
        for x, y in zip(xs[ok].tolist(), ys[ok].tolist(), strict=True):
            if all((x - a) ** 2 + (y - b) ** 2 >= r_min**2 for a, b in seeds):
                seeds.append((x, y))
                if len(seeds) == n:
                    return seeds
        if attempt % 8 == 0:
            r_min, margin = 0.8 * r_min, 0.7 * margin
    raise RuntimeError(f"could not place {n} seeds in region of area {region.area}")


def _polygonal(geom: BaseGeometry) -> MultiPolygon:
    """The polygonal part of ``geom`` as a MultiPolygon (drops points and lines)."""
    if isinstance(geom, MultiPolygon) and not geom.is_empty:
        return geom
    if isinstance(geom, Polygon) and not geom.is_empty:
        return MultiPolygon([geom])
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    if not parts:
        parts = [
            q
            for p in shapely.get_parts(geom)
            for q in shapely.get_parts(p)
            if isinstance(q, Polygon) and not q.is_empty
        ]
    if not parts:
        raise ValueError(f"no polygonal part in {geom.geom_type}")
    return MultiPolygon(parts)


def _exact_geometries(tiers: list[list[_Node]]) -> dict[str, MultiPolygon]:
    """Final geometry per code: faces of one snap-rounded arrangement, unioned bottom-up."""
    micro = tiers[-1]
    faces = _faces([n.region for n in micro])
    owners = _face_owners(faces, [n.region for n in micro])
    groups: list[list[BaseGeometry]] = [[] for _ in micro]
    for face, owner in zip(faces, owners, strict=True):
        groups[owner].append(face)
    exact: dict[str, MultiPolygon] = {}
    for node, group in zip(micro, groups, strict=True):
        if not group:
            raise RuntimeError(f"micro-grid {node.code} received no face")
        exact[node.code] = _polygonal(shapely.coverage_union_all(group))
    for tier, below in zip(tiers[-2::-1], tiers[:0:-1], strict=True):
        children: dict[str, list[MultiPolygon]] = {}
        for child in below:
            children.setdefault(str(child.parent_code), []).append(exact[child.code])
        for node in tier:
            exact[node.code] = _polygonal(shapely.coverage_union_all(children[node.code]))
    return exact


def _faces(regions: Sequence[BaseGeometry]) -> Any:
    """Faces of the snap-rounded (1e-7 grid) arrangement of all region boundaries."""
    noded = shapely.union_all(shapely.boundary(np.asarray(regions)), grid_size=GRID_SIZE)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    return faces[shapely.area(faces) > 0]


def _face_owners(faces: Any, regions: Sequence[BaseGeometry]) -> list[int]:
    """Index of the region holding each face (by an interior point; nearest as fallback)."""
    tree = STRtree(np.asarray(regions))
    points = shapely.point_on_surface(faces)
    owners = np.full(len(faces), -1)
    face_idx, region_idx = tree.query(points, predicate="within")
    owners[face_idx[::-1]] = region_idx[::-1]  # first hit wins on (1-ulp) double hits
    lost = np.flatnonzero(owners < 0)
    if lost.size:
        hit_idx, near_idx = tree.query_nearest(points[lost], all_matches=False)
        owners[lost[hit_idx]] = near_idx
    return owners.tolist()


# ------------------------------------------------------------------------------ names


def _l2_names(seed: int) -> list[str]:
    names = [f"{p}{s}社区" for p in _L2_PREFIXES for s in _L2_SUFFIXES]
    random.Random(f"{seed}:l2-names").shuffle(names)
    return names


def _grid_name(
    level: str, index: int, rng: random.Random, estate: str, l2_names: list[str] | None
) -> str:
    if level == "L1":
        return _L1_NAMES[index]
    if level == "L2":
        return str(l2_names.pop()) if l2_names else f"第{index + 1}社区"
    if level == "L3":
        return f"第{index + 1}网格"
    roll = rng.random()
    if roll < 0.5:
        return f"{estate}小区{index + 1}号楼"
    if roll < 0.8:
        return f"{index + 1}号楼院"
    return f"{rng.choice(_ESTATES)}家属院{index + 1}号院"


# ---------------------------------------------------------------------------- workers


def synth_workers(grids: Sequence[SynthGrid], seed: int = 27) -> list[SynthWorker]:
    """One or two workers per grid below the district, except ~2 % unstaffed micro-grids.

    Exactly ``round(UNSTAFFED_MICRO_SHARE * n_micro)`` micro-grids get no worker, so case
    routing for them has to fall back to the parent L3 grid's workers (every L1/L2/L3 grid
    and every other micro-grid has at least one). Phones are unique 11-digit mobiles.
    """
    rng = random.Random(f"{seed}:workers")
    micro = sorted(g.code for g in grids if g.level == "MICRO")
    unstaffed = set(rng.sample(micro, round(UNSTAFFED_MICRO_SHARE * len(micro))))
    phones: set[str] = set()
    workers = []
    for grid in grids:
        if grid.level == "DISTRICT" or grid.code in unstaffed:
            continue
        count = 2 if rng.random() < _SECOND_WORKER_P[grid.level] else 1
        for _ in range(count):
            name, phone = _person_name(rng), _phone(rng, phones)
            workers.append(SynthWorker(grid.code, name, phone, ROLE_BY_LEVEL[grid.level]))
    return workers


def _person_name(rng: random.Random) -> str:
    given_len = 2 if rng.random() < 0.7 else 1
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(given_len))


def _phone(rng: random.Random, taken: set[str]) -> str:
    while True:
        phone = f"{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
        if phone not in taken:
            taken.add(phone)
            return phone


# ---------------------------------------------------------------------------- GeoJSON


def synth_feature_collection(grids: Iterable[SynthGrid]) -> dict[str, Any]:
    """GeoJSON FeatureCollection of ``grids`` (properties code, parent_code, level, name, depth).

    Coordinates are rounded to 7 decimals if and only if the partition property survives
    the rounding. For :func:`synth_district` output that is always the case (rounding is the
    identity, everything is on the 1e-7 grid); for other input the rounded hierarchy is
    checked (validity, sibling overlaps, union vs parent, child inside parent, with local
    metre scaling and the 1 m² / 1 m tolerances) and the unrounded coordinates are kept if
    the check fails.
    """
    grid_list = list(grids)
    original = [g.geometry for g in grid_list]
    rounded = [_rounded(geom) for geom in original]
    if not _rounding_is_safe(grid_list, original, rounded):
        rounded = original
    return {
        "type": "FeatureCollection",
        "features": [_feature(g, geom) for g, geom in zip(grid_list, rounded, strict=True)],
    }


def _feature(grid: SynthGrid, geom: BaseGeometry) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": grid.code,
        "properties": {
            "code": grid.code,
            "parent_code": grid.parent_code,
            "level": grid.level,
            "name": grid.name,
            "depth": LEVELS.index(grid.level),
        },
        "geometry": mapping(geom),
    }


def _rounded(geom: BaseGeometry) -> Any:
    return shapely.transform(geom, lambda c: np.round(c, COORD_DECIMALS))


def _rounding_is_safe(
    grids: Sequence[SynthGrid], original: Sequence[BaseGeometry], rounded: Sequence[BaseGeometry]
) -> bool:
    if bool(np.all(shapely.equals_exact(np.asarray(original), np.asarray(rounded), 0.0))):
        return True
    geoms = {g.code: geom for g, geom in zip(grids, rounded, strict=True)}
    if not all(shapely.is_valid(geom) and geom.area > 0 for geom in geoms.values()):
        return False
    children: dict[str, list[BaseGeometry]] = {}
    for g in grids:
        if g.parent_code in geoms:
            children.setdefault(g.parent_code, []).append(geoms[g.code])
    return all(_is_partition(geoms[code], kids) for code, kids in children.items())


def _is_partition(parent: BaseGeometry, children: Sequence[BaseGeometry]) -> bool:
    """Partition check in degrees, converted with local metre-per-degree factors."""
    m2_per_deg2 = _M_PER_DEG_LAT * _M_PER_DEG_LON
    deg_per_m = 1.0 / max(_M_PER_DEG_LAT, _M_PER_DEG_LON)
    union = shapely.union_all(children)
    if shapely.symmetric_difference(union, parent).area * m2_per_deg2 >= _TOL_M2:
        return False
    grown = shapely.buffer(parent, _TOL_M * deg_per_m)
    if not all(grown.covers(child) for child in children):
        return False
    tree = STRtree(np.asarray(children))
    left, right = tree.query(np.asarray(children), predicate="intersects")
    pairs = left < right
    overlaps = shapely.intersection(tree.geometries[left[pairs]], tree.geometries[right[pairs]])
    return bool(np.all(shapely.area(overlaps) * m2_per_deg2 < _TOL_M2))
