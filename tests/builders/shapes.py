"""Geometry you can draw on paper: small lon/lat squares near the district (MapIt style)."""

from __future__ import annotations

from typing import Any

from shapely.geometry import MultiPolygon, Polygon, box, mapping

#: The south-west corner of test drawings: inside the Erqi district's box.
LON0, LAT0 = 113.60, 34.70


def square(x: float, y: float, size: float, *, unit: float = 0.001) -> MultiPolygon:
    """A square whose south-west corner is (LON0 + x·unit, LAT0 + y·unit), `size` units wide."""
    lon, lat = LON0 + x * unit, LAT0 + y * unit
    return MultiPolygon([box(lon, lat, lon + size * unit, lat + size * unit)])


def feature(
    code: str, level: str, geometry: Polygon | MultiPolygon, parent: str | None, **extra: Any
) -> dict[str, Any]:
    props = {"code": code, "parent_code": parent, "level": level, "name": f"网格{code}", **extra}
    return {"type": "Feature", "geometry": mapping(geometry), "properties": props}


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def tiny_district() -> dict[str, Any]:
    """D (10×10 units) → one L1 → one L2 → one L3 → four 5×5 micro-grids A, B, C, E.

    ┌────┬────┐
    │ C  │ E  │   A: (0,0)-(5,5)  B: (5,0)-(10,5)
    ├────┼────┤   C: (0,5)-(5,10) E: (5,5)-(10,10)
    │ A  │ B  │   one unit = 0.001° (about 90 m east-west, 111 m north-south)
    └────┴────┘
    """
    whole = square(0, 0, 10)
    return collection(
        feature("D", "DISTRICT", whole, None),
        feature("D1", "L1", whole, "D"),
        feature("D11", "L2", whole, "D1"),
        feature("D111", "L3", whole, "D11"),
        feature("D111A", "MICRO", square(0, 0, 5), "D111"),
        feature("D111B", "MICRO", square(5, 0, 5), "D111"),
        feature("D111C", "MICRO", square(0, 5, 5), "D111"),
        feature("D111E", "MICRO", square(5, 5, 5), "D111"),
    )
