"""Failures of merchant and service point reads and writes that a caller can act on.

Category, phone, hours and coordinate errors live beside their rules
(``geo.merchants.taxonomy``, ``phones``, ``hours``, ``geo.coords``); these are the rest.
"""

from __future__ import annotations

from geo.errors import DomainError


class OutOfRange(DomainError):
    """A numeric argument outside its documented bounds (``argument`` names it as the API does)."""

    def __init__(self, argument: str, value: float, minimum: float, maximum: float) -> None:
        super().__init__(f"{argument} must be between {minimum:g} and {maximum:g}, got {value:g}")
        self.argument = argument
        self.value = value
        self.minimum = minimum
        self.maximum = maximum


class InvalidCursor(DomainError):
    def __init__(self) -> None:
        super().__init__("the paging cursor is not valid; start again from the first page")


class InvalidField(DomainError):
    """A text field that breaks a rule (empty name, too long, unknown status, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class NotFound(DomainError):
    """No merchant (``kind="merchant"``) or service point with that id."""

    def __init__(self, kind: str, entity_id: int) -> None:
        super().__init__(f"{kind.replace('_', ' ')} {entity_id} does not exist")
        self.kind = kind
        self.entity_id = entity_id


class VersionConflict(DomainError):
    """The record changed since the caller read it; re-read it and apply the change again."""

    def __init__(self, kind: str, entity_id: int, expected: int, current: int) -> None:
        super().__init__(
            f"{kind.replace('_', ' ')} {entity_id} changed: you expected version {expected}, "
            f"it is at version {current}"
        )
        self.kind = kind
        self.entity_id = entity_id
        self.expected_version = expected
        self.current_version = current
