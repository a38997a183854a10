"""Reporting a case: validate, route, insert idempotently with its first event, find duplicates.

Idempotency: keys are global, not per reporter (anonymous reports have no reporter to scope
by; clients send UUIDs, which never collide by chance). A retry finds its case by the key
first and returns it with ``created=False``, writing nothing and taking no number. Of
concurrent first reports with one key the UNIQUE index decides, through ``INSERT ... ON
CONFLICT DO NOTHING``: exactly one row is inserted, the others give their number back and
read it. A key presented with another reporter, category or description raises
IdempotencyKeyReused instead of handing out someone else's case.

Numbers (geo.cases.numbers) are taken last, just before the INSERT: the year's counter row
stays locked until the report commits, so everything that can run before it does.

An anonymous report gets a follow code (geo.cases.follow), answered once: only its hash is
stored, so a retry, which finds the stored case, cannot answer it again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from geoalchemy2 import Geography
from sqlalchemy import cast, func, select, text, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from geo.accounts.actor import Actor
from geo.cases.audit import REPORTED, event_row
from geo.cases.categories import Channel, LocationSource, Stage, get_case_category
from geo.cases.chain import GENESIS
from geo.cases.errors import (
    ChannelNotAllowed,
    IdempotencyKeyReused,
    InvalidCaseInput,
    parse_enum,
)
from geo.cases.follow import follow_code_hash, new_follow_code
from geo.cases.models import Case, CaseEvent
from geo.cases.numbers import give_back, take_number
from geo.cases.routing import Routing, route_case
from geo.cases.seal import keys_of
from geo.cases.workflow import CaseStatus
from geo.clock import utcnow
from geo.coords import LonLat
from geo.points import point_sql

DUPLICATE_RADIUS_M: Final = 50.0
DUPLICATE_WINDOW: Final = timedelta(hours=72)
MAX_DUPLICATES: Final = 10
DESCRIPTION_MAX: Final = 4000
ADDRESS_MAX: Final = 500
CONTACT_MAX: Final = 100
KEY_MAX: Final = 100
PHOTOS_MAX: Final = 9
URL_MAX: Final = 2048
ACCURACY_MAX_M: Final = 100_000.0
#: Statuses of cases that are no longer open (not offered as duplicates).
FINISHED: Final = (CaseStatus.CLOSED, CaseStatus.REJECTED, CaseStatus.MERGED)
#: Only platform staff enter cases through the other channels.
PUBLIC_CHANNELS: Final = frozenset({Channel.RESIDENT_APP})


@dataclass(frozen=True, slots=True)
class DuplicateCandidate:
    case_id: int
    number: str
    status: CaseStatus
    distance_m: float
    reported_at: datetime


@dataclass(frozen=True, slots=True)
class ReportResult:
    case: Case
    created: bool
    routing: Routing | None  # None for a retry (the case was routed the first time)
    possible_duplicates: tuple[DuplicateCandidate, ...]
    #: The anonymous reporter's follow code, in clear this once; None for signed-in
    #: reporters and for retries.
    follow_code: str | None = None


def _text(field: str, value: str | None, limit: int, *, required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise InvalidCaseInput(field, "must not be blank")
        return None
    if len(value) > limit:
        raise InvalidCaseInput(field, f"at most {limit} characters")
    if "\x00" in value:
        raise InvalidCaseInput(field, "must not contain NUL characters")
    return value.strip()


def _photos(urls: Sequence[str]) -> list[str]:
    if len(urls) > PHOTOS_MAX:
        raise InvalidCaseInput("photo_urls", f"at most {PHOTOS_MAX} photos")
    for url in urls:
        if _text("photo_urls", url, URL_MAX, required=True) is None or not url.startswith(
            ("https://", "http://")
        ):
            raise InvalidCaseInput("photo_urls", "each must be an http(s) URL")
    return list(urls)


def _accuracy(accuracy_m: float | None, source: LocationSource) -> float:
    if accuracy_m is None:
        return source.default_accuracy_m
    if not math.isfinite(accuracy_m) or not 0 < accuracy_m <= ACCURACY_MAX_M:
        raise InvalidCaseInput("accuracy_m", f"must be a number in (0, {ACCURACY_MAX_M:.0f}]")
    return float(accuracy_m)


async def report_case(
    session: AsyncSession,
    *,
    actor: Actor | None,
    category: str,
    description: str,
    point: LonLat,
    location_source: LocationSource,
    channel: Channel = Channel.RESIDENT_APP,
    accuracy_m: float | None = None,
    address: str | None = None,
    photo_urls: Sequence[str] = (),
    reporter_contact: str | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> ReportResult:
    """Stores and routes a new case with its REPORTED event, or returns the case already
    stored under ``idempotency_key`` (creating nothing); lists possible duplicates."""
    kind = get_case_category(category)
    source = parse_enum("location_source", LocationSource, location_source)
    channel = parse_enum("channel", Channel, channel)
    if channel not in PUBLIC_CHANNELS and not (actor and actor.is_staff):
        raise ChannelNotAllowed(channel)
    values: dict[str, Any] = {
        "category": kind.code,
        "description": _text("description", description, DESCRIPTION_MAX, required=True),
        "accuracy_m": _accuracy(accuracy_m, source),
        "location_source": source.value,
        "address": _text("address", address, ADDRESS_MAX),
        "photo_urls": _photos(photo_urls),
        "channel": channel.value,
        "reporter_user_id": actor.user_id if actor else None,
        "reporter_contact": _text("reporter_contact", reporter_contact, CONTACT_MAX),
        "idempotency_key": _text("idempotency_key", idempotency_key, KEY_MAX),
    }
    now = now or utcnow()
    if values["idempotency_key"] is not None and (found := await _existing(session, values)):
        return await _retry(session, found, point, now)
    routing = await route_case(session, point, accuracy_m=values["accuracy_m"], source=source)
    duplicates = await _open_nearby(session, kind.code, point, now, exclude_id=None)
    code = new_follow_code() if actor is None else None
    values["follow_code_hash"] = follow_code_hash(code) if code else None
    case = await _insert(session, values, point, routing, actor, now, kind.due(Stage.ACCEPT, now))
    if case is None:  # a concurrent report with the same key was first
        found = await _existing(session, values)
        assert found is not None
        return await _retry(session, found, point, now)
    return ReportResult(case, True, routing, duplicates, code)


async def _retry(session: AsyncSession, case: Case, point: LonLat, now: datetime) -> ReportResult:
    duplicates = await possible_duplicates(session, case, point=point, now=now)
    return ReportResult(case, False, None, duplicates)


_INSERT = (
    insert(Case)
    .on_conflict_do_nothing(index_elements=[Case.idempotency_key])
    .returning(Case, sort_by_parameter_order=True)
)


async def _insert(
    session: AsyncSession,
    values: dict[str, Any],
    point: LonLat,
    routing: Routing,
    actor: Actor | None,
    now: datetime,
    deadline: datetime,
) -> Case | None:
    # The id is drawn first because the first event's hash covers it, and the case row
    # stores that hash: one INSERT each, no UPDATE afterwards.
    case_id = await session.scalar(text("SELECT nextval('cases_id_seq')"))
    number = await take_number(session, now)
    event = event_row(
        case_id=case_id,
        seq=1,
        prev_hash=GENESIS,
        action=REPORTED,
        from_status=None,
        to_status=CaseStatus.REPORTED,
        actor=actor,
        note=None,
        details={"routing": routing.reason.value, **routing.details},
        occurred_at=now,
    )
    row = values | {
        "id": case_id,
        "number": number,
        "location": point.to_ewkt(),
        "status": CaseStatus.REPORTED.value,
        "version": 1,
        "grid_id": routing.grid.id if routing.grid else None,
        "assignee_worker_id": routing.worker_id,
        "routing_reason": routing.reason.value,
        "deadline": deadline,
        "reported_at": now,
        "last_event_hash": event["hash"],
        "trail_seal": keys_of(session).seal(case_id, 1, event["hash"]),
    }
    # Values travel as parameters of one cached statement (not .values(), which rebuilds
    # and re-keys the statement for every report).
    case = (await session.scalars(_INSERT, [row])).one_or_none()
    if case is None:
        await give_back(session, number)
        return None
    session.add(CaseEvent(**event))
    await session.flush()
    return case


async def _existing(session: AsyncSession, values: dict[str, Any]) -> Case | None:
    """The case stored under the report's key, or None; IdempotencyKeyReused when that case
    is another report."""
    stmt = select(Case).where(Case.idempotency_key == values["idempotency_key"])
    case = (await session.scalars(stmt)).one_or_none()
    if case is None:
        return None
    same = (case.reporter_user_id, case.category, case.description) == (
        values["reporter_user_id"],
        values["category"],
        values["description"],
    )
    if not same:
        raise IdempotencyKeyReused
    return case


async def possible_duplicates(
    session: AsyncSession, case: Case, *, point: LonLat, now: datetime | None = None
) -> tuple[DuplicateCandidate, ...]:
    """Open cases of the case's category within DUPLICATE_RADIUS_M (geodesic) of ``point``,
    reported in the DUPLICATE_WINDOW before ``now``; nearest first, the case itself excluded."""
    return await _open_nearby(session, case.category, point, now or utcnow(), exclude_id=case.id)


async def _open_nearby(
    session: AsyncSession, category: str, point: LonLat, now: datetime, *, exclude_id: int | None
) -> tuple[DuplicateCandidate, ...]:
    here = point_sql(point)
    distance = func.ST_Distance(cast(Case.location, Geography), cast(here, Geography))
    # The planar box (a little over 50 m in degrees at this latitude) lets the GiST index
    # pick the few nearby cases before the geodesic test runs.
    margin = DUPLICATE_RADIUS_M / (110_574.0 * max(math.cos(math.radians(point.lat)), 0.01))
    stmt = (
        select(Case.id, Case.number, Case.status, distance.label("d"), Case.reported_at)
        .where(
            Case.category == category,
            Case.id != exclude_id if exclude_id is not None else true(),
            Case.status.not_in([s.value for s in FINISHED]),
            Case.reported_at >= now - DUPLICATE_WINDOW,
            Case.location.op("&&")(func.ST_Expand(here, margin * 1.01)),
            func.ST_DWithin(
                cast(Case.location, Geography), cast(here, Geography), DUPLICATE_RADIUS_M
            ),
        )
        .order_by(distance, Case.id)
        .limit(MAX_DUPLICATES)
    )
    rows = (await session.execute(stmt)).all()
    return tuple(
        DuplicateCandidate(r.id, r.number, CaseStatus(r.status), float(r.d), r.reported_at)
        for r in rows
    )
