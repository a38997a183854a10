"""Bulk import through COPY: per-row reports, both modes, grid assignment in SQL."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from geo.coords import CoordSystem, LonLat, from_wgs84
from geo.grids.models import Grid
from geo.grids.synth import DISTRICT_BOUNDS
from geo.imports import importer
from geo.imports.checking import SERVICE_POINTS
from geo.imports.importer import ImportRejected, import_file, import_records, write_report
from geo.imports.rows import RowProblem, Schedules, merchant_values, read_csv, read_geojson
from geo.imports.staging import copy_line, merchant_line
from geo.merchants.models import Merchant
from geo.places.hours import parse_hours, to_json
from geo.service_points.models import ServicePoint
from tests.builders.places import (
    ORIGIN,
    covering_code,
    geodesic_m,
    micro_grids,
    offset,
    with_tiny_district,
)

pytestmark = pytest.mark.anyio

HEADER = "name,category,phone,address,longitude,latitude,system,hours,status,verified"


def csv_text(*rows: str) -> io.StringIO:
    return io.StringIO("\n".join([HEADER, *rows]) + "\n")


def row(name: str, where: LonLat, **fields: str) -> str:
    values = {
        "category": "convenience_store",
        "phone": "13800138000",
        "address": "德化街1号",
        "system": "",
        "hours": "Mo-Su 07:00-23:00",
        "status": "",
        "verified": "",
    } | fields
    return ",".join([
        name, values["category"], values["phone"], values["address"], repr(where.lon),
        repr(where.lat), values["system"], values["hours"], values["status"], values["verified"],
    ])  # fmt: skip


async def count(session: AsyncSession, model: Any = Merchant) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def import_csv(session: AsyncSession, stream: io.StringIO, **options: Any) -> Any:
    header, records = read_csv(stream)
    return await import_records(session, records, header=header, **options)


MIXED = (
    row("好邻居便利店", offset(ORIGIN, 30, 100)),
    row("坏分类", offset(ORIGIN, 60, 100), category="bakery"),
    row("坏电话坏时间", offset(ORIGIN, 90, 100), phone="12345", hours="9-5"),
    row("德化街药房", offset(ORIGIN, 120, 100), category="pharmacy", hours=""),
    ",convenience_store,,,113.6,34.7,,,,",
    row("坏坐标", LonLat(113.6, 34.7), system="MARS"),
)


async def test_all_or_nothing_reports_every_bad_row_and_writes_nothing(db: AsyncSession) -> None:
    await with_tiny_district(db)
    with pytest.raises(ImportRejected) as rejected:
        await import_csv(db, csv_text(*MIXED))
    assert set(rejected.value.problems) >= {
        RowProblem(3, "category", rejected.value.problems[0].message),
    }
    where = {(p.row, p.column) for p in rejected.value.problems}
    assert where == {(3, "category"), (4, "phone"), (4, "hours"), (6, "name"), (7, "system")}
    assert rejected.value.rows == 6
    assert "4 of 6 rows are invalid" in str(rejected.value)
    assert await count(db) == 0


async def test_skip_bad_writes_the_good_rows_and_returns_the_bad_ones(db: AsyncSession) -> None:
    ids = await with_tiny_district(db)
    report = await import_csv(db, csv_text(*MIXED), skip_bad=True)
    assert (report.rows, report.imported, report.rejected, report.outside_coverage) == (6, 2, 4, 0)
    shops = (await db.execute(select(Merchant).order_by(Merchant.id))).scalars().all()
    assert [s.name for s in shops] == ["好邻居便利店", "德化街药房"]  # ids follow the file
    assert {s.grid_id for s in shops} == {ids["D111E"], ids["D111B"]}
    first, second = shops
    assert first.opening_hours == to_json(parse_hours("Mo-Su 07:00-23:00"))
    assert first.hours_text == "Mo-Su 07:00-23:00"  # what lists read, stored as the file says
    assert second.opening_hours is None and second.open_minutes is None  # unknown hours
    assert second.hours_text is None
    assert first.name_grams == ["便利", "利店", "好邻", "居便", "邻居"]


async def test_a_missing_required_column_rejects_the_file(db: AsyncSession) -> None:
    stream = io.StringIO("name,category,longitude\n便利店,convenience_store,113.6\n")
    with pytest.raises(ImportRejected) as rejected:
        await import_csv(db, stream)
    assert rejected.value.problems == (RowProblem(1, "latitude", "required column is missing"),)


async def test_coordinates_in_gcj02_and_bd09_are_stored_as_wgs84(db: AsyncSession) -> None:
    truth = [offset(ORIGIN, 0, 300), offset(ORIGIN, 90, 300)]
    lines = [
        row(f"店{system.value}{n}", from_wgs84(p, system), system=system.value.lower())
        for system in (CoordSystem.GCJ02, CoordSystem.BD09)
        for n, p in enumerate(truth)
    ]
    report = await import_csv(db, csv_text(*lines))
    assert report.imported == 4 and report.outside_coverage == 4  # no grids in `db`
    stored = await db.execute(
        select(Merchant.name, func.ST_X(Merchant.location), func.ST_Y(Merchant.location))
    )
    for name, lon, lat in stored:
        assert geodesic_m(LonLat(lon, lat), truth[int(name[-1])]) < 0.01


async def test_geojson_points_import_with_per_feature_problems(
    db: AsyncSession, tmp_path: Path
) -> None:
    good = offset(ORIGIN, 10, 50)
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [good.lon, good.lat]},
                "properties": {"name": "点店", "category": "cafe", "verified": True},
            },
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
                "properties": {"name": "线店", "category": "cafe"},
            },
        ],
    }
    report = await import_records(db, read_geojson(collection), skip_bad=True)
    assert report.imported == 1
    assert report.problems == (RowProblem(2, "geometry", "a Point geometry is required"),)
    written = write_report(tmp_path / "problems.csv", report.problems)
    lines = (tmp_path / "problems.csv").read_text(encoding="utf-8").splitlines()
    assert written == 1 and lines == [
        "row,column,message",
        "2,geometry,a Point geometry is required",
    ]
    shop = (await db.execute(select(Merchant))).scalar_one()
    assert shop.verified and shop.category == "cafe"


async def test_files_are_read_by_their_suffix(db: AsyncSession, tmp_path: Path) -> None:
    csv_file = tmp_path / "shops.csv"
    csv_file.write_text("\ufeff" + csv_text(row("文件店", ORIGIN)).getvalue(), encoding="utf-8")
    geojson_file = tmp_path / "points.geojson"
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [ORIGIN.lon, ORIGIN.lat]},
        "properties": {"kind": "public_toilet", "name": "公厕", "hours": "24/7"},
    }
    geojson_file.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    assert (await import_file(db, csv_file)).imported == 1
    assert (await import_file(db, geojson_file, target=SERVICE_POINTS)).imported == 1
    assert await count(db, ServicePoint) == 1


async def test_chunks_and_index_rebuild_keep_the_table_whole(
    db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "CHUNK_ROWS", 10)
    await with_tiny_district(db)
    indexes = await _indexes(db)
    empty_file = await _file_of(db)
    lines = [row(f"店{n:02d}", offset(ORIGIN, n * 10, 50 + n)) for n in range(35)]
    report = await import_csv(db, csv_text(*lines))
    assert report.imported == 35
    loaded_file = await _file_of(db)
    assert loaded_file != empty_file  # empty: truncated, so the load may skip WAL
    names = (await db.execute(select(Merchant.name).order_by(Merchant.id))).scalars().all()
    assert names == [f"店{n:02d}" for n in range(35)]
    assert await _indexes(db) == indexes  # dropped for the bulk load, rebuilt identically
    await db.execute(text("INSERT INTO merchants (name, category, location) VALUES "
                          "('x', 'cafe', 'SRID=4326;POINT(113.6 34.7)')"))  # fmt: skip
    bad_late = [*lines, row("坏", ORIGIN, category="bakery")]
    with pytest.raises(ImportRejected):
        await import_csv(db, csv_text(*bad_late))
    assert await count(db) == 36  # the chunks written before the bad row were undone
    assert await _indexes(db) == indexes
    assert await _file_of(db) == loaded_file  # a table with rows is never truncated


async def _file_of(db: AsyncSession) -> int:
    found = await db.scalar(
        text("SELECT relfilenode FROM pg_class WHERE oid = 'merchants'::regclass")
    )
    assert found is not None
    return int(found)


async def _indexes(db: AsyncSession) -> set[tuple[str, str]]:
    rows = await db.execute(
        text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'merchants'")
    )
    constraints = await db.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'merchants'::regclass"
        )
    )
    return {(a, b) for a, b in rows} | {(a, b) for a, b in constraints}


async def test_grids_assigned_in_sql_match_shapely(
    seeded_db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "CHUNK_ROWS", 150)
    rng = random.Random(11)
    west, south, east, north = DISTRICT_BOUNDS
    points = [LonLat(rng.uniform(west, east), rng.uniform(south, north)) for _ in range(400)]
    _, micros = micro_grids()
    for grid in micros[:60]:  # vertices shared by neighbours: the smallest code wins
        lon, lat = grid.geometry.geoms[0].exterior.coords[0]
        points.append(LonLat(lon, lat))
    lines = [row(f"导入测试{n}", p) for n, p in enumerate(points)]
    report = await import_csv(seeded_db, csv_text(*lines))
    assert report.imported == len(points)
    stored = await seeded_db.execute(
        select(Merchant.name, Grid.code, Merchant.outside_coverage)
        .outerjoin(Grid, Grid.id == Merchant.grid_id)
        .where(Merchant.name.like("导入测试%"))
    )
    got = {name: (code, outside) for name, code, outside in stored}
    for n, p in enumerate(points):
        expected = covering_code(p.lon, p.lat)
        assert got[f"导入测试{n}"] == (expected, expected is None), p
    assert report.outside_coverage == sum(1 for p in points if covering_code(p.lon, p.lat) is None)


async def test_ids_follow_the_file_whatever_order_staging_holds(
    db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "CHUNK_ROWS", 8)
    await with_tiny_district(db)
    # Listed east to west: the checker stages each chunk west to east, and the ids must
    # still follow the file.
    lines = [row(f"西行{n:02d}", offset(ORIGIN, 400 - n * 10, 120)) for n in range(20)]
    assert (await import_csv(db, csv_text(*lines))).imported == 20
    names = (await db.execute(select(Merchant.name).order_by(Merchant.id))).scalars().all()
    assert names == [f"西行{n:02d}" for n in range(20)]


async def test_large_files_are_checked_in_a_child_process(
    db: AsyncSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "PROCESS_BYTES", 0)  # every file counts as large
    monkeypatch.setattr(importer, "CHUNK_ROWS", 7)  # passed to the child
    started = []
    monkeypatch.setattr(importer, "CheckedInProcess", _spy(importer.CheckedInProcess, started))
    await with_tiny_district(db)
    good = tmp_path / "shops.csv"
    lines = [row(f"子进程{n:02d}", offset(ORIGIN, n * 10, 60)) for n in range(16)]
    good.write_text(csv_text(*lines).getvalue(), encoding="utf-8")
    report = await import_file(db, good)
    assert (report.rows, report.imported) == (16, 16) and len(started) == 1
    names = (await db.execute(select(Merchant.name).order_by(Merchant.id))).scalars().all()
    assert names == [f"子进程{n:02d}" for n in range(16)]

    bad = tmp_path / "bad.csv"
    bad.write_text(csv_text(*lines[:9], row("坏", ORIGIN, category="bakery")).getvalue())
    with pytest.raises(ImportRejected) as rejected:
        await import_file(db, bad)
    assert {(p.row, p.column) for p in rejected.value.problems} == {(11, "category")}
    assert await count(db) == 16

    # Past the first block the parent decodes for the header: found by the child.
    latin = tmp_path / "latin.csv"
    latin.write_bytes(csv_text(*lines * 40).getvalue().encode() + row("坏", ORIGIN).encode("gbk"))
    with pytest.raises(UnicodeDecodeError):
        await import_file(db, latin)
    assert await count(db) == 16  # the chunks before the bad bytes were undone
    geojson = tmp_path / "points.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [ORIGIN.lon, ORIGIN.lat]},
        "properties": {"kind": "public_toilet", "name": "公厕"},
    }]}))  # fmt: skip
    assert (await import_file(db, geojson, target=SERVICE_POINTS)).imported == 1
    assert len(started) == 4 and await count(db) == 16


def _spy(cls: Any, started: list[Any]) -> Any:
    def make(*args: Any) -> Any:
        started.append(args)
        return cls(*args)

    return make


@pytest.mark.parametrize(
    "name",
    ["好邻居便利店", "Tab\there", "back\\slash", 'quote"d', "new\nline", "cr\rshop", "KFC 肯德基"],
)
@pytest.mark.parametrize("address", ["", "德化街1号", "a\\b\tc"])
@pytest.mark.parametrize(("phone", "schedule"), [(None, None), ("0371-66661234", 3)])
def test_the_written_out_merchant_line_is_the_general_copy_line(
    name: str, address: str, phone: str | None, schedule: int | None
) -> None:
    values = merchant_values(
        7,
        {"name": name, "category": "cafe", "phone": phone or "", "address": address,
         "longitude": "113.61234567891234", "latitude": "34.7", "verified": "是"},
        Schedules(),
    )  # fmt: skip
    values = (*values[:7], schedule, *values[8:], 42)
    assert merchant_line(values) == copy_line(values)
