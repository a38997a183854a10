"""Typed errors of the case operations: every expected failure is a member of the
operation's result union, never a GraphQL error (api.schema.error_registry maps them)."""

from __future__ import annotations

from datetime import date

import strawberry

from api.schema.cases.enums import CaseActionType, CaseStatusType, ChannelType, RoleType
from api.schema.errors import Error


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
