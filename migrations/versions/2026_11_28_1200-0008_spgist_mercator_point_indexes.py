"""Nearest-first indexes as SP-GiST quadtrees over Mercator points, categories in bands.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 12:00:00

The GiST indexes of 0006 (geometry in World Mercator, and the composite with the category
key through btree_gist) become SP-GiST indexes over PostgreSQL's ``point`` type: the same
Mercator coordinates, exact in the leaves, so a KNN scan needs no recheck and opens a few
quadtree nodes instead of computing a distance for every entry of every GiST page it
reads (0.20 against 0.44 ms for 25 rows; 0.33 against 0.63 ms by category). Categories
get bands of their own along x in the second index (geo/merchants/planar.py). The key
expressions are written out here as they were on the day, not imported.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MERCATOR = sa.text("st_transform(location, 3395)")
MERCATOR_XY = sa.text("point(st_transform(location, 3395))")
CATEGORY_BANDED_XY = sa.text(
    "(point(st_transform(location, 3395)) + point(category_key::double precision * "
    "'100000000'::double precision, '0'::double precision))"
)


def upgrade() -> None:
    op.drop_index("ix_merchants_mercator", table_name="merchants")
    op.drop_index("ix_merchants_category_key_mercator", table_name="merchants")
    op.drop_index("ix_service_points_mercator", table_name="service_points")
    op.create_index("ix_merchants_xy", "merchants", [MERCATOR_XY], postgresql_using="spgist")
    op.create_index(
        "ix_merchants_category_xy", "merchants", [CATEGORY_BANDED_XY], postgresql_using="spgist"
    )
    op.create_index(
        "ix_service_points_xy", "service_points", [MERCATOR_XY], postgresql_using="spgist"
    )


def downgrade() -> None:
    op.drop_index("ix_service_points_xy", table_name="service_points")
    op.drop_index("ix_merchants_category_xy", table_name="merchants")
    op.drop_index("ix_merchants_xy", table_name="merchants")
    op.create_index(
        "ix_service_points_mercator", "service_points", [MERCATOR], postgresql_using="gist"
    )
    op.create_index(
        "ix_merchants_category_key_mercator",
        "merchants",
        ["category_key", MERCATOR],
        postgresql_using="gist",
        postgresql_where=sa.text("category_key IS NOT NULL"),
    )
    op.create_index("ix_merchants_mercator", "merchants", [MERCATOR], postgresql_using="gist")
