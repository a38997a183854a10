"""Cases, their append-only event trail, and the meeting ledger (台账).

Invariants kept by geo.cases (and, for the trail, by the database):

* ``cases.version`` counts the case's events: the REPORTED event has seq 1 and version 1,
  and every later action bumps the version and writes the event whose ``seq`` is the new
  version. ``cases.last_event_hash`` is the hash of that event: the anchor that makes a
  truncated trail detectable (geo.cases.chain).
* ``case_events`` rows are never updated or deleted: triggers refuse UPDATE and DELETE for
  everybody, and TRUNCATE for anybody but a superuser or a session that set
  ``circle.allow_truncate = on`` (migration 0004 explains why).
* ``deadline`` is the deadline of the stage whose clock is running (accept, dispatch,
  handle, verify), NULL while no clock runs; overdue is derived as ``deadline < now``.
  ``handle_deadline`` keeps the handling deadline for the on-time statistics.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.db import Base
from geo.points import SRID

STATUSES_SQL = (
    "'reported', 'accepted', 'dispatched', 'in_progress', 'handled', 'verified', 'evaluated', "
    "'closed', 'rejected', 'merged', 'escalated', 'postponed', 'shelved'"
)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(f"status IN ({STATUSES_SQL})", name="status"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(
            "satisfaction IN ('satisfied', 'basically_satisfied', 'unsatisfied')",
            name="satisfaction",
        ),
        CheckConstraint("accuracy_m > 0", name="accuracy_positive"),
        # Keyset paging walks this index newest first.
        Index("ix_cases_reported_at_id", "reported_at", "id"),
        # Only running clocks have a deadline: the overdue filter scans a small index.
        Index("ix_cases_deadline", "deadline", postgresql_where=text("deadline IS NOT NULL")),
        # A unit's cases are those it leads (ix_cases_department) or co-handles: with both
        # indexes the planner can OR two bitmaps instead of filtering every case.
        Index("ix_cases_co_handlers", "co_handlers", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public number, "<year>-<serial>", e.g. "2026-000123": serials restart each year
    #: (Asia/Shanghai) and have no gaps among committed cases (geo.cases.numbers).
    number: Mapped[str] = mapped_column(String(20), unique=True)
    #: A geo.cases.categories code.
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    #: Where the problem is, WGS 84.
    location: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True))
    #: Radius in metres within which the true position lies (as reported or defaulted).
    accuracy_m: Mapped[float] = mapped_column(Float)
    #: A geo.cases.categories.LocationSource value.
    location_source: Mapped[str] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(Text)
    photo_urls: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    #: A geo.cases.categories.Channel value.
    channel: Mapped[str] = mapped_column(String(24))
    #: The reporting account; NULL for an anonymous report.
    reporter_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: Private: shown only to staff of the case's grid (access rules, issue 6).
    reporter_contact: Mapped[str | None] = mapped_column(String(100))
    #: Client-chosen key making report retries safe; globally unique (see reporting.py).
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    #: A geo.cases.workflow.CaseStatus value.
    status: Mapped[str] = mapped_column(String(16), index=True)
    #: Optimistic-concurrency counter; equals the seq of the case's last event.
    version: Mapped[int] = mapped_column(Integer)
    #: The routed grid; NULL while the case waits in the district agents' queue.
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    #: The named grid worker the case was routed to (deepest staffed level).
    assignee_worker_id: Mapped[int | None] = mapped_column(
        ForeignKey("grid_workers.id", ondelete="SET NULL")
    )
    #: The account handling the case (who started it).
    assignee_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    #: The unit the case is dispatched to (lead unit); NULL: the grid team of the case's grid.
    department: Mapped[str | None] = mapped_column(String(100), index=True)
    #: Co-handling units of an escalated case (一办三协同).
    co_handlers: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    #: A geo.cases.routing.RoutingReason value: why the case went where it did.
    routing_reason: Mapped[str] = mapped_column(String(32))
    #: Deadline of the running stage; NULL when no clock runs. Overdue = deadline < now.
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Handling deadline set at dispatch (moved by extensions); kept after handling.
    handle_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rework_count: Mapped[int] = mapped_column(Integer, server_default="0")
    extension_count: Mapped[int] = mapped_column(Integer, server_default="0")
    #: True once the case was postponed (缓办): excluded from the on-time denominator.
    postponed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    #: The reporter's last evaluation (a geo.cases.workflow.Satisfaction value).
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    #: Evaluation events, and those satisfied or basically satisfied: an unsatisfied answer
    #: reopens the case, so the last answer alone would hide it from the satisfaction rate.
    evaluation_count: Mapped[int] = mapped_column(Integer, server_default="0")
    satisfied_count: Mapped[int] = mapped_column(Integer, server_default="0")
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Working hours from report to close, computed once when the case closes.
    close_work_hours: Mapped[float | None] = mapped_column(Float)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    #: Who reported the case handled (the last time), and who verified it: the workflow
    #: refuses the same account certifying its own work (geo.cases.workflow, accounts.actor.Duty).
    handled_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    verified_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    #: A patrol case its grid worker fixed on the spot (自行处置, HANDLE_ON_SITE).
    self_handled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    #: Start of the running postponement (缓办); RESUME adds that working time back.
    postponed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Hash of the last event: the head of the case's chain.
    last_event_hash: Mapped[str] = mapped_column(String(64))
    #: "<key id>:<HMAC>" of (id, version, last_event_hash) under a key the database never
    #: holds (geo.cases.seal); NULL: not sealed yet, and then the trail does not verify.
    trail_seal: Mapped[str | None] = mapped_column(String(100))
    #: SHA-256 of the anonymous reporter's follow code (geo.cases.follow); NULL otherwise.
    follow_code_hash: Mapped[str | None] = mapped_column(String(64))
    #: The last stage deadline the case missed and that stage (a Stage value): recorded
    #: once per deadline by geo.cases.sweeper, and kept once the case moves on.
    overdue_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    overdue_stage: Mapped[str | None] = mapped_column(String(16))


class CaseNumberCounter(Base):
    """The last serial given out in a year (Asia/Shanghai): see geo.cases.numbers."""

    __tablename__ = "case_number_counters"
    __table_args__ = (CheckConstraint("last_serial >= 0", name="serial"),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_serial: Mapped[int] = mapped_column(Integer)


class CaseEvent(Base):
    """One action on a case. Append-only (database triggers), hash-chained per case."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    #: 1 for REPORTED, then +1 per action; equals the case's version after the action.
    seq: Mapped[int] = mapped_column(Integer)
    #: "reported" or a geo.cases.workflow.Action value.
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    #: The acting user; NULL for anonymous reporters and the system. Users with events are
    #: deactivated, never deleted (no ON DELETE action on purpose).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_role: Mapped[str | None] = mapped_column(String(16))
    #: The actor's name when the event was written (not hashed: a display snapshot).
    actor_name: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    #: Action parameters: routing, department, satisfaction, merge target... (hashed).
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class LedgerItem(Base):
    """An issue raised at a community meeting (台账), recorded per grid; may become a case."""

    __tablename__ = "ledger_items"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'converted', 'resolved', 'dropped')", name="status"),
        CheckConstraint(
            "(status = 'converted') = (converted_case_id IS NOT NULL)", name="converted_case"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    #: Which meeting raised it, free text ("2026-11 楼院议事会").
    meeting: Mapped[str] = mapped_column(String(200))
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="open")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    converted_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
