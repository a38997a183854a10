"""The roles of migration 0016, each connected to and shown what it cannot do.

The application's role reads and writes rows as the service does, and nothing else: no DDL,
no TRUNCATE, no rewriting the trail, no switching triggers off, no server files or programs.
The reader reads public tables in read-only transactions. The owner (the fixtures' role)
migrates. Every table has its privileges written down here: a table nobody granted fails.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from api.cli.roles import role_facts
from api.settings import APP_ROLE, READ_ROLE, Settings

#: Table -> what the application may do to it (the rest it may not). Migration 0016 grants it.
APP_PRIVILEGES = {
    "case_events": {"SELECT", "INSERT"},
    "cases": {"SELECT", "INSERT", "UPDATE"},
    "case_number_counters": {"SELECT", "INSERT", "UPDATE"},
    "ledger_items": {"SELECT", "INSERT", "UPDATE"},
    "users": {"SELECT", "INSERT", "UPDATE"},
    "api_tokens": {"SELECT", "INSERT", "UPDATE"},
    "user_grids": {"SELECT", "INSERT", "DELETE"},
    "units": {"SELECT", "INSERT", "UPDATE"},
    "grids": {"SELECT", "INSERT", "UPDATE"},
    "grid_workers": {"SELECT", "INSERT", "DELETE"},
    "merchants": {"SELECT", "INSERT", "UPDATE"},
    "service_points": {"SELECT", "INSERT", "UPDATE"},
    "circle_codes": {"SELECT", "INSERT", "UPDATE"},
    "calendar_years": {"SELECT", "INSERT", "UPDATE"},
    "calendar_days": {"SELECT", "INSERT", "DELETE"},
    "rate_limits": {"SELECT", "INSERT", "UPDATE", "DELETE"},
    # Not the service's: the migrations' bookkeeping, and PostGIS's own table (public).
    "alembic_version": set(),
    "spatial_ref_sys": {"SELECT"},
}
READ_PRIVILEGES = {"grids", "grid_workers", "merchants", "service_points", "circle_codes"}
KINDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


@pytest.fixture
def app(settings: Settings) -> Iterator[psycopg.Connection]:
    with psycopg.connect(settings.database(), autocommit=True) as conn:
        yield conn


@pytest.fixture
def reader(settings: Settings) -> Iterator[psycopg.Connection]:
    with psycopg.connect(settings.read_database(), autocommit=True) as conn:
        yield conn


def refusal(conn: psycopg.Connection, sql: str) -> str:  # type: ignore[type-arg]
    """The database's refusal of ``sql`` (in a transaction rolled back either way)."""
    with pytest.raises(psycopg.Error) as error, conn.transaction():
        conn.execute(sql)
    return str(error.value)


def test_each_role_is_who_the_settings_say(app: psycopg.Connection, reader: psycopg.Connection):
    assert app.execute("SELECT current_user").fetchone() == (APP_ROLE,)
    assert reader.execute("SELECT current_user").fetchone() == (READ_ROLE,)
    for conn in (app, reader):
        row = conn.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication "
            "FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert row == (False, False, False, False, False)


def test_the_served_roles_pass_the_start_up_check(settings: Settings, database_url: str):
    assert role_facts(settings.database()).refusal() is None
    assert role_facts(settings.read_database()).refusal() is None
    owner = role_facts(database_url)
    assert owner.refusal() is not None, "the owner (or a superuser) is refused for serving"


def test_every_table_has_the_application_privileges_written_here(app: psycopg.Connection):
    tables = {
        name
        for (name,) in app.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    }
    assert tables == set(APP_PRIVILEGES), "grant (and write down here) what a new table needs"
    for table, allowed in APP_PRIVILEGES.items():
        held = {
            kind
            for kind in KINDS
            if app.execute("SELECT has_table_privilege(%s, %s)", (table, kind)).fetchone()[0]  # type: ignore[index]
        }
        assert held == allowed, table


@pytest.mark.parametrize(
    ("sql", "refused"),
    [
        ("CREATE TABLE loot (x int)", "permission denied for schema public"),
        ("CREATE TEMP TABLE loot (x int)", "permission denied to create temporary tables"),
        ("DROP TABLE cases", "must be owner of table cases"),
        ("ALTER TABLE cases ADD COLUMN loot text", "must be owner of table cases"),
        ("ALTER TABLE case_events DISABLE TRIGGER ALL", "must be owner of table case_events"),
        ("TRUNCATE case_events", "permission denied for table case_events"),
        ("TRUNCATE cases CASCADE", "permission denied for table cases"),
        ("TRUNCATE rate_limits", "permission denied for table rate_limits"),
        ("UPDATE case_events SET note = 'rewritten'", "permission denied for table case_events"),
        ("DELETE FROM case_events", "permission denied for table case_events"),
        ("DELETE FROM cases", "permission denied for table cases"),
        ("SET session_replication_role = replica", "permission denied to set parameter"),
        ("COPY cases TO PROGRAM 'id'", "pg_execute_server_program role to COPY"),
        ("COPY cases FROM '/etc/passwd'", "pg_read_server_files role to COPY"),
        ("SELECT pg_read_file('/etc/passwd')", "permission denied for function pg_read_file"),
        ("SELECT lo_import('/etc/passwd')", "permission denied for function lo_import"),
        ("CREATE ROLE loot SUPERUSER", "must be superuser to create superusers"),
        ("CREATE ROLE loot", "permission denied to create role"),
        ("SET ROLE postgres", "permission denied to set role"),
        ("CREATE EXTENSION dblink", "permission denied to create extension"),
    ],
)
def test_the_application_cannot(app: psycopg.Connection, sql: str, refused: str) -> None:
    assert refused in refusal(app, sql)


def test_the_application_does_what_the_service_does(app: psycopg.Connection) -> None:
    with app.transaction(force_rollback=True):
        app.execute("INSERT INTO units (name) VALUES ('测试单位')")
        app.execute("UPDATE units SET active = false WHERE name = '测试单位'")
        assert app.execute("SELECT nextval('cases_id_seq')").fetchone()
        assert app.execute("SELECT count(*) FROM case_events").fetchone() == (0,)


@pytest.mark.parametrize(
    ("sql", "refused"),
    [
        ("SELECT count(*) FROM users", "permission denied for table users"),
        ("SELECT count(*) FROM api_tokens", "permission denied for table api_tokens"),
        ("SELECT count(*) FROM cases", "permission denied for table cases"),
        ("SELECT count(*) FROM case_events", "permission denied for table case_events"),
        ("INSERT INTO units (name) VALUES ('x')", "cannot execute INSERT in a read-only"),
        ("UPDATE grids SET name = name", "cannot execute UPDATE in a read-only transaction"),
        ("CREATE TEMP TABLE loot (x int)", "cannot execute CREATE TABLE in a read-only"),
    ],
)
def test_the_reader_only_reads_public_tables(
    reader: psycopg.Connection, sql: str, refused: str
) -> None:
    assert refused in refusal(reader, sql)
    for table in READ_PRIVILEGES:
        assert reader.execute(f"SELECT count(*) FROM {table}").fetchone() is not None


def test_the_reader_cannot_write_even_in_a_read_write_transaction(
    reader: psycopg.Connection,  # type: ignore[type-arg]
) -> None:
    with pytest.raises(psycopg.Error) as error, reader.transaction():
        reader.execute("SET TRANSACTION READ WRITE")
        reader.execute("UPDATE grids SET name = name")
    assert "permission denied for table grids" in str(error.value)
