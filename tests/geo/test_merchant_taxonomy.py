"""Tests for geo.merchants.taxonomy (the guide's categories and tiers) and geo.places.walking."""

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import DomainError
from geo.merchants.taxonomy import (
    BASIC_CATEGORIES,
    CATEGORIES,
    REACH_TIERS_MIN,
    Category,
    CategoryGroup,
    UnknownCategory,
    get_category,
)
from geo.places.walking import (
    DETOUR_FACTOR,
    WALKING_SPEED_M_PER_MIN,
    reach_radius_m,
    walking_minutes,
)

# The guide's basic-guarantee list (§一(二)), one entry per format it names.
GUIDE_BASIC_ZH = {
    "便利店",
    "综合超市",
    "菜市场",
    "生鲜超市（菜店）",
    "早餐店",
    "洗染店",
    "美容美发店",
    "照相文印店",
    "家政服务点",
    "维修点",
    "药店",
    "邮政快递综合服务点",
}


def test_every_basic_category_has_a_tier_of_5_8_or_15_minutes() -> None:
    assert BASIC_CATEGORIES
    assert all(c.reach_minutes in {5, 8, 15} for c in BASIC_CATEGORIES)
    assert set(REACH_TIERS_MIN) == {5, 8, 15}


def test_basic_categories_are_exactly_the_guides_twelve() -> None:
    assert {c.zh for c in BASIC_CATEGORIES} == GUIDE_BASIC_ZH
    assert all(c.group is CategoryGroup.BASIC for c in BASIC_CATEGORIES)


def test_every_tier_is_used() -> None:
    assert {c.reach_minutes for c in BASIC_CATEGORIES} == {5, 8, 15}


@pytest.mark.parametrize(
    ("code", "minutes"),
    [
        ("convenience_store", 5),
        ("fresh_supermarket", 5),
        ("breakfast_shop", 8),
        ("pharmacy", 8),
        ("hair_beauty", 8),
        ("laundry", 8),
        ("fresh_market", 8),
        ("supermarket", 15),
        ("repair", 15),
    ],
)
def test_tiers_follow_mofcom(code: str, minutes: int) -> None:
    assert get_category(code).reach_minutes == minutes


def test_quality_categories_have_no_walking_target() -> None:
    quality = [c for c in CATEGORIES.values() if c.group is CategoryGroup.QUALITY]
    assert len(quality) >= 10
    assert all(c.reach_minutes is None for c in quality)


def test_basic_categories_come_first_nearest_tier_first() -> None:
    codes = list(CATEGORIES)
    assert codes[: len(BASIC_CATEGORIES)] == [c.code for c in BASIC_CATEGORIES]
    tiers = [c.reach_minutes for c in BASIC_CATEGORIES]
    assert tiers == sorted(tiers)


def test_codes_are_unique_stable_ascii_snake_case() -> None:
    codes = [c.code for c in CATEGORIES.values()]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", code) for code in codes)
    assert all(code == c.code for code, c in CATEGORIES.items())


def test_labels_are_non_empty_and_unique() -> None:
    for c in CATEGORIES.values():
        assert c.zh.strip() and c.en.strip()
        assert re.search(r"[\u4e00-\u9fff]", c.zh)
    assert len({c.zh for c in CATEGORIES.values()}) == len(CATEGORIES)
    assert len({c.en for c in CATEGORIES.values()}) == len(CATEGORIES)


def test_groups_have_chinese_names() -> None:
    assert CategoryGroup.BASIC.zh == "基本保障类"
    assert CategoryGroup.QUALITY.zh == "品质提升类"


def test_catalogue_is_read_only() -> None:
    with pytest.raises(TypeError):
        CATEGORIES["x"] = CATEGORIES["pharmacy"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        CATEGORIES["pharmacy"].reach_minutes = 5  # type: ignore[misc]


def test_get_category_returns_the_entry() -> None:
    assert get_category("pharmacy") == Category(
        "pharmacy", "药店", "Pharmacy", CategoryGroup.BASIC, 8
    )


@pytest.mark.parametrize("code", ["", "Pharmacy", "pharmacy ", "药店", "gas_station"])
def test_unknown_code_is_a_domain_error_naming_the_code_and_the_query(code: str) -> None:
    with pytest.raises(UnknownCategory) as caught:
        get_category(code)
    assert isinstance(caught.value, DomainError)
    assert caught.value.code == code
    assert repr(code) in str(caught.value)
    assert "merchantCategories" in str(caught.value)


def test_one_minute_reaches_about_61_5_metres() -> None:
    assert WALKING_SPEED_M_PER_MIN == 80.0
    assert DETOUR_FACTOR == 1.3
    assert reach_radius_m(1) == pytest.approx(61.538, abs=1e-3)
    assert reach_radius_m(15) == pytest.approx(923.08, abs=1e-2)
    assert reach_radius_m(0) == 0


def test_walking_minutes_of_the_15_minute_radius_is_15() -> None:
    assert walking_minutes(reach_radius_m(15)) == pytest.approx(15)
    assert walking_minutes(800) == pytest.approx(13.0)


@settings(database=None)
@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_walking_minutes_inverts_reach_radius(minutes: float) -> None:
    assert walking_minutes(reach_radius_m(minutes)) == pytest.approx(minutes, rel=1e-12)


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_negative_or_non_finite_inputs_are_refused(bad: float) -> None:
    with pytest.raises(ValueError):
        reach_radius_m(bad)
    with pytest.raises(ValueError):
        walking_minutes(bad)
