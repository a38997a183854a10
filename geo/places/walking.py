"""Walking time and straight-line distance, for every kind of place and the service circle.

Minutes become metres with :data:`WALKING_SPEED_M_PER_MIN` (80 m/min, an adult's 4.8 km/h)
and :data:`DETOUR_FACTOR` (streets are not straight lines; 1.3 is a common urban route-to-
crow-flies ratio). One minute of walking therefore reaches 80 / 1.3 ≈ 61.5 m straight-line,
and the 15-minute circle is ≈ 923 m, inside the 800-1000 m that GB 50180-2018 gives for a
15-minute life circle.
"""

from __future__ import annotations

import math

__all__ = ["DETOUR_FACTOR", "WALKING_SPEED_M_PER_MIN", "reach_radius_m", "walking_minutes"]

WALKING_SPEED_M_PER_MIN = 80.0
"""Walking speed along streets: 80 m per minute (4.8 km/h)."""

DETOUR_FACTOR = 1.3
"""Street distance / straight-line distance. A minute covers 80 / 1.3 ≈ 61.5 m straight-line."""


def reach_radius_m(minutes: float) -> float:
    """Straight-line radius in metres reachable in ``minutes`` of walking (≈ 61.5 m/min)."""
    _check_non_negative("minutes", minutes)
    return minutes * WALKING_SPEED_M_PER_MIN / DETOUR_FACTOR


def walking_minutes(straight_m: float) -> float:
    """Estimated walking minutes for a straight-line distance; inverse of reach_radius_m."""
    _check_non_negative("straight_m", straight_m)
    return straight_m * DETOUR_FACTOR / WALKING_SPEED_M_PER_MIN


def _check_non_negative(name: str, value: float) -> None:
    # A programming error, not a user's: the API validates its inputs before calling.
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
