"""Merchants and service points.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 15:20:00

btree_gist lets the GiST index on merchants hold the category key next to the location, so
"nearest pharmacy" is one index scan however rare pharmacies are (see
geo/merchants/models.py for the measurements behind every index here). pg_trgm is not
used: it finds no trigram in a two-character Chinese query such as 超市; merchants keep
the bigrams of their name in a GIN-indexed array instead.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies (a migration never imports models that will change later). Append only:
# the position of a code is its category_key, stored in every row.
CATEGORY_KEYS = (
    "convenience_store",
    "fresh_supermarket",
    "breakfast_shop",
    "fresh_market",
    "pharmacy",
    "laundry",
    "hair_beauty",
    "post_express",
    "supermarket",
    "repair",
    "housekeeping",
    "photo_print",
    "restaurant",
    "cafe",
    "community_canteen",
    "fitness",
    "wellness",
    "clinic",
    "elderly_care",
    "child_care",
    "education",
    "bookstore",
    "culture_leisure",
    "pet_services",
)
SERVICE_POINT_KINDS = (
    "community_service_station",
    "party_mass_service_centre",
    "civilization_practice_station",
    "health_service_station",
    "elderly_care",
    "elderly_canteen",
    "child_care",
    "police_office",
    "convenience_service_point",
    "public_toilet",
    "reading_room",
    "sports_ground",
)
CATEGORY_KEY_SQL = (
    "(array_position('{" + ",".join(CATEGORY_KEYS) + "}'::text[], category::text))::smallint"
)


def _point() -> Geometry:
    return Geometry(
        geometry_type="POINT",
        srid=4326,
        dimension=2,
        spatial_index=False,
        from_text="ST_GeomFromEWKT",
        name="geometry",
        nullable=False,
    )


def _place_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    """Columns merchants and service points share, after their own kind/category."""
    return [
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("address", sa.String(length=300), server_default="", nullable=False),
        sa.Column("location", _point(), nullable=False),
        sa.Column("opening_hours", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("open_minutes", postgresql.INT4MULTIRANGE(), nullable=True),
    ]


def _tail_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("outside_coverage", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=True),
    ]


def _version_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    ]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "merchants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column(
            "category_key",
            sa.SmallInteger(),
            sa.Computed(CATEGORY_KEY_SQL, persisted=True),
            nullable=False,
        ),
        *_place_columns(),
        sa.Column("status", sa.String(length=24), server_default="OPEN", nullable=False),
        sa.Column("verified", sa.Boolean(), server_default="false", nullable=False),
        *_tail_columns(),
        sa.Column("name_grams", sa.ARRAY(sa.Text()), server_default="{}", nullable=False),
        *_version_columns(),
        sa.CheckConstraint(
            "status IN ('OPEN', 'TEMPORARILY_CLOSED', 'CLOSED')",
            name=op.f("ck_merchants_status"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_merchants_version")),
        sa.ForeignKeyConstraint(
            ["grid_id"],
            ["grids.id"],
            name=op.f("fk_merchants_grid_id_grids"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchants")),
    )
    op.create_index(
        "ix_merchants_location", "merchants", ["location"], unique=False, postgresql_using="gist"
    )
    op.create_index(
        "ix_merchants_category_key_location",
        "merchants",
        ["category_key", "location"],
        unique=False,
        postgresql_using="gist",
        # Always true; it keeps queries without a category (and their generic plans) off
        # this index.
        postgresql_where=sa.text("category_key IS NOT NULL"),
    )
    op.create_index(
        "ix_merchants_grid_id", "merchants", ["grid_id", "category_key", "id"], unique=False
    )
    op.create_index(
        "ix_merchants_name_grams", "merchants", ["name_grams"], unique=False, postgresql_using="gin"
    )

    kinds = ", ".join(f"'{kind}'" for kind in SERVICE_POINT_KINDS)
    op.create_table(
        "service_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        *_place_columns(),
        *_tail_columns(),
        *_version_columns(),
        sa.CheckConstraint(f"kind IN ({kinds})", name=op.f("ck_service_points_kind")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_service_points_version")),
        sa.ForeignKeyConstraint(
            ["grid_id"],
            ["grids.id"],
            name=op.f("fk_service_points_grid_id_grids"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_points")),
    )
    op.create_index(
        "ix_service_points_location",
        "service_points",
        ["location"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index(op.f("ix_service_points_grid_id"), "service_points", ["grid_id"], unique=False)


def downgrade() -> None:
    op.drop_table("service_points")  # its indexes go with it
    op.drop_table("merchants")
    op.execute("DROP EXTENSION IF EXISTS btree_gist")
