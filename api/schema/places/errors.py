"""Typed errors of merchants, service points and circle codes (which exception each answers:
api.schema.error_registry), and the ids of places."""

from __future__ import annotations

import strawberry

from api.schema.errors import Error
from geo.errors import DomainError


class UnknownId(DomainError):
    """An id that cannot name any record (not a positive 32-bit number): answered NotFound."""

    def __init__(self, kind: str, value: str) -> None:
        super().__init__(f"{kind.replace('_', ' ')} {value!r} does not exist")
        self.kind = kind
        self.value = value


MAX_ID = 2**31 - 1


def known_id(value: str) -> int | None:
    """The integer behind an ID argument, or None when it cannot be one of ours."""
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= MAX_ID:
        return None
    return int(value)


def parse_id(kind: str, value: str) -> int:
    """The integer behind an ID argument; raises UnknownId when it cannot be one of ours."""
    if (found := known_id(value)) is None:
        raise UnknownId(kind, value)
    return found


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
