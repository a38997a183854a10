"""Typed errors of merchants, service points and circle codes, and the one registry that maps
domain exceptions to them (resolvers catch DomainError and call :func:`typed_error`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from api.schema.common import InvalidArgument, InvalidArgumentError, InvalidCoordinateError
from api.schema.errors import AuthenticationRequiredError, Error, NotPermittedError
from api.schema.permissions import AuthenticationRequired, NotPermitted
from geo.circles.coverage import CoverageBudgetSpent
from geo.circles.queries import CircleCodeNotFound
from geo.circles.service import CodeTaken, UnknownGrid
from geo.coords import InvalidCoordinate
from geo.errors import DomainError
from geo.merchants.taxonomy import UnknownCategory
from geo.places.errors import InvalidCursor, InvalidField, NotFound, OutOfRange, VersionConflict
from geo.places.hours import InvalidOpeningHours
from geo.places.phones import InvalidPhone
from geo.service_points.kinds import UnknownServicePointKind


class UnknownId(DomainError):
    """An id that cannot name any record (not a positive 32-bit number): answered NotFound."""

    def __init__(self, kind: str, value: str) -> None:
        super().__init__(f"{kind.replace('_', ' ')} {value!r} does not exist")
        self.kind = kind
        self.value = value


MAX_ID = 2**31 - 1


def parse_id(kind: str, value: str) -> int:
    """The integer behind an ID argument; raises UnknownId when it cannot be one of ours."""
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= MAX_ID:
        raise UnknownId(kind, value)
    return int(value)


@strawberry.type(description="A category code not in the taxonomy; see merchantCategories.")
class UnknownCategoryError(Error):
    code: str


@strawberry.type(description="A service point kind not in the list; see servicePointKinds.")
class UnknownServicePointKindError(Error):
    code: str


@strawberry.type(
    description="Not a Chinese phone number: a mobile (13800138000), a landline with area "
    "code (0371-67891234) or a 400/800 number."
)
class InvalidPhoneError(Error):
    phone: str


@strawberry.type(
    description="Opening hours that cannot be read. The form is OpenStreetMap's, e.g. "
    "'Mo-Fr 07:00-22:00; Sa,Su 08:00-02:00', '24/7' or 'off'."
)
class InvalidOpeningHoursError(Error):
    hours: str | None
    position: int | None = strawberry.field(description="Where in the text it went wrong.")


@strawberry.type(description="Nothing with this id or code (or it is retired).")
class NotFoundError(Error):
    kind: str = strawberry.field(
        description="merchant, service_point, grid or circle_code.",
    )
    id: str


@strawberry.type(description="The record changed since it was read; read it again and retry.")
class VersionConflictError(Error):
    expected_version: int
    current_version: int


def _argument(name: str) -> Callable[[Any], InvalidArgumentError]:
    return lambda e: InvalidArgumentError(message=str(e), argument=name)


_REGISTRY: tuple[tuple[type[DomainError], Callable[[Any], Error]], ...] = (
    (AuthenticationRequired, lambda e: AuthenticationRequiredError(message=str(e))),
    (NotPermitted, lambda e: NotPermittedError(message=str(e))),
    (InvalidArgument, InvalidArgumentError.from_exception),
    (OutOfRange, lambda e: InvalidArgumentError(message=str(e), argument=e.argument)),
    (InvalidField, lambda e: InvalidArgumentError(message=str(e), argument=e.field)),
    (InvalidCursor, _argument("after")),
    (CodeTaken, _argument("code")),
    (CoverageBudgetSpent, _argument("spacingM")),
    (InvalidCoordinate, InvalidCoordinateError.from_exception),
    (UnknownCategory, lambda e: UnknownCategoryError(message=str(e), code=e.code)),
    (
        UnknownServicePointKind,
        lambda e: UnknownServicePointKindError(message=str(e), code=e.code),
    ),
    (InvalidPhone, lambda e: InvalidPhoneError(message=str(e), phone=e.text)),
    (
        InvalidOpeningHours,
        lambda e: InvalidOpeningHoursError(message=str(e), hours=e.text, position=e.position),
    ),
    (NotFound, lambda e: NotFoundError(message=str(e), kind=e.kind, id=str(e.entity_id))),
    (UnknownId, lambda e: NotFoundError(message=str(e), kind=e.kind, id=e.value)),
    (UnknownGrid, lambda e: NotFoundError(message=str(e), kind="grid", id=e.code)),
    (CircleCodeNotFound, lambda e: NotFoundError(message=str(e), kind="circle_code", id=e.code)),
    (
        VersionConflict,
        lambda e: VersionConflictError(
            message=str(e),
            expected_version=e.expected_version,
            current_version=e.current_version,
        ),
    ),
)


def typed_error(error: DomainError) -> Any:
    """The schema's error object for an expected failure; anything unregistered is re-raised,
    so that it is masked and logged like any unexpected error."""
    for kind, make in _REGISTRY:
        if isinstance(error, kind):
            return make(error)
    raise error
