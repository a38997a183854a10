"""Spatial indexes of merchants and service points on World Mercator.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 10:00:00

The nearest-first searches order by ``ST_Transform(location, 3395) <-> point``: Mercator is
conformal, so its planar order is almost the geodesic one and a search of 21 merchants
needs 22-23 candidates instead of 27 or more (see geo/merchants/nearest.py). The indexes on
plain degrees had no other user and are replaced, so a bulk import rebuilds as many
indexes as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MERCATOR = sa.text("st_transform(location, 3395)")


def upgrade() -> None:
    op.drop_index("ix_merchants_location", table_name="merchants")
    op.drop_index("ix_merchants_category_key_location", table_name="merchants")
    op.drop_index("ix_service_points_location", table_name="service_points")
    op.create_index("ix_merchants_mercator", "merchants", [MERCATOR], postgresql_using="gist")
    op.create_index(
        "ix_merchants_category_key_mercator",
        "merchants",
        ["category_key", MERCATOR],
        postgresql_using="gist",
        postgresql_where=sa.text("category_key IS NOT NULL"),
    )
    op.create_index(
        "ix_service_points_mercator", "service_points", [MERCATOR], postgresql_using="gist"
    )


def downgrade() -> None:
    op.drop_index("ix_service_points_mercator", table_name="service_points")
    op.drop_index("ix_merchants_category_key_mercator", table_name="merchants")
    op.drop_index("ix_merchants_mercator", table_name="merchants")
    op.create_index(
        "ix_service_points_location", "service_points", ["location"], postgresql_using="gist"
    )
    op.create_index(
        "ix_merchants_category_key_location",
        "merchants",
        ["category_key", "location"],
        postgresql_using="gist",
        postgresql_where=sa.text("category_key IS NOT NULL"),
    )
    op.create_index("ix_merchants_location", "merchants", ["location"], postgresql_using="gist")
