"""Cases, users and tokens.

Users (with their grid bindings and API tokens), cases, the append-only case trail and
the meeting ledger. Depends only on grids and grid_workers (0002), not on 0003's tables.

The trail is append-only in the database itself:

* a row trigger refuses every UPDATE and DELETE on case_events, whoever asks;
* a statement trigger refuses TRUNCATE unless the session is a superuser's or has set
  ``circle.allow_truncate = on``. A superuser can disable any trigger anyway
  (``ALTER TABLE ... DISABLE TRIGGER``, ``session_replication_role``), so exempting them
  costs nothing, and it keeps the test suite's ``TRUNCATE ... CASCADE`` cleanup working.
  Run the application as a non-superuser role (managed PostgreSQL services never grant
  superuser) and the guard holds. Truncating the trail alone is also caught by the hash
  chain: every case row keeps the hash of its last event.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = (
    "'reported', 'accepted', 'dispatched', 'in_progress', 'handled', 'verified', 'evaluated', "
    "'closed', 'rejected', 'merged', 'escalated', 'postponed', 'shelved'"
)

_APPEND_ONLY = """
CREATE FUNCTION case_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND (
        current_setting('is_superuser') = 'on'
        OR current_setting('circle.allow_truncate', true) = 'on'
    ) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'case_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    _users()
    _cases()
    _case_events()
    _ledger_items()
    # Public case numbers: a sequence, not a per-year counter row that every report would
    # lock until commit. Numbers are unique and increasing; a rolled-back report skips one.
    op.execute("CREATE SEQUENCE case_number_seq")
    op.execute(_APPEND_ONLY)
    op.execute(
        "CREATE TRIGGER case_events_no_update_delete BEFORE UPDATE OR DELETE ON case_events "
        "FOR EACH ROW EXECUTE FUNCTION case_events_append_only()"
    )
    op.execute(
        "CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION case_events_append_only()"
    )


def _users() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("seat", sa.String(length=16), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(role = 'agent') = (seat IS NOT NULL)", name=op.f("ck_users_seat_iff_agent")
        ),
        sa.CheckConstraint(
            "department IS NOT NULL OR NOT (role = 'handler' OR seat = 'department')",
            name=op.f("ck_users_department_needed"),
        ),
        sa.CheckConstraint(
            "role IN ('resident', 'grid_worker', 'agent', 'handler', 'admin', 'system')",
            name=op.f("ck_users_role"),
        ),
        sa.CheckConstraint(
            "seat IN ('district', 'subdistrict', 'department')", name=op.f("ck_users_seat")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_tokens_prefix")),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"], unique=False)
    op.create_table(
        "user_grids",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grid_id"], ["grids.id"], name=op.f("fk_user_grids_grid_id_grids"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_grids_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "grid_id", name=op.f("pk_user_grids")),
    )
    op.create_index(op.f("ix_user_grids_grid_id"), "user_grids", ["grid_id"], unique=False)


def _cases() -> None:
    point = Geometry(
        geometry_type="POINT",
        srid=4326,
        dimension=2,
        spatial_index=False,
        from_text="ST_GeomFromEWKT",
        name="geometry",
        nullable=False,
    )
    tz = sa.DateTime(timezone=True)
    op.create_geospatial_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("location", point, nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=False),
        sa.Column("location_source", sa.String(length=16), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("photo_urls", sa.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("channel", sa.String(length=24), nullable=False),
        sa.Column("reporter_user_id", sa.Integer(), nullable=True),
        sa.Column("reporter_contact", sa.String(length=100), nullable=True),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("assignee_worker_id", sa.Integer(), nullable=True),
        sa.Column("assignee_user_id", sa.Integer(), nullable=True),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("co_handlers", sa.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("routing_reason", sa.String(length=32), nullable=False),
        sa.Column("deadline", tz, nullable=True),
        sa.Column("handle_deadline", tz, nullable=True),
        sa.Column("rework_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("extension_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("postponed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("satisfaction", sa.String(length=24), nullable=True),
        sa.Column("evaluation_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("satisfied_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reported_at", tz, nullable=False),
        sa.Column("accepted_at", tz, nullable=True),
        sa.Column("dispatched_at", tz, nullable=True),
        sa.Column("handled_at", tz, nullable=True),
        sa.Column("verified_at", tz, nullable=True),
        sa.Column("closed_at", tz, nullable=True),
        sa.Column("close_work_hours", sa.Float(), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("last_event_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "satisfaction IN ('satisfied', 'basically_satisfied', 'unsatisfied')",
            name=op.f("ck_cases_satisfaction"),
        ),
        sa.CheckConstraint(f"status IN ({_STATUSES})", name=op.f("ck_cases_status")),
        sa.CheckConstraint("accuracy_m > 0", name=op.f("ck_cases_accuracy_positive")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_cases_version_positive")),
        sa.ForeignKeyConstraint(
            ["assignee_user_id"],
            ["users.id"],
            name=op.f("fk_cases_assignee_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["assignee_worker_id"],
            ["grid_workers.id"],
            name=op.f("fk_cases_assignee_worker_id_grid_workers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_cases_grid_id_grids")),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["cases.id"], name=op.f("fk_cases_merged_into_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["reporter_user_id"],
            ["users.id"],
            name=op.f("fk_cases_reporter_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_cases_idempotency_key")),
        sa.UniqueConstraint("number", name=op.f("uq_cases_number")),
    )
    op.create_geospatial_index(
        "idx_cases_location",
        "cases",
        ["location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "ix_cases_deadline",
        "cases",
        ["deadline"],
        unique=False,
        postgresql_where=sa.text("deadline IS NOT NULL"),
    )
    op.create_index(op.f("ix_cases_department"), "cases", ["department"], unique=False)
    op.create_index(op.f("ix_cases_grid_id"), "cases", ["grid_id"], unique=False)
    op.create_index("ix_cases_reported_at_id", "cases", ["reported_at", "id"], unique=False)
    op.create_index(op.f("ix_cases_reporter_user_id"), "cases", ["reporter_user_id"], unique=False)
    op.create_index(op.f("ix_cases_status"), "cases", ["status"], unique=False)


def _case_events() -> None:
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_case_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_events_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
        sa.UniqueConstraint("case_id", "seq", name=op.f("uq_case_events_case_id")),
    )
    op.create_index(op.f("ix_case_events_actor_id"), "case_events", ["actor_id"], unique=False)


def _ledger_items() -> None:
    op.create_table(
        "ledger_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("meeting", sa.String(length=200), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("converted_case_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(status = 'converted') = (converted_case_id IS NOT NULL)",
            name=op.f("ck_ledger_items_converted_case"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'converted', 'resolved', 'dropped')",
            name=op.f("ck_ledger_items_status"),
        ),
        sa.ForeignKeyConstraint(
            ["converted_case_id"],
            ["cases.id"],
            name=op.f("fk_ledger_items_converted_case_id_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"], ["grids.id"], name=op.f("fk_ledger_items_grid_id_grids")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_ledger_items_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_items")),
        sa.UniqueConstraint("converted_case_id", name=op.f("uq_ledger_items_converted_case_id")),
    )
    op.create_index(op.f("ix_ledger_items_grid_id"), "ledger_items", ["grid_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ledger_items_grid_id"), table_name="ledger_items")
    op.drop_table("ledger_items")
    # Dropping the table drops its triggers; the function goes after it.
    op.drop_index(op.f("ix_case_events_actor_id"), table_name="case_events")
    op.drop_table("case_events")
    op.execute("DROP FUNCTION case_events_append_only()")
    op.execute("DROP SEQUENCE case_number_seq")
    for name in ("status", "reporter_user_id", "grid_id", "department"):
        op.drop_index(op.f(f"ix_cases_{name}"), table_name="cases")
    op.drop_index("ix_cases_reported_at_id", table_name="cases")
    op.drop_index(
        "ix_cases_deadline", table_name="cases", postgresql_where=sa.text("deadline IS NOT NULL")
    )
    op.drop_geospatial_index(
        "idx_cases_location", table_name="cases", postgresql_using="gist", column_name="location"
    )
    op.drop_geospatial_table("cases")
    op.drop_index(op.f("ix_user_grids_grid_id"), table_name="user_grids")
    op.drop_table("user_grids")
    op.drop_index("ix_api_tokens_user_id", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("users")
