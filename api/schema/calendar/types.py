"""GraphQL types of the working calendar (geo.calendar)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from api.schema.common import InvalidArgumentError
from api.schema.errors import AuthenticationRequiredError, NotPermittedError
from geo.calendar.days import Day


@strawberry.type(
    description="A day of mainland China's working calendar (Asia/Shanghai), as deadlines count it."
)
class CalendarDay:
    date: dt.date
    working: bool = strawberry.field(description="Deadlines count this day's working hours.")
    holiday: str | None = strawberry.field(
        description="The holiday the day is off for, or made up for (调休上班), in Chinese "
        "(元旦, 春节, 清明节, 劳动节, 端午节, 中秋节, 国庆节, or the notice's name); null "
        "for an ordinary day."
    )
    adjusted: bool = strawberry.field(
        description="Set by the State Council's notice (调休), not by the law or the week: a "
        "weekend day worked, or a weekday off that is not itself a statutory holiday."
    )
    confirmed: bool = strawberry.field(
        description="The year's State Council notice is known. Until it is, the year has the "
        "statutory holidays and weekends only, and deadlines in it are provisional."
    )

    @classmethod
    def of(cls, day: Day) -> CalendarDay:
        return cls(
            date=day.date,
            working=day.working,
            holiday=day.holiday,
            adjusted=day.adjusted,
            confirmed=day.confirmed,
        )


@strawberry.input(description="A day as a State Council notice gives it.")
class CalendarDayInput:
    date: dt.date
    working: bool = strawberry.field(
        description="true: a weekend day worked (调休上班); false: a day off."
    )
    name: str | None = strawberry.field(
        default=None, description="The holiday it belongs to, e.g. 春节 (at most 20 characters)."
    )


@strawberry.input(
    description="A year's State Council notice (放假安排): the days it moves. Days not listed "
    "keep the statutory holidays and the week; entering a year again replaces its days."
)
class WorkingCalendarYearInput:
    year: int
    days: list[CalendarDayInput]
    reference: str | None = strawberry.field(
        default=None, description="The notice's document number or title."
    )


@strawberry.type(description="The notice is entered and in force.")
class WorkingCalendarYearSet:
    year: int
    confirmed: bool
    changed_days: list[dt.date] = strawberry.field(
        description="Days whose working status the notice changed."
    )
    recomputed_cases: int = strawberry.field(
        description="Open cases whose deadlines moved with those days."
    )


SetWorkingCalendarYearResult = Annotated[
    WorkingCalendarYearSet | InvalidArgumentError | AuthenticationRequiredError | NotPermittedError,
    strawberry.union("SetWorkingCalendarYearResult"),
]
