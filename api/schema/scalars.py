"""Scalars whose output the API fixes: DateTime is written in Asia/Shanghai time.

One convention for every DateTime the API answers: the instant in Asia/Shanghai time with
its offset, ``2027-01-01T00:30:00+08:00`` (China has one time zone and no daylight saving
since 1991, so the offset is always +08:00). The database and the domain keep aware UTC
datetimes; only the written form changes, here, for every field and both executors (the
fast path of api.fast.execution coerces leaves with this same ``serialize``; the nearby lists
PostgreSQL writes as JSON, api.fast.json_nodes, hold no DateTime field and leave those to it).
Inputs are unchanged: an ISO 8601 date and time in any offset names that instant (fields
that also accept a time without offset read it as Zhengzhou wall time, and say so).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Final

from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

from geo.cases.worktime import SHANGHAI


def shanghai_isoformat(value: datetime) -> str:
    """``value`` in Asia/Shanghai time, ISO 8601 with its offset (a naive value is UTC)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(SHANGHAI).isoformat()


DATETIME: Final[ScalarDefinition] = dataclasses.replace(
    DateTimeDefinition,
    description="An instant, ISO 8601. Answers are always in Asia/Shanghai time with their "
    "offset ('2027-01-01T00:30:00+08:00'); inputs may use any offset.",
    serialize=shanghai_isoformat,
)
