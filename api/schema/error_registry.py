"""The one error registry: each expected failure and the typed error object it answers.

Resolvers raise (or let the domain raise) and map nothing. The schema hands :data:`ERRORS` to
strawberry's exception handling (``Schema(exception_handlers=...)``): when strawberry builds a
field whose result union holds an entry's error type, it wraps that field's resolver, and the
entry's exception raised there answers the entry's object instead. The wrapper is part of the
resolver strawberry builds, so every executor runs it (graphql-core's, api.fast's). A field
whose type is no such union is built without it (a merchant's fields, gridAt's grid), so it
pays nothing. An exception no entry maps to a member of the field's union goes on as a
GraphQL error: a schema or resolver mistake for the tests to catch.

An exception may have several entries when operations type it differently: the first whose
error type the field's union holds answers (InvalidArgument is an InvalidArgumentError, and
an InvalidCaseInputError in the case operations, whose unions hold only the latter). A
subclass's entries are tried before its base's (:func:`_most_specific_first`).

Which failure a caller is told is not decided here: a refusal on a case the caller may not
see is raised as CaseNotFound (api.schema.cases.actions), a ledger item outside the caller's
grids as LedgerItemOutOfScope (geo.cases.ledger).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from api.schema.cases.errors import (
    ActionNotPermittedError,
    CaseVersionConflictError,
    ChannelNotAllowedError,
    EvaluationPendingError,
    IdempotencyKeyReusedError,
    IllegalTransitionError,
    InvalidCaseInputError,
    LedgerDateOutOfRangeError,
    LedgerItemSettledError,
    LocationOutsideGridError,
    MergeTargetInvalidError,
    NoteRequiredError,
    SatisfactionRequiredError,
    UnknownCaseCategoryError,
    UnknownUnitError,
)
from api.schema.common import InvalidArgument, InvalidArgumentError, InvalidCoordinateError
from api.schema.errors import AuthenticationRequiredError, Error, NotPermittedError
from api.schema.grids.resolvers import GeoJSONNotJSON, GridImportError, GridImportProblem
from api.schema.permissions import AuthenticationRequired, NotPermitted
from api.schema.places.errors import (
    InvalidOpeningHoursError,
    InvalidPhoneError,
    NotFoundError,
    UnknownCategoryError,
    UnknownId,
    UnknownServicePointKindError,
    VersionConflictError,
)
from geo.accounts import tokens
from geo.accounts.service import InvalidUser, UnknownGridCode, UserNotFound
from geo.accounts.units import InvalidUnit, UnknownUnit
from geo.calendar.service import InvalidNotice
from geo.cases import errors as cases
from geo.cases.categories import CASE_CATEGORIES, Channel, UnknownCaseCategory
from geo.cases.follow import FollowedCaseNotFound
from geo.cases.ledger import (
    LedgerDateOutOfRange,
    LedgerItemNotFound,
    LedgerItemOutOfScope,
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
from geo.circles.coverage import CoverageBudgetSpent
from geo.circles.queries import CircleCodeNotFound
from geo.circles.service import CodeTaken, UnknownGrid
from geo.coords import InvalidCoordinate
from geo.grids.service import GridImportFailed
from geo.merchants.taxonomy import UnknownCategory
from geo.places import errors as places
from geo.places.hours import InvalidOpeningHours
from geo.places.phones import InvalidPhone
from geo.service_points.kinds import UnknownServicePointKind


@dataclass(frozen=True, slots=True)
class Answer:
    """One entry, a strawberry exception handler (``strawberry.ExceptionHandler``'s protocol):
    ``exception_type`` raised in a field whose union holds ``error_type`` answers ``make`` of
    it."""

    exception_type: type[Exception]
    error_type: type[Error]
    make: Callable[[Any], Error]

    def handle(self, exception: Exception, *, field: Any, info: Any) -> Error:
        return self.make(exception)


def _entry(
    exception_type: type[Exception],
    error_type: type[Error],
    make: Callable[[Any], Error] | None = None,
    **fields: str,
) -> Answer:
    """An entry. Its error object holds the exception's message and, for each error field of
    ``fields``, the exception's attribute named there; ``make`` builds it when that is not
    enough."""

    def copy(e: Any) -> Error:
        return error_type(message=str(e), **{name: getattr(e, a) for name, a in fields.items()})

    return Answer(exception_type, error_type, make or copy)


def _argument(exception_type: type[Exception], name: str) -> Answer:
    """The exception is about the argument ``name``."""
    make = lambda e: InvalidArgumentError(message=str(e), argument=name)  # noqa: E731
    return Answer(exception_type, InvalidArgumentError, make)


def _found_not(
    exception_type: type[Exception], kind: str | None, id_of: Callable[[Any], object]
) -> Answer:
    """A missing object, in the exception's own words (``kind`` None: the exception's)."""

    def make(e: Any) -> NotFoundError:
        return NotFoundError(message=str(e), kind=kind or e.kind, id=str(id_of(e)))

    return Answer(exception_type, NotFoundError, make)


def _missing(exception_type: type[Exception], kind: str, id_of: Callable[[Any], object]) -> Answer:
    """A missing object, or one the caller may not see: both answer the same words."""

    def make(e: Any) -> NotFoundError:
        id = id_of(e)
        return NotFoundError(
            message=f"{kind.replace('_', ' ')} {id} was not found", kind=kind, id=str(id)
        )

    return Answer(exception_type, NotFoundError, make)


def _most_specific_first(entries: Iterable[Answer]) -> tuple[Answer, ...]:
    """The entries with every subclass's before its bases' (strawberry takes the first match);
    the order of the entries of one exception type is kept."""
    return tuple(sorted(entries, key=lambda entry: -len(entry.exception_type.__mro__)))


def _case_category(e: UnknownCaseCategory) -> UnknownCaseCategoryError:
    known = list(CASE_CATEGORIES)
    message = f"unknown case category; known: {', '.join(known)}"
    return UnknownCaseCategoryError(message=message, code=e.code[:100], known=known)


def _illegal(e: IllegalTransition) -> IllegalTransitionError:
    allowed = list(e.allowed)
    return IllegalTransitionError(
        message=str(e), status=e.status, action=e.action, allowed_actions=allowed
    )


def _not_permitted(e: ActionNotPermitted) -> ActionNotPermittedError:
    roles = sorted(e.allowed_roles)
    return ActionNotPermittedError(message=str(e), action=e.action, allowed_roles=roles)


def _import_failed(e: GridImportFailed | GeoJSONNotJSON) -> GridImportError:
    problems = [GridImportProblem.from_problem(p) for p in e.problems]
    return GridImportError(message=str(e), problems=problems)


_VERSIONS = {"expected_version": "expected_version", "current_version": "current_version"}

ERRORS: tuple[Answer, ...] = _most_specific_first(
    (
        # Refusals (api.schema.permissions; the ledger's own in geo.cases.ledger).
        _entry(AuthenticationRequired, AuthenticationRequiredError),
        _entry(NotPermitted, NotPermittedError),
        _entry(LedgerNotPermitted, NotPermittedError),
        # Arguments.
        _entry(InvalidArgument, InvalidArgumentError, argument="argument"),
        _entry(InvalidArgument, InvalidCaseInputError, field="argument"),
        _entry(places.OutOfRange, InvalidArgumentError, argument="argument"),
        _entry(places.InvalidField, InvalidArgumentError, argument="field"),
        _entry(
            InvalidNotice,
            InvalidArgumentError,
            lambda e: InvalidArgumentError(message=str(e), argument=f"input.{e.argument}"),
        ),
        _argument(places.InvalidCursor, "after"),
        _argument(cases.InvalidCursor, "after"),
        _argument(CodeTaken, "code"),
        _argument(CoverageBudgetSpent, "spacingM"),
        _argument(InvalidUser, "input"),
        _argument(tokens.InvalidTokenRequest, "input"),
        _argument(InvalidUnit, "name"),
        _entry(InvalidCoordinate, InvalidCoordinateError, InvalidCoordinateError.from_exception),
        # Places: merchants and service points.
        _entry(UnknownCategory, UnknownCategoryError, code="code"),
        _entry(UnknownServicePointKind, UnknownServicePointKindError, code="code"),
        _entry(InvalidPhone, InvalidPhoneError, phone="text"),
        _entry(InvalidOpeningHours, InvalidOpeningHoursError, hours="text", position="position"),
        _entry(places.VersionConflict, VersionConflictError, **_VERSIONS),
        # Cases.
        _entry(UnknownCaseCategory, UnknownCaseCategoryError, _case_category),
        _entry(cases.InvalidCaseInput, InvalidCaseInputError, field="field"),
        _entry(
            cases.ChannelNotAllowed,
            ChannelNotAllowedError,
            lambda e: ChannelNotAllowedError(message=str(e), channel=Channel(e.channel)),
        ),
        _entry(cases.IdempotencyKeyReused, IdempotencyKeyReusedError),
        _entry(IllegalTransition, IllegalTransitionError, _illegal),
        _entry(ActionNotPermitted, ActionNotPermittedError, _not_permitted),
        _entry(
            cases.VersionConflict,
            CaseVersionConflictError,
            **_VERSIONS,
            current_status="current_status",
        ),
        _entry(NoteRequired, NoteRequiredError, action="action"),
        _entry(SatisfactionRequired, SatisfactionRequiredError),
        _entry(EvaluationPending, EvaluationPendingError),
        _entry(cases.MergeTargetInvalid, MergeTargetInvalidError),
        _entry(
            UnknownUnit,
            UnknownUnitError,
            lambda e: UnknownUnitError(message=str(e), unit=e.unit[:100]),
        ),
        _entry(
            LedgerItemSettled,
            LedgerItemSettledError,
            lambda e: LedgerItemSettledError(message=str(e), status=e.status.value),
        ),
        _entry(
            LedgerDateOutOfRange, LedgerDateOutOfRangeError, earliest="earliest", latest="latest"
        ),
        _entry(LocationOutsideGrid, LocationOutsideGridError, grid="grid_code"),
        # Grids.
        _entry(GridImportFailed, GridImportError, _import_failed),
        _entry(GeoJSONNotJSON, GridImportError, _import_failed),
        # Whatever is not there: NotFoundError, for every kind of object.
        _found_not(places.NotFound, None, lambda e: e.entity_id),
        _found_not(UnknownId, None, lambda e: e.value),
        _found_not(UnknownGrid, "grid", lambda e: e.code),
        _found_not(UnknownGridCode, "grid", lambda e: e.code),
        _found_not(CircleCodeNotFound, "circle_code", lambda e: e.code),
        _found_not(UserNotFound, "user", lambda e: e.user_id),
        _found_not(tokens.TokenNotFound, "token", lambda e: e.prefix),
        _found_not(UnknownUnit, "unit", lambda e: e.unit),  # where a unit is not a case's
        _missing(cases.CaseNotFound, "case", lambda e: e.case_id),
        _missing(FollowedCaseNotFound, "case", lambda e: e.number),
        _missing(LedgerItemNotFound, "ledger_item", lambda e: e.item_id),
        _missing(LedgerItemOutOfScope, "ledger_item", lambda e: e.item_id),
        _missing(UnknownStatsGrid, "grid", lambda e: e.grid_id),
    )
)
