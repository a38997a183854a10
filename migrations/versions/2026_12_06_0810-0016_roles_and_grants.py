"""The roles the service connects as, and what each may do.

Migrations run as the owner of the schema (the embedded cluster's superuser, or a
database's own owner: README, "A database of your own"); the served process never does.

* ``circle_app``: the application. It reads and writes rows, table by table as the service
  does (:data:`APP_TABLES`): no DDL (it owns nothing and may not create in the schema), no
  TRUNCATE, and on ``case_events`` only SELECT and INSERT, so the trail is append-only by
  privilege and not only by trigger. It is no superuser and holds none of the predefined
  roles that read or write server files or run programs.
* ``circle_reader``: the read pool (gridAt, nearby searches, circles, pages). SELECT on the
  public tables it reads (:data:`READ_TABLES`), and its transactions are read-only.

Roles belong to the cluster, not to this database: they are created when missing (the
migrating role needs CREATEROLE for that, or a DBA creates them first, with passwords where
the server asks for them), and a downgrade revokes this database's grants but leaves the
roles, which other databases of the cluster may use. Every later table is granted by the
migration that creates it (tests/migrations/test_roles.py fails on a table nobody granted).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 08:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP = "circle_app"
READER = "circle_reader"

#: What the application does to each table (geo/ is the only writer; see its modules).
APP_TABLES: dict[str, str] = {
    "case_events": "SELECT, INSERT",  # append-only
    "cases": "SELECT, INSERT, UPDATE",
    "case_number_counters": "SELECT, INSERT, UPDATE",
    "ledger_items": "SELECT, INSERT, UPDATE",
    "users": "SELECT, INSERT, UPDATE",
    "api_tokens": "SELECT, INSERT, UPDATE",
    "user_grids": "SELECT, INSERT, DELETE",
    "units": "SELECT, INSERT, UPDATE",
    "grids": "SELECT, INSERT, UPDATE",
    "grid_workers": "SELECT, INSERT, DELETE",
    "merchants": "SELECT, INSERT, UPDATE",
    "service_points": "SELECT, INSERT, UPDATE",
    "circle_codes": "SELECT, INSERT, UPDATE",
    "calendar_years": "SELECT, INSERT, UPDATE",
    "calendar_days": "SELECT, INSERT, DELETE",
    "rate_limits": "SELECT, INSERT, UPDATE, DELETE",
}
#: What the read pool reads: public information only (no accounts, tokens or cases).
READ_TABLES = ("grids", "grid_workers", "merchants", "service_points", "circle_codes")

# A role is created unless it exists; two migrations racing on one cluster (tests of several
# checkouts) may both try, and the loser's duplicate is not an error.
_CREATE_ROLE = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
        BEGIN
            CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
                NOBYPASSRLS;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;
            WHEN insufficient_privilege THEN RAISE EXCEPTION
                'role {role} does not exist and % may not create it: create it first '
                '(README, "A database of your own")', current_user;
        END;
    END IF;
END
$$
"""

# Role settings need CREATEROLE too; the read pool also asks for read-only transactions on
# every connection (geo.db.make_read_pool), so this is the second lock, not the only one.
_READ_ONLY = f"""
DO $$
BEGIN
    ALTER ROLE {READER} SET default_transaction_read_only = on;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'could not make {READER} read-only by default: its grants still are';
END
$$
"""

# Temporary tables are DDL the service does not need (imports stage theirs as the owner).
_NO_TEMP = """
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$
"""
_TEMP_AGAIN = """
DO $$
BEGIN
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
END
$$
"""


def upgrade() -> None:
    for role in (APP, READER):
        op.execute(_CREATE_ROLE.format(role=role))
    op.execute(_READ_ONLY)
    op.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    op.execute(_NO_TEMP)
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP}, {READER}")
    for table, privileges in APP_TABLES.items():
        op.execute(f"GRANT {privileges} ON {table} TO {APP}")
    op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {APP}")
    op.execute(f"GRANT SELECT ON {', '.join(READ_TABLES)} TO {READER}")


def downgrade() -> None:
    for table in APP_TABLES:
        op.execute(f"REVOKE ALL ON {table} FROM {APP}, {READER}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP}, {READER}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP}, {READER}")
    op.execute(_TEMP_AGAIN)
