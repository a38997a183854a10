"""Tests for geo.cases.categories: the taxonomy, its deadlines, channels and location sources."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from geo.cases.categories import (
    CASE_CATEGORIES,
    CaseCategory,
    Channel,
    LocationSource,
    Stage,
    UnknownCaseCategory,
    get_case_category,
)
from geo.errors import DomainError

CST = timezone(timedelta(hours=8))
TUESDAY_BEFORE_NATIONAL_DAY = datetime(2025, 9, 30, 16, 0, tzinfo=CST)


def test_the_ten_categories() -> None:
    assert {code: c.zh for code, c in CASE_CATEGORIES.items()} == {
        "street_vending": "占道经营",
        "renovation_noise": "装修噪音",
        "fire_safety": "消防安全隐患（含飞线充电）",
        "sanitation": "环境卫生",
        "municipal_facilities": "市政设施",
        "public_safety": "公共安全",
        "greening": "园林绿化",
        "illegal_construction": "违法建设",
        "property_management": "物业管理",
        "other": "其他",
    }
    assert all(code == c.code and c.en for code, c in CASE_CATEGORIES.items())


def test_every_limit_is_positive_and_handling_has_one_unit() -> None:
    for c in CASE_CATEGORIES.values():
        assert min(c.accept_hours, c.dispatch_hours, c.verify_hours) > 0
        assert (c.handle_hours is None) != (c.handle_days is None)
        assert (c.handle_hours or 0) > 0 or (c.handle_days or 0) > 0


def test_urgent_categories_are_short_and_run_around_the_clock() -> None:
    for code in ("fire_safety", "renovation_noise"):
        category = get_case_category(code)
        assert category.around_the_clock
        assert category.handle_hours is not None and category.handle_hours <= 2
    assert not get_case_category("street_vending").around_the_clock


def test_unknown_code() -> None:
    with pytest.raises(UnknownCaseCategory, match="'parking'") as caught:
        get_case_category("parking")
    assert isinstance(caught.value, DomainError)
    assert caught.value.code == "parking"


def test_category_needs_exactly_one_handling_limit() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        CaseCategory("x", "x", "x", 1, 1, 4, 2, 1)
    with pytest.raises(ValueError, match="exactly one"):
        CaseCategory("x", "x", "x", 1, 1, None, None, 1)


@pytest.mark.parametrize(
    ("code", "stage", "due"),
    [
        # 4 working hours: 16:00-17:30 on 30 Sep, then 09:00-11:30 on Thu 9 Oct.
        ("street_vending", Stage.HANDLE, datetime(2025, 10, 9, 11, 30, tzinfo=CST)),
        ("street_vending", Stage.ACCEPT, datetime(2025, 9, 30, 17, 0, tzinfo=CST)),
        # 1 working day: close of the first working day after 30 Sep.
        ("sanitation", Stage.HANDLE, datetime(2025, 10, 9, 17, 30, tzinfo=CST)),
        # 7 working hours = one working day's worth: 1.5 h + 5.5 h -> 16:00 on 9 Oct.
        ("municipal_facilities", Stage.VERIFY, datetime(2025, 10, 9, 16, 0, tzinfo=CST)),
        # Around the clock: natural hours, the holiday does not stop the clock.
        ("fire_safety", Stage.HANDLE, datetime(2025, 9, 30, 18, 0, tzinfo=CST)),
        ("renovation_noise", Stage.DISPATCH, datetime(2025, 9, 30, 16, 30, tzinfo=CST)),
    ],
)
def test_due(code: str, stage: Stage, due: datetime) -> None:
    result = get_case_category(code).due(stage, TUESDAY_BEFORE_NATIONAL_DAY)
    assert result == due
    assert result.tzinfo is UTC


def test_due_needs_an_aware_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        get_case_category("fire_safety").due(Stage.HANDLE, datetime(2025, 9, 30, 16))  # noqa: DTZ001


def test_channels() -> None:
    assert [c.value for c in Channel] == [
        "resident_app",
        "hotline",
        "patrol",
        "quick_note",
        "courtyard_voice",
        "deputy_proposal",
        "meeting_ledger",
    ]


def test_location_accuracy() -> None:
    accuracy = {source: source.default_accuracy_m for source in LocationSource}
    assert all(metres > 0 for metres in accuracy.values())
    assert accuracy[LocationSource.NETWORK] >= 1000  # WeChat fuzzy location: kilometres
    assert accuracy[LocationSource.GPS] < accuracy[LocationSource.ADDRESS]
    assert accuracy[LocationSource.MAP_PICK] < accuracy[LocationSource.NETWORK]
