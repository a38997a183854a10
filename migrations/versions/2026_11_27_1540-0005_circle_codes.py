"""Circle codes (一码通): a place printed as a QR code that opens its service circle.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 15:40:00

Codes are looked up by their text only (the unique constraint's index); the centre needs no
spatial index, since nobody searches codes by place.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "circle_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "center",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "code ~ '^[A-Za-z0-9_-]{4,32}$'", name=op.f("ck_circle_codes_code_format")
        ),
        sa.CheckConstraint(
            "length(name) BETWEEN 1 AND 200", name=op.f("ck_circle_codes_name_length")
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"],
            ["grids.id"],
            name=op.f("fk_circle_codes_grid_id_grids"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circle_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_circle_codes_code")),
    )
    op.create_index(op.f("ix_circle_codes_grid_id"), "circle_codes", ["grid_id"], unique=False)


def downgrade() -> None:
    op.drop_table("circle_codes")  # its indexes go with it
