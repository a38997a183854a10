"""Deadlines counted in working time (工作时间), mainland-China calendar.

Calendar
--------
Which days are worked is :mod:`geo.calendar.days`'s answer: weekends and the statutory
holidays (computed from the law for any year, :mod:`geo.calendar.holidays`) are off, and
each year's State Council notice moves days (调休, e.g. Sunday 2025-09-28 and Saturday
2025-10-11 worked around National Day). The notice comes from ``chinese_calendar`` for the
years it ships (2004-2026 in 1.11) and from an administrator for later ones (``circle
calendar set``, ``setWorkingCalendarYear``). Until a year's notice is known its calendar is
the law and the week only, and a deadline falling in it is provisional
(:func:`geo.cases.deadlines.is_provisional`); entering the notice recomputes the open cases'
deadlines (:mod:`geo.calendar.service`).

Hours
-----
:data:`DEFAULT_SCHEDULE` is 09:00-12:00 and 13:30-17:30 Asia/Shanghai, 7 working hours a
day: a common year-round service-hall timetable. Zhengzhou's offices also switch between
summer and winter timetables (夏季/冬季作息); a district that wants that, or another
timetable, passes its own :class:`WorkSchedule`. China has had no daylight saving time
since 1991, so wall-clock arithmetic in the schedule's zone is exact.

Conventions
-----------
* Inputs must be timezone-aware (naive raises ValueError); results are aware UTC, like
  ``geo.clock.utcnow()``. Compare them with any aware datetime.
* A deadline is the *earliest* instant by which the working time has elapsed: 3 hours
  from 09:00 end at 12:00 that day, not at 13:30.
* Working days are counted from the day after the start, as the Civil Code (art. 201)
  counts periods in days: ``add_working_days`` ends at the close of the Nth working day
  after the start's local date.
* Arithmetic is in integer microseconds and goes day by day through a per-year index of
  working days (bisect), so a deadline costs a few microseconds however far away it is.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from typing import Final
from zoneinfo import ZoneInfo

from geo.calendar.days import workday_ordinals, workday_set

__all__ = [
    "DEFAULT_SCHEDULE",
    "SHANGHAI",
    "WorkSchedule",
    "add_working_days",
    "add_working_hours",
    "is_workday",
    "working_hours_between",
]

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
_US_PER_HOUR: Final = 3_600_000_000


def _time_us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


@dataclass(frozen=True)
class WorkSchedule:
    """Daily working periods, ``(start, end)`` wall-clock times in ``tz``, in order."""

    periods: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13, 30), time(17, 30)))
    tz: tzinfo = SHANGHAI
    # Derived in __post_init__: periods as microseconds since midnight, and their total.
    spans: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)
    day_us: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("a work schedule needs at least one period")
        if any(t.tzinfo is not None for period in self.periods for t in period):
            raise ValueError("schedule period times are wall-clock times without tzinfo")
        spans = tuple((_time_us(start), _time_us(end)) for start, end in self.periods)
        if any(a >= b for a, b in pairwise(bound for span in spans for bound in span)):
            raise ValueError("schedule periods must be non-empty, ordered and disjoint")
        object.__setattr__(self, "spans", spans)
        object.__setattr__(self, "day_us", sum(end - start for start, end in spans))


DEFAULT_SCHEDULE: Final = WorkSchedule()


def is_workday(day: date) -> bool:
    """True if ``day`` is a working day in mainland China (see the module docstring)."""
    return day.toordinal() in workday_set(day.year)


def add_working_hours(
    start: datetime, hours: float, schedule: WorkSchedule = DEFAULT_SCHEDULE
) -> datetime:
    """Earliest instant (UTC) by which ``hours`` of working time have passed since ``start``."""
    remaining = _hours_to_us(hours)
    local = _local(start, schedule)
    if remaining == 0:
        return start.astimezone(UTC)
    day = local.date()
    done = _worked_before(schedule, local) if is_workday(day) else schedule.day_us
    if remaining <= schedule.day_us - done:
        return _instant_at(schedule, day, done + remaining)
    remaining -= schedule.day_us - done
    whole_days, rest = divmod(remaining, schedule.day_us)
    if rest == 0:  # ends exactly at the close of a day: that day, not the next morning
        whole_days, rest = whole_days - 1, schedule.day_us
    return _instant_at(schedule, _nth_workday_after(day, whole_days + 1), rest)


def add_working_days(
    start: datetime, days: int, schedule: WorkSchedule = DEFAULT_SCHEDULE
) -> datetime:
    """Close of the ``days``-th working day after ``start``'s local date (UTC); 0 → start."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise ValueError(f"days must be a non-negative integer, got {days!r}")
    local = _local(start, schedule)
    if days == 0:
        return start.astimezone(UTC)
    return _instant_at(schedule, _nth_workday_after(local.date(), days), schedule.day_us)


def working_hours_between(
    a: datetime, b: datetime, schedule: WorkSchedule = DEFAULT_SCHEDULE
) -> float:
    """Working hours in [a, b); negative when b is before a (antisymmetric)."""
    la, lb = _local(a, schedule), _local(b, schedule)
    if lb < la:
        return -working_hours_between(b, a, schedule)
    da, db = la.date(), lb.date()
    before_a = _worked_before(schedule, la) if is_workday(da) else 0
    before_b = _worked_before(schedule, lb) if is_workday(db) else 0
    if da == db:
        return (before_b - before_a) / _US_PER_HOUR
    first = schedule.day_us - before_a if is_workday(da) else 0
    middle = _workdays_strictly_between(da, db) * schedule.day_us
    return (first + middle + before_b) / _US_PER_HOUR


# --- helpers ---------------------------------------------------------------------------------


def _local(moment: datetime, schedule: WorkSchedule) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    return moment.astimezone(schedule.tz)


def _hours_to_us(hours: float) -> int:
    if not math.isfinite(hours) or hours < 0:
        raise ValueError(f"hours must be a finite non-negative number, got {hours!r}")
    return round(hours * _US_PER_HOUR)


def _worked_before(schedule: WorkSchedule, local: datetime) -> int:
    """Working microseconds of ``local``'s day before ``local``'s wall-clock time."""
    now = _time_us(local.time())
    return sum(max(0, min(now, end) - start) for start, end in schedule.spans)


def _instant_at(schedule: WorkSchedule, day: date, worked: int) -> datetime:
    """Earliest instant of ``day`` with ``worked`` (0 < worked <= day_us) working µs behind it."""
    for start, end in schedule.spans:
        if worked <= end - start:
            midnight = datetime.combine(day, time(0), tzinfo=schedule.tz)
            return (midnight + timedelta(microseconds=start + worked)).astimezone(UTC)
        worked -= end - start
    raise AssertionError("worked exceeds the working day")  # callers guarantee the bound


def _nth_workday_after(day: date, n: int) -> date:
    """The n-th (n >= 1) working day strictly after ``day``."""
    year, ordinal = day.year, day.toordinal()
    while True:
        ordinals = workday_ordinals(year)
        index = bisect_right(ordinals, ordinal) + n - 1
        if index < len(ordinals):
            return date.fromordinal(ordinals[index])
        n = index - len(ordinals) + 1
        year += 1


def _workdays_strictly_between(a: date, b: date) -> int:
    """Number of working days d with a < d < b."""
    count = 0
    for year in range(a.year, b.year + 1):
        ordinals = workday_ordinals(year)
        count += bisect_left(ordinals, b.toordinal()) - bisect_right(ordinals, a.toordinal())
    return count
