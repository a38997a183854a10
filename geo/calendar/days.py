"""Which days this process counts as working days, and why.

A day of year Y is, in this order of precedence:

1. as an administrator entered it from Y's State Council notice (调休: a weekend day worked,
   a weekday off), when one was entered (:mod:`geo.calendar.service` loads them);
2. as ``chinese_calendar`` has it, when the package ships Y's notice (2004-2026 in 1.11);
3. otherwise off on the statutory holidays of :mod:`geo.calendar.holidays` and on Saturdays
   and Sundays, worked on other days.

Y is *confirmed* in the first two cases. An unconfirmed year's calendar is the law and the
week only (no 调休, no 补假 for a holiday on a weekend: the notice says which day), so the
deadlines falling in it are provisional: they may move when the notice is entered.

The notices live in this module (one registry per process): :func:`install` replaces them
all at once and empties the per-year index that :mod:`geo.cases.worktime` counts on, so a
deadline costs the same as before; only the first deadline in a year after a change builds
that year's index again (under a millisecond; 10 ms for a year chinese_calendar ships).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import Final

import chinese_calendar
from chinese_calendar.constants import Holiday
from chinese_calendar.constants import holidays as _package_holidays

from geo.calendar import holidays as law

__all__ = [
    "PACKAGE_YEARS",
    "Day",
    "NoticeDay",
    "Source",
    "day",
    "days_between",
    "install",
    "is_confirmed",
    "is_working",
    "notices",
    "source",
    "workday_ordinals",
    "workday_set",
]

#: The years whose notices the installed chinese_calendar ships.
PACKAGE_YEARS: Final = range(min(_package_holidays).year, max(_package_holidays).year + 1)

#: chinese_calendar's English holiday names in ours (the law's Chinese names).
_PACKAGE_NAMES: Final = {
    Holiday.new_years_day.value: law.NEW_YEAR,
    Holiday.spring_festival.value: law.SPRING_FESTIVAL,
    Holiday.tomb_sweeping_day.value: law.QINGMING,
    Holiday.labour_day.value: law.LABOUR_DAY,
    Holiday.dragon_boat_festival.value: law.DRAGON_BOAT,
    Holiday.mid_autumn_festival.value: law.MID_AUTUMN,
    Holiday.national_day.value: law.NATIONAL_DAY,
}


class Source(StrEnum):
    """Where a year's 调休 come from."""

    ADMINISTRATOR = "administrator"  # entered from the notice (calendar_days)
    PACKAGE = "package"  # shipped by chinese_calendar
    NONE = "none"  # not known yet: the law and the week only (provisional)


@dataclass(frozen=True, slots=True)
class NoticeDay:
    """One day of a State Council notice: worked or not, and the holiday it belongs to."""

    day: date
    working: bool
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Day:
    """A day of the calendar, as the API shows it."""

    date: date
    working: bool
    #: The holiday the day is off for, or made up for (调休上班); None on ordinary days.
    holiday: str | None
    #: Set by the notice, not by the law or the week: a weekend day worked, or a weekday off
    #: that is not itself a statutory holiday (调休 and 补假).
    adjusted: bool
    #: The year's notice is known (Source ADMINISTRATOR or PACKAGE).
    confirmed: bool


_notices: Mapping[int, Mapping[date, NoticeDay]] = MappingProxyType({})


def install(entered: Mapping[int, Iterable[NoticeDay]]) -> None:
    """Replaces every administrator-entered notice (year -> its days) and drops the per-year
    indexes built on the previous ones."""
    global _notices
    by_year = {year: list(listed) for year, listed in entered.items()}
    if not all(isinstance(d, NoticeDay) for listed in by_year.values() for d in listed):
        raise TypeError("a notice is an iterable of NoticeDay")
    _notices = MappingProxyType({
        year: MappingProxyType({d.day: d for d in sorted(listed, key=lambda d: d.day)})
        for year, listed in by_year.items()
    })  # fmt: skip
    workday_ordinals.cache_clear()
    workday_set.cache_clear()


def notices() -> Mapping[int, Mapping[date, NoticeDay]]:
    """The administrator-entered notices in force in this process, by year."""
    return _notices


def source(year: int, entered: Mapping[int, object] | None = None) -> Source:
    """Where ``year``'s 调休 come from (with ``entered`` notices, or those installed)."""
    if year in (_notices if entered is None else entered):
        return Source.ADMINISTRATOR
    if year in PACKAGE_YEARS:
        return Source.PACKAGE
    return Source.NONE


def is_confirmed(year: int) -> bool:
    """True when ``year``'s State Council notice is known to this process."""
    return source(year) is not Source.NONE


def day(d: date, entered: Mapping[int, Mapping[date, NoticeDay]] | None = None) -> Day:
    """What the calendar says of ``d``, with ``entered`` notices (default: those installed)."""
    entered = _notices if entered is None else entered
    statutory = law.holiday_name(d)
    working = is_working(d, entered)
    name = statutory
    match source(d.year, entered):
        case Source.ADMINISTRATOR if name is None:
            notice = entered[d.year].get(d)
            name = notice.name if notice else None
        case Source.PACKAGE if name is None:
            _, package_name = chinese_calendar.get_holiday_detail(d)
            name = _PACKAGE_NAMES.get(package_name, package_name)
    adjusted = working == (d.weekday() >= 5) and statutory is None
    confirmed = source(d.year, entered) is not Source.NONE
    return Day(d, working, name, adjusted, confirmed)


def is_working(d: date, entered: Mapping[int, Mapping[date, NoticeDay]] | None = None) -> bool:
    """Whether ``d`` is worked, with ``entered`` notices (default: those installed)."""
    entered = _notices if entered is None else entered
    match source(d.year, entered):
        case Source.ADMINISTRATOR if (notice := entered[d.year].get(d)) is not None:
            return notice.working
        case Source.PACKAGE:
            return chinese_calendar.is_workday(d)
    return d.weekday() < 5 and law.holiday_name(d) is None


def days_between(first: date, last: date) -> list[Day]:
    """Every day from ``first`` to ``last``, both included."""
    return [day(first + timedelta(days=i)) for i in range((last - first).days + 1)]


# The index worktime counts on: a year's working days as sorted ordinals (bisect) and as a
# set (membership). chinese_calendar checks every call against all its data (~15 µs), so
# each year is asked once; install() empties both.
@cache
def workday_ordinals(year: int) -> tuple[int, ...]:
    """The ordinals of ``year``'s working days, in order."""
    first = date(year, 1, 1)
    days = (first + timedelta(days=i) for i in range((date(year, 12, 31) - first).days + 1))
    return tuple(d.toordinal() for d in days if is_working(d))


@cache
def workday_set(year: int) -> frozenset[int]:
    """The ordinals of ``year``'s working days."""
    return frozenset(workday_ordinals(year))
