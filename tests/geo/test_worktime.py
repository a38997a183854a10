"""Tests for geo.cases.worktime against dates computed by hand from the real 2025/2026 calendar.

The State Council's 2025 National Day + Mid-Autumn arrangement: 1-8 October off, Sunday
28 September and Saturday 11 October worked (调休). Spring Festival 2026: 15-23 February off,
Saturday 14 February and Saturday 28 February worked. Default hours: 09:00-12:00 and
13:30-17:30 (7 h a day). A brute-force minute-by-minute reference checks the fast code.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.calendar import days
from geo.calendar.days import NoticeDay
from geo.cases.categories import CASE_CATEGORIES, Stage
from geo.cases.worktime import (
    DEFAULT_SCHEDULE,
    SHANGHAI,
    WorkSchedule,
    add_working_days,
    add_working_hours,
    is_workday,
    working_hours_between,
)

CST = timezone(timedelta(hours=8))
PROPERTY = settings(max_examples=400, deadline=None, database=None)


@pytest.fixture(autouse=True)
def no_entered_notices() -> Iterator[None]:
    """Each test starts and ends with no administrator-entered notice in the process."""
    days.install({})
    yield
    days.install({})


def cst(*args: int) -> datetime:
    return datetime(*args, tzinfo=CST)  # type: ignore[misc]


# --- the calendar ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 9, 27), False),  # Saturday
        (date(2025, 9, 28), True),  # Sunday, make-up day
        (date(2025, 9, 30), True),  # Tuesday
        (date(2025, 10, 1), False),  # National Day
        (date(2025, 10, 6), False),  # Mid-Autumn, inside the block
        (date(2025, 10, 8), False),
        (date(2025, 10, 9), True),
        (date(2025, 10, 11), True),  # Saturday, make-up day
        (date(2025, 10, 12), False),  # Sunday
        (date(2026, 2, 14), True),  # Saturday, make-up day
        (date(2026, 2, 16), False),  # Spring Festival
        (date(2026, 2, 23), False),
        (date(2026, 2, 24), True),
        (date(2100, 1, 1), False),  # a Friday, 元旦: the law, beyond the notices known
        (date(2100, 1, 4), True),  # Monday (no 补假 is guessed: the notice would say)
        (date(2100, 1, 2), False),  # Saturday
        (date(2027, 1, 1), False),  # 元旦, a Friday; no notice known yet
        (date(2027, 2, 5), False),  # 除夕, a Friday
        (date(2027, 2, 8), False),  # 正月初三, a Monday
        (date(2027, 2, 9), True),  # Tuesday: worked until the notice says otherwise
    ],
)
def test_is_workday(day: date, working: bool) -> None:
    assert is_workday(day) is working


# --- add_working_hours, by hand --------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # Tue 30 Sep 16:00: 1.5 h that day; 1-8 Oct off; Thu 9 Oct 09:00-12:00 (3 h) and
        # 13:30-17:00 (3.5 h) make 8 h.
        (cst(2025, 9, 30, 16, 0), 8, cst(2025, 10, 9, 17, 0)),
        # Fri 26 Sep 16:00: 1.5 h; Sat off; Sun 28 Sep is worked: 3 h + 3.5 h.
        (cst(2025, 9, 26, 16, 0), 8, cst(2025, 9, 28, 17, 0)),
        # Fri 10 Oct 17:00: 0.5 h; Sat 11 Oct is worked: 09:00 + 0.5 h.
        (cst(2025, 10, 10, 17, 0), 1, cst(2025, 10, 11, 9, 30)),
        # Fri 17 Oct 17:00: 0.5 h; weekend skipped; Mon 20 Oct 09:30.
        (cst(2025, 10, 17, 17, 0), 1, cst(2025, 10, 20, 9, 30)),
        # Lunch break skipped: 11:00 + 2 h = 12:00, then 13:30 + 1 h.
        (cst(2025, 10, 13, 11, 0), 2, cst(2025, 10, 13, 14, 30)),
        # Ends exactly at the close: the same evening, not the next morning.
        (cst(2025, 10, 13, 9, 0), 7, cst(2025, 10, 13, 17, 30)),
        (cst(2025, 10, 13, 9, 0), 3, cst(2025, 10, 13, 12, 0)),
        # Before opening: the clock starts at 09:00.
        (cst(2025, 10, 13, 7, 0), 1, cst(2025, 10, 13, 10, 0)),
        # Reported during lunch: starts at 13:30.
        (cst(2025, 10, 13, 12, 45), 0.25, cst(2025, 10, 13, 13, 45)),
        # Reported on a holiday: starts on the first working morning.
        (cst(2025, 10, 3, 10, 0), 1, cst(2025, 10, 9, 10, 0)),
        # Fri 13 Feb 2026 17:00: 0.5 h; Sat 14 Feb worked: 09:00-11:30.
        (cst(2026, 2, 13, 17, 0), 3, cst(2026, 2, 14, 11, 30)),
        # Sat 14 Feb 2026 17:00: 0.5 h; 15-23 Feb off; Tue 24 Feb 09:30.
        (cst(2026, 2, 14, 17, 0), 1, cst(2026, 2, 24, 9, 30)),
        # Several whole days: Mon 13 Oct 09:00 + 21 h = close of Wed 15 Oct.
        (cst(2025, 10, 13, 9, 0), 21, cst(2025, 10, 15, 17, 30)),
        # Across a year end outside chinese_calendar's data: Thu 31 Dec 2099, then 元旦 (Fri)
        # and the weekend: Mon 4 Jan 2100.
        (cst(2099, 12, 31, 17, 0), 1, cst(2100, 1, 4, 9, 30)),
        # Zero hours: the start itself, even out of hours.
        (cst(2025, 10, 4, 3, 0), 0, cst(2025, 10, 4, 3, 0)),
    ],
)
def test_add_working_hours_by_hand(start: datetime, hours: float, due: datetime) -> None:
    result = add_working_hours(start, hours)
    assert result == due
    assert result.tzinfo is UTC
    assert add_working_hours(start.astimezone(UTC), hours) == due


def test_minutes_and_fractions() -> None:
    assert add_working_hours(cst(2025, 10, 13, 9, 0), 1 / 60) == cst(2025, 10, 13, 9, 1)
    assert add_working_hours(cst(2025, 10, 13, 17, 29), 0.5) == cst(2025, 10, 14, 9, 29)


# --- add_working_days, by hand ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (cst(2025, 9, 30, 16, 0), 1, cst(2025, 10, 9, 17, 30)),
        (cst(2025, 9, 30, 16, 0), 3, cst(2025, 10, 11, 17, 30)),  # make-up Saturday counts
        (cst(2025, 10, 13, 8, 0), 1, cst(2025, 10, 14, 17, 30)),  # the start day never counts
        (cst(2025, 10, 18, 10, 0), 1, cst(2025, 10, 20, 17, 30)),  # reported on a Saturday
        (cst(2025, 10, 17, 10, 0), 5, cst(2025, 10, 24, 17, 30)),
        (cst(2026, 2, 13, 10, 0), 2, cst(2026, 2, 24, 17, 30)),  # 14 Feb, then 24 Feb
        (cst(2025, 12, 30, 10, 0), 2, cst(2026, 1, 4, 17, 30)),  # 31 Dec, Sun 4 Jan (调休)
        (cst(2025, 10, 13, 10, 0), 0, cst(2025, 10, 13, 10, 0)),
    ],
)
def test_add_working_days_by_hand(start: datetime, days: int, due: datetime) -> None:
    assert add_working_days(start, days) == due


def test_new_year_2026_calendar_used_above() -> None:
    assert [is_workday(date(2026, 1, d)) for d in (1, 2, 3, 4)] == [False, False, False, True]


@pytest.mark.parametrize("days", [-1, 1.5, True])
def test_add_working_days_rejects_bad_counts(days: object) -> None:
    with pytest.raises(ValueError, match="non-negative integer"):
        add_working_days(cst(2025, 10, 13, 10, 0), days)  # type: ignore[arg-type]


# --- 2027, beyond chinese_calendar's data: the law's holidays -------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # Thu 31 Dec 2026 17:00: 0.5 h; Fri 1 Jan 2027 is 元旦, then the weekend: Mon 4 Jan.
        (cst(2026, 12, 31, 17, 0), 1, cst(2027, 1, 4, 9, 30)),
        # Thu 4 Feb 2027 16:30: 1 h; 除夕 Fri 5 Feb, 初一 and 初二 at the weekend, 初三 Mon
        # 8 Feb: Tue 9 Feb.
        (cst(2027, 2, 4, 16, 30), 3, cst(2027, 2, 9, 11, 0)),
    ],
)
def test_deadlines_skip_new_year_and_spring_festival_2027(
    start: datetime, hours: float, due: datetime
) -> None:
    assert add_working_hours(start, hours) == due


def test_category_deadlines_across_new_year_2027() -> None:
    # A one-working-day limit begun on 31 December ends on the first working day of 2027,
    # Monday 4 January, not on 元旦 (the default extension of issue 14's report).
    sanitation = CASE_CATEGORIES["sanitation"]
    assert sanitation.due(Stage.HANDLE, cst(2026, 12, 31, 10, 0)) == cst(2027, 1, 4, 17, 30)
    assert add_working_days(cst(2027, 2, 4, 10, 0), 1) == cst(2027, 2, 9, 17, 30)
    assert working_hours_between(cst(2027, 2, 4, 17, 30), cst(2027, 2, 9, 9, 0)) == 0


# --- an entered notice -------------------------------------------------------------------


def test_an_entered_notice_moves_days_and_deadlines() -> None:
    # A notice for 2027 as the State Council might write it: Spring Festival 5-11 February
    # off, Saturday 13 February worked.
    assert not days.is_confirmed(2027)
    assert add_working_hours(cst(2027, 2, 12, 17, 0), 1) == cst(2027, 2, 15, 9, 30)
    off = [NoticeDay(date(2027, 2, d), False, "春节") for d in (9, 10, 11)]
    days.install({2027: [*off, NoticeDay(date(2027, 2, 13), True, "春节")]})
    assert days.is_confirmed(2027)
    assert [is_workday(date(2027, 2, d)) for d in range(8, 15)] == [
        False,  # 初三, the law's
        False,  # bridging days, the notice's
        False,
        False,
        True,  # Friday
        True,  # Saturday, made up
        False,
    ]
    assert add_working_hours(cst(2027, 2, 12, 17, 0), 1) == cst(2027, 2, 13, 9, 30)
    assert add_working_days(cst(2027, 2, 4, 10, 0), 1) == cst(2027, 2, 12, 17, 30)
    shown = days.day(date(2027, 2, 13))
    assert (shown.working, shown.holiday, shown.adjusted, shown.confirmed) == (
        True,
        "春节",
        True,
        True,
    )
    days.install({})
    assert is_workday(date(2027, 2, 10))  # the index follows the registry
    assert not days.is_confirmed(2027)


# --- working_hours_between, by hand ----------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "hours"),
    [
        (cst(2025, 9, 30, 16, 0), cst(2025, 10, 9, 17, 0), 8.0),
        (cst(2025, 10, 13, 11, 0), cst(2025, 10, 13, 14, 30), 2.0),
        (cst(2025, 10, 13, 12, 10), cst(2025, 10, 13, 13, 20), 0.0),  # inside lunch
        (cst(2025, 10, 17, 17, 0), cst(2025, 10, 20, 9, 30), 1.0),  # over a weekend
        (cst(2025, 10, 13, 9, 0), cst(2025, 10, 20, 9, 0), 35.0),  # a whole week
        (cst(2025, 10, 1, 0, 0), cst(2025, 10, 9, 0, 0), 0.0),  # the holiday
        (cst(2025, 10, 9, 17, 0), cst(2025, 9, 30, 16, 0), -8.0),  # reversed
    ],
)
def test_working_hours_between_by_hand(a: datetime, b: datetime, hours: float) -> None:
    assert working_hours_between(a, b) == pytest.approx(hours, abs=1e-12)


# --- validation ------------------------------------------------------------------------------


def test_naive_datetimes_raise() -> None:
    naive = datetime(2025, 10, 13, 10, 0)  # noqa: DTZ001 - deliberately naive
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_hours(naive, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_days(naive, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        working_hours_between(naive, cst(2025, 10, 13, 10, 0))


@pytest.mark.parametrize("hours", [-0.5, float("nan"), float("inf")])
def test_bad_hours_raise(hours: float) -> None:
    with pytest.raises(ValueError, match="finite non-negative"):
        add_working_hours(cst(2025, 10, 13, 10, 0), hours)


@pytest.mark.parametrize(
    "periods",
    [
        (),
        ((time(9), time(12)), (time(11), time(17))),  # overlapping
        ((time(13), time(17)), (time(9), time(12))),  # out of order
        ((time(9), time(9)),),  # empty
    ],
)
def test_schedule_validation(periods: tuple[tuple[time, time], ...]) -> None:
    with pytest.raises(ValueError, match="period"):
        WorkSchedule(periods=periods)


def test_custom_schedule() -> None:
    summer = WorkSchedule(periods=((time(8, 30), time(12)), (time(15), time(18))))
    assert summer.day_us == 6.5 * 3_600_000_000
    assert add_working_hours(cst(2025, 10, 13, 11, 0), 2, summer) == cst(2025, 10, 13, 16, 0)
    assert add_working_days(cst(2025, 10, 13, 11, 0), 1, summer) == cst(2025, 10, 14, 18, 0)


# --- properties ------------------------------------------------------------------------------

# Known calendar years, any offset, microsecond resolution.
starts = st.datetimes(
    min_value=datetime(2024, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2026, 6, 30),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, CST, timezone(timedelta(hours=-5))]),
)
durations = st.integers(min_value=0, max_value=2_000 * 3_600_000_000).map(
    lambda us: us / 3_600_000_000
)


@PROPERTY
@given(start=starts, hours=durations)
def test_between_inverts_add(start: datetime, hours: float) -> None:
    due = add_working_hours(start, hours)
    assert due >= start
    assert working_hours_between(start, due) == pytest.approx(hours, abs=1e-9)


@PROPERTY
@given(a=starts, b=starts)
def test_add_inverts_between(a: datetime, b: datetime) -> None:
    a, b = min(a, b), max(a, b)
    hours = working_hours_between(a, b)
    due = add_working_hours(a, hours)
    assert due <= b  # the earliest such instant ...
    assert working_hours_between(due, b) == 0  # ... with no working time left before b


@PROPERTY
@given(start=starts, hours=durations.filter(lambda h: h > 0))
def test_deadline_falls_inside_working_time(start: datetime, hours: float) -> None:
    local = add_working_hours(start, hours).astimezone(SHANGHAI)
    assert is_workday(local.date())
    assert any(a < local.time() <= b for a, b in DEFAULT_SCHEDULE.periods)


def _brute_force(start: datetime, minutes: int) -> datetime:
    """Minute-by-minute reference: count working minutes until ``minutes`` have passed."""
    moment = start.astimezone(SHANGHAI)
    while minutes > 0:
        at = moment.time()
        if is_workday(moment.date()) and any(a <= at < b for a, b in DEFAULT_SCHEDULE.periods):
            minutes -= 1
        moment += timedelta(minutes=1)
    return moment


@settings(max_examples=150, deadline=None, database=None)
@given(
    start=st.datetimes(
        min_value=datetime(2025, 9, 20),  # noqa: DTZ001
        max_value=datetime(2026, 3, 10),  # noqa: DTZ001
        timezones=st.just(SHANGHAI),
    ).map(lambda d: d.replace(second=0, microsecond=0)),
    minutes=st.integers(min_value=1, max_value=30 * 60),
)
def test_matches_minute_by_minute_reference(start: datetime, minutes: int) -> None:
    assert add_working_hours(start, minutes / 60) == _brute_force(start, minutes)


def test_calendar_is_consulted_once_per_day_not_per_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Speed is a benchmark matter; what a test can pin down is the work done: 17,000
    # deadlines must not ask chinese_calendar (about 15 µs a call) once per step.
    import chinese_calendar

    calls = 0
    real = chinese_calendar.is_workday

    def counting(day):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return real(day)

    monkeypatch.setattr(chinese_calendar, "is_workday", counting)
    days.install({})  # empties the per-year index
    base = cst(2025, 1, 2, 9, 0)
    for i in range(17_000):
        start = base + timedelta(minutes=37 * i)
        add_working_hours(start, 2 + i % 40)
        add_working_days(start, 1 + i % 10)
    assert calls <= 2 * 366
    days.install({})
