"""Tests for geo.places.hours: parsing, formatting, past midnight, time zone, JSON, ranges."""

import json
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import DomainError
from geo.places.hours import (
    ALWAYS_OPEN,
    MINUTES_PER_WEEK,
    TIMEZONE,
    Interval,
    InvalidOpeningHours,
    OpeningHours,
    format_hours,
    from_json,
    is_open_at,
    minutes_of_week_ranges,
    parse_hours,
    to_json,
)

PROPERTY = settings(database=None, max_examples=300, deadline=None)
MONDAY = datetime(2024, 6, 3, tzinfo=TIMEZONE)  # a Monday, 00:00 in Zhengzhou


def at(day: int, hh: int, mm: int = 0) -> datetime:
    """Asia/Shanghai local time on the given weekday of the week starting MONDAY."""
    return MONDAY + timedelta(days=day, hours=hh, minutes=mm)


# --- strategies ----------------------------------------------------------------------------


@st.composite
def day_ranges(draw: st.DrawFn) -> list[tuple[int, int]]:
    """Sorted, disjoint ranges for one day; the last may run past midnight."""
    if draw(st.integers(0, 9)) == 0:
        return [(0, 1440)]
    points = sorted(draw(st.lists(st.integers(0, 1439), unique=True, max_size=6)))
    pairs = list(zip(points[0::2], points[1::2], strict=False))
    if pairs and draw(st.booleans()):
        open_min, close_min = pairs[-1]
        pairs[-1] = (open_min, draw(st.integers(close_min, open_min + 1440)))
    return pairs


@st.composite
def opening_hours(draw: st.DrawFn) -> OpeningHours:
    """Days share a few templates, so grouping (Mo-Fr, Sa,Su) is exercised."""
    if draw(st.integers(0, 19)) == 0:
        return ALWAYS_OPEN
    templates = draw(st.lists(day_ranges(), min_size=1, max_size=3))
    intervals: list[Interval] = []
    for day in range(7):
        choice = draw(st.integers(-1, len(templates) - 1))  # -1: closed that day
        if choice >= 0:
            intervals += [Interval(day, o, c) for o, c in templates[choice]]
    return OpeningHours(tuple(intervals))


# --- parsing and formatting ----------------------------------------------------------------


def test_parses_the_weekday_weekend_example() -> None:
    hours = parse_hours("Mo-Fr 07:00-22:00; Sa,Su 08:00-02:00")
    weekdays = [Interval(d, 420, 1320) for d in range(5)]
    weekend = [Interval(5, 480, 1560), Interval(6, 480, 1560)]
    assert hours == OpeningHours(tuple(weekdays + weekend))


def test_parses_split_ranges() -> None:
    hours = parse_hours("Mo-Su 06:30-09:30,17:00-21:00")
    assert len(hours.intervals) == 14
    assert hours.intervals[:2] == (Interval(0, 390, 570), Interval(0, 1020, 1260))


@pytest.mark.parametrize(
    "text",
    [
        "Mo-Fr 07:00-22:00; Sa,Su 08:00-02:00",
        "Mo-Su 06:30-09:30,17:00-21:00",
        "24/7",
        "off",
        "Mo-Sa 08:00-20:00",
        "Mo,We,Fr 09:00-12:00; Tu,Th 14:00-18:00",
        "Mo-We,Fr-Su 10:00-22:00",
        "Su 23:00-01:00",
        "Mo 00:00-24:00",
        "Mo 09:00-08:00",
        "Sa 08:00-32:00",
        "Mo 08:00-12:00,12:00-14:00",
    ],
)
def test_canonical_texts_format_back_unchanged(text: str) -> None:
    assert format_hours(parse_hours(text)) == text


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("Mo-Sa 08:00-20:00; Su off", "Mo-Sa 08:00-20:00"),
        ("Sa,Su 08:00-02:00; Mo-Fr 07:00-22:00", "Mo-Fr 07:00-22:00; Sa,Su 08:00-02:00"),
        ("Mo,Tu,We 08:00-09:00", "Mo-We 08:00-09:00"),
        ("Sa-Su 08:00-09:00", "Sa,Su 08:00-09:00"),
        ("Fr-Mo 10:00-20:00", "Mo,Fr-Su 10:00-20:00"),  # day ranges may wrap
        ("08:00-20:00", "Mo-Su 08:00-20:00"),  # no days: every day
        ("Mo-Su 00:00-24:00", "24/7"),
        ("Mo 22:00-26:00", "Mo 22:00-02:00"),  # OSM extended hours
        ("Mo 22:00-00:00", "Mo 22:00-24:00"),
        ("Mo 7:05-9:00", "Mo 07:05-09:00"),
        ("  mo-fr  08:00 - 20:00 ;su 09:00-10:00 ", "Mo-Fr 08:00-20:00; Su 09:00-10:00"),
        ("Mo-Fr ０８：００-２０：００；Sa，Su 09:00-10:00", "Mo-Fr 08:00-20:00; Sa,Su 09:00-10:00"),
        ("Mo 14:00-18:00,08:00-12:00", "Mo 08:00-12:00,14:00-18:00"),
        ("Mo-Su off", "off"),
    ],
)
def test_other_spellings_format_canonically(text: str, canonical: str) -> None:
    assert format_hours(parse_hours(text)) == canonical


@PROPERTY
@given(opening_hours())
def test_parse_inverts_format(hours: OpeningHours) -> None:
    text = format_hours(hours)
    assert parse_hours(text) == hours
    assert format_hours(parse_hours(text)) == text


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("Mo 25:00-26:00", 3, "opening time must be 00:00-23:59"),
        ("Mo 24:00-26:00", 3, "opening time"),
        ("Mo 08:60-09:00", 3, "opening time"),
        ("Xx 08:00-09:00", 0, "unknown day 'Xx'"),
        ("Mo-Xx 08:00-09:00", 3, "unknown day 'Xx'"),
        ("Mo 09:00-09:00", 9, "equal"),
        ("Mo 00:00-00:00", 9, "00:00-24:00"),
        ("Mo 01:00-30:00", 9, "at most 24 hours"),
        ("Mo 08:00-49:00", 9, "closing time must be 00:00-48:00"),
        ("Mo 08:00-09:75", 9, "closing time"),
        ("Mo 08:00-12:00,11:00-13:00", 15, "overlaps"),
        ("Mo-Fr 08:00-12:00; Mo 14:00-18:00", 19, "Mo already in an earlier rule"),
        ("08:00-20:00; Su off", 13, "Su already"),
        ("Mo,Mo 08:00-09:00", 3, "listed twice"),
        ("Mo-Tu-We 08:00-09:00", 0, "bad day range"),
        ("Mo 08:00-12:00;", 15, "empty rule"),
        ("", 0, "empty rule"),
        ("Mo-Fr", 0, "expected a time range"),
        ("Mo 08:00", 3, "expected a time range"),
        ("Mo 8h-20h", 3, "expected a time range"),
        ("Mo 08:00-12:00,", 15, "missing time range"),
        ("Mo 08:00-12:00,,13:00-14:00", 15, "missing time range"),
        ("Mo ", 3, "missing time range"),
        ("PH off", 0, "unknown day 'PH'"),
        ("Mo 08:00-20:00 off", 3, "expected a time range"),
        ("24/7; Su off", 0, "expected a time range"),
    ],
)
def test_invalid_texts_name_position_and_reason(text: str, position: int, reason: str) -> None:
    with pytest.raises(InvalidOpeningHours) as caught:
        parse_hours(text)
    assert isinstance(caught.value, DomainError)
    assert reason in caught.value.reason
    assert caught.value.position == position
    assert f"at position {position} of {text!r}" in str(caught.value)


def test_close_before_open_means_past_midnight() -> None:
    assert parse_hours("Mo 09:00-08:00") == OpeningHours((Interval(0, 540, 1920),))


@PROPERTY
@given(st.text(alphabet="MoTuWeFrSaSu0123456789:-,; /offx", max_size=40))
def test_parse_refuses_garbage_only_with_invalid_opening_hours(text: str) -> None:
    try:
        hours = parse_hours(text)
    except InvalidOpeningHours:
        return
    assert parse_hours(format_hours(hours)) == hours


# --- model invariants ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [(7, 0, 60), (-1, 0, 60), (0, 1440, 1500), (0, -1, 60), (0, 60, 60), (0, 60, 30),
     (0, 60, 1501), (0, 0, 2880), (True, 0, 60), (0, 0.5, 60)],
)  # fmt: skip
def test_interval_refuses_impossible_fields(fields: tuple[int, int, int]) -> None:
    with pytest.raises(InvalidOpeningHours):
        Interval(*fields)


def test_interval_may_last_exactly_24_hours() -> None:
    assert Interval(0, 60, 1500).week_range == (60, 1500)


def test_opening_hours_sorts_and_refuses_same_day_overlap() -> None:
    hours = OpeningHours((Interval(3, 600, 700), Interval(1, 0, 60)))
    assert hours.intervals == (Interval(1, 0, 60), Interval(3, 600, 700))
    with pytest.raises(InvalidOpeningHours, match="We has overlapping ranges"):
        OpeningHours((Interval(2, 600, 700), Interval(2, 650, 800)))


def test_ranges_starting_on_different_days_may_overlap() -> None:
    hours = OpeningHours((Interval(0, 1200, 1800), Interval(1, 60, 300)))
    assert minutes_of_week_ranges(hours) == [(1200, 1800)]


# --- is_open_at ------------------------------------------------------------------------------


def test_saturday_until_two_is_open_sunday_half_past_one() -> None:
    hours = parse_hours("Mo-Fr 07:00-22:00; Sa,Su 08:00-02:00")
    assert is_open_at(hours, at(6, 1, 30))  # Sunday 01:30, from Saturday's range
    assert not is_open_at(hours, at(6, 2, 0))  # closing minute is closed
    assert not is_open_at(hours, at(6, 7, 59))
    assert is_open_at(hours, at(6, 8, 0))
    assert is_open_at(hours, at(0, 1, 59))  # Monday 01:59, from Sunday's range
    assert not is_open_at(hours, at(0, 6, 59))
    assert is_open_at(hours, at(4, 21, 59))
    assert not is_open_at(hours, at(4, 22, 0))
    assert not is_open_at(hours, at(5, 0, 30))  # Friday closes at 22:00, not past midnight


def test_sunday_night_range_is_open_on_monday_morning() -> None:
    hours = parse_hours("Su 23:00-01:00")
    assert is_open_at(hours, at(0, 0, 30))  # Monday 00:30
    assert is_open_at(hours, at(6, 23, 30))
    assert not is_open_at(hours, at(0, 1, 0))
    assert not is_open_at(hours, at(6, 22, 59))
    assert minutes_of_week_ranges(hours) == [(0, 60), (MINUTES_PER_WEEK - 60, MINUTES_PER_WEEK)]


def test_closed_days_are_closed() -> None:
    hours = parse_hours("Mo-Sa 08:00-20:00; Su off")
    assert is_open_at(hours, at(5, 12))
    assert not any(is_open_at(hours, at(6, h)) for h in range(24))
    never = parse_hours("off")
    assert not any(is_open_at(never, at(d, h)) for d in range(7) for h in range(24))


def test_always_open() -> None:
    assert parse_hours("24/7") == ALWAYS_OPEN
    assert all(is_open_at(ALWAYS_OPEN, at(0, 0, m)) for m in range(0, MINUTES_PER_WEEK, 37))
    assert minutes_of_week_ranges(ALWAYS_OPEN) == [(0, MINUTES_PER_WEEK)]


def test_seconds_within_the_closing_minute_are_closed() -> None:
    hours = parse_hours("Mo 08:00-20:00")
    assert is_open_at(hours, at(0, 19, 59) + timedelta(seconds=59, microseconds=999_999))
    assert not is_open_at(hours, at(0, 20, 0) + timedelta(seconds=1))


def test_other_offsets_are_converted_to_zhengzhou_time() -> None:
    hours = parse_hours("Mo-Fr 09:00-17:00")
    monday_9_in_utc = datetime(2024, 6, 3, 1, 0, tzinfo=UTC)
    assert is_open_at(hours, monday_9_in_utc)
    assert not is_open_at(hours, monday_9_in_utc - timedelta(minutes=1))
    # Monday 09:00 in Zhengzhou is still Sunday 17:00 in New York (UTC-4 in June).
    new_york = timezone(timedelta(hours=-4))
    assert is_open_at(hours, datetime(2024, 6, 2, 21, 0, tzinfo=new_york))


def test_naive_datetime_is_refused() -> None:
    hours = parse_hours("24/7")
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open_at(hours, datetime(2024, 6, 3, 12, 0))  # noqa: DTZ001 - deliberately naive


def test_asia_shanghai_has_no_daylight_saving_time() -> None:
    for year in range(1992, 2041):
        for month in range(1, 13):
            moment = datetime(year, month, 15, 12, tzinfo=UTC).astimezone(TIMEZONE)
            assert moment.utcoffset() == timedelta(hours=8)
            assert moment.dst() == timedelta(0)


def test_same_wall_clock_time_in_winter_and_summer_agrees() -> None:
    hours = parse_hours("Mo 09:00-10:00")
    winter = datetime(2024, 1, 8, 1, 30, tzinfo=UTC)  # Monday 09:30 in Zhengzhou
    summer = datetime(2024, 7, 8, 1, 30, tzinfo=UTC)  # Monday 09:30 in Zhengzhou
    assert is_open_at(hours, winter)
    assert is_open_at(hours, summer)


def brute_force_open(hours: OpeningHours, when: datetime) -> bool:
    """Independent oracle: time since each opening, modulo a week, against its length."""
    week = timedelta(weeks=1)
    return any(
        (when - (MONDAY + timedelta(days=i.day, minutes=i.open_min))) % week
        < timedelta(minutes=i.close_min - i.open_min)
        for i in hours.intervals
    )


@PROPERTY
@given(opening_hours(), st.lists(st.integers(0, MINUTES_PER_WEEK - 1), max_size=50))
def test_ranges_and_is_open_at_agree_with_an_oracle(hours: OpeningHours, sample: list[int]) -> None:
    ranges = minutes_of_week_ranges(hours)
    edges = {edge + delta for i in hours.intervals for edge in i.week_range for delta in (-1, 0, 1)}
    for minute in sorted({m % MINUTES_PER_WEEK for m in edges} | set(sample)):
        when = MONDAY + timedelta(minutes=minute)
        expected = brute_force_open(hours, when)
        assert any(start <= minute < end for start, end in ranges) == expected, minute
        assert is_open_at(hours, when) == expected, minute
        assert is_open_at(hours, when.astimezone(UTC)) == expected, minute


@PROPERTY
@given(opening_hours())
def test_ranges_are_sorted_disjoint_and_inside_the_week(hours: OpeningHours) -> None:
    ranges = minutes_of_week_ranges(hours)
    assert all(0 <= start < end <= MINUTES_PER_WEEK for start, end in ranges)
    assert all(a[1] < b[0] for a, b in pairwise(ranges))


# --- JSON storage ----------------------------------------------------------------------------


def test_json_form_writes_past_midnight_as_extended_hours() -> None:
    hours = parse_hours("Mo 07:00-22:00; Sa 08:00-02:00")
    assert to_json(hours) == [
        {"day": 0, "open": "07:00", "close": "22:00"},
        {"day": 5, "open": "08:00", "close": "26:00"},
    ]


@PROPERTY
@given(opening_hours())
def test_json_round_trips_through_text(hours: OpeningHours) -> None:
    stored = json.loads(json.dumps(to_json(hours)))
    assert from_json(stored) == hours
    assert from_json(json.dumps(to_json(hours))) == hours, "lists read it as JSON text"


def test_text_that_is_not_json_is_refused() -> None:
    with pytest.raises(InvalidOpeningHours, match="not JSON"):
        from_json("[{")
    with pytest.raises(InvalidOpeningHours, match="list of intervals"):
        from_json("null")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"day": 0}, "expected a list"),
        ([{"day": 0, "open": "08:00"}], "entry 0 must be"),
        ([{"day": 0, "open": "08:00", "close": "09:00", "x": 1}], "entry 0 must be"),
        (["Mo 08:00-09:00"], "entry 0 must be"),
        ([{"day": 7, "open": "08:00", "close": "09:00"}], "entry 0: day must be"),
        ([{"day": "0", "open": "08:00", "close": "09:00"}], "whole numbers"),
        ([{"day": False, "open": "08:00", "close": "09:00"}], "whole numbers"),
        ([{"day": 0, "open": "8:00", "close": "09:00"}], '"HH:MM"'),
        ([{"day": 0, "open": 480, "close": "09:00"}], '"HH:MM"'),
        ([{"day": 0, "open": "08:00", "close": "02:00"}], "after the opening"),  # not 26:00
        ([{"day": 0, "open": "24:00", "close": "25:00"}], "opening minute"),
        ([{"day": 0, "open": "08:00", "close": "32:01"}], "at most 24 hours"),
        (
            [
                {"day": 0, "open": "08:00", "close": "09:00"},
                {"day": 1, "open": "08:00", "close": "09:00"},
                {"day": 0, "open": "08:30", "close": "10:00"},
            ],
            "overlapping",
        ),
    ],
)
def test_invalid_json_is_refused(data: object, reason: str) -> None:
    with pytest.raises(InvalidOpeningHours) as caught:
        from_json(data)
    assert reason in str(caught.value)


def test_json_may_list_intervals_in_any_order() -> None:
    data = [
        {"day": 6, "open": "23:00", "close": "25:00"},
        {"day": 0, "open": "08:00", "close": "09:00"},
    ]
    assert format_hours(from_json(data)) == "Mo 08:00-09:00; Su 23:00-01:00"
