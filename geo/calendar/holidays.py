"""Statutory public holidays of mainland China for any year, computed from the law.

The law
-------
全国年节及纪念日放假办法, as revised in November 2024 and in force since 1 January 2025,
lists the holidays of all citizens (全体公民放假的节日):

========  ======  ==========================================
元旦       1 day   1 January
春节       4 days  农历除夕, 正月初一, 初二, 初三
清明节     1 day   the day of the 清明 solar term
劳动节     2 days  1 and 2 May
端午节     1 day   农历五月初五
中秋节     1 day   农历八月十五
国庆节     3 days  1 to 3 October
========  ======  ==========================================

Earlier versions apply to earlier years (:data:`LAWS`): the 2013 revision (2014-2024:
春节 初一 to 初三, 劳动节 1 day), the 2007 one (2008-2013: 春节 除夕 to 初二, 清明, 端午
and 中秋 added) and the 1999 one (2000-2007, also used for any earlier year: 春节 初一 to
初三, 劳动节 3 days). Holidays of part of the population (妇女节, 青年节, 儿童节, 建军节)
close no office and are left out.

What the law leaves to each year's State Council notice is *not* here: the make-up working
days and bridging days of 调休, and which working day is given off (补假) when a holiday of
all citizens falls on a Saturday or Sunday. :mod:`geo.calendar.days` adds them.

Lunar dates
-----------
除夕, 春节, 端午 and 中秋 come from the ``lunardate`` package, whose tables cover the lunar
years 1900-2099; 除夕 is the day before 正月初一 (the last day of the twelfth month, its 29th
or 30th). For years outside :data:`LUNAR_YEARS` the lunar festivals are unknown and left
out; the other holidays are still given. Nothing in the case workflow reaches those years.

清明
----
The day, in Beijing time (UTC+8), on which the Sun's apparent geocentric longitude reaches
15°. :func:`solar_longitude_reached` solves for that instant with the low-accuracy solar
theory of Meeus, *Astronomical Algorithms* (2nd ed., ch. 25: 0.01°, so a quarter of an
hour) and the Espenak-Meeus polynomials for ΔT = TT - UT. Checked against a full VSOP87
ephemeris (pyephem 4.2) for 1901-2200 when this was written: at most 13 minutes apart, the
same day every year to 2198. The tests compare every year 1901-2099 with chinesecalendar's
table of solar terms (an independent method) and known dates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from types import MappingProxyType
from typing import Final

from lunardate import LunarDate

__all__ = [
    "LAWS",
    "LUNAR_YEARS",
    "NAMES",
    "Law",
    "holiday_name",
    "law_for",
    "lunar_new_year",
    "qingming",
    "solar_longitude_reached",
    "statutory_holidays",
]

NEW_YEAR: Final = "元旦"
SPRING_FESTIVAL: Final = "春节"
QINGMING: Final = "清明节"
LABOUR_DAY: Final = "劳动节"
DRAGON_BOAT: Final = "端午节"
MID_AUTUMN: Final = "中秋节"
NATIONAL_DAY: Final = "国庆节"
#: The holidays' names, in the law's order.
NAMES: Final = (
    NEW_YEAR,
    SPRING_FESTIVAL,
    QINGMING,
    LABOUR_DAY,
    DRAGON_BOAT,
    MID_AUTUMN,
    NATIONAL_DAY,
)

#: Lunar years the lunardate tables cover, less 1900 (whose 除夕 falls in lunar 1899).
LUNAR_YEARS: Final = range(1901, 2100)

BEIJING: Final = timezone(timedelta(hours=8), "UTC+08:00")


@dataclass(frozen=True, slots=True)
class Law:
    """One version of the holiday schedule: what its holidays of all citizens are."""

    since: int  # first calendar year it governs
    revision: str
    spring_festival: tuple[int, ...]  # days relative to 正月初一 (-1: 除夕)
    labour_day: tuple[int, ...]  # days of May
    traditional: bool  # 清明, 端午 and 中秋 are holidays
    national_day: tuple[int, ...] = (1, 2, 3)  # days of October


#: The versions of 全国年节及纪念日放假办法, newest first.
LAWS: Final = (
    Law(2025, "2024 revision", (-1, 0, 1, 2), (1, 2), traditional=True),
    Law(2014, "2013 revision", (0, 1, 2), (1,), traditional=True),
    Law(2008, "2007 revision", (-1, 0, 1), (1,), traditional=True),
    Law(0, "1999 revision", (0, 1, 2), (1, 2, 3), traditional=False),
)


def law_for(year: int) -> Law:
    """The version of the law that governs ``year``."""
    return next(law for law in LAWS if year >= law.since)


def statutory_holidays(year: int) -> Mapping[date, str]:
    """The statutory holidays of ``year``, in date order, with their names.

    A day that is two holidays at once (中秋 on 1-3 October, as in 2020) is named after both,
    in the law's order: ``中秋节、国庆节``.
    """
    return _statutory_holidays(year)


def holiday_name(day: date) -> str | None:
    """The name of the statutory holiday on ``day``, or None."""
    return _statutory_holidays(day.year).get(day)


@cache
def _statutory_holidays(year: int) -> Mapping[date, str]:
    law = law_for(year)
    found: dict[date, list[str]] = {}

    def add(day: date | None, name: str) -> None:
        if day is not None and day.year == year:
            found.setdefault(day, []).append(name)

    add(date(year, 1, 1), NEW_YEAR)
    new_year = lunar_new_year(year)
    for offset in law.spring_festival:
        add(new_year + timedelta(days=offset) if new_year else None, SPRING_FESTIVAL)
    if law.traditional:
        add(qingming(year), QINGMING)
    for day in law.labour_day:
        add(date(year, 5, day), LABOUR_DAY)
    if law.traditional:
        add(_lunar(year, 5, 5), DRAGON_BOAT)
        add(_lunar(year, 8, 15), MID_AUTUMN)
    for day in law.national_day:
        add(date(year, 10, day), NATIONAL_DAY)
    names = {day: "、".join(sorted(these, key=NAMES.index)) for day, these in found.items()}
    return MappingProxyType(dict(sorted(names.items())))


def lunar_new_year(year: int) -> date | None:
    """正月初一 of the lunar year that begins in ``year``; None outside :data:`LUNAR_YEARS`."""
    return _lunar(year, 1, 1)


def _lunar(year: int, month: int, day: int) -> date | None:
    if year not in LUNAR_YEARS:
        return None
    # A leap month never precedes the first, fifth or eighth month of the same number.
    return LunarDate(year, month, day).to_solar_date()


# --- 清明 ----------------------------------------------------------------------------------

_J2000: Final = 2451545.0
_UNIX_EPOCH_JD: Final = 2440587.5
_TROPICAL_YEAR: Final = 365.2422


def qingming(year: int) -> date:
    """The day of the 清明 solar term in ``year`` (Beijing time)."""
    return solar_longitude_reached(15.0, datetime(year, 4, 4, tzinfo=UTC)).date()


def solar_longitude_reached(longitude: float, near: datetime) -> datetime:
    """The instant (aware, in Beijing time) within a few weeks of ``near`` (aware) at which the
    Sun's apparent geocentric longitude is ``longitude`` degrees."""
    jd = _UNIX_EPOCH_JD + near.timestamp() / 86_400
    jde = jd + _delta_t_seconds(near.year) / 86_400
    for _ in range(20):
        step = ((longitude - _apparent_solar_longitude(jde) + 180) % 360 - 180) / 360
        jde += step * _TROPICAL_YEAR
        if abs(step) < 1e-10:
            break
    jd = jde - _delta_t_seconds(near.year) / 86_400
    return datetime.fromtimestamp((jd - _UNIX_EPOCH_JD) * 86_400, BEIJING)


def _apparent_solar_longitude(jde: float) -> float:
    """Meeus (25.2)-(25.8) with the apparent-longitude correction: degrees, 0.01° accuracy."""
    t = (jde - _J2000) / 36_525
    mean_longitude = 280.46646 + 36_000.76983 * t + 0.0003032 * t * t
    anomaly = math.radians(357.52911 + 35_999.05029 * t - 0.0001537 * t * t)
    centre = (
        (1.914602 - 0.004817 * t - 0.000014 * t * t) * math.sin(anomaly)
        + (0.019993 - 0.000101 * t) * math.sin(2 * anomaly)
        + 0.000289 * math.sin(3 * anomaly)
    )
    node = math.radians(125.04 - 1_934.136 * t)  # nutation and aberration, below
    return (mean_longitude + centre - 0.00569 - 0.00478 * math.sin(node)) % 360


def _delta_t_seconds(year: int) -> float:
    """ΔT = TT - UT in seconds (Espenak and Meeus, 2006); about a minute today."""
    y = year + 0.5
    if 1900 <= y < 1920:
        t = y - 1900
        return -2.79 + 1.494119 * t - 0.0598939 * t**2 + 0.0061966 * t**3 - 0.000197 * t**4
    if 1920 <= y < 1941:
        t = y - 1920
        return 21.20 + 0.84493 * t - 0.076100 * t**2 + 0.0020936 * t**3
    if 1941 <= y < 1961:
        t = y - 1950
        return 29.07 + 0.407 * t - t**2 / 233 + t**3 / 2547
    if 1961 <= y < 1986:
        t = y - 1975
        return 45.45 + 1.067 * t - t**2 / 260 - t**3 / 718
    if 1986 <= y < 2005:
        t = y - 2000
        return (
            63.86 + 0.3345 * t - 0.060374 * t**2 + 0.0017275 * t**3 + 0.000651814 * t**4
        ) + 0.00002373599 * t**5
    if 2005 <= y < 2050:
        t = y - 2000
        return 62.92 + 0.32217 * t + 0.005589 * t**2
    if 2050 <= y < 2150:
        return -20 + 32 * ((y - 1820) / 100) ** 2 - 0.5628 * (2150 - y)
    return -20 + 32 * ((y - 1820) / 100) ** 2  # the long-term parabola
