"""Typed errors of the case operations, and the one registry mapping domain failures to them.

Resolvers catch :data:`CASE_FAILURES` and return :func:`case_error` of it: every expected
failure becomes a member of the operation's result union, never a GraphQL error.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import strawberry

from api.schema.cases.enums import CaseActionType, CaseStatusType, ChannelType, RoleType
from api.schema.common import InvalidArgument, InvalidArgumentError, InvalidCoordinateError
from api.schema.errors import AuthenticationRequiredError, Error, NotPermittedError
from api.schema.permissions import AuthenticationRequired, NotPermitted
from api.schema.places.errors import NotFoundError
from geo.accounts.units import UnknownUnit
from geo.cases.categories import CASE_CATEGORIES, Channel, UnknownCaseCategory
from geo.cases.errors import (
    CaseNotFound,
    ChannelNotAllowed,
    IdempotencyKeyReused,
    InvalidCaseInput,
    InvalidCursor,
    MergeTargetInvalid,
    VersionConflict,
)
from geo.cases.ledger import (
    LedgerDateOutOfRange,
    LedgerItemNotFound,
    LedgerItemSettled,
    LedgerNotPermitted,
    LocationOutsideGrid,
)
from geo.cases.stats import UnknownStatsGrid
from geo.cases.workflow import (
    ActionNotPermitted,
    EvaluationPending,
    IllegalTransition,
    NoteRequired,
    SatisfactionRequired,
)
from geo.coords import InvalidCoordinate
from geo.errors import DomainError


@strawberry.type(description="Not a category of the taxonomy (see caseCategories).")
class UnknownCaseCategoryError(Error):
    code: str
    known: list[str]


@strawberry.type(description="A report or action parameter breaks a rule (message says which).")
class InvalidCaseInputError(Error):
    field: str


@strawberry.type(description="Only platform staff report through this channel.")
class ChannelNotAllowedError(Error):
    channel: ChannelType  # type: ignore[valid-type]


@strawberry.type(description="The idempotency key was used for a different report.")
class IdempotencyKeyReusedError(Error):
    pass


@strawberry.type(description="The action is not allowed from the case's status.")
class IllegalTransitionError(Error):
    status: CaseStatusType  # type: ignore[valid-type]
    action: CaseActionType  # type: ignore[valid-type]
    allowed_actions: list[CaseActionType] = strawberry.field(  # type: ignore[valid-type]
        description="What the caller's role could do from this status instead."
    )


@strawberry.type(description="The caller's role or relation to the case does not allow it.")
class ActionNotPermittedError(Error):
    action: CaseActionType  # type: ignore[valid-type]
    allowed_roles: list[RoleType]  # type: ignore[valid-type]


@strawberry.type(description="Someone acted on the case since the caller read it: re-read it.")
class CaseVersionConflictError(Error):
    expected_version: int
    current_version: int
    current_status: CaseStatusType  # type: ignore[valid-type]


@strawberry.type(description="The action needs a note explaining it.")
class NoteRequiredError(Error):
    action: CaseActionType  # type: ignore[valid-type]


@strawberry.type(description="EVALUATE needs a satisfaction level.")
class SatisfactionRequiredError(Error):
    pass


@strawberry.type(description="A verified case closes after its reporter's evaluation window.")
class EvaluationPendingError(Error):
    pass


@strawberry.type(description="The case to merge into is not an open case.")
class MergeTargetInvalidError(Error):
    pass


@strawberry.type(description="Not a registered, active unit (see units).")
class UnknownUnitError(Error):
    unit: str


@strawberry.type(description="The ledger item was already converted, resolved or dropped.")
class LedgerItemSettledError(Error):
    status: str


@strawberry.type(
    description="A meeting date must be a past day: today at the latest, a year back at the "
    "earliest (Zhengzhou dates)."
)
class LedgerDateOutOfRangeError(Error):
    earliest: date
    latest: date


@strawberry.type(description="A ledger item becomes a case only at a location its grid covers.")
class LocationOutsideGridError(Error):
    grid: str = strawberry.field(description="The code of the item's grid.")


def not_found(kind: str, id: object) -> NotFoundError:
    """The same answer for a missing object and for one the caller may not see."""
    return NotFoundError(
        message=f"{kind.replace('_', ' ')} {id} was not found", kind=kind, id=str(id)
    )


_CONVERTERS: dict[type[DomainError], Callable[[Any], Error]] = {
    InvalidCoordinate: InvalidCoordinateError.from_exception,
    InvalidArgument: InvalidArgumentError.from_exception,
    UnknownCaseCategory: lambda e: UnknownCaseCategoryError(
        message=f"unknown case category; known: {', '.join(CASE_CATEGORIES)}",
        code=e.code[:100],
        known=list(CASE_CATEGORIES),
    ),
    InvalidCaseInput: lambda e: InvalidCaseInputError(message=str(e), field=e.field),
    InvalidCursor: lambda e: InvalidArgumentError(message=str(e), argument="after"),
    ChannelNotAllowed: lambda e: ChannelNotAllowedError(message=str(e), channel=Channel(e.channel)),
    IdempotencyKeyReused: lambda e: IdempotencyKeyReusedError(message=str(e)),
    IllegalTransition: lambda e: IllegalTransitionError(
        message=str(e), status=e.status, action=e.action, allowed_actions=list(e.allowed)
    ),
    ActionNotPermitted: lambda e: ActionNotPermittedError(
        message=str(e), action=e.action, allowed_roles=sorted(e.allowed_roles)
    ),
    VersionConflict: lambda e: CaseVersionConflictError(
        message=str(e),
        expected_version=e.expected_version,
        current_version=e.current_version,
        current_status=e.current_status,
    ),
    NoteRequired: lambda e: NoteRequiredError(message=str(e), action=e.action),
    SatisfactionRequired: lambda e: SatisfactionRequiredError(message=str(e)),
    EvaluationPending: lambda e: EvaluationPendingError(message=str(e)),
    MergeTargetInvalid: lambda e: MergeTargetInvalidError(message=str(e)),
    UnknownUnit: lambda e: UnknownUnitError(message=str(e), unit=e.unit[:100]),
    CaseNotFound: lambda e: not_found("case", e.case_id),
    LedgerItemNotFound: lambda e: not_found("ledger_item", e.item_id),
    LedgerItemSettled: lambda e: LedgerItemSettledError(message=str(e), status=e.status.value),
    LedgerNotPermitted: lambda e: NotPermittedError(message=str(e)),
    LedgerDateOutOfRange: lambda e: LedgerDateOutOfRangeError(
        message=str(e), earliest=e.earliest, latest=e.latest
    ),
    LocationOutsideGrid: lambda e: LocationOutsideGridError(message=str(e), grid=e.grid_code),
    UnknownStatsGrid: lambda e: not_found("grid", e.grid_id),
    AuthenticationRequired: lambda e: AuthenticationRequiredError(message=str(e)),
    NotPermitted: lambda e: NotPermittedError(message=str(e)),
}

#: Every failure the case operations answer as data (catch these, nothing broader).
CASE_FAILURES: tuple[type[DomainError], ...] = tuple(_CONVERTERS)


def case_error(error: DomainError) -> Any:
    """The typed error object for ``error`` (one of :data:`CASE_FAILURES`)."""
    for kind in type(error).__mro__:
        if kind in _CONVERTERS:
            return _CONVERTERS[kind](error)
    raise error
