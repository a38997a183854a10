"""Migrations: upgrade, downgrade and upgrade again on a scratch database; no model drift."""

import os
from collections.abc import Iterator

import psycopg
import pytest
from alembic import command

from api.cli import dbadmin


@pytest.fixture
def scratch_url(server_url: str) -> Iterator[str]:
    name = f"circle_migrations_{os.getpid()}"
    yield dbadmin.create_database(server_url, name)
    dbadmin.drop_database(server_url, name)


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {r[0] for r in rows}


def test_upgrade_downgrade_round_trip(scratch_url: str) -> None:
    dbadmin.upgrade(scratch_url)
    after_first = _tables(scratch_url)
    assert "spatial_ref_sys" in after_first  # PostGIS is enabled by the first revision
    dbadmin.downgrade(scratch_url, "base")
    assert _tables(scratch_url) == {"alembic_version"}
    dbadmin.upgrade(scratch_url)
    assert _tables(scratch_url) == after_first


def test_models_match_migrations(database_url: str) -> None:
    # Raises when autogenerate would find a difference between the models and the schema.
    command.check(dbadmin.alembic_config(database_url))


def test_hours_text_is_filled_from_the_stored_hours(scratch_url: str) -> None:
    # 0009 derives hours_text from the JSONB hours rows already had, once per schedule.
    dbadmin.upgrade(scratch_url, "0008")
    week = (
        '[{"day": 0, "open": "07:00", "close": "22:00"}, '
        '{"day": 1, "open": "07:00", "close": "22:00"}, '
        '{"day": 2, "open": "07:00", "close": "22:00"}, '
        '{"day": 5, "open": "20:00", "close": "26:00"}]'
    )
    with psycopg.connect(scratch_url) as conn:
        for name, hours in (("早餐店", week), ("药店", week), ("书店", None)):
            conn.execute(
                "INSERT INTO merchants (name, category, location, opening_hours)"
                " VALUES (%s, 'pharmacy', ST_SetSRID(ST_MakePoint(113.6, 34.7), 4326), %s)",
                (name, hours),
            )
    dbadmin.upgrade(scratch_url)
    with psycopg.connect(scratch_url) as conn:
        found = dict(conn.execute("SELECT name, hours_text FROM merchants").fetchall())
    # Written out by hand: Monday to Wednesday alike, Saturday past midnight.
    assert found == {
        "早餐店": "Mo-We 07:00-22:00; Sa 20:00-02:00",
        "药店": found["早餐店"],
        "书店": None,
    }
