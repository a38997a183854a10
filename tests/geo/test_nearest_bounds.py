"""The scale bounds geo.places.nearest proves its order with, against pyproj.

Mercator distances come from PROJ's World Mercator (EPSG:3395) and geodesic ones from
GeographicLib, both through pyproj: nothing here shares code with the bounds under test.
"""

import math

from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer

from geo.coords import LonLat
from geo.places.nearest import MAX_RADIUS_M, window
from geo.places.planar import mercator_xy

GEOD = Geod(ellps="WGS84")
#: The absolute slack nearest.py allows (10⁻⁵ m) covers this and the centre projected in Python.
SLACK_M = 1e-6
TO_MERCATOR = Transformer.from_crs("EPSG:4326", "EPSG:3395", always_xy=True)


def mercator_m(a: LonLat, b: LonLat) -> float:
    (ax, bx), (ay, by) = TO_MERCATOR.transform([a.lon, b.lon], [a.lat, b.lat])
    return math.hypot(bx - ax, by - ay)


@settings(max_examples=300, deadline=None)
@given(
    lat=st.floats(-80, 80),
    radius_m=st.floats(1, MAX_RADIUS_M),
    share=st.floats(0, 1),
    azimuth=st.floats(0, 360),
)
def test_a_point_within_the_radius_lies_within_the_bounds(
    lat: float, radius_m: float, share: float, azimuth: float
) -> None:
    centre = LonLat(113.65, lat)
    lon, lat2, _ = GEOD.fwd(centre.lon, centre.lat, azimuth, radius_m * share)
    other = LonLat(lon, lat2)
    box = window(centre, radius_m)
    d = GEOD.inv(centre.lon, centre.lat, other.lon, other.lat)[2]
    big_d = mercator_m(centre, other)
    assert d * box.k_min - SLACK_M <= big_d <= d * box.k_max + SLACK_M
    assert big_d <= box.reach  # the index's square holds it
    assert box.west <= other.lon <= box.east and box.south <= other.lat <= box.north


@settings(max_examples=300, deadline=None)
@given(
    lat=st.floats(-80, 80),
    radius_m=st.floats(1, MAX_RADIUS_M),
    dx=st.floats(-1, 1),
    dy=st.floats(-1, 1),
)
def test_a_point_of_the_square_is_no_farther_than_its_mercator_distance_allows(
    lat: float, radius_m: float, dx: float, dy: float
) -> None:
    # Any row the index scan returns lies in the square; its geodesic distance is then at
    # most D / k_min, which is what the keyset skip and the unseen-row bound rely on.
    centre = LonLat(113.65, lat)
    box = window(centre, radius_m)
    (x, y) = TO_MERCATOR.transform(centre.lon, centre.lat)
    lon, lat2 = TO_MERCATOR.transform(x + dx * box.reach, y + dy * box.reach, direction="INVERSE")
    other = LonLat(lon, lat2)
    d = GEOD.inv(centre.lon, centre.lat, other.lon, other.lat)[2]
    assert d * box.k_min - SLACK_M <= mercator_m(centre, other)


@settings(max_examples=300, deadline=None)
@given(lon=st.floats(-180, 180), lat=st.floats(-85, 85))
def test_the_search_centre_is_projected_as_proj_projects_the_rows(lon: float, lat: float) -> None:
    # Rows are projected by PostGIS (PROJ), the centre by planar.mercator_xy: the bounds
    # allow 10⁻⁵ m between the two.
    x, y = mercator_xy(LonLat(lon, lat))
    px, py = TO_MERCATOR.transform(lon, lat)
    assert math.hypot(x - px, y - py) <= 1e-6
