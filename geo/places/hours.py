"""Weekly opening hours in Asia/Shanghai local time, including ranges past midnight.

Model
-----
:class:`OpeningHours` is a sorted tuple of :class:`Interval` ``(day, open_min, close_min)``:
``day`` 0 = Monday .. 6 = Sunday, ``open_min`` 0..1439 minutes after that day's midnight,
``close_min`` after ``open_min`` and at most 24 hours later, so up to 2879. A close past
1440 runs into the next day: ``Interval(5, 480, 1560)`` is Saturday 08:00 to Sunday 02:00,
and Sunday's past-midnight part falls on Monday. Ranges are half-open: open at 08:00, closed
at the closing minute. Two ranges of one day may touch but not overlap; ranges starting on
different days may overlap (then both count).

Text form (a subset of OpenStreetMap ``opening_hours``)
-------------------------------------------------------
``Mo-Fr 07:00-22:00; Sa,Su 08:00-02:00``, ``Mo-Su 06:30-09:30,17:00-21:00``, ``24/7``,
``Mo-Sa 08:00-20:00; Su off``, ``off``. Rules are separated by ``;``; days are ``Mo``..``Su``
with ranges (``Fr-Mo`` wraps) and commas; a rule without days means every day.

* A close before the open means past midnight (``22:00-02:00``); OSM's extended form
  ``22:00-26:00`` is accepted too. A close equal to the open (``09:00-09:00``) is an error:
  a whole day is ``00:00-24:00``.
* A day may appear in one rule only. OSM would let a later rule replace an earlier one,
  which reads ambiguously to people; we refuse it, so every string we accept means the same
  to OSM tools.
* Not supported: public holidays (``PH``), months, weeks, comments, fallback rules.
* Input is NFKC-normalised, so full-width ``：`` ``；`` ``，`` from Chinese keyboards work.

:func:`format_hours` writes the canonical text: days with identical ranges are grouped
(runs of three or more as ``Mo-Fr``, shorter ones as ``Sa,Su``), rules ordered by their
first day, closed days omitted, ``24/7`` for always open and ``off`` for never.

JSON storage (a JSONB column)
-----------------------------
``[{"day": 5, "open": "08:00", "close": "26:00"}, ...]``: the interval itself, with the close
written in OSM's extended hours (up to ``"47:59"``) instead of a "next day" flag. One
spelling per interval, the order sorts naturally, and no case needs a rule to decode.

Time zone
---------
:func:`is_open_at` needs an aware datetime and converts it to Asia/Shanghai (UTC+8 all year;
China has had no daylight saving time since 1991). A naive datetime raises ``ValueError``: it
is a programming error, since the caller must decide what zone a client's time is in.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import orjson

from geo.errors import DomainError

__all__ = [
    "ALWAYS_OPEN",
    "MINUTES_PER_WEEK",
    "TIMEZONE",
    "Interval",
    "InvalidOpeningHours",
    "OpeningHours",
    "format_hours",
    "from_json",
    "is_open_at",
    "minutes_of_week_ranges",
    "parse_hours",
    "to_json",
]

TIMEZONE = ZoneInfo("Asia/Shanghai")
MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
DAY_NAMES = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")

_RULE = re.compile(
    r"\s*(?:(?P<days>[A-Za-z]{2}(?:\s*[-,]\s*[A-Za-z]{2})*)\s+)?(?P<times>.*?)\s*", re.ASCII
)
_DAY_SPAN = re.compile(r"\s*(?P<first>[A-Za-z]{2})(?:\s*-\s*(?P<last>[A-Za-z]{2}))?\s*", re.ASCII)
_TIME_RANGE = re.compile(
    r"(?P<oh>\d{1,2}):(?P<om>\d{2})\s*-\s*(?P<ch>\d{1,2}):(?P<cm>\d{2})", re.ASCII
)
_JSON_TIME = re.compile(r"(?P<h>\d{2}):(?P<m>[0-5]\d)", re.ASCII)


class InvalidOpeningHours(DomainError):
    """Opening hours that cannot be parsed or do not describe a week."""

    def __init__(self, reason: str, *, text: str | None = None, position: int | None = None):
        where = "" if text is None else f" at position {position} of {text!r}"
        super().__init__(f"invalid opening hours{where}: {reason}")
        self.reason = reason
        self.text = text
        self.position = position


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """Open from ``open_min`` to ``close_min`` minutes after midnight starting ``day``."""

    day: int
    open_min: int
    close_min: int

    def __post_init__(self) -> None:
        if any(type(v) is not int for v in (self.day, self.open_min, self.close_min)):
            raise InvalidOpeningHours(f"{self} must hold whole numbers")
        if not 0 <= self.day <= 6:
            raise InvalidOpeningHours(f"day must be 0 (Monday) to 6 (Sunday), got {self.day}")
        if not 0 <= self.open_min < MINUTES_PER_DAY:
            raise InvalidOpeningHours(f"opening minute must be 0-1439, got {self.open_min}")
        if not self.open_min < self.close_min <= self.open_min + MINUTES_PER_DAY:
            raise InvalidOpeningHours(
                f"closing minute {self.close_min} must be after the opening minute "
                f"{self.open_min} and at most 24 hours later"
            )

    @property
    def week_range(self) -> tuple[int, int]:
        """Minutes since Monday 00:00; the end passes 10080 for Sunday past midnight."""
        start = self.day * MINUTES_PER_DAY
        return start + self.open_min, start + self.close_min


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """A week of opening ranges; intervals are kept sorted, same-day ones never overlap."""

    intervals: tuple[Interval, ...] = ()

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.intervals))
        for a, b in pairwise(ordered):
            if a.day == b.day and b.open_min < a.close_min:
                raise InvalidOpeningHours(f"{DAY_NAMES[a.day]} has overlapping ranges")
        object.__setattr__(self, "intervals", ordered)


ALWAYS_OPEN = OpeningHours(tuple(Interval(d, 0, MINUTES_PER_DAY) for d in range(7)))


def is_open_at(hours: OpeningHours, when: datetime) -> bool:
    """True if open at ``when`` (aware; naive raises ValueError), counting past-midnight ranges."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"is_open_at needs a timezone-aware datetime, got {when!r}")
    local = when.astimezone(TIMEZONE)
    minute = local.weekday() * MINUTES_PER_DAY + local.hour * 60 + local.minute
    # The second test catches Sunday ranges running past midnight into Monday.
    return any(
        start <= m < end
        for start, end in (i.week_range for i in hours.intervals)
        for m in (minute, minute + MINUTES_PER_WEEK)
    )


def minutes_of_week_ranges(hours: OpeningHours) -> list[tuple[int, int]]:
    """Sorted, disjoint half-open [start, end) minutes since Monday 00:00 Asia/Shanghai.

    A Sunday range past midnight is split at the week's end; touching ranges are merged, so
    ``24/7`` is ``[(0, 10080)]``. ``minute >= start AND minute < end`` tests a minute in SQL.
    """
    pieces: list[tuple[int, int]] = []
    for start, end in (i.week_range for i in hours.intervals):
        if end <= MINUTES_PER_WEEK:
            pieces.append((start, end))
        else:
            pieces += [(start, MINUTES_PER_WEEK), (0, end - MINUTES_PER_WEEK)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(pieces):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


# --- text form ----------------------------------------------------------------------------


def parse_hours(text: str) -> OpeningHours:
    """Parses the text form; raises InvalidOpeningHours naming the position and the reason."""
    source = unicodedata.normalize("NFKC", text)
    if source.strip() == "24/7":
        return ALWAYS_OPEN
    seen: set[int] = set()
    intervals: list[Interval] = []
    offset = 0
    for segment in source.split(";"):
        intervals += _parse_rule(source, segment, offset, seen)
        offset += len(segment) + 1
    return OpeningHours(tuple(intervals))


def format_hours(hours: OpeningHours) -> str:
    """Canonical text form; ``parse_hours(format_hours(h)) == h`` for every ``h``."""
    if hours == ALWAYS_OPEN:
        return "24/7"
    groups: dict[str, list[int]] = {}
    for day in range(7):
        times = ",".join(_format_range(i) for i in hours.intervals if i.day == day)
        if times:
            groups.setdefault(times, []).append(day)
    return "; ".join(f"{_format_days(days)} {times}" for times, days in groups.items()) or "off"


def _parse_rule(source: str, segment: str, offset: int, seen: set[int]) -> list[Interval]:
    if not segment.strip():
        reason = "empty rule; write e.g. 'Mo-Fr 08:00-20:00', or 'off' for always closed"
        raise InvalidOpeningHours(reason, text=source, position=offset)
    match = _RULE.fullmatch(segment)
    assert match is not None  # the pattern accepts any string
    times_at = offset + match.start("times")
    days, rule_at = list(range(7)), times_at  # no day selector means every day
    if match["days"] is not None:
        rule_at = offset + match.start("days")
        days = _parse_days(source, match["days"], rule_at)
    if repeated := sorted(seen.intersection(days)):
        names = ",".join(DAY_NAMES[d] for d in repeated)
        reason = f"{names} already in an earlier rule; give each day's ranges in one rule"
        raise InvalidOpeningHours(reason, text=source, position=rule_at)
    seen.update(days)
    if match["times"] == "off":
        return []
    ranges = _parse_times(source, match["times"], times_at)
    return [Interval(day, open_min, close_min) for day in days for open_min, close_min in ranges]


def _parse_days(source: str, text: str, position: int) -> list[int]:
    days: list[int] = []
    for part in re.finditer(r"[^,]+", text):
        run = _day_run(source, part[0], position + part.start())
        if set(run) & set(days):
            at = position + part.start()
            raise InvalidOpeningHours("a day is listed twice", text=source, position=at)
        days += run
    return days


def _day_run(source: str, token: str, at: int) -> list[int]:
    span = _DAY_SPAN.fullmatch(token)
    if span is None:
        raise InvalidOpeningHours(f"bad day range {token.strip()!r}", text=source, position=at)
    first = last = _day_index(source, span["first"], at + span.start("first"))
    if span["last"] is not None:
        last = _day_index(source, span["last"], at + span.start("last"))
    return [(first + k) % 7 for k in range((last - first) % 7 + 1)]


def _day_index(source: str, name: str, position: int) -> int:
    try:
        return DAY_NAMES.index(name.capitalize())
    except ValueError:
        reason = f"unknown day {name!r}; use {', '.join(DAY_NAMES)}"
        raise InvalidOpeningHours(reason, text=source, position=position) from None


def _parse_times(source: str, text: str, position: int) -> list[tuple[int, int]]:
    found: list[tuple[int, int, int]] = []
    for piece in text.split(","):
        at = position + len(piece) - len(piece.lstrip())
        if not piece.strip():
            raise InvalidOpeningHours("missing time range", text=source, position=at)
        found.append((*_parse_range(source, piece.strip(), at), at))
        position += len(piece) + 1
    found.sort()
    for (_, close_a, _), (open_b, _, at) in pairwise(found):
        if open_b < close_a:
            raise InvalidOpeningHours("overlaps the range before it", text=source, position=at)
    return [(open_min, close_min) for open_min, close_min, _ in found]


def _parse_range(source: str, token: str, at: int) -> tuple[int, int]:
    match = _TIME_RANGE.fullmatch(token)
    if match is None:
        reason = f"expected a time range like 08:00-20:00 or 'off', got {token!r}"
        raise InvalidOpeningHours(reason, text=source, position=at)
    open_h, open_m, close_h, close_m = (int(match[g]) for g in ("oh", "om", "ch", "cm"))
    open_min, close_min = open_h * 60 + open_m, close_h * 60 + close_m
    if open_h > 23 or open_m > 59:
        raise InvalidOpeningHours("opening time must be 00:00-23:59", text=source, position=at)
    close_at = at + match.start("ch")
    if close_m > 59 or close_min > 2 * MINUTES_PER_DAY:
        raise InvalidOpeningHours(
            "closing time must be 00:00-48:00", text=source, position=close_at
        )
    if close_min == open_min:
        reason = "opening and closing times are equal; a whole day is 00:00-24:00"
        raise InvalidOpeningHours(reason, text=source, position=close_at)
    if close_min < open_min:
        close_min += MINUTES_PER_DAY  # past midnight
    if close_min - open_min > MINUTES_PER_DAY:
        raise InvalidOpeningHours("a range lasts at most 24 hours", text=source, position=close_at)
    return open_min, close_min


def _format_days(days: list[int]) -> str:
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(
        f"{DAY_NAMES[r[0]]}-{DAY_NAMES[r[-1]]}"
        if len(r) >= 3
        else ",".join(DAY_NAMES[d] for d in r)
        for r in runs
    )


def _format_range(interval: Interval) -> str:
    close = interval.close_min
    # Past midnight is written wrapped (02:00), except a full 24 hours, which would read as
    # "09:00-09:00" and is written in extended form (09:00-33:00) instead.
    if close > MINUTES_PER_DAY and close - MINUTES_PER_DAY < interval.open_min:
        close -= MINUTES_PER_DAY
    return f"{_hhmm(interval.open_min)}-{_hhmm(close)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# --- JSON storage ---------------------------------------------------------------------------


def to_json(hours: OpeningHours) -> list[dict[str, int | str]]:
    """``[{"day": 5, "open": "08:00", "close": "26:00"}, ...]``: closes past midnight extended."""
    return [
        {"day": i.day, "open": _hhmm(i.open_min), "close": _hhmm(i.close_min)}
        for i in hours.intervals
    ]


def from_json(data: object) -> OpeningHours:
    """Inverse of :func:`to_json` (its value, or that value as JSON text); raises
    InvalidOpeningHours naming the bad entry."""
    if isinstance(data, str | bytes):
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise InvalidOpeningHours("the stored hours are not JSON") from None
    if not isinstance(data, list):
        raise InvalidOpeningHours(f"expected a list of intervals, got {type(data).__name__}")
    return OpeningHours(tuple(_interval_from_json(entry, n) for n, entry in enumerate(data)))


def _interval_from_json(entry: object, index: int) -> Interval:
    if not isinstance(entry, dict) or set(entry) != {"day", "open", "close"}:
        reason = f'entry {index} must be {{"day", "open", "close"}}, got {entry!r}'
        raise InvalidOpeningHours(reason)
    try:
        opens, closes = _json_minutes(entry["open"]), _json_minutes(entry["close"])
        return Interval(entry["day"], opens, closes)
    except InvalidOpeningHours as error:
        raise InvalidOpeningHours(f"entry {index}: {error.reason}") from None


def _json_minutes(value: object) -> int:
    match = _JSON_TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidOpeningHours(f'times are "HH:MM" strings, got {value!r}')
    return int(match["h"]) * 60 + int(match["m"])
