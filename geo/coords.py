"""Conversions between WGS-84, GCJ-02 ("Mars coordinates") and BD-09 (Baidu).

Chinese web maps do not publish WGS-84 positions. Amap/Tencent use GCJ-02, a WGS-84
position shifted by a deterministic but deliberately non-linear offset, and Baidu adds a
second shift on top of GCJ-02 (BD-09). Everything we store is WGS-84 (SRID 4326), so
coordinates arriving from a map SDK must be converted first.

Method
------
* WGS-84 -> GCJ-02 is the widely circulated obfuscation formula on the Krasovsky
  ellipsoid (a = 6378245.0, e^2 = 0.00669342162296594323), identical to the public
  eviltransform / coordtransform libraries.
* GCJ-02 -> BD-09 is the equally public ``x_pi = pi * 3000 / 180`` polar shift.
* The inverses have no closed form. The customary one-step inverse (subtract the offset
  evaluated at the *shifted* point) is wrong by up to ~5 m, so both inverses
  start from that estimate and then run a fixed-point refinement
  ``w <- w - (forward(w) - target)`` until ``forward(w)`` matches the target to within
  1e-10 degrees. The offset's Jacobian is ~1e-2 in magnitude, so every step gains about
  two digits; no test point needed more than 3 corrections, and we cap at 20.

Accuracy (measured by tests/geo/test_coords.py, geodesic distance on WGS-84)
----------------------------------------------------------------------------
* The forward transforms match the published formula to floating-point precision
  (checked against an independent re-derivation and coordtransform's printed values).
* Over 1 000 000 random points of the China rectangle (whose image stays inside it):
  WGS->GCJ->WGS max 1.6e-5 m, WGS->BD->WGS max 2.8e-5 m, GCJ->BD->GCJ max 1.5e-5 m,
  i.e. hundredths of a millimetre. The one-step inverses these replace reach 5.1 m
  (GCJ-02) and 0.24 m (BD-09).

Edge rule ("out of China")
--------------------------
Like eviltransform / coordtransform we treat a point as inside China iff it lies in the
rectangle lon [72.004, 137.8347], lat [0.8293, 55.8271] (edges inclusive); every transform
tests its *input* and returns points outside the rectangle untouched. The rectangle is a
convention, not a border: Seoul, Hanoi, Singapore and much of Mongolia count as "inside"
and get shifted. Shifts reach ~730 m (GCJ-02) and ~1.5 km (BD-09), so a point that close
to the rectangle's edge can be carried across it; the reverse transform then leaves it
untouched and the round trip fails. China's own territory (about 73.5-135.1 E,
3.8-53.6 N) lies well clear of that band, so real Chinese addresses are unaffected.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from geo.errors import DomainError
from geo.points import ewkt

__all__ = [
    "CoordSystem",
    "InvalidCoordinate",
    "LonLat",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "out_of_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

# Krasovsky 1940 ellipsoid: the GCJ-02 formula is defined on it, not on WGS-84.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

# 1e-10 degrees is ~0.01 mm on the ground: far below any map's precision, yet well above
# float64 resolution for |coordinate| <= 180 (~3e-14), so the loop always terminates early.
_TOLERANCE_DEG = 1e-10
_MAX_ITERATIONS = 20

_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)


class CoordSystem(StrEnum):
    """Datum a coordinate pair is expressed in."""

    WGS84 = "WGS84"
    GCJ02 = "GCJ02"
    BD09 = "BD09"


class InvalidCoordinate(DomainError):
    """A longitude/latitude pair that is not a position on Earth."""

    def __init__(self, longitude: float, latitude: float, message: str) -> None:
        super().__init__(message)
        self.longitude = longitude
        self.latitude = latitude


def _validate(lon: float, lat: float) -> None:
    # Check finiteness first: NaN compares false with everything and would slip through.
    for name, value in (("longitude", lon), ("latitude", lat)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidCoordinate(lon, lat, f"{name} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise InvalidCoordinate(lon, lat, f"{name} must be a finite number, got {value}")
    if not -180.0 <= lon <= 180.0:
        raise InvalidCoordinate(lon, lat, f"longitude {lon} is out of range [-180, 180]")
    if not -90.0 <= lat <= 90.0:
        raise InvalidCoordinate(lon, lat, f"latitude {lat} is out of range [-90, 90]")


@dataclass(frozen=True, slots=True)
class LonLat:
    """A validated position in degrees (longitude first, as in WKT and GeoJSON)."""

    lon: float
    lat: float

    def __post_init__(self) -> None:
        _validate(self.lon, self.lat)

    def to_ewkt(self) -> str:
        """PostGIS EWKT (``geo.points.ewkt``), exact on the round trip."""
        return ewkt(self.lon, self.lat)


def out_of_china(lon: float, lat: float) -> bool:
    """True outside the rectangle that eviltransform/coordtransform treat as China.

    A crude convention shared with those libraries (Seoul counts as "inside"); keeping it
    identical means our output agrees with the map SDKs that produced the input.
    """
    return not (_CHINA_LON[0] <= lon <= _CHINA_LON[1] and _CHINA_LAT[0] <= lat <= _CHINA_LAT[1])


def _raw_dlat(x: float, y: float) -> float:
    # x, y are offsets from (105 E, 35 N); the constants are the published formula's.
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _raw_dlon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _gcj_offset(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 minus WGS-84 at a WGS-84 point, in degrees (no China check)."""
    dlat = _raw_dlat(lon - 105.0, lat - 35.0)
    dlon = _raw_dlon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _KRASOVSKY_EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    # Metres-like offsets become degrees via the meridian / parallel radii of curvature.
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1 - _KRASOVSKY_EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrtmagic * math.cos(radlat) * math.pi)
    return dlon, dlat


def _wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_bd(lon: float, lat: float) -> tuple[float, float]:
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def _bd_to_gcj_estimate(lon: float, lat: float) -> tuple[float, float]:
    # The customary closed-form approximation: a good starting point, up to ~0.25 m off.
    x, y = lon - 0.0065, lat - 0.006
    z = math.hypot(x, y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def _invert(
    forward: Callable[[float, float], tuple[float, float]],
    lon: float,
    lat: float,
    guess: tuple[float, float],
) -> tuple[float, float]:
    """Solve forward(w) == (lon, lat) by fixed-point iteration from guess.

    forward is identity plus a slowly varying shift (Jacobian ~1e-2), so subtracting the
    residual is a strong contraction; Newton's extra Jacobian would buy nothing.
    """
    wlon, wlat = guess
    for _ in range(_MAX_ITERATIONS):
        flon, flat = forward(wlon, wlat)
        elon, elat = flon - lon, flat - lat
        if abs(elon) < _TOLERANCE_DEG and abs(elat) < _TOLERANCE_DEG:
            break
        wlon, wlat = wlon - elon, wlat - elat
    return wlon, wlat


def _gcj_to_wgs(lon: float, lat: float) -> tuple[float, float]:
    dlon, dlat = _gcj_offset(lon, lat)
    return _invert(_wgs_to_gcj, lon, lat, (lon - dlon, lat - dlat))


def _bd_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    return _invert(_gcj_to_bd, lon, lat, _bd_to_gcj_estimate(lon, lat))


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 -> GCJ-02; points outside China are returned untouched."""
    _validate(lon, lat)
    return (lon, lat) if out_of_china(lon, lat) else _wgs_to_gcj(lon, lat)


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 -> WGS-84 (iteratively refined); points outside China are returned untouched."""
    _validate(lon, lat)
    return (lon, lat) if out_of_china(lon, lat) else _gcj_to_wgs(lon, lat)


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 -> BD-09; points outside China are returned untouched."""
    _validate(lon, lat)
    return (lon, lat) if out_of_china(lon, lat) else _gcj_to_bd(lon, lat)


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 -> GCJ-02 (iteratively refined); points outside China are returned untouched."""
    _validate(lon, lat)
    return (lon, lat) if out_of_china(lon, lat) else _bd_to_gcj(lon, lat)


def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 -> BD-09; only the input is tested against the China rectangle."""
    _validate(lon, lat)
    return (lon, lat) if out_of_china(lon, lat) else _gcj_to_bd(*_wgs_to_gcj(lon, lat))


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 -> WGS-84; only the input is tested against the China rectangle."""
    _validate(lon, lat)
    return (lon, lat) if out_of_china(lon, lat) else _gcj_to_wgs(*_bd_to_gcj(lon, lat))


_TO_WGS84: dict[CoordSystem, Callable[[float, float], tuple[float, float]]] = {
    CoordSystem.WGS84: lambda lon, lat: (lon, lat),
    CoordSystem.GCJ02: gcj02_to_wgs84,
    CoordSystem.BD09: bd09_to_wgs84,
}

_FROM_WGS84: dict[CoordSystem, Callable[[float, float], tuple[float, float]]] = {
    CoordSystem.WGS84: lambda lon, lat: (lon, lat),
    CoordSystem.GCJ02: wgs84_to_gcj02,
    CoordSystem.BD09: wgs84_to_bd09,
}


def to_wgs84(point: LonLat, system: CoordSystem) -> LonLat:
    """Convert a point expressed in system to WGS-84."""
    return LonLat(*_TO_WGS84[CoordSystem(system)](point.lon, point.lat))


def from_wgs84(point: LonLat, system: CoordSystem) -> LonLat:
    """Convert a WGS-84 point to system."""
    return LonLat(*_FROM_WGS84[CoordSystem(system)](point.lon, point.lat))


def geojson_from_wgs84(geometry: dict[str, Any], system: CoordSystem) -> dict[str, Any]:
    """A GeoJSON geometry with every position converted from WGS-84 to `system`."""
    if system == CoordSystem.WGS84:
        return geometry
    convert = _FROM_WGS84[CoordSystem(system)]

    def walk(coords: Any) -> Any:
        if coords and isinstance(coords[0], (int, float)):
            return [*convert(coords[0], coords[1]), *coords[2:]]
        return [walk(c) for c in coords]

    return {**geometry, "coordinates": walk(geometry["coordinates"])}
