"""Tests for geo.coords: WGS-84 / GCJ-02 / BD-09 conversions.

The forward transforms are checked against an independent re-derivation written below in a
different style (harmonic tables, named radii of curvature, complex numbers), plus the two
forward values printed in wandergis/coordtransform's test/app.js. The inverses have no
reference formula, so they are checked by round trips measured geodesically in metres.
"""

import cmath
import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geo.coords import (
    CoordSystem,
    InvalidCoordinate,
    LonLat,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.errors import DomainError

GEOD = Geod(ellps="WGS84")
# No example database: the tests must not write files into a shared tree.
PROPERTY = settings(max_examples=1500, deadline=None, database=None)

# ---------------------------------------------------------------------------------------------
# Independent reference for the forward transforms.
# ---------------------------------------------------------------------------------------------

KRASOVSKY_A = 6378245.0
KRASOVSKY_E2 = 0.00669342162296594323

# (amplitude, frequency) pairs: each contributes amplitude * sin(pi * frequency * t).
SHARED_TERMS = ((20.0, 6.0), (20.0, 2.0))
NORTH_TERMS = ((20.0, 1.0), (40.0, 1 / 3), (160.0, 1 / 12), (320.0, 1 / 30))
EAST_TERMS = ((20.0, 1.0), (40.0, 1 / 3), (150.0, 1 / 12), (300.0, 1 / 30))


def harmonic_sum(t: float, terms: tuple[tuple[float, float], ...]) -> float:
    return sum(amplitude * math.sin(math.pi * freq * t) for amplitude, freq in terms)


def reference_wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    """Textbook GCJ-02: a pseudo-metre shift divided by the ellipsoid's radii."""
    x, y = lon - 105.0, lat - 35.0
    shared = harmonic_sum(x, SHARED_TERMS)
    north_m = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y**2 + 0.1 * x * y + 0.2 * math.sqrt(abs(x))) + (
        2.0 / 3.0
    ) * (shared + harmonic_sum(y, NORTH_TERMS))
    east_m = (300.0 + x + 2.0 * y + 0.1 * x**2 + 0.1 * x * y + 0.1 * math.sqrt(abs(x))) + (
        2.0 / 3.0
    ) * (shared + harmonic_sum(x, EAST_TERMS))
    phi = math.radians(lat)
    w2 = 1.0 - KRASOVSKY_E2 * math.sin(phi) ** 2
    meridian_radius = KRASOVSKY_A * (1.0 - KRASOVSKY_E2) / w2**1.5
    parallel_radius = KRASOVSKY_A / math.sqrt(w2) * math.cos(phi)
    return lon + math.degrees(east_m / parallel_radius), lat + math.degrees(
        north_m / meridian_radius
    )


def reference_gcj_to_bd(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 as a perturbation of the point's polar form, using complex arithmetic."""
    k = math.radians(3000.0)
    p = complex(lon, lat)
    radius = abs(p) + 2e-5 * math.sin(lat * k)
    angle = cmath.phase(p) + 3e-6 * math.cos(lon * k)
    q = cmath.rect(radius, angle) + complex(0.0065, 0.006)
    return q.real, q.imag


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


# Whole China rectangle; a separate test covers the ~1.5 km band at its edge.
china_lon = st.floats(72.004, 137.8347, allow_nan=False)
china_lat = st.floats(0.8293, 55.8271, allow_nan=False)

ERQI_LON = [113.56 + i * 0.02 for i in range(7)]
ERQI_LAT = [34.68 + i * 0.015 for i in range(7)]
ERQI_GRID = [(lon, lat) for lon in ERQI_LON for lat in ERQI_LAT]

OUTSIDE = {
    "london": (-0.1276, 51.5072),
    "tokyo": (139.6917, 35.6895),  # east of lon 137.8347
    "new_york": (-74.006, 40.7128),
    "sydney": (151.2093, -33.8688),
    "null_island": (0.0, 0.0),
    "jakarta": (106.8456, -6.2088),  # south of lat 0.8293
}

# Extreme points of China's territory: well inside the rectangle, so round trips hold.
CHINA_EXTREMES = {
    "pamirs_west": (73.50, 39.38),
    "fuyuan_east": (134.77, 48.40),
    "mohe_north": (122.35, 53.56),
    "zengmu_south": (112.28, 3.97),
}


# ---------------------------------------------------------------------------------------------
# Forward transforms against the references.
# ---------------------------------------------------------------------------------------------


def test_published_coordtransform_values() -> None:
    # Printed in wandergis/coordtransform test/app.js for input (116.404, 39.915).
    assert wgs84_to_gcj02(116.404, 39.915) == pytest.approx(
        (116.41024449916938, 39.91640428150164), abs=1e-12
    )
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-12
    )


def test_refined_inverse_beats_published_one_step_inverse() -> None:
    # coordtransform's one-step gcj02towgs84 / bd09togcj02 outputs for (116.404, 39.915):
    # they miss the input by ~6 cm and ~5 cm here (up to 5 m elsewhere); ours map back onto it.
    naive_wgs = (116.39775550083061, 39.91359571849836)
    naive_gcj = (116.39762729119315, 39.90865673957631)
    ours_wgs = gcj02_to_wgs84(116.404, 39.915)
    ours_gcj = bd09_to_gcj02(116.404, 39.915)
    assert metres(wgs84_to_gcj02(*ours_wgs), (116.404, 39.915)) < 1e-3
    assert metres(gcj02_to_bd09(*ours_gcj), (116.404, 39.915)) < 1e-3
    assert 0.01 < metres(wgs84_to_gcj02(*naive_wgs), (116.404, 39.915)) < 1
    assert 0.01 < metres(gcj02_to_bd09(*naive_gcj), (116.404, 39.915)) < 1
    assert metres(ours_wgs, naive_wgs) < 1


@PROPERTY
@given(china_lon, china_lat)
def test_gcj_forward_matches_reference(lon: float, lat: float) -> None:
    assert wgs84_to_gcj02(lon, lat) == pytest.approx(reference_wgs_to_gcj(lon, lat), abs=1e-11)


@PROPERTY
@given(china_lon, china_lat)
def test_bd_forward_matches_reference(lon: float, lat: float) -> None:
    assert gcj02_to_bd09(lon, lat) == pytest.approx(reference_gcj_to_bd(lon, lat), abs=1e-11)
    expected = reference_gcj_to_bd(*reference_wgs_to_gcj(lon, lat))
    assert wgs84_to_bd09(lon, lat) == pytest.approx(expected, abs=1e-11)


@pytest.mark.parametrize(("lon", "lat"), ERQI_GRID)
def test_erqi_district_offset_is_a_few_hundred_metres(lon: float, lat: float) -> None:
    shift = metres((lon, lat), wgs84_to_gcj02(lon, lat))
    assert 100 < shift < 700
    # BD-09 adds another shift of similar size on top.
    assert 100 < metres((lon, lat), wgs84_to_bd09(lon, lat)) < 2000


# ---------------------------------------------------------------------------------------------
# Inverses: round trips, measured geodesically.
# Measured over 1 000 000 random points of the rectangle (image inside it):
#   WGS->GCJ->WGS max 1.6e-5 m, WGS->BD->WGS max 2.8e-5 m, GCJ->BD->GCJ max 1.5e-5 m;
#   the one-step inverse these replace reaches 5.1 m (GCJ) and 0.24 m (BD).
# ---------------------------------------------------------------------------------------------


@PROPERTY
@given(china_lon, china_lat)
def test_wgs_gcj_wgs_round_trip(lon: float, lat: float) -> None:
    gcj = wgs84_to_gcj02(lon, lat)
    assume(not out_of_china(*gcj))  # edge band: see test_edge_band_is_not_round_tripped
    assert metres((lon, lat), gcj02_to_wgs84(*gcj)) < 0.001


@PROPERTY
@given(china_lon, china_lat)
def test_wgs_bd_wgs_round_trip(lon: float, lat: float) -> None:
    bd = wgs84_to_bd09(lon, lat)
    assume(not out_of_china(*bd))
    assert metres((lon, lat), bd09_to_wgs84(*bd)) < 0.001


@PROPERTY
@given(china_lon, china_lat)
def test_gcj_bd_gcj_round_trip(lon: float, lat: float) -> None:
    bd = gcj02_to_bd09(lon, lat)
    assume(not out_of_china(*bd))
    assert metres((lon, lat), bd09_to_gcj02(*bd)) < 0.001


@PROPERTY
@given(china_lon, china_lat)
def test_gcj_inverse_then_forward_is_identity(lon: float, lat: float) -> None:
    wgs = gcj02_to_wgs84(lon, lat)
    assume(not out_of_china(*wgs))  # the edge band again, from the other side
    assert metres((lon, lat), wgs84_to_gcj02(*wgs)) < 0.001


@PROPERTY
@given(china_lon, china_lat)
def test_bd_inverse_then_forward_is_identity(lon: float, lat: float) -> None:
    gcj = bd09_to_gcj02(lon, lat)
    assume(not out_of_china(*gcj))
    assert metres((lon, lat), gcj02_to_bd09(*gcj)) < 0.001


@pytest.mark.parametrize("name", sorted(CHINA_EXTREMES))
def test_round_trip_at_china_extremes(name: str) -> None:
    point = CHINA_EXTREMES[name]
    assert metres(point, gcj02_to_wgs84(*wgs84_to_gcj02(*point))) < 0.001
    assert metres(point, bd09_to_wgs84(*wgs84_to_bd09(*point))) < 0.001


def test_edge_band_is_not_round_tripped() -> None:
    # Just inside the east edge the shift carries the point out of the rectangle, and the
    # inverse, which tests its own input, leaves it alone. Documented, not a real-China case.
    wgs = (137.834, 30.0)
    gcj = wgs84_to_gcj02(*wgs)
    assert not out_of_china(*wgs)
    assert out_of_china(*gcj)
    assert gcj02_to_wgs84(*gcj) == gcj
    # Near the west edge the shift points west: a GCJ point just inside inverts to a WGS
    # point just outside, which the forward transform then leaves alone.
    gcj = (72.0078125, 27.0)
    wgs = gcj02_to_wgs84(*gcj)
    assert out_of_china(*wgs)
    assert wgs84_to_gcj02(*wgs) == wgs


# ---------------------------------------------------------------------------------------------
# The out-of-China rule.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OUTSIDE))
def test_outside_china_is_untouched(name: str) -> None:
    point = OUTSIDE[name]
    assert out_of_china(*point)
    for transform in (
        wgs84_to_gcj02,
        gcj02_to_wgs84,
        gcj02_to_bd09,
        bd09_to_gcj02,
        wgs84_to_bd09,
        bd09_to_wgs84,
    ):
        assert transform(*point) == point
    for system in CoordSystem:
        assert to_wgs84(LonLat(*point), system) == LonLat(*point)
        assert from_wgs84(LonLat(*point), system) == LonLat(*point)


@pytest.mark.parametrize("city", [(126.978, 37.5665), (103.8198, 1.3521), (105.8342, 21.0278)])
def test_rectangle_is_crude_neighbours_count_as_china(city: tuple[float, float]) -> None:
    # The shared convention is a bounding box, so Seoul, Singapore and Hanoi get shifted.
    assert not out_of_china(*city)
    assert metres(city, wgs84_to_gcj02(*city)) > 100


def test_rectangle_edges_are_inclusive() -> None:
    assert not out_of_china(72.004, 0.8293)
    assert not out_of_china(137.8347, 55.8271)
    assert out_of_china(72.0039, 30.0)
    assert out_of_china(100.0, 55.8272)


# ---------------------------------------------------------------------------------------------
# LonLat, system dispatch and validation.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("system", list(CoordSystem))
def test_to_and_from_wgs84_round_trip(system: CoordSystem) -> None:
    erqi = LonLat(113.625, 34.7466)
    there = from_wgs84(erqi, system)
    back = to_wgs84(there, system)
    assert metres((erqi.lon, erqi.lat), (back.lon, back.lat)) < 0.001
    if system is CoordSystem.WGS84:
        assert there == erqi
    else:
        assert metres((erqi.lon, erqi.lat), (there.lon, there.lat)) > 100


def test_dispatch_matches_tuple_functions() -> None:
    p = LonLat(113.625, 34.7466)
    assert from_wgs84(p, CoordSystem.GCJ02) == LonLat(*wgs84_to_gcj02(p.lon, p.lat))
    assert from_wgs84(p, CoordSystem.BD09) == LonLat(*wgs84_to_bd09(p.lon, p.lat))
    assert to_wgs84(p, CoordSystem.GCJ02) == LonLat(*gcj02_to_wgs84(p.lon, p.lat))
    assert to_wgs84(p, CoordSystem.BD09) == LonLat(*bd09_to_wgs84(p.lon, p.lat))


def test_coord_system_values() -> None:
    assert [s.value for s in CoordSystem] == ["WGS84", "GCJ02", "BD09"]
    assert CoordSystem("GCJ02") is CoordSystem.GCJ02
    assert CoordSystem.BD09 == "BD09"


def test_ewkt_keeps_full_precision() -> None:
    assert LonLat(113.625, 34.7466).to_ewkt() == "SRID=4326;POINT(113.625 34.7466)"
    p = LonLat(0.1 + 0.2, -1 / 3)
    wkt = p.to_ewkt()
    assert wkt == "SRID=4326;POINT(0.30000000000000004 -0.3333333333333333)"
    lon, lat = wkt.removeprefix("SRID=4326;POINT(").removesuffix(")").split()
    assert (float(lon), float(lat)) == (p.lon, p.lat)


def test_lonlat_is_frozen() -> None:
    p = LonLat(113.6, 34.7)
    with pytest.raises(AttributeError):
        p.lon = 0.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("lon", "lat"), [(180.0, 90.0), (-180.0, -90.0), (180.0, -90.0), (-180.0, 90.0), (0, 0)]
)
def test_boundary_values_are_accepted(lon: float, lat: float) -> None:
    assert LonLat(lon, lat) == LonLat(lon, lat)
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)


@pytest.mark.parametrize(
    ("lon", "lat", "message"),
    [
        (math.nan, 34.7, "longitude must be a finite number"),
        (113.6, math.nan, "latitude must be a finite number"),
        (math.inf, 34.7, "longitude must be a finite number"),
        (113.6, -math.inf, "latitude must be a finite number"),
        (113.6, 91.0, "latitude 91.0 is out of range [-90, 90]"),
        (113.6, -90.000001, "latitude -90.000001 is out of range [-90, 90]"),
        (-181.0, 34.7, "longitude -181.0 is out of range [-180, 180]"),
        (180.5, 34.7, "longitude 180.5 is out of range [-180, 180]"),
        ("113.6", 34.7, "longitude must be a number"),
        (113.6, True, "latitude must be a number"),
    ],
)
def test_invalid_coordinates_are_rejected(lon: float, lat: float, message: str) -> None:
    with pytest.raises(InvalidCoordinate) as caught:
        LonLat(lon, lat)
    assert message in str(caught.value)
    assert caught.value.longitude is lon
    assert caught.value.latitude is lat
    assert isinstance(caught.value, DomainError)
    with pytest.raises(InvalidCoordinate, match=r"must be a|out of range"):
        gcj02_to_wgs84(lon, lat)
