"""State Council notices entered by administrators: stored, loaded into each process, and
applied to the open cases' deadlines.

Several server processes
------------------------
Every process counts deadlines on its own copy of the notices (:mod:`geo.calendar.days`).
It loads them when it starts (api.web.app's lifespan calls :func:`load_calendar`), and
:func:`watch_calendar` then reads the table's signature (how many years, the latest
``entered_at``: one query on a table of a few rows) every :data:`POLL_SECONDS` and reloads
when it changed. The process that enters a notice reloads at once; the others, and every
server after ``circle calendar set``, within :data:`POLL_SECONDS`. In that window another
process still counts with the previous notice: a deadline it sets then and whose count
crosses a day the notice changed keeps the old count. Notices come out weeks before the
days they change, so this is rare; it is the price of not asking the database before every
deadline.

Entering a notice
-----------------
:func:`enter_notice` checks it (a year the installed chinesecalendar does not know, days of
that year, no statutory holiday made a working day), replaces the year's rows, installs it
in this process and recomputes the open cases' deadlines (:mod:`geo.cases.deadlines`), all
in the caller's transaction; notices are entered one at a time (an advisory lock).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from geo.calendar import days
from geo.calendar.days import NoticeDay
from geo.calendar.holidays import holiday_name
from geo.calendar.models import MAX_NAME_CHARS, CalendarDay, CalendarYear
from geo.cases import deadlines
from geo.errors import DomainError

log = logging.getLogger("circle.calendar")

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "POLL_SECONDS",
    "InvalidNotice",
    "NoticeEntered",
    "enter_notice",
    "load_calendar",
    "refresh_calendar",
    "watch_calendar",
]

#: How often a server process looks for notices entered elsewhere.
POLL_SECONDS: Final = 30.0
#: Notices can be entered for these years (the 2024 law governs from 2025; the lunar tables
#: end with 2099), less those chinesecalendar ships.
FIRST_YEAR: Final = 2025
LAST_YEAR: Final = 2099

MAX_REFERENCE_CHARS: Final = 200

#: Serialises notice entries (pg_advisory_xact_lock's key: "calendar" in ASCII).
_LOCK_KEY: Final = 0x63616C656E646172

Signature = tuple[int, datetime | None]

_loaded: Signature | None = None


class InvalidNotice(DomainError):
    """A notice that cannot be entered; ``argument`` names the offending part."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument


@dataclass(frozen=True, slots=True)
class NoticeEntered:
    year: int
    days: int  # days the notice lists
    changed: tuple[date, ...]  # days worked before and not now, or the reverse
    recomputed: int  # open cases whose deadlines moved


async def _signature(session: AsyncSession) -> Signature:
    row = (await session.execute(select(func.count(), func.max(CalendarYear.entered_at)))).one()
    return (row[0], row[1])


async def load_calendar(session: AsyncSession) -> int:
    """Installs the notices the database holds in this process; returns how many years."""
    global _loaded
    signature = await _signature(session)
    rows = (await session.execute(select(CalendarYear.year))).scalars().all()
    entered: dict[int, list[NoticeDay]] = {year: [] for year in rows}
    for row in (await session.execute(select(CalendarDay))).scalars():
        if row.year in entered:
            entered[row.year].append(NoticeDay(row.day, row.working, row.name))
    days.install(entered)
    _loaded = signature
    return len(entered)


async def refresh_calendar(session: AsyncSession) -> bool:
    """Reloads the notices when the table changed since this process loaded it."""
    if await _signature(session) == _loaded:
        return False
    await load_calendar(session)
    log.info("calendar reloaded: notices for %s", sorted(days.notices()) or "no year")
    return True


async def watch_calendar(
    sessionmaker: async_sessionmaker[AsyncSession], every: float = POLL_SECONDS
) -> None:
    """Runs until cancelled: :func:`refresh_calendar` every ``every`` seconds."""
    while True:
        await asyncio.sleep(every)
        try:
            async with sessionmaker() as session:
                await refresh_calendar(session)
        except Exception:  # a database hiccup must not end the watch: try again next time
            log.warning("calendar refresh failed", exc_info=True)


def check_notice(
    year: int, listed: Sequence[NoticeDay], reference: str | None = None
) -> list[NoticeDay]:
    """The notice's days, names trimmed, in date order; raises InvalidNotice."""
    if reference is not None and (len(reference) > MAX_REFERENCE_CHARS or "\x00" in reference):
        raise InvalidNotice("reference", f"at most {MAX_REFERENCE_CHARS} characters, no NUL")
    if len(listed) > 366:
        raise InvalidNotice("days", "a year has at most 366 days")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidNotice("year", f"notices are entered for {FIRST_YEAR}-{LAST_YEAR}")
    if year in days.PACKAGE_YEARS:
        raise InvalidNotice(
            "year",
            f"{year}'s notice comes with the chinesecalendar package (it ships "
            f"{days.PACKAGE_YEARS.start}-{days.PACKAGE_YEARS.stop - 1}); upgrade it instead",
        )
    seen: dict[date, NoticeDay] = {}
    for i, entry in enumerate(listed):
        where = f"days[{i}]"
        if entry.day.year != year:
            raise InvalidNotice(where, f"{entry.day} is not in {year}")
        if entry.day in seen:
            raise InvalidNotice(where, f"{entry.day} is listed twice")
        statutory = holiday_name(entry.day)
        if entry.working and statutory:
            raise InvalidNotice(
                where, f"{entry.day} is {statutory}, a statutory holiday: it cannot be worked"
            )
        name = (entry.name or "").strip() or None
        if name is not None and (
            len(name) > MAX_NAME_CHARS or not name.isprintable() or "\x00" in name
        ):
            raise InvalidNotice(
                where, f"a holiday's name has 1 to {MAX_NAME_CHARS} printable characters"
            )
        seen[entry.day] = NoticeDay(entry.day, entry.working, name)
    return [seen[d] for d in sorted(seen)]


async def enter_notice(
    session: AsyncSession,
    year: int,
    listed: Sequence[NoticeDay],
    *,
    entered_by: str,
    entered_by_id: int | None = None,
    reference: str | None = None,
) -> NoticeEntered:
    """Stores ``year``'s notice, installs it here and recomputes the open cases' deadlines.

    On any failure the process goes back to the notices it had; the caller's transaction
    is rolled back, and the caller should :func:`load_calendar` after its commit either way.
    """
    checked = check_notice(year, listed, reference)
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    # Read after the lock, so later than any notice committed before: the signature that
    # other processes watch (latest entered_at) moves with every entry.
    entered_at = await session.scalar(select(func.clock_timestamp()))
    await load_calendar(session)  # the notices the stored deadlines were counted with
    before = days.notices()
    after: Mapping[int, Mapping[date, NoticeDay]] = {
        **before,
        year: {d.day: d for d in checked},
    }
    candidates = sorted({*before.get(year, {}), *after[year]})
    changed = tuple(
        d for d in candidates if days.is_working(d, before) != days.is_working(d, after)
    )
    pending = await deadlines.measure(session, changed[0]) if changed else []

    row = await session.get(CalendarYear, year)
    if row is None:
        row = CalendarYear(year=year)
        session.add(row)
    row.reference = (reference or "").strip() or None
    row.entered_at, row.entered_by, row.entered_by_id = entered_at, entered_by, entered_by_id
    await session.execute(delete(CalendarDay).where(CalendarDay.year == year))
    await session.flush()
    session.add_all(
        CalendarDay(day=d.day, year=year, working=d.working, name=d.name) for d in checked
    )
    global _loaded
    days.install({y: entered.values() for y, entered in after.items()})
    _loaded = None  # not the database's until committed: the next refresh reloads
    try:
        recomputed = deadlines.reapply(pending)
        await session.flush()
    except BaseException:
        days.install({y: entered.values() for y, entered in before.items()})
        raise
    log.info(
        "calendar: %s notice entered by %s; %d days changed, %d open cases recomputed",
        year,
        entered_by,
        len(changed),
        recomputed,
    )
    return NoticeEntered(year, len(checked), changed, recomputed)
