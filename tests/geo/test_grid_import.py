"""Importing grids: all or nothing, upsert by code, and the export that imports back."""

from __future__ import annotations

import copy

import orjson
import pytest
from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.grids.export import stream_feature_collection
from geo.grids.models import Grid
from geo.grids.service import GridImportFailed, import_grids
from geo.grids.synth import synth_district
from tests.builders.shapes import collection, feature, square, tiny_district

pytestmark = pytest.mark.anyio


async def _count(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(Grid)) or 0)


async def _export(db: AsyncSession, **filters: str) -> dict:
    chunks = [c async for c in stream_feature_collection(db, **filters)]
    return orjson.loads(b"".join(chunks))


async def test_import_builds_the_hierarchy_and_paths(db: AsyncSession) -> None:
    report = await import_grids(db, tiny_district())
    assert (report.created, report.updated, report.warnings) == (8, 0, ())
    rows = {g.code: g for g in (await db.scalars(select(Grid))).all()}
    assert rows["D111A"].parent_id == rows["D111"].id
    assert rows["D111A"].path == [rows[c].id for c in ("D", "D1", "D11", "D111", "D111A")]
    assert rows["D"].parent_id is None


async def test_reimport_updates_in_place(db: AsyncSession) -> None:
    await import_grids(db, tiny_district())
    before = {g.code: g.id for g in (await db.scalars(select(Grid))).all()}
    renamed = tiny_district()
    renamed["features"][4]["properties"]["name"] = "新名字"
    report = await import_grids(db, renamed)
    assert (report.created, report.updated) == (0, 8)
    after = {g.code: (g.id, g.name) for g in (await db.scalars(select(Grid))).all()}
    assert {c: i for c, (i, _) in after.items()} == before
    assert after["D111A"][1] == "新名字"


async def test_extra_properties_are_kept(db: AsyncSession) -> None:
    data = tiny_district()
    data["features"][4]["properties"]["households"] = 120
    await import_grids(db, data)
    grid = await db.scalar(select(Grid).where(Grid.code == "D111A"))
    assert grid is not None and grid.properties == {"households": 120}


def _bow_tie() -> dict:
    data = tiny_district()
    data["features"][4]["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[113.600, 34.700], [113.605, 34.705], [113.605, 34.700],
                         [113.600, 34.705], [113.600, 34.700]]],
    }  # fmt: skip
    return data


def _unknown_parent() -> dict:
    data = tiny_district()
    data["features"][4]["properties"]["parent_code"] = "NOPE"
    return data


def _outside_parent() -> dict:
    data = tiny_district()
    data["features"][5]["geometry"] = feature("x", "MICRO", square(5, 0, 5.5), None)["geometry"]
    return data


def _overlap() -> dict:
    data = tiny_district()
    data["features"][4]["geometry"] = feature("x", "MICRO", square(0, 0, 5.2), None)["geometry"]
    return data


def _wrong_level() -> dict:
    data = tiny_district()
    data["features"][4]["properties"]["level"] = "L2"
    return data


@pytest.mark.parametrize(
    ("build", "kind", "code"),
    [
        (_bow_tie, "invalid_geometry", "D111A"),
        (_unknown_parent, "unknown_parent", "D111A"),
        (_outside_parent, "outside_parent", "D111B"),
        (_overlap, "sibling_overlap", None),
        (_wrong_level, "wrong_level_order", "D111A"),
    ],
)
async def test_invalid_imports_fail_and_change_nothing(
    db: AsyncSession, build, kind: str, code: str | None
) -> None:
    await import_grids(db, tiny_district())
    snapshot = await _export(db)
    bad = build()
    bad["features"][0]["properties"]["name"] = "must not be written"
    with pytest.raises(GridImportFailed) as failed:
        await import_grids(db, bad)
    kinds = {(p.kind, p.code) for p in failed.value.problems if p.severity == "error"}
    assert any(k == kind and (code is None or c == code) for k, c in kinds), kinds
    assert await _count(db) == 8
    assert await _export(db) == snapshot


async def test_every_bad_feature_is_reported_at_once(db: AsyncSession) -> None:
    data = _bow_tie()
    data["features"][5]["properties"]["parent_code"] = "NOPE"
    data["features"][6]["properties"]["level"] = "L9"
    with pytest.raises(GridImportFailed) as failed:
        await import_grids(db, data)
    codes = {p.code for p in failed.value.problems if p.severity == "error"}
    assert {"D111A", "D111B", "D111C"} <= codes
    assert await _count(db) == 0


async def test_gap_is_a_warning_not_an_error(db: AsyncSession) -> None:
    data = tiny_district()
    del data["features"][7]  # E is missing: a gap in D111
    report = await import_grids(db, data)
    assert report.created == 7
    assert [(w.kind, w.code) for w in report.warnings] == [("gap", "D111")]


async def test_export_imports_back_unchanged(db: AsyncSession) -> None:
    await import_grids(db, tiny_district())
    exported = await _export(db)
    assert [f["properties"]["code"] for f in exported["features"]][:4] == ["D", "D1", "D11", "D111"]
    report = await import_grids(db, copy.deepcopy(exported))
    assert (report.created, report.updated) == (0, 8)
    assert await _export(db) == exported
    original = {f["properties"]["code"]: f for f in tiny_district()["features"]}
    for f in exported["features"]:
        want = original[f["properties"]["code"]]
        # Exported coordinates have 7 decimals (about 1 cm).
        assert shape(f["geometry"]).equals_exact(shape(want["geometry"]), 1e-7)
        assert f["properties"]["parent_code"] == want["properties"]["parent_code"]


async def test_export_of_the_seeded_district_matches_the_synthetic_source(
    seeded_db: AsyncSession,
) -> None:
    exported = await _export(seeded_db, level="L2")
    source = {g.code: g for g in synth_district() if g.level == "L2"}
    assert len(exported["features"]) == len(source) == 175
    for f in exported["features"]:
        want = source[f["properties"]["code"]]
        assert f["properties"]["parent_code"] == want.parent_code
        assert shape(f["geometry"]).equals_exact(want.geometry, 1e-9)


async def test_empty_collection_is_refused(db: AsyncSession) -> None:
    with pytest.raises(GridImportFailed):
        await import_grids(db, {"type": "Feature"})
    report = await import_grids(db, collection())
    assert (report.created, report.updated) == (0, 0)
