"""A GIN index on cases.co_handlers: a unit's cases include those it co-handles.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 11:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_cases_co_handlers", "cases", ["co_handlers"], unique=False, postgresql_using="gin"
    )


def downgrade() -> None:
    op.drop_index("ix_cases_co_handlers", table_name="cases", postgresql_using="gin")
