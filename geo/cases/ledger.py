"""The meeting ledger (台账): issues raised at community meetings, per grid, convertible into
cases. Staff record and settle items of grids in their scope (district seats: all).

An item records a meeting that took place: its date (Asia/Shanghai) is today at the latest
and at most :data:`MAX_AGE_DAYS` back (a year, the same date last year included), so that a
typo (2030 for 2026) or last decade's minutes do not enter this year's ledger. An item
becomes a case only at a location its own grid covers (``ST_Covers``: its edges included),
so that conversion cannot move a community's issue into another grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.accounts.actor import Actor
from geo.cases.categories import Channel, LocationSource
from geo.cases.errors import InvalidCaseInput
from geo.cases.models import LedgerItem
from geo.cases.queries import MAX_PAGE_SIZE, subtree_ids
from geo.cases.reporting import ReportResult, report_case
from geo.cases.worktime import SHANGHAI
from geo.clock import utcnow
from geo.coords import LonLat
from geo.errors import DomainError
from geo.grids.models import Grid
from geo.points import point_sql

TEXT_MAX: Final = 4000
MEETING_MAX: Final = 200
MAX_AGE_DAYS: Final = 366


class LedgerStatus(StrEnum):
    OPEN = "open"
    CONVERTED = "converted"  # became a case (converted_case_id)
    RESOLVED = "resolved"  # settled at the meeting or by the community itself
    DROPPED = "dropped"  # withdrawn


class LedgerItemNotFound(DomainError):
    def __init__(self, item_id: int) -> None:
        super().__init__(f"ledger item {item_id} does not exist")
        self.item_id = item_id


class LedgerNotPermitted(DomainError):
    def __init__(self) -> None:
        super().__init__("only staff of the grid keep its ledger")


class LedgerItemOutOfScope(LedgerNotPermitted):
    """An item of a grid whose ledger the actor does not keep: to them it is as if it did not
    exist (the API answers it as a missing item)."""

    def __init__(self, item_id: int) -> None:
        super().__init__()
        self.item_id = item_id


class LedgerDateOutOfRange(DomainError):
    """A meeting date after today or more than MAX_AGE_DAYS back (Asia/Shanghai dates)."""

    def __init__(self, earliest: date, latest: date) -> None:
        super().__init__(
            f"a meeting date lies from {earliest} to {latest} (Zhengzhou dates): "
            "not in the future, at most a year back"
        )
        self.earliest, self.latest = earliest, latest


class LocationOutsideGrid(DomainError):
    """A conversion's location that the item's grid does not cover."""

    def __init__(self, grid_code: str) -> None:
        super().__init__(f"the location lies outside grid {grid_code}, whose ledger holds the item")
        self.grid_code = grid_code


class LedgerItemSettled(DomainError):
    def __init__(self, item_id: int, status: str) -> None:
        super().__init__(f"ledger item {item_id} is already {status}")
        self.item_id, self.status = item_id, LedgerStatus(status)


async def _check_scope(
    session: AsyncSession, actor: Actor, grid_id: int, *, item_id: int | None = None
) -> None:
    """Refuses an actor who does not keep the grid's ledger (of the item, when given)."""
    path = await session.scalar(select(Grid.path).where(Grid.id == grid_id))
    if path is None:
        raise InvalidCaseInput("grid_id", f"grid {grid_id} does not exist")
    if not may_keep_ledger(actor, path):
        raise LedgerNotPermitted if item_id is None else LedgerItemOutOfScope(item_id)


def may_keep_ledger(actor: Actor, grid_path: Sequence[int]) -> bool:
    """Staff bound to the grid or above it, and district seats, keep (and read) its ledger."""
    return actor.is_staff and (actor.is_district_seat or actor.covers(grid_path))


def _words(field: str, value: str, limit: int) -> str:
    if not value.strip() or len(value) > limit or "\x00" in value:
        raise InvalidCaseInput(field, f"1 to {limit} characters, no NUL")
    return value.strip()


async def record_ledger_item(
    session: AsyncSession,
    *,
    actor: Actor,
    grid_id: int,
    meeting: str,
    raised_at: datetime,
    text: str,
    now: datetime | None = None,
) -> LedgerItem:
    """Adds an open item to the grid's ledger; the actor must be staff of that grid and the
    meeting date a past one (module docstring)."""
    await _check_scope(session, actor, grid_id)
    if raised_at.tzinfo is None:
        raise InvalidCaseInput("raised_at", "must be timezone-aware")
    _check_meeting_date(raised_at, now or utcnow())
    item = LedgerItem(
        grid_id=grid_id,
        meeting=_words("meeting", meeting, MEETING_MAX),
        raised_at=raised_at,
        text=_words("text", text, TEXT_MAX),
        status=LedgerStatus.OPEN.value,
        recorded_by_id=actor.user_id,
    )
    session.add(item)
    await session.flush()
    return item


def _check_meeting_date(raised_at: datetime, now: datetime) -> None:
    latest = now.astimezone(SHANGHAI).date()
    earliest = latest - timedelta(days=MAX_AGE_DAYS)
    if not earliest <= raised_at.astimezone(SHANGHAI).date() <= latest:
        raise LedgerDateOutOfRange(earliest, latest)


async def list_ledger_items(
    session: AsyncSession,
    *,
    grid_id: int | None = None,
    statuses: Sequence[LedgerStatus] = (),
    first: int = 50,
    after_id: int | None = None,
) -> list[LedgerItem]:
    """Items of the grid's subtree (all grids when None), newest first, keyset on id."""
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidCaseInput("first", f"must be between 1 and {MAX_PAGE_SIZE}")
    stmt = select(LedgerItem).order_by(LedgerItem.id.desc()).limit(first)
    if grid_id is not None:
        stmt = stmt.where(LedgerItem.grid_id.in_(subtree_ids(grid_id)))
    if statuses:
        stmt = stmt.where(LedgerItem.status.in_([LedgerStatus(s).value for s in statuses]))
    if after_id is not None:
        stmt = stmt.where(LedgerItem.id < after_id)
    return list(await session.scalars(stmt))


async def _open_item(session: AsyncSession, actor: Actor, item_id: int) -> LedgerItem:
    stmt = select(LedgerItem).where(LedgerItem.id == item_id).with_for_update()
    item = await session.scalar(stmt.execution_options(populate_existing=True))
    if item is None:
        raise LedgerItemNotFound(item_id)
    await _check_scope(session, actor, item.grid_id, item_id=item_id)
    if item.status != LedgerStatus.OPEN:
        raise LedgerItemSettled(item_id, item.status)
    return item


async def settle_ledger_item(
    session: AsyncSession, *, item_id: int, actor: Actor, status: LedgerStatus
) -> LedgerItem:
    """Marks an open item RESOLVED or DROPPED."""
    if LedgerStatus(status) not in (LedgerStatus.RESOLVED, LedgerStatus.DROPPED):
        raise InvalidCaseInput("status", "an item is settled as resolved or dropped")
    item = await _open_item(session, actor, item_id)
    item.status = LedgerStatus(status).value
    await session.flush()
    return item


async def convert_ledger_item(
    session: AsyncSession,
    *,
    item_id: int,
    actor: Actor,
    category: str,
    point: LonLat,
    location_source: LocationSource = LocationSource.MAP_PICK,
    accuracy_m: float | None = None,
    address: str | None = None,
) -> tuple[LedgerItem, ReportResult]:
    """Reports the open item as a case (channel MEETING_LEDGER, its text as description)
    and links the two; the item locks first, so an item becomes at most one case."""
    item = await _open_item(session, actor, item_id)
    await _check_covered(session, item.grid_id, point)
    result = await report_case(
        session,
        actor=actor,
        category=category,
        description=item.text,
        point=point,
        location_source=location_source,
        channel=Channel.MEETING_LEDGER,
        accuracy_m=accuracy_m,
        address=address,
        idempotency_key=f"ledger-item-{item.id}",
    )
    item.status, item.converted_case_id = LedgerStatus.CONVERTED.value, result.case.id
    await session.flush()
    return item, result


async def _check_covered(session: AsyncSession, grid_id: int, point: LonLat) -> None:
    here = point_sql(point)
    stmt = select(Grid.code, func.ST_Covers(Grid.boundary, here)).where(Grid.id == grid_id)
    code, covered = (await session.execute(stmt)).one()
    if not covered:
        raise LocationOutsideGrid(code)
