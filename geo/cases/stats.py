"""Case statistics as the digital urban-management evaluations define them (GB/T 30428 practice).

Population: cases *reported* in ``[from_, to)`` (all of them when no bound is given) whose
grid lies in the subtree of ``grid_id`` (every case, queued ones included, when None), of
``category`` when given. A subtree holds all levels below it, so an L1 figure is the roll-up
of its L2 and L3 figures. Counts come from the cases' current fields; closing, being due
and the deadlines are judged at ``as_of = min(to, now)``.

=====================  ===========================================================================
received (受理/立案数)  registered cases: accepted at some point and not merged into another case
                       (a rejected report was never registered; a merged one counts in the other)
due (应结案数)          received cases that should be closed by ``as_of``: closed, postponed or
                       shelved, or whose handling deadline — or the running stage's deadline —
                       has passed
closed (结案数)         received cases closed before ``as_of``
closure rate (结案率)   closed / due
on-time (按期结案数)    closed cases, never postponed, whose last report of handling came no later
                       than their handling deadline (extensions move that deadline)
on-time closure rate   on-time / (due − postponed): 按期结案率; postponed (缓办) cases leave the
                       denominator, as their deadline was suspended with approval
satisfaction rate      (satisfied + basically satisfied) / evaluated, over every evaluation
(满意率)                of the received cases (an unsatisfied answer reopens a case, which is
                       evaluated again later; the case row counts both, see models.Case)
self-handled (自处置)   closed cases a grid worker found on patrol and fixed on the spot
                       (HANDLE_ON_SITE): inside received, closed and on-time like any other
                       case (verified by someone else), never evaluated (no resident reported
                       them), and counted here apart so that a district can publish them apart
rework rate (返工率)    due cases sent back by a failed on-site check at least once / due
extension rate (延期率) due cases whose deadline was extended at least once / due
hours to close         mean and 90th percentile of working hours from report to close (working
                       time of geo.cases.worktime, fixed when the case closed), closed cases only
=====================  ===========================================================================

Why closed / *due* and not closed / received: that is how the evaluations compute 结案率
(e.g. Tianmen's December 2016 bulletin: 立案 996, 应结案 972, 结案 911 → 93.72 % = 911/972),
and it is the only reading under which the seed's headline holds: 17,154 / 17,182 is
99.84 %, while 99.88 % needs 17,174 or 17,175 cases due, i.e. 7 or 8 of the 28 open cases
still within their deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.cases.models import Case
from geo.cases.queries import in_subtree
from geo.cases.workflow import CaseStatus
from geo.cases.worktime import SHANGHAI
from geo.clock import utcnow
from geo.errors import DomainError
from geo.grids.models import Grid


class GroupBy(StrEnum):
    CHILD_GRID = "child_grid"
    CATEGORY = "category"
    MONTH = "month"


class UnknownStatsGrid(DomainError):
    def __init__(self, grid_id: int) -> None:
        super().__init__(f"grid {grid_id} does not exist")
        self.grid_id = grid_id


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class CaseStats:
    """Counts of one group (see the module docstring for each definition); rates derive."""

    child_grid_id: int | None  # CHILD_GRID: the child grid, None for cases not under one
    category: str | None  # CATEGORY
    month: date | None  # MONTH: first day of the month, Asia/Shanghai
    reported: int
    received: int
    due: int
    closed: int
    closed_on_time: int
    self_handled: int
    postponed: int
    evaluated: int
    satisfied: int
    reworked: int
    extended: int
    mean_hours_to_close: float | None
    p90_hours_to_close: float | None

    @property
    def closure_rate(self) -> float | None:
        """结案率 = closed / due."""
        return _rate(self.closed, self.due)

    @property
    def on_time_closure_rate(self) -> float | None:
        """按期结案率 = closed on time / (due − postponed)."""
        return _rate(self.closed_on_time, self.due - self.postponed)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率 = (satisfied + basically satisfied) / evaluated."""
        return _rate(self.satisfied, self.evaluated)

    @property
    def rework_rate(self) -> float | None:
        """返工率 = reworked / due."""
        return _rate(self.reworked, self.due)

    @property
    def extension_rate(self) -> float | None:
        """延期率 = extended / due."""
        return _rate(self.extended, self.due)


def _indicators(as_of: datetime) -> list[ColumnElement[Any]]:
    received = and_(Case.accepted_at.is_not(None), Case.status != CaseStatus.MERGED.value)
    closed = and_(received, Case.closed_at < as_of)
    stopped = Case.status.in_([CaseStatus.POSTPONED.value, CaseStatus.SHELVED.value])
    due = and_(
        received,
        or_(closed, stopped, Case.handle_deadline <= as_of, Case.deadline <= as_of),
    )
    on_time = and_(closed, not_(Case.postponed), Case.handled_at <= Case.handle_deadline)
    hours = Case.close_work_hours
    return [
        func.count().label("reported"),
        func.count().filter(received).label("received"),
        func.count().filter(due).label("due"),
        func.count().filter(closed).label("closed"),
        func.count().filter(on_time).label("closed_on_time"),
        func.count().filter(and_(closed, Case.self_handled)).label("self_handled"),
        func.count().filter(and_(due, Case.postponed)).label("postponed"),
        func.coalesce(func.sum(Case.evaluation_count).filter(received), 0).label("evaluated"),
        func.coalesce(func.sum(Case.satisfied_count).filter(received), 0).label("satisfied"),
        func.count().filter(and_(due, Case.rework_count > 0)).label("reworked"),
        func.count().filter(and_(due, Case.extension_count > 0)).label("extended"),
        func.avg(hours).filter(closed).label("mean_hours_to_close"),
        func.percentile_cont(0.9).within_group(hours).filter(closed).label("p90_hours_to_close"),
    ]


async def case_stats(
    session: AsyncSession,
    *,
    grid_id: int | None = None,
    from_: datetime | None = None,
    to: datetime | None = None,
    category: str | None = None,
    group_by: GroupBy | None = None,
    now: datetime | None = None,
) -> list[CaseStats]:
    """The indicators of the module docstring, one row per group (one row when ungrouped),
    computed in SQL in one statement (plus one to find the grid's depth for CHILD_GRID)."""
    as_of = min(to, now or utcnow()) if to else (now or utcnow())
    group = await _group_column(session, group_by, grid_id)
    stmt = select(group.label("key"), *_indicators(as_of)).select_from(Case)
    stmt = stmt.outerjoin(Grid, Grid.id == Case.grid_id) if group_by is GroupBy.CHILD_GRID else stmt
    if grid_id is not None:
        stmt = stmt.where(in_subtree(grid_id))
    if from_ is not None:
        stmt = stmt.where(Case.reported_at >= from_)
    if to is not None:
        stmt = stmt.where(Case.reported_at < to)
    if category is not None:
        stmt = stmt.where(Case.category == category)
    if group_by is not None:  # ungrouped, an empty population still gives its one row
        stmt = stmt.group_by(group).order_by(group)
    return [_stats(group_by, row) for row in (await session.execute(stmt)).all()]


async def _group_column(
    session: AsyncSession, group_by: GroupBy | None, grid_id: int | None
) -> ColumnElement[Any]:
    match group_by:
        case None:
            return literal(None)
        case GroupBy.CATEGORY:
            return Case.category
        case GroupBy.MONTH:
            local = func.timezone(SHANGHAI.key, Case.reported_at)
            return func.date_trunc("month", local)
    # Without a grid the population is the whole district: its children are the top-level
    # grid's (the subdistricts), one level below the path's first element.
    depth = 1
    if grid_id is not None:
        path = await session.scalar(select(Grid.path).where(Grid.id == grid_id))
        if path is None:
            raise UnknownStatsGrid(grid_id)
        depth = len(path)
    return Grid.path[depth + 1]  # PostgreSQL arrays count from 1: the child's id


def _stats(group_by: GroupBy | None, row: Any) -> CaseStats:
    key = row.key
    numbers = {name: int(getattr(row, name)) for name in _COUNTS}
    mean, p90 = row.mean_hours_to_close, row.p90_hours_to_close
    return CaseStats(
        child_grid_id=key if group_by is GroupBy.CHILD_GRID else None,
        category=key if group_by is GroupBy.CATEGORY else None,
        month=key.date() if group_by is GroupBy.MONTH and key is not None else None,
        mean_hours_to_close=float(mean) if mean is not None else None,
        p90_hours_to_close=float(p90) if p90 is not None else None,
        **numbers,
    )


_COUNTS = (
    "reported",
    "received",
    "due",
    "closed",
    "closed_on_time",
    "self_handled",
    "postponed",
    "evaluated",
    "satisfied",
    "reworked",
    "extended",
)
