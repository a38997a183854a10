"""Tests for geo.service_points.kinds: codes, labels and lookup."""

import re

import pytest

from geo.errors import DomainError
from geo.service_points.kinds import (
    KIND_LABELS,
    KindLabel,
    ServicePointKind,
    UnknownServicePointKind,
    get_kind,
)


def test_there_are_a_dozen_kinds() -> None:
    assert len(ServicePointKind) == 12


def test_codes_are_unique_ascii_snake_case_and_match_member_names() -> None:
    codes = [kind.value for kind in ServicePointKind]
    assert len(codes) == len(set(codes))
    for kind in ServicePointKind:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", kind.value)
        assert kind.name.lower() == kind.value


def test_every_kind_has_non_empty_unique_labels() -> None:
    assert set(KIND_LABELS) == set(ServicePointKind)
    assert list(KIND_LABELS) == list(ServicePointKind)
    for kind in ServicePointKind:
        assert kind.zh.strip() and re.search(r"[\u4e00-\u9fff]", kind.zh)
        assert kind.en.strip()
    assert len({label.zh for label in KIND_LABELS.values()}) == len(KIND_LABELS)
    assert len({label.en for label in KIND_LABELS.values()}) == len(KIND_LABELS)


@pytest.mark.parametrize(
    ("kind", "zh"),
    [
        (ServicePointKind.COMMUNITY_SERVICE_STATION, "社区服务站"),
        (ServicePointKind.CIVILIZATION_PRACTICE_STATION, "新时代文明实践站"),
        (ServicePointKind.PARTY_MASS_SERVICE_CENTRE, "党群服务中心"),
        (ServicePointKind.HEALTH_SERVICE_STATION, "社区卫生服务站"),
        (ServicePointKind.POLICE_OFFICE, "社区警务室"),
        (ServicePointKind.PUBLIC_TOILET, "公共厕所"),
        (ServicePointKind.ELDERLY_CANTEEN, "长者食堂"),
    ],
)
def test_chinese_labels(kind: ServicePointKind, zh: str) -> None:
    assert kind.zh == zh
    assert KIND_LABELS[kind] == KindLabel(zh, kind.en)


def test_elderly_care_covers_day_care_centres() -> None:
    assert "日间照料中心" in ServicePointKind.ELDERLY_CARE.zh
    assert "养老服务站" in ServicePointKind.ELDERLY_CARE.zh


def test_labels_are_read_only() -> None:
    with pytest.raises(TypeError):
        KIND_LABELS[ServicePointKind.PUBLIC_TOILET] = KindLabel("厕所", "Toilet")  # type: ignore[index]


@pytest.mark.parametrize("kind", list(ServicePointKind))
def test_get_kind_round_trips_every_code(kind: ServicePointKind) -> None:
    assert get_kind(kind.value) is kind
    assert get_kind(str(kind)) is kind


@pytest.mark.parametrize("code", ["", "POLICE_OFFICE", "Public_Toilet", "公共厕所", "school"])
def test_unknown_code_is_a_domain_error_naming_the_code(code: str) -> None:
    with pytest.raises(UnknownServicePointKind) as caught:
        get_kind(code)
    assert isinstance(caught.value, DomainError)
    assert caught.value.code == code
    assert repr(code) in str(caught.value)
    assert "servicePointKinds" in str(caught.value)
