"""The working calendar: State Council adjusted days (调休) entered per year.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 07:00:00

chinesecalendar ships the notices up to 2026; later years are entered by administrators
(geo.calendar.models). Both tables are small (a row a year, a few dozen days a year).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint("year BETWEEN 2000 AND 2099", name=op.f("ck_calendar_years_year_range")),
        sa.ForeignKeyConstraint(
            ["entered_by_id"],
            ["users.id"],
            name=op.f("fk_calendar_years_entered_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_years")),
    )
    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=20), nullable=True),
        sa.CheckConstraint(
            "extract(year FROM day) = year", name=op.f("ck_calendar_days_day_in_year")
        ),
        sa.CheckConstraint(
            "length(name) BETWEEN 1 AND 20", name=op.f("ck_calendar_days_name_length")
        ),
        sa.ForeignKeyConstraint(
            ["year"],
            ["calendar_years.year"],
            name=op.f("fk_calendar_days_year_calendar_years"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_days")),
    )
    op.create_index(op.f("ix_calendar_days_year"), "calendar_days", ["year"], unique=False)


def downgrade() -> None:
    op.drop_table("calendar_days")  # its index goes with it
    op.drop_table("calendar_years")
