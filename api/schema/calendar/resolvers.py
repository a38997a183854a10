"""The working calendar over GraphQL: anyone reads it; administrators enter a year's notice.

``workingCalendar`` answers a union, ``WorkingCalendar { days }`` or InvalidArgumentError
for a range it will not answer (reversed, longer than :data:`MAX_DAYS`, outside 1901-2099):
a bad argument is an expected failure, so it is data with a type like every other one, not
a GraphQL error (the issue sketched a bare list; a list cannot carry a typed error).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final

import strawberry

from api.schema.calendar.types import (
    CalendarDay,
    SetWorkingCalendarYearResult,
    WorkingCalendarYearInput,
    WorkingCalendarYearSet,
)
from api.schema.common import InvalidArgument, InvalidArgumentError
from api.schema.context import Info
from api.schema.permissions import Permission, require
from geo.calendar import days, service
from geo.calendar.days import NoticeDay
from geo.calendar.holidays import LUNAR_YEARS

#: Longest range one workingCalendar call answers (a leap year).
MAX_DAYS: Final = 366
FIRST_DAY: Final = dt.date(LUNAR_YEARS.start, 1, 1)
LAST_DAY: Final = dt.date(LUNAR_YEARS.stop - 1, 12, 31)


@strawberry.type(description="The days asked for, in order.")
class WorkingCalendar:
    days: list[CalendarDay]


WorkingCalendarResult = Annotated[
    WorkingCalendar | InvalidArgumentError, strawberry.union("WorkingCalendarResult")
]


@strawberry.type
class CalendarQuery:
    @strawberry.field(
        description=f"The working calendar from `from` to `to`, both included (at most "
        f"{MAX_DAYS} days, {FIRST_DAY.year}-{LAST_DAY.year}). Anyone may read it."
    )
    def working_calendar(
        self,
        from_: Annotated[dt.date, strawberry.argument(name="from")],
        to: dt.date,
    ) -> WorkingCalendarResult:
        for argument, value in (("from", from_), ("to", to)):
            if not FIRST_DAY <= value <= LAST_DAY:
                raise InvalidArgument(argument, f"the calendar covers {FIRST_DAY} to {LAST_DAY}")
        if to < from_:
            raise InvalidArgument("to", "to is before from")
        if (to - from_).days >= MAX_DAYS:
            raise InvalidArgument("to", f"at most {MAX_DAYS} days at a time")
        return WorkingCalendar(days=[CalendarDay.of(d) for d in days.days_between(from_, to)])


@strawberry.type
class CalendarMutation:
    @strawberry.mutation(
        description="Enters a year's State Council holiday notice (administrators): the year "
        "becomes confirmed, and the deadlines of open cases that the moved days reach are "
        "recomputed. Years chinesecalendar ships cannot be entered."
    )
    async def set_working_calendar_year(
        self, info: Info, input: WorkingCalendarYearInput
    ) -> SetWorkingCalendarYearResult:
        actor = require(info, Permission.WRITE_CALENDAR)
        listed = [NoticeDay(d.date, d.working, d.name) for d in input.days]
        try:
            async with info.context.write() as session:
                entered = await service.enter_notice(
                    session,
                    input.year,
                    listed,
                    entered_by=actor.name,
                    entered_by_id=actor.user_id,
                    reference=input.reference,
                )
        finally:  # committed or not, this process counts with what the database holds
            async with info.context.read() as session:
                await service.load_calendar(session)
        return WorkingCalendarYearSet(
            year=entered.year,
            confirmed=days.is_confirmed(entered.year),
            changed_days=list(entered.changed),
            recomputed_cases=entered.recomputed,
        )
