"""Case numbers per year, anonymous reporters' follow codes, and the sweeper's overdue marks.

* ``case_number_counters``: the last serial given out per year (Asia/Shanghai), so that
  numbers restart each year (``2027-000001``). A report takes the next serial with one
  ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` in its own transaction: a rolled-back
  report gives its serial back, so committed numbers have no gaps (geo.cases.numbers). The
  counters start from the numbers the cases already have (the global sequence of 0004 left
  numbers like ``2026-001281``: the next 2026 case is the one after the highest of them),
  and ``case_number_seq`` goes.
* ``cases.follow_code_hash``: SHA-256 of the private code an anonymous reporter follows and
  evaluates the case with (geo.cases.follow); the code itself is never stored.
* ``cases.overdue_since``, ``overdue_stage``: the last stage deadline the case missed and
  which stage it was, recorded once per deadline by the sweeper (geo.cases.sweeper).
  ``overdue`` itself stays derived (``deadline < now``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Numbers are "<year>-<serial>"; anything else (there is nothing else) is left out.
_FROM_CASES = """
INSERT INTO case_number_counters (year, last_serial)
SELECT split_part(number, '-', 1)::int, max(split_part(number, '-', 2)::int)
FROM cases WHERE number ~ '^[0-9]{4}-[0-9]+$'
GROUP BY 1
"""


def upgrade() -> None:
    op.create_table(
        "case_number_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_serial", sa.Integer(), nullable=False),
        sa.CheckConstraint("last_serial >= 0", name=op.f("ck_case_number_counters_serial")),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_case_number_counters")),
    )
    op.execute(_FROM_CASES)
    op.execute("DROP SEQUENCE case_number_seq")
    op.add_column("cases", sa.Column("follow_code_hash", sa.String(length=64), nullable=True))
    op.add_column("cases", sa.Column("overdue_since", sa.DateTime(timezone=True), nullable=True))
    op.add_column("cases", sa.Column("overdue_stage", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("cases", "overdue_stage")
    op.drop_column("cases", "overdue_since")
    op.drop_column("cases", "follow_code_hash")
    # The global sequence comes back ahead of every serial given out, so that the numbers
    # it hands out (year of the report, global serial) cannot collide with existing ones.
    op.execute("CREATE SEQUENCE case_number_seq")
    op.execute(
        "SELECT setval('case_number_seq', max(last_serial)) FROM case_number_counters"
        " HAVING max(last_serial) > 0"
    )
    op.drop_table("case_number_counters")
