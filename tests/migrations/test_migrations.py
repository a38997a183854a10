"""Migrations: upgrade, downgrade and upgrade again on a scratch database; no model drift."""

import os
from collections.abc import Iterator

import psycopg
import pytest
from alembic import command

from api import dbadmin


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
