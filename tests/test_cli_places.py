"""`circle import merchants|service-points FILE` on a real database: reports, modes, failures."""

from __future__ import annotations

import csv
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import psycopg
import pytest

from geo.imports.synth import MERCHANT_COLUMNS, synth_merchants

CIRCLE = str(Path(__file__).parents[1] / ".venv" / "bin" / "circle")
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run(database_url: str) -> Iterator[Run]:
    env = {**os.environ, "DATABASE_URL": database_url}

    def circle(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([CIRCLE, *args], env=env, capture_output=True, text=True)

    yield circle
    with psycopg.connect(database_url) as conn:
        conn.execute("TRUNCATE merchants, service_points RESTART IDENTITY")


def count(database_url: str, table: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def merchants_csv(path: Path, rows: int = 20) -> Path:
    records = list(synth_merchants(rows, seed=5))
    records[3]["phone"] = "12345"
    records[7]["category"] = "bakery"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=MERCHANT_COLUMNS)
        writer.writeheader()
        writer.writerows(records)
    return path


def test_all_or_nothing_lists_every_bad_row(run: Run, tmp_path: Path, database_url: str) -> None:
    done = run("import", "merchants", str(merchants_csv(tmp_path / "m.csv")))
    assert done.returncode == 1
    assert "row 5, phone: '12345' is not a valid phone number" in done.stdout
    assert "row 9, category: unknown merchant category 'bakery'" in done.stdout
    assert done.stderr.count("\n") == 1 and "2 of 20 rows are invalid" in done.stderr
    assert "Traceback" not in done.stderr
    assert count(database_url, "merchants") == 0


def test_skip_bad_with_a_report_file(run: Run, tmp_path: Path, database_url: str) -> None:
    report = tmp_path / "problems.csv"
    source = merchants_csv(tmp_path / "m.csv")
    done = run("import", "merchants", str(source), "--skip-bad", "--report", str(report))
    assert done.returncode == 0, done.stderr
    assert "import: 18 merchants imported from 20 rows, 2 rejected" in done.stdout
    with report.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [(r["row"], r["column"]) for r in rows] == [("5", "phone"), ("9", "category")]
    assert count(database_url, "merchants") == 18


def test_service_points_from_geojson(run: Run, tmp_path: Path, database_url: str) -> None:
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [113.6, 34.7]},
         "properties": {"kind": "public_toilet", "name": "公厕", "hours": "24/7"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [113.61, 34.71]},
         "properties": {"kind": "police_office", "name": "警务室", "phone": "0371-67891234"}},
    ]  # fmt: skip
    source = tmp_path / "points.geojson"
    source.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": features}))
    done = run("import", "service-points", str(source))
    assert done.returncode == 0, done.stderr
    assert "import: 2 service points imported from 2 rows, 0 rejected" in done.stdout
    assert count(database_url, "service_points") == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "cannot read"),
        ("merchants.txt", b"x", "must be a .csv, .geojson or .json file"),
        ("bad.geojson", b'{"type": "Feature', "cannot be read as geojson"),
        ("list.json", b"[1, 2]", "expected a GeoJSON FeatureCollection"),
        ("latin1.csv", "name,category\ncafé,cafe\n".encode("latin-1"), "cannot be read as csv"),
        ("header.csv", b"name,phone\nx,1\n", "nothing was imported"),
    ],
)
def test_unreadable_files_fail_in_one_sentence(
    run: Run, tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    done = run("import", "merchants", str(path))
    assert done.returncode == 1
    assert message in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
