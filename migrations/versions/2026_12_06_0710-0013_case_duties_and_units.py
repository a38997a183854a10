"""Separation of duties on cases, and the registered units (departments).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 07:10:00

* ``units``: the district's departments (职能部门) are data. DISPATCH, co-handling, handlers
  and department seats name a registered, active unit; a free-text name nobody belongs to
  left cases that nobody could start or return. Units already named by users or cases are
  registered here, so an upgraded database keeps working.
* ``cases.handled_by_user_id`` / ``verified_by_user_id``: who reported the case handled and
  who verified it, so that the workflow can refuse the same account certifying its own work
  (GB/T 30428: 核查 is independent of 处置) and staff evaluating what they handled.
* ``cases.self_handled``: a patrol case the grid worker fixed on the spot (自行处置), counted
  apart in the statistics.
* ``cases.postponed_at``: when the running postponement began; RESUME adds the working time
  spent postponed back to the handling deadline.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.text("true")),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("btrim(name) <> '' AND name = btrim(name)", name="ck_units_name"),
    )
    op.execute(
        """
        INSERT INTO units (name)
        SELECT DISTINCT btrim(name) FROM (
            SELECT department AS name FROM users WHERE department IS NOT NULL
            UNION SELECT department FROM cases WHERE department IS NOT NULL
            UNION SELECT unnest(co_handlers) FROM cases
        ) AS named
        WHERE btrim(name) <> ''
        ON CONFLICT (name) DO NOTHING
        """
    )
    for column in ("handled_by_user_id", "verified_by_user_id"):
        op.add_column(
            "cases",
            sa.Column(column, sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
        )
    op.add_column(
        "cases",
        sa.Column("self_handled", sa.Boolean, nullable=False, server_default=sa.text("false")),
    )
    op.add_column("cases", sa.Column("postponed_at", sa.DateTime(timezone=True)))
    # Existing trails name their handler and verifier in their events.
    op.execute(
        """
        UPDATE cases SET
            handled_by_user_id = (SELECT actor_id FROM case_events e WHERE e.case_id = cases.id
                                  AND e.action = 'report_handled' ORDER BY seq DESC LIMIT 1),
            verified_by_user_id = (SELECT actor_id FROM case_events e WHERE e.case_id = cases.id
                                   AND e.action = 'verify_ok' ORDER BY seq DESC LIMIT 1)
        WHERE handled_at IS NOT NULL
        """
    )


def downgrade() -> None:
    for column in ("postponed_at", "self_handled", "verified_by_user_id", "handled_by_user_id"):
        op.drop_column("cases", column)
    op.drop_table("units")
