"""Accounts: users with a workflow role (and an agent's seat), the grids they are bound to, and
their API tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from geo.db import Base


class Role(StrEnum):
    RESIDENT = "resident"  # 居民
    GRID_WORKER = "grid_worker"  # 网格员
    AGENT = "agent"  # 座席员 (district, subdistrict or department seat)
    HANDLER = "handler"  # 职能部门处置人员
    ADMIN = "admin"  # 管理员
    SYSTEM = "system"  # scheduled jobs


class Seat(StrEnum):
    """An agent's platform seat (座席): which queue it works and how far its scope reaches."""

    DISTRICT = "district"  # 区级座席: every case, including the unrouted queue
    SUBDISTRICT = "subdistrict"  # 街道座席: cases under its bound (L1) grids
    DEPARTMENT = "department"  # 部门座席: cases dispatched to its department


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('resident', 'grid_worker', 'agent', 'handler', 'admin', 'system')",
            name="role",
        ),
        CheckConstraint("seat IN ('district', 'subdistrict', 'department')", name="seat"),
        CheckConstraint("(role = 'agent') = (seat IS NOT NULL)", name="seat_iff_agent"),
        CheckConstraint(
            "department IS NOT NULL OR NOT (role = 'handler' OR seat = 'department')",
            name="department_needed",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Display name, snapshotted into every case event the user writes.
    name: Mapped[str] = mapped_column(String(100))
    #: A :class:`Role` value.
    role: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(32))
    #: The unit of a HANDLER or of a DEPARTMENT seat (e.g. "城管执法局").
    department: Mapped[str | None] = mapped_column(String(100))
    #: A :class:`Seat` value; set exactly for agents.
    seat: Mapped[str | None] = mapped_column(String(16))
    #: Inactive users keep their history (events reference them) but cannot authenticate.
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Unit(Base):
    """A registered unit (职能部门, e.g. "区城市管理局"): cases are dispatched to it by name,
    its handlers and department seats belong to it. Units are retired, never deleted."""

    __tablename__ = "units"
    __table_args__ = (CheckConstraint("btrim(name) <> '' AND name = btrim(name)", name="name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class UserGrid(Base):
    """A user bound to a grid: its scope is that grid's whole subtree."""

    __tablename__ = "user_grids"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ApiToken(Base):
    """A bearer token. Only the SHA-256 of the secret is stored (see geo.accounts.tokens)."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public, non-secret part of the token: how a presented token finds its row.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: Lowercase hex SHA-256 of the whole token string.
    secret_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


__all__ = ["ApiToken", "Seat", "User", "UserGrid"]
