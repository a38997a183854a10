"""The `circle` command on a real database: import and export grids, failures in one line."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import orjson
import psycopg
import pytest

from tests.builders.clients import CIRCLE
from tests.builders.shapes import tiny_district


@pytest.fixture
def run(database_url: str) -> Iterator[object]:
    env = {**os.environ, "DATABASE_URL": database_url}

    def circle(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([CIRCLE, *args], env=env, capture_output=True, text=True)

    yield circle
    with psycopg.connect(database_url) as conn:
        conn.execute("TRUNCATE grids RESTART IDENTITY CASCADE")


def test_import_then_export_grids(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "district.geojson"
    source.write_bytes(orjson.dumps(tiny_district()))
    done = run("import", "grids", str(source))
    assert done.returncode == 0, done.stderr
    assert "8 grids created, 0 updated" in done.stdout
    again = run("import", "grids", str(source))
    assert "0 grids created, 8 updated" in again.stdout

    out = tmp_path / "micro.geojson"
    exported = run("export", "grids", "--level", "MICRO", "--output", str(out))
    assert exported.returncode == 0, exported.stderr
    codes = [f["properties"]["code"] for f in orjson.loads(out.read_bytes())["features"]]
    assert codes == ["D111A", "D111B", "D111C", "D111E"]


def test_bad_import_lists_problems_and_fails(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tiny_district()
    bad["features"][4]["properties"]["parent_code"] = "NOPE"
    source = tmp_path / "bad.geojson"
    source.write_bytes(orjson.dumps(bad))
    done = run("import", "grids", str(source))
    assert done.returncode == 1
    assert "D111A" in done.stdout and "names parent NOPE" in done.stdout
    assert "nothing was imported" in done.stderr
    assert "Traceback" not in done.stderr


def test_unreadable_and_malformed_files_are_one_sentence(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = run("import", "grids", str(tmp_path / "nope.geojson"))
    assert missing.returncode == 1 and "cannot read" in missing.stderr
    garbage = tmp_path / "garbage.geojson"
    garbage.write_text("{not json")
    malformed = run("import", "grids", str(garbage))
    assert malformed.returncode == 1 and "not valid JSON" in malformed.stderr
    assert "Traceback" not in missing.stderr + malformed.stderr
