"""Inputs of the case operations (built-in scalars only: times travel as ISO-8601 strings)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import strawberry

from api.schema.cases.enums import (
    CaseActionType,
    CaseStatusType,
    ChannelType,
    LocationSourceType,
    SatisfactionType,
)
from api.schema.common import InvalidArgument, PointInput
from geo.cases.categories import CASE_CATEGORIES, Channel
from geo.cases.worktime import SHANGHAI

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MOMENT_HELP = (
    "ISO 8601: a date ('2026-03-01', midnight in Zhengzhou) or a date and time; a time "
    "without an offset is Zhengzhou time (UTC+8)."
)


def parse_moment(argument: str, value: str | None) -> datetime | None:
    """An aware datetime from an ISO-8601 date or date-time; raises InvalidArgument."""
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), SHANGHAI)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(argument, f"{argument} is not an ISO-8601 date or time") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
    if not EARLIEST <= moment <= LATEST:  # stored deadlines must load back as Python datetimes
        raise InvalidArgument(argument, f"{argument} must lie in the years 1970 to 2099")
    return moment


@strawberry.input(description="A new case, as a resident's app or a staff member reports it.")
class ReportCaseInput:
    category: str = strawberry.field(description="A category code (see caseCategories).")
    description: str
    location: PointInput = strawberry.field(
        description="Where the problem is, in any supported system; accuracyM is the error "
        "radius the device reported (WeChat gives it; its fuzzy mode is kilometres off)."
    )
    location_source: LocationSourceType  # type: ignore[valid-type]
    address: str | None = None
    photo_urls: list[str] = strawberry.field(default_factory=list, description="At most 9.")
    channel: ChannelType = Channel.RESIDENT_APP  # type: ignore[valid-type]
    reporter_contact: str | None = strawberry.field(
        default=None, description="Private: only staff of the case's grid will see it."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="A client-chosen key (a UUID): a retry with the same key returns the same "
        "case and creates nothing.",
    )


@strawberry.input(description="One workflow action on a case.")
class ActOnCaseInput:
    case_id: int
    action: CaseActionType  # type: ignore[valid-type]
    expected_version: int = strawberry.field(
        description="The version the caller read; another one means someone acted since."
    )
    note: str | None = strawberry.field(
        default=None,
        description="Needed by reject, return, report handled, verify failed, "
        "extend, postpone, shelve, reopen, escalate.",
    )
    satisfaction: SatisfactionType | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="EVALUATE only; UNSATISFIED sends the case back to dispatch."
    )
    department: str | None = strawberry.field(
        default=None, description="DISPATCH: the lead unit; none: the grid team of the grid."
    )
    co_handlers: list[str] = strawberry.field(
        default_factory=list, description="DISPATCH or ESCALATE: co-handling units (协办)."
    )
    merge_into: int | None = strawberry.field(
        default=None, description="MERGE: id of the open case this one duplicates."
    )
    extend_to: str | None = strawberry.field(
        default=None,
        description="EXTEND: the new handling deadline (" + MOMENT_HELP + ") Default: one "
        "more handling limit.",
    )
    grid: str | None = strawberry.field(
        default=None,
        description="ACCEPT: the grid code an agent confirms for a queued case; REROUTE: the "
        "grid the case moves to.",
    )

    def params(self) -> dict[str, Any]:
        """Keyword arguments of geo.cases.transitions.act (the grid still as a code)."""
        return {
            "case_id": self.case_id,
            "action": self.action,
            "expected_version": self.expected_version,
            "note": self.note,
            "satisfaction": self.satisfaction,
            "department": self.department,
            "co_handlers": self.co_handlers,
            "merge_into_id": self.merge_into,
            "extend_to": parse_moment("extendTo", self.extend_to),
        }


@strawberry.input(description="Every given criterion must hold.")
class CaseFilterInput:
    grid: str | None = strawberry.field(
        default=None, description="A grid code: cases anywhere in its subtree."
    )
    states: list[CaseStatusType] = strawberry.field(default_factory=list)  # type: ignore[valid-type]
    categories: list[str] = strawberry.field(default_factory=list)
    channels: list[ChannelType] = strawberry.field(default_factory=list)  # type: ignore[valid-type]
    overdue: bool | None = strawberry.field(
        default=None, description="True: the running deadline has passed; false: it has not."
    )
    from_: str | None = strawberry.field(
        default=None, name="from", description="Reported at or after. " + MOMENT_HELP
    )
    to: str | None = strawberry.field(default=None, description="Reported before. " + MOMENT_HELP)

    def criteria(self) -> dict[str, Any]:
        """geo.cases.queries.CaseFilter fields except the grid; raises InvalidArgument."""
        unknown = [c for c in self.categories if c not in CASE_CATEGORIES]
        if unknown:
            raise InvalidArgument("filter.categories", "unknown category; see caseCategories")
        return {
            "statuses": tuple(self.states),
            "categories": tuple(self.categories),
            "channels": tuple(self.channels),
            "overdue": self.overdue,
            "reported_from": parse_moment("filter.from", self.from_),
            "reported_to": parse_moment("filter.to", self.to),
        }
