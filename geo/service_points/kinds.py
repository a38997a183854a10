"""Kinds of public service point in a community: the non-commercial half of the circle.

Merchants are businesses (``geo.merchants.taxonomy``); service points are run by the
government, the Party or public institutions and are free or subsidised. The kinds are the
facilities that Chinese community-service and grid-governance plans ask for within a
15-minute walk: the community service station and Party–masses service centre that host the
grid workers, the 新时代文明实践站, primary health care, the 一老一小 (elderly and small
children) services, the community police office, public toilets and places to read and
exercise.

Codes are the enum values: stable lower_snake ASCII, safe to store and to expose in the API.
Two pairs that residents treat as one place share a kind: 养老服务站 and 日间照料中心
(``elderly_care``), and the community canteen that mostly serves seniors (``elderly_canteen``,
长者食堂/老年助餐点) is kept apart from it because it has its own opening hours and menu.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from geo.errors import DomainError

__all__ = ["KIND_LABELS", "KindLabel", "ServicePointKind", "UnknownServicePointKind", "get_kind"]


class ServicePointKind(StrEnum):
    """What a service point is; the value is its stable code."""

    COMMUNITY_SERVICE_STATION = "community_service_station"
    PARTY_MASS_SERVICE_CENTRE = "party_mass_service_centre"
    CIVILIZATION_PRACTICE_STATION = "civilization_practice_station"
    HEALTH_SERVICE_STATION = "health_service_station"
    ELDERLY_CARE = "elderly_care"
    ELDERLY_CANTEEN = "elderly_canteen"
    CHILD_CARE = "child_care"
    POLICE_OFFICE = "police_office"
    CONVENIENCE_SERVICE_POINT = "convenience_service_point"
    PUBLIC_TOILET = "public_toilet"
    READING_ROOM = "reading_room"
    SPORTS_GROUND = "sports_ground"

    @property
    def zh(self) -> str:
        """The Chinese name residents see."""
        return KIND_LABELS[self].zh

    @property
    def en(self) -> str:
        """The English name."""
        return KIND_LABELS[self].en


@dataclass(frozen=True, slots=True)
class KindLabel:
    """Human names of a kind."""

    zh: str
    en: str


_K = ServicePointKind

KIND_LABELS: Mapping[ServicePointKind, KindLabel] = MappingProxyType(
    {
        _K.COMMUNITY_SERVICE_STATION: KindLabel("社区服务站", "Community service station"),
        _K.PARTY_MASS_SERVICE_CENTRE: KindLabel("党群服务中心", "Party–masses service centre"),
        _K.CIVILIZATION_PRACTICE_STATION: KindLabel(
            "新时代文明实践站", "Civilization practice station"
        ),
        _K.HEALTH_SERVICE_STATION: KindLabel("社区卫生服务站", "Community health station"),
        _K.ELDERLY_CARE: KindLabel("养老服务站（日间照料中心）", "Elderly day-care centre"),
        _K.ELDERLY_CANTEEN: KindLabel("长者食堂", "Seniors' canteen"),
        _K.CHILD_CARE: KindLabel("托育点", "Child-care point"),
        _K.POLICE_OFFICE: KindLabel("社区警务室", "Community police office"),
        _K.CONVENIENCE_SERVICE_POINT: KindLabel("便民服务点", "Convenience service point"),
        _K.PUBLIC_TOILET: KindLabel("公共厕所", "Public toilet"),
        _K.READING_ROOM: KindLabel("阅览室", "Library and reading room"),
        _K.SPORTS_GROUND: KindLabel("健身场地", "Sports ground"),
    }
)
"""Chinese and English names of every kind, in enum order."""


class UnknownServicePointKind(DomainError):
    """A service point kind code that is not a :class:`ServicePointKind` value."""

    def __init__(self, code: str) -> None:
        super().__init__(
            f"unknown service point kind {code!r}; the servicePointKinds query lists the codes"
        )
        self.code = code


def get_kind(code: str) -> ServicePointKind:
    """Returns the kind with this exact code; raises :class:`UnknownServicePointKind` otherwise."""
    try:
        return ServicePointKind(code)
    except ValueError:
        raise UnknownServicePointKind(code) from None
