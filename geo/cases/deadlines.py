"""Deadlines and the working calendar: which ones may still move, and moving them.

Provisional deadlines
---------------------
A deadline counted in working time (every category but the ``around_the_clock`` ones) is
*provisional* while the year it falls in has no known State Council notice
(:func:`geo.calendar.days.is_confirmed`): that year's 调休 may still move it. The case's
running deadline (``deadline``) decides; a case whose clock is stopped has none.

Recomputing when a notice is entered
------------------------------------
Each deadline was counted as some working time W from its stage's start s (a category
limit, an extension, a resumed clock...). The new notice changes days from F, its first
changed day, onwards; before F both calendars agree. So for an anchor a = max(F, the
case's latest event), which lies after s (every clock starts with an event) and before
which nothing changed, the deadline keeps its working time from a:

    new = add_working_hours(a, working_hours_between(a, old))   (new calendar / old one)

This needs neither the stage nor how the deadline was made, and treats ``deadline`` and
``handle_deadline`` alike, for open cases whose either one is at or after F's midnight.
A deadline already passed at the anchor is history and stays; one the calendar change does
not reach stays to the microsecond (an explicit extension to 20:00 is not snapped to
17:30). When the notice is entered late, after F, the working time of changed days between
the stage's start and the case's latest event is counted as it was: the past is not
re-judged. Nothing is written to the case's trail, and its version does not move (versions
count events); the notice's row says who entered it and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.calendar import days
from geo.cases.categories import get_case_category
from geo.cases.models import Case, CaseEvent
from geo.cases.workflow import TERMINAL
from geo.cases.worktime import SHANGHAI, add_working_hours, working_hours_between

__all__ = ["FIELDS", "Measured", "is_provisional", "measure", "reapply"]

#: The deadline columns a notice can move.
FIELDS = ("deadline", "handle_deadline")


def is_provisional(case: Case) -> bool:
    """True while the case's running deadline falls in a year without a known notice."""
    if case.deadline is None or get_case_category(case.category).around_the_clock:
        return False
    return not days.is_confirmed(case.deadline.astimezone(SHANGHAI).year)


@dataclass(slots=True)
class Measured:
    """A case's deadlines as working time from its anchor, under the calendar they were
    counted with: field -> (hours, the instant those hours end at under that calendar)."""

    case: Case
    anchor: datetime
    hours: dict[str, tuple[float, datetime]]


async def measure(session: AsyncSession, first_changed: date) -> list[Measured]:
    """Locks the open cases with a deadline at or after ``first_changed`` (Beijing date) and
    measures those deadlines under the calendar installed now."""
    since = datetime.combine(first_changed, time(0), tzinfo=SHANGHAI)
    latest = (
        select(func.max(CaseEvent.occurred_at))
        .where(CaseEvent.case_id == Case.id)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Case, latest)
        .where(
            Case.status.not_in([s.value for s in TERMINAL]),
            or_(Case.deadline >= since, Case.handle_deadline >= since),
        )
        .order_by(Case.id)
        .with_for_update(of=Case)
    )
    measured = []
    for case, last_event in rows:
        if get_case_category(case.category).around_the_clock:
            continue  # natural hours: no calendar in them
        anchor = max(since, last_event or case.reported_at)
        hours = {}
        for field in FIELDS:
            value: datetime | None = getattr(case, field)
            if value is not None and value > anchor:
                worked = working_hours_between(anchor, value)
                hours[field] = (worked, add_working_hours(anchor, worked))
        if hours:
            measured.append(Measured(case, anchor, hours))
    return measured


def reapply(measured: list[Measured]) -> int:
    """Moves the measured deadlines to where their working time ends under the calendar
    installed now; returns how many cases moved."""
    moved = 0
    for entry in measured:
        changed = False
        for field, (worked, counted) in entry.hours.items():
            now_ends = add_working_hours(entry.anchor, worked)
            if now_ends != counted:
                setattr(entry.case, field, now_ends)
                changed = True
        moved += changed
    return moved
