"""Tests for geo.grids.validation: parsing a grid import and checking its hierarchy.

Hand-drawn cases are rectangles given in metres east/north of (113.6, 34.7) and converted
with metres-per-degree factors measured by pyproj.Geod, so "5 m outside" really is 5 m;
the synthetic district (geo.grids.synth) is the large, valid case.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import MultiPolygon, Polygon
from shapely.geometry import mapping

from geo.grids.synth import synth_district, synth_feature_collection
from geo.grids.validation import (
    LEVELS,
    OUTSIDE_PARENT_TOLERANCE_M,
    ExistingGrid,
    GridFeature,
    GridLevel,
    ImportProblem,
    parse_features,
    validate_hierarchy,
)

LON0, LAT0 = 113.6, 34.7
GEOD = pyproj.Geod(ellps="WGS84")
# Metres per degree at (LON0, LAT0), measured along geodesics over 0.01°.
M_PER_DEG_LON = GEOD.inv(LON0, LAT0, LON0 + 0.01, LAT0)[2] / 0.01
M_PER_DEG_LAT = GEOD.inv(LON0, LAT0, LON0, LAT0 + 0.01)[2] / 0.01


# --------------------------------------------------------------------------- builders


def lonlat(x_m: float, y_m: float) -> tuple[float, float]:
    return (LON0 + x_m / M_PER_DEG_LON, LAT0 + y_m / M_PER_DEG_LAT)


def rect(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    """Rectangle from (x0, y0) to (x1, y1) metres east/north of the origin."""
    return Polygon([lonlat(x0, y0), lonlat(x1, y0), lonlat(x1, y1), lonlat(x0, y1)])


def feature(
    code: str, parent: str | None, level: str, geometry: Any, **props: Any
) -> dict[str, Any]:
    geojson = mapping(geometry) if isinstance(geometry, Polygon | MultiPolygon) else geometry
    properties = {"code": code, "parent_code": parent, "level": level, "name": f"网格{code}"}
    return {"type": "Feature", "properties": properties | props, "geometry": geojson}


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def family(*extra: dict[str, Any]) -> dict[str, Any]:
    """District D (200 m × 100 m) split into L1 grids A (west half) and B (east half)."""
    return collection(
        feature("D", None, "DISTRICT", rect(0, 0, 200, 100)),
        feature("A", "D", "L1", rect(0, 0, 100, 100)),
        feature("B", "D", "L1", rect(100, 0, 200, 100)),
        *extra,
    )


def check(
    fc: dict[str, Any], existing: dict[str, ExistingGrid] | None = None
) -> list[ImportProblem]:
    """All problems of parsing and validating ``fc``."""
    features, problems = parse_features(fc)
    return problems + validate_hierarchy(features, existing or {})


def only(problems: list[ImportProblem], kind: str) -> ImportProblem:
    found = [p for p in problems if p.kind == kind]
    assert len(found) == 1, problems
    return found[0]


def errors(problems: list[ImportProblem]) -> list[ImportProblem]:
    return [p for p in problems if p.severity == "error"]


def near(location: tuple[float, float] | None, x_m: float, y_m: float, tol_m: float) -> bool:
    assert location is not None
    lon, lat = lonlat(x_m, y_m)
    return GEOD.inv(location[0], location[1], lon, lat)[2] <= tol_m


# ------------------------------------------------------------------ synthetic district


@functools.cache
def synthetic() -> dict[str, Any]:
    return synth_feature_collection(synth_district())


def test_synthetic_district_has_no_problems() -> None:
    features, problems = parse_features(synthetic())
    assert problems == []
    assert len(features) == 6696
    assert validate_hierarchy(features, {}) == []


def test_parse_keeps_order_and_extra_properties_and_promotes_polygons() -> None:
    features, _ = parse_features(synthetic())
    assert [f.index for f in features] == list(range(len(features)))
    assert all(isinstance(f.geometry, MultiPolygon) for f in features)
    assert features[0].level is GridLevel.DISTRICT and features[0].parent_code is None
    assert features[1].properties == {"depth": 1}
    single, problems = parse_features(collection(feature("D", None, "DISTRICT", rect(0, 0, 9, 9))))
    assert problems == [] and single[0].geometry.geom_type == "MultiPolygon"


def test_levels_are_ordered_by_depth() -> None:
    assert LEVELS == ("DISTRICT", "L1", "L2", "L3", "MICRO")
    assert [GridLevel(level).depth for level in LEVELS] == [0, 1, 2, 3, 4]


def test_clean_family_has_no_problems() -> None:
    assert check(family()) == []


# ------------------------------------------------------------------- one test per kind


def test_bow_tie_is_invalid_geometry_located_at_the_crossing() -> None:
    corners = [lonlat(0, 0), lonlat(10, 10), lonlat(10, 0), lonlat(0, 10), lonlat(0, 0)]
    geometry = {"type": "Polygon", "coordinates": [corners]}
    features, problems = parse_features(family(feature("A1", "A", "L2", geometry)))
    problem = only(problems, "invalid_geometry")
    assert problem.code == "A1" and "A1" in problem.message
    assert "Self-intersection" in problem.message
    assert near(problem.location, 5, 5, tol_m=0.01)
    assert "A1" not in {f.code for f in features}  # rejected, never repaired


def test_unclosed_ring_is_invalid_geometry() -> None:
    corners = [lonlat(0, 0), lonlat(10, 0), lonlat(10, 10), lonlat(0, 10)]
    geometry = {"type": "Polygon", "coordinates": [corners]}
    problem = only(check(collection(feature("X", None, "DISTRICT", geometry))), "invalid_geometry")
    assert "not closed" in problem.message and "X" in problem.message


def test_child_5_m_outside_parent_is_reported_half_a_metre_is_not() -> None:
    far = errors(check(family(feature("A1", "A", "L2", rect(60, 10, 105, 50)))))
    problem = only(far, "outside_parent")
    assert problem.code == "A1" and "A1" in problem.message and "A" in problem.message
    assert problem.distance_m == pytest.approx(5.0, abs=0.1)
    assert near(problem.location, 105, 30, tol_m=25)
    assert errors(check(family(feature("A1", "A", "L2", rect(60, 10, 100.5, 50))))) == []


def test_pocket_outside_parent_is_measured_inside_it() -> None:
    # Parent: a U (30 m square with a 10 m wide slot from the top); child: the full square.
    # Every vertex of the outside part (the slot) lies on the parent, yet its top middle
    # is 5 m from it.
    u = rect(0, 0, 30, 30).difference(rect(10, 10, 20, 31))
    fc = family(feature("A1", "A", "L2", u), feature("A11", "A1", "L3", rect(0, 0, 30, 30)))
    problem = only(check(fc), "outside_parent")
    assert problem.code == "A11"
    assert problem.distance_m == pytest.approx(5.0, abs=0.25)


def test_siblings_overlapping_10_by_10_m_are_reported_a_sliver_is_not() -> None:
    fc = family(
        feature("A1", "A", "L2", rect(0, 0, 55, 55)),
        feature("A2", "A", "L2", rect(45, 45, 100, 100)),
    )
    problem = only(check(fc), "sibling_overlap")
    assert {problem.code, problem.other_code} == {"A1", "A2"}
    assert "A1" in problem.message and "A2" in problem.message
    assert problem.area_m2 == pytest.approx(100, rel=0.01)
    assert near(problem.location, 50, 50, tol_m=0.1)
    sliver = family(  # 0.005 m × 100 m = 0.5 m²
        feature("A1", "A", "L2", rect(0, 0, 50, 100)),
        feature("A2", "A", "L2", rect(49.995, 0, 100, 100)),
    )
    assert check(sliver) == []


def test_missing_child_leaves_a_gap_warning() -> None:
    problems = check(family(feature("A1", "A", "L2", rect(0, 0, 50, 100))))
    assert errors(problems) == []
    problem = only(problems, "gap")  # B has no children in the file: no gap for B
    assert problem.severity == "warning" and problem.code == "A" and "A" in problem.message
    assert problem.area_m2 == pytest.approx(5000, rel=0.01)
    assert rect(50, 0, 100, 100).contains(shapely.Point(problem.location))


def test_l2_under_district_is_wrong_level_order() -> None:
    problem = only(check(family(feature("X", "D", "L2", rect(0, 0, 10, 10)))), "wrong_level_order")
    assert problem.code == "X" and "X" in problem.message and "L1" in problem.message


@pytest.mark.parametrize(
    ("code", "parent", "level"), [("D2", "D", "DISTRICT"), ("C", None, "L1"), ("M", "A", "MICRO")]
)
def test_other_level_orders_are_wrong(code: str, parent: str | None, level: str) -> None:
    problem = only(
        check(family(feature(code, parent, level, rect(0, 0, 10, 10)))), "wrong_level_order"
    )
    assert problem.code == code and code in problem.message


def test_unknown_parent() -> None:
    problem = only(check(family(feature("X", "NOPE", "L2", rect(0, 0, 10, 10)))), "unknown_parent")
    assert problem.code == "X" and "X" in problem.message and "NOPE" in problem.message


def test_duplicate_code_keeps_the_first() -> None:
    fc = family(feature("A", "D", "L1", rect(0, 0, 100, 100)))
    features, problems = parse_features(fc)
    problem = only(problems, "duplicate_code")
    assert (problem.index, problem.code) == (3, "A") and "A" in problem.message
    assert [f.index for f in features if f.code == "A"] == [1]


def test_point_is_not_polygon() -> None:
    point = {"type": "Point", "coordinates": list(lonlat(0, 0))}
    problem = only(check(family(feature("X", "A", "L2", point))), "not_polygon")
    assert problem.code == "X" and "X" in problem.message and "Point" in problem.message


@pytest.mark.parametrize("bad", [(113.6, 95.0), (190.0, 34.7), (math.nan, 34.7)])
def test_coordinates_off_the_globe_are_out_of_range(bad: tuple[float, float]) -> None:
    corners = [lonlat(0, 0), bad, lonlat(10, 10), lonlat(0, 0)]
    geometry = {"type": "Polygon", "coordinates": [corners]}
    problem = only(check(collection(feature("X", None, "DISTRICT", geometry))), "out_of_range")
    assert problem.code == "X" and "X" in problem.message


def test_missing_name_is_missing_property() -> None:
    fc = family(feature("X", "A", "L2", rect(0, 0, 10, 10), name=None))
    problem = only(check(fc), "missing_property")
    assert problem.code == "X" and "X" in problem.message and "name" in problem.message


def test_unknown_level_is_bad_level() -> None:
    problem = only(check(family(feature("X", "A", "L9", rect(0, 0, 10, 10)))), "bad_level")
    assert problem.code == "X" and "X" in problem.message and "L9" in problem.message


@pytest.mark.parametrize(
    "data", [[], {"type": "Feature"}, {"type": "FeatureCollection"}, {"features": []}, "x"]
)
def test_non_feature_collection_is_malformed(data: Any) -> None:
    features, problems = parse_features(data)
    assert features == []
    assert [(p.index, p.kind) for p in problems] == [(None, "malformed_feature")]


def test_non_feature_item_is_malformed_with_its_index() -> None:
    problem = only(check(family("not a feature")), "malformed_feature")  # type: ignore[arg-type]
    assert problem.index == 3 and "#3" in problem.message


# ------------------------------------------------------------------- whole-run behaviour


def test_every_bad_feature_is_reported_in_one_run() -> None:
    bow_tie = [lonlat(0, 0), lonlat(10, 10), lonlat(10, 0), lonlat(0, 10), lonlat(0, 0)]
    fc = family(
        feature("X1", "A", "L2", {"type": "Polygon", "coordinates": [bow_tie]}),
        feature("X2", "A", "L2", {"type": "Point", "coordinates": list(lonlat(0, 0))}),
        feature("X3", "A", "L9", rect(0, 0, 10, 10)),
        feature("X4", "NOPE", "L2", rect(0, 0, 10, 10)),
        feature("X5", "B", "L2", rect(150, 50, 250, 90)),
    )
    problems = errors(check(fc))
    assert sorted((p.code, p.kind) for p in problems) == [
        ("X1", "invalid_geometry"),
        ("X2", "not_polygon"),
        ("X3", "bad_level"),
        ("X4", "unknown_parent"),
        ("X5", "outside_parent"),
    ]
    assert all(p.code and p.code in p.message for p in problems)


def test_problems_name_the_grid_or_feature_number() -> None:
    no_code = feature("", "A", "L2", rect(0, 0, 10, 10))
    problem = only(check(family(no_code)), "missing_property")
    assert problem.code is None and "#3" in problem.message


def test_parent_known_only_from_existing_grids_is_accepted() -> None:
    existing = {"A": ExistingGrid("A", GridLevel.L1, MultiPolygon([rect(0, 0, 100, 100)]))}
    fc = collection(
        feature("A1", "A", "L2", rect(0, 0, 50, 100)),
        feature("A2", "A", "L2", rect(50, 0, 100, 100)),
    )
    assert check(fc, existing) == []
    gap = only(check(collection(fc["features"][0]), existing), "gap")
    assert gap.index is None and gap.code == "A"


def test_existing_parent_at_the_wrong_level_is_rejected() -> None:
    level: Any = "L2"  # as read from the database
    stored = ExistingGrid("A", level, MultiPolygon([rect(0, 0, 100, 100)]), id=7)
    assert stored.level is GridLevel.L2
    existing = {"A": stored}
    fc = collection(feature("A1", "A", "L2", rect(0, 0, 100, 100)))
    assert only(check(fc, existing), "wrong_level_order").code == "A1"


# ------------------------------------------------------------------------ metric truth


def shifted_east(polygon: Polygon, metres: float) -> Polygon:
    """``polygon`` with every vertex moved ``metres`` due east along a geodesic."""
    lons, lats = zip(*polygon.exterior.coords, strict=True)
    new_lons, new_lats, _ = GEOD.fwd(lons, lats, [90.0] * len(lons), [metres] * len(lons))
    return Polygon(list(zip(new_lons, new_lats, strict=True)))


def test_three_metres_east_measures_three_metres() -> None:
    child = shifted_east(rect(0, 0, 100, 100), 3.0)
    problem = only(check(family(feature("A1", "A", "L2", child))), "outside_parent")
    assert problem.distance_m is not None and 2.5 < problem.distance_m < 3.5
    assert f"{problem.distance_m:.1f} m" in problem.message
    assert problem.location is not None
    assert (
        problem.location[0] > rect(0, 0, 100, 100).bounds[2]
    )  # the farthest point is east of the parent


@settings(database=None, max_examples=25, deadline=None)
@given(metres=st.floats(0.05, 20.0).filter(lambda m: abs(m - OUTSIDE_PARENT_TOLERANCE_M) > 0.05))
def test_outside_parent_follows_geodesic_metres(metres: float) -> None:
    child = shifted_east(rect(0, 0, 100, 100), metres)
    problems = [p for p in check(family(feature("A1", "A", "L2", child))) if p.kind != "gap"]
    if metres <= OUTSIDE_PARENT_TOLERANCE_M:
        assert problems == []
    else:
        assert only(problems, "outside_parent").distance_m == pytest.approx(metres, rel=0.01)


def test_grid_feature_is_frozen() -> None:
    features, _ = parse_features(family())
    with pytest.raises(AttributeError):
        features[0].code = "other"  # type: ignore[misc]
    assert isinstance(features[0], GridFeature)
