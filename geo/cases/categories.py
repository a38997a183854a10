"""Case categories with their time limits, report channels and location sources.

Time limits
-----------
Each category has four limits, one per stage, counted from the stage's start:

==========  ==============================  ==================
stage       counted from                    field
==========  ==============================  ==================
accept      reported (上报)                  ``accept_hours``
dispatch    accepted (立案)                  ``dispatch_hours``
handle      dispatched (派遣)                ``handle_hours`` or ``handle_days``
verify      reported handled (反馈)           ``verify_hours``
==========  ==============================  ==================

Hours are working hours and days working days (:mod:`geo.cases.worktime`), except for
``around_the_clock`` categories, whose limits run in natural hours and days: a fire hazard
or a night-time drill does not wait for Monday morning. The figures are our defaults,
chosen from the seed (street vending handled in under half a day; weekend drilling noise
solved in 15 minutes) and common 数字城管 practice; the district should confirm them.

Location accuracy
-----------------
:class:`LocationSource` carries a default accuracy radius in metres, used when the client
sends none. WeChat documents no precision for ``wx.getFuzzyLocation``; developers report
offsets of a few kilometres ("district level"), so a NETWORK fix must never route a case on
its own: ask for a map pick or an address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from geo.cases.worktime import DEFAULT_SCHEDULE, WorkSchedule, add_working_days, add_working_hours
from geo.errors import DomainError

__all__ = [
    "CASE_CATEGORIES",
    "CaseCategory",
    "Channel",
    "LocationSource",
    "Stage",
    "UnknownCaseCategory",
    "get_case_category",
]


class Stage(StrEnum):
    ACCEPT = "accept"  # 受理/立案时限
    DISPATCH = "dispatch"  # 派遣时限
    HANDLE = "handle"  # 处置时限
    VERIFY = "verify"  # 核查时限


@dataclass(frozen=True)
class CaseCategory:
    """A case category; exactly one of ``handle_hours`` / ``handle_days`` is set."""

    code: str
    zh: str
    en: str
    accept_hours: float
    dispatch_hours: float
    handle_hours: float | None
    handle_days: int | None
    verify_hours: float
    around_the_clock: bool = False

    def __post_init__(self) -> None:
        if (self.handle_hours is None) == (self.handle_days is None):
            raise ValueError(f"{self.code}: set exactly one of handle_hours, handle_days")

    def due(
        self, stage: Stage, start: datetime, schedule: WorkSchedule = DEFAULT_SCHEDULE
    ) -> datetime:
        """Deadline (aware UTC) of ``stage`` begun at ``start`` (aware)."""
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("datetime must be timezone-aware")
        if stage is Stage.HANDLE and self.handle_days is not None:
            if self.around_the_clock:
                return (start + timedelta(days=self.handle_days)).astimezone(UTC)
            return add_working_days(start, self.handle_days, schedule)
        hours = self._hours(stage)
        if self.around_the_clock:
            return (start + timedelta(hours=hours)).astimezone(UTC)
        return add_working_hours(start, hours, schedule)

    def _hours(self, stage: Stage) -> float:
        match stage:
            case Stage.ACCEPT:
                return self.accept_hours
            case Stage.DISPATCH:
                return self.dispatch_hours
            case Stage.HANDLE:
                assert self.handle_hours is not None  # handle_days was handled by the caller
                return self.handle_hours
            case Stage.VERIFY:
                return self.verify_hours


class UnknownCaseCategory(DomainError):
    """A category code that is not in :data:`CASE_CATEGORIES`."""

    def __init__(self, code: str) -> None:
        super().__init__(f"unknown case category {code!r}; known: {', '.join(CASE_CATEGORIES)}")
        self.code = code


_C = CaseCategory
_ALL = (
    # code, zh, en, accept h, dispatch h, handle h, handle days, verify h
    _C("street_vending", "占道经营", "Street vending / road occupation", 1, 1, 4, None, 2),
    _C("renovation_noise", "装修噪音", "Renovation noise", 0.5, 0.5, 2, None, 2,
       around_the_clock=True),
    _C("fire_safety", "消防安全隐患（含飞线充电）",
       "Fire-safety hazard (incl. e-bike flying-wire charging)", 0.5, 0.5, 2, None, 2,
       around_the_clock=True),
    _C("sanitation", "环境卫生", "Environmental sanitation", 2, 2, None, 1, 4),
    _C("municipal_facilities", "市政设施", "Infrastructure / municipal facilities", 2, 2, None,
       3, 7),
    _C("public_safety", "公共安全", "Public safety and rule of law", 1, 1, 7, None, 4),
    _C("greening", "园林绿化", "Greening", 2, 2, None, 3, 7),
    _C("illegal_construction", "违法建设", "Illegal construction", 2, 2, None, 5, 7),
    _C("property_management", "物业管理", "Property management dispute", 2, 2, None, 5, 7),
    _C("other", "其他", "Other", 2, 2, None, 5, 7),
)  # fmt: skip

CASE_CATEGORIES: Final[Mapping[str, CaseCategory]] = MappingProxyType({c.code: c for c in _ALL})


def get_case_category(code: str) -> CaseCategory:
    """The category with ``code``; raises UnknownCaseCategory otherwise."""
    try:
        return CASE_CATEGORIES[code]
    except KeyError:
        raise UnknownCaseCategory(code) from None


class Channel(StrEnum):
    RESIDENT_APP = "resident_app"  # 郑好拍 photo-report app
    HOTLINE = "hotline"  # 12345 hotline, entered by an agent
    PATROL = "patrol"  # 网格巡查 grid worker's patrol
    QUICK_NOTE = "quick_note"  # 随手记 micro-grid worker's quick note
    COURTYARD_VOICE = "courtyard_voice"  # 楼院发声员 relaying a residents' group
    DEPUTY_PROPOSAL = "deputy_proposal"  # 两代一委 deputies' proposal
    MEETING_LEDGER = "meeting_ledger"  # 台账 issue from a community meeting's ledger


class LocationSource(StrEnum):
    """Where a case's point came from; ``default_accuracy_m`` is its assumed error radius."""

    GPS = "gps"  # phone satellite fix (wx.getLocation): ~20 m among buildings
    NETWORK = "network"  # cell/Wi-Fi or WeChat fuzzy location: kilometres off
    MAP_PICK = "map_pick"  # reporter tapped a map: ~30 m at street zoom
    ADDRESS = "address"  # geocoded address: building or compound centroid, ~100 m
    QR_BOARD = "qr_board"  # surveyed QR board; the problem is within sight of it, ~50 m

    @property
    def default_accuracy_m(self) -> float:
        """Assumed error radius in metres when the client reports none."""
        return _ACCURACY_M[self]


_ACCURACY_M: Final[Mapping[LocationSource, float]] = MappingProxyType({
    LocationSource.GPS: 20.0,
    LocationSource.NETWORK: 5000.0,
    LocationSource.MAP_PICK: 30.0,
    LocationSource.ADDRESS: 100.0,
    LocationSource.QR_BOARD: 50.0,
})  # fmt: skip
