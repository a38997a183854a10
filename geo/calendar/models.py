"""The State Council notices (放假安排) entered by administrators, one row per year and day.

A year's row says the notice is known (the year is *confirmed*); its days are the days the
notice moves or names: make-up working days (调休上班), bridging days and 补假 off, and the
holiday's weekend days if the administrator lists them. A day not listed keeps what the law
and the week give it (geo.calendar.days). Entering a year again replaces its days.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from geo.db import Base

#: Longest holiday name accepted (春节, 中秋节、国庆节, ...).
MAX_NAME_CHARS = 20


class CalendarYear(Base):
    __tablename__ = "calendar_years"
    __table_args__ = (CheckConstraint("year BETWEEN 2000 AND 2099", name="year_range"),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: The notice's document number or title, as the administrator gave it.
    reference: Mapped[str | None] = mapped_column(Text)
    #: When it was (last) entered: other server processes reload when this changes.
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Who entered it: an account's name, or "circle calendar set" for the command line.
    entered_by: Mapped[str] = mapped_column(String(100))


class CalendarDay(Base):
    __tablename__ = "calendar_days"
    __table_args__ = (
        CheckConstraint("extract(year FROM day) = year", name="day_in_year"),
        CheckConstraint(f"length(name) BETWEEN 1 AND {MAX_NAME_CHARS}", name="name_length"),
    )

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(
        ForeignKey("calendar_years.year", ondelete="CASCADE"), index=True
    )
    working: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str | None] = mapped_column(String(MAX_NAME_CHARS))
