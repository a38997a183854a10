"""Statutory holidays (geo.calendar.holidays) against dates known independently of our code.

The 2027 and 2028 festival dates below are written out by hand, as almanacs print them, not
computed: 2027 春节 6 Feb (除夕 5 Feb), 清明 5 Apr, 端午 9 Jun, 中秋 15 Sep; 2028 春节
26 Jan (除夕 25 Jan), 清明 4 Apr, 端午 28 May, 中秋 3 Oct (on National Day's third day).
chinesecalendar ships the State Council's notices for 2004-2026, an independent record of
which days were off: every statutory day we compute for those years must be one.
"""

from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest
from lunardate import LunarDate

from geo.calendar import days
from geo.calendar.holidays import (
    LUNAR_YEARS,
    law_for,
    lunar_new_year,
    qingming,
    solar_longitude_reached,
    statutory_holidays,
)
from geo.cases.worktime import is_workday

D = date

EXPECTED_2027 = {
    D(2027, 1, 1): "元旦",
    D(2027, 2, 5): "春节",  # 除夕
    D(2027, 2, 6): "春节",  # 正月初一
    D(2027, 2, 7): "春节",
    D(2027, 2, 8): "春节",
    D(2027, 4, 5): "清明节",
    D(2027, 5, 1): "劳动节",
    D(2027, 5, 2): "劳动节",
    D(2027, 6, 9): "端午节",
    D(2027, 9, 15): "中秋节",
    D(2027, 10, 1): "国庆节",
    D(2027, 10, 2): "国庆节",
    D(2027, 10, 3): "国庆节",
}

EXPECTED_2028 = {
    D(2028, 1, 1): "元旦",
    D(2028, 1, 25): "春节",  # 除夕
    D(2028, 1, 26): "春节",  # 正月初一
    D(2028, 1, 27): "春节",
    D(2028, 1, 28): "春节",
    D(2028, 4, 4): "清明节",
    D(2028, 5, 1): "劳动节",
    D(2028, 5, 2): "劳动节",
    D(2028, 5, 28): "端午节",
    D(2028, 10, 1): "国庆节",
    D(2028, 10, 2): "国庆节",
    D(2028, 10, 3): "中秋节、国庆节",
}


@pytest.fixture(autouse=True)
def no_entered_notices() -> None:
    days.install({})  # whatever another test left: the law, the week and the package only


@pytest.mark.parametrize(("year", "expected"), [(2027, EXPECTED_2027), (2028, EXPECTED_2028)])
def test_statutory_holidays_of_2027_and_2028(year: int, expected: dict[date, str]) -> None:
    assert dict(statutory_holidays(year)) == expected


def test_every_2027_weekday_holiday_is_a_non_working_day() -> None:
    weekdays = [d for d in EXPECTED_2027 if d.weekday() < 5]
    assert weekdays == [
        D(2027, 1, 1),
        D(2027, 2, 5),
        D(2027, 2, 8),
        D(2027, 4, 5),
        D(2027, 6, 9),
        D(2027, 9, 15),
        D(2027, 10, 1),
    ]
    assert [d for d in weekdays if is_workday(d)] == []
    # ... and the weekdays around them are still worked until the notice says otherwise.
    assert all(is_workday(d) for d in (D(2026, 12, 31), D(2027, 2, 4), D(2027, 2, 9)))


@pytest.mark.parametrize(
    ("year", "day"),
    [(2024, 4), (2025, 4), (2026, 5), (2027, 5), (2028, 4), (2029, 4), (2030, 5)],
)
def test_qingming_known_dates(year: int, day: int) -> None:
    assert qingming(year) == D(year, 4, day)


def test_qingming_agrees_with_chinesecalendars_table_every_year() -> None:
    # chinesecalendar derives the solar terms from the 寿星 formula [Y*D+C]-L with its own
    # corrections: a different method from ours (the Sun's apparent longitude).
    differ = []
    for year in range(1901, 2100):
        terms = chinese_calendar.get_solar_terms(D(year, 4, 1), D(year, 4, 30))
        theirs = next(day for day, name in terms if name == "清明")
        if qingming(year) != theirs:
            differ.append((year, qingming(year), theirs))
    assert differ == []


def test_solar_longitude_instants() -> None:
    # The March equinox (longitude 0°) of 2025: 20 March 17:01 Beijing time (09:01 UTC).
    equinox = solar_longitude_reached(0.0, datetime(2025, 3, 20, tzinfo=UTC))
    assert abs(equinox - datetime(2025, 3, 20, 9, 1, tzinfo=UTC)) < timedelta(minutes=15)
    assert equinox.utcoffset() == timedelta(hours=8)


def test_chinesecalendar_has_every_statutory_day_off_2004_2026() -> None:
    # Each year under the law then in force (2004-2007: 1999 text, 2008-2013: 2007, ...).
    worked = [
        (day, name)
        for year in days.PACKAGE_YEARS
        for day, name in statutory_holidays(year).items()
        if chinese_calendar.is_workday(day)
    ]
    assert worked == []


@pytest.mark.parametrize("year", [2025, 2026])
def test_chinesecalendar_names_every_statutory_day_alike(year: int) -> None:
    ours = statutory_holidays(year)
    assert len(ours) == 13  # 1 + 4 + 1 + 2 + 1 + 1 + 3
    for day, name in ours.items():
        off, theirs = chinese_calendar.get_holiday_detail(day)
        assert off, day
        assert days.day(day).holiday == name
        assert name.startswith(chinese_calendar.Holiday(theirs).chinese), (day, name, theirs)


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_packages_other_days_off_and_on_are_adjusted(year: int) -> None:
    first = D(year, 1, 1)
    for day in (first + timedelta(days=i) for i in range(365)):
        shown = days.day(day)
        assert shown.working is chinese_calendar.is_workday(day)
        assert shown.confirmed
        moved = shown.working is (day.weekday() >= 5)
        assert shown.adjusted is (moved and day not in statutory_holidays(year)), day


def test_chuxi_is_the_last_day_of_the_twelfth_month() -> None:
    for year in range(1902, 2100):
        new_year = lunar_new_year(year)
        assert new_year is not None
        eve = LunarDate.from_solar_date(*(new_year - timedelta(days=1)).timetuple()[:3])
        assert (eve.month, eve.is_leap_month) == (12, False)
        assert eve.day in (29, 30)
        if law_for(year).since == 2025:
            assert statutory_holidays(year)[new_year - timedelta(days=1)] == "春节"


def test_lunar_festivals_are_their_lunar_dates() -> None:
    for year in range(2025, 2100):
        named = {name: day for day, name in statutory_holidays(year).items()}
        for name, (month, day) in {"端午节": (5, 5), "中秋节": (8, 15)}.items():
            found = next(d for n, d in named.items() if name in n)
            lunar = LunarDate.from_solar_date(found.year, found.month, found.day)
            assert (lunar.year, lunar.month, lunar.day, lunar.is_leap_month) == (
                year,
                month,
                day,
                False,
            )


def test_earlier_laws() -> None:
    assert law_for(2024).revision == "2013 revision"
    spring_2024 = [d for d, n in statutory_holidays(2024).items() if n == "春节"]
    assert spring_2024 == [D(2024, 2, 10), D(2024, 2, 11), D(2024, 2, 12)]  # no 除夕
    spring_2010 = [d for d, n in statutory_holidays(2010).items() if n == "春节"]
    assert spring_2010 == [D(2010, 2, 13), D(2010, 2, 14), D(2010, 2, 15)]  # 除夕 to 初二
    assert "清明节" not in statutory_holidays(2005).values()
    assert [d for d, n in statutory_holidays(2005).items() if n == "劳动节"] == [
        D(2005, 5, 1),
        D(2005, 5, 2),
        D(2005, 5, 3),
    ]


def test_a_day_of_two_holidays_is_named_after_both() -> None:
    assert statutory_holidays(2020)[D(2020, 10, 1)] == "中秋节、国庆节"


def test_years_beyond_the_lunar_tables_keep_the_other_holidays() -> None:
    assert 2100 not in LUNAR_YEARS
    assert set(statutory_holidays(2100).values()) == {"元旦", "清明节", "劳动节", "国庆节"}
    assert not is_workday(D(2100, 1, 1))  # a Friday, 元旦
