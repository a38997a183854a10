"""Public case numbers: ``<year>-<serial>``, the serial restarting at 1 each year.

The year is the Asia/Shanghai year of the report. Serials come from one counter row per
year (``case_number_counters``), taken with ``INSERT ... ON CONFLICT DO UPDATE ...
RETURNING`` in the report's own transaction. That row stays locked until the report
commits, so reports of one year take their numbers one after another; a report that rolls
back gives its serial back with it. Committed numbers therefore have no gaps, which is what
a district that publishes 受理 counts by number needs.

Why not a sequence (what 0004 used): ``nextval`` never rolls back, and a sequence does not
restart on 1 January by itself. The price of the row is that lock: keep the work between
taking a number and committing short (geo.cases.reporting takes it last).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from geo.cases.worktime import SHANGHAI

SERIAL_DIGITS: Final = 6

_TAKE = text(
    """
    INSERT INTO case_number_counters AS c (year, last_serial) VALUES (:year, :n)
    ON CONFLICT (year) DO UPDATE SET last_serial = c.last_serial + EXCLUDED.last_serial
    RETURNING last_serial
    """
)
# Only the taker can still hold the row (its lock lasts until commit), so the counter is
# exactly where taking left it.
_GIVE_BACK = text(
    "UPDATE case_number_counters SET last_serial = last_serial - 1"
    " WHERE year = :year AND last_serial = :serial"
)


def number_year(reported_at: datetime) -> int:
    """The year a case reported at ``reported_at`` is numbered in (Asia/Shanghai)."""
    return reported_at.astimezone(SHANGHAI).year


def format_number(year: int, serial: int) -> str:
    """``2027-000001``."""
    return f"{year}-{serial:0{SERIAL_DIGITS}d}"


async def take_serials(session: AsyncSession, year: int, n: int = 1) -> int:
    """Reserves the next ``n`` serials of ``year`` in the caller's transaction (which then
    holds the year's counter until it ends); returns the first of them."""
    last = await session.scalar(_TAKE, {"year": year, "n": n})
    assert last is not None
    return int(last) - n + 1


async def take_number(session: AsyncSession, reported_at: datetime) -> str:
    """The next number of ``reported_at``'s year (see :func:`take_serials`)."""
    year = number_year(reported_at)
    return format_number(year, await take_serials(session, year))


async def give_back(session: AsyncSession, number: str) -> None:
    """Returns the number this transaction just took and did not use (nothing else may
    have been taken since: the transaction holds the year's counter)."""
    year, serial = (int(part) for part in number.split("-"))
    await session.execute(_GIVE_BACK, {"year": year, "serial": serial})
