"""Failures of the case service a caller can act on (workflow refusals live in workflow.py)."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from geo.cases.workflow import CaseStatus
from geo.errors import DomainError

E = TypeVar("E", bound=StrEnum)


class CaseNotFound(DomainError):
    def __init__(self, case_id: int) -> None:
        super().__init__(f"case {case_id} does not exist")
        self.case_id = case_id


class VersionConflict(DomainError):
    """Someone acted on the case since the caller read it; re-read and decide again."""

    def __init__(self, case_id: int, expected: int, current_version: int, status: str) -> None:
        super().__init__(
            f"case {case_id} changed: you expected version {expected}, it is at version "
            f"{current_version} and {CaseStatus(status).value.replace('_', ' ')}"
        )
        self.case_id = case_id
        self.expected_version = expected
        self.current_version = current_version
        self.current_status = CaseStatus(status)


class InvalidCaseInput(DomainError):
    """A report or action parameter that breaks a rule (message says which)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class IdempotencyKeyReused(DomainError):
    """The key belongs to a different report (another reporter, category or text)."""

    def __init__(self) -> None:
        super().__init__("this idempotency key was already used for a different report")


class ChannelNotAllowed(DomainError):
    def __init__(self, channel: str) -> None:
        super().__init__(f"only platform staff may report through channel {channel}")
        self.channel = channel


class MergeTargetInvalid(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message)


class InvalidCursor(DomainError):
    def __init__(self) -> None:
        super().__init__("the paging cursor is not valid; start again from the first page")


def parse_enum(field: str, kind: type[E], value: object) -> E:
    """``kind(value)``, or InvalidCaseInput naming the allowed values (not a bare ValueError)."""
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidCaseInput(field, f"must be one of {allowed}") from None
