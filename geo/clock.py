"""The one source of 'now': aware UTC datetimes."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
