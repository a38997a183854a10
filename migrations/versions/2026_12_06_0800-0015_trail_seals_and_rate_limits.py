"""Keyed seals of the case trail, and rate-limit buckets every server process shares.

* ``cases.trail_seal``: ``<key id>:<HMAC-SHA256>`` of the case's id, version and chain head,
  under a key that lives outside the database (geo.cases.seal). The hash chain shows any
  change to an event; the seal shows a chain rewritten whole, hashes and head recomputed,
  by someone without the key. NULL until sealed: cases written before this revision are
  sealed by ``circle migrate`` (or ``circle trail seal``) once their chains verify.
* ``rate_limits``: one token bucket per key (a client address or an account and what it
  spends), updated by one statement per spend (geo.limits), so that every server process
  spends from the same budget. ``full_at`` says when the bucket will be full again: rows
  past it hold nothing worth keeping and are pruned.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("trail_seal", sa.String(length=100), nullable=True))
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("full_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limits")),
    )
    op.create_index("ix_rate_limits_full_at", "rate_limits", ["full_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_rate_limits_full_at", table_name="rate_limits")
    op.drop_table("rate_limits")
    op.drop_column("cases", "trail_seal")
