"""Grids (the polygon hierarchy) and the workers assigned to them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.db import Base
from geo.points import SRID


class WorkerRole(StrEnum):
    """A worker's role in their grid."""

    L1_AGENT = "L1_AGENT"  # first-level (subdistrict) platform seat
    L2_WORKER = "L2_WORKER"  # community grid worker
    L3_WORKER = "L3_WORKER"  # third-level grid worker: collects cases and verifies on site
    MICRO_WORKER = "MICRO_WORKER"  # micro-grid worker (building or courtyard)


class Grid(Base):
    __tablename__ = "grids"
    __table_args__ = (
        CheckConstraint("level IN ('DISTRICT', 'L1', 'L2', 'L3', 'MICRO')", name="level"),
        CheckConstraint("(level = 'DISTRICT') = (parent_id IS NULL)", name="parent_by_level"),
        # Routing looks only at micro-grids: a partial index keeps the big polygons out of it.
        Index(
            "ix_grids_micro_boundary",
            "boundary",
            postgresql_using="gist",
            postgresql_where=text("level = 'MICRO'"),
        ),
        Index("ix_grids_path", "path", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable administrative-style code; what clients and imports name a grid by.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(8))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    #: Ids from the district down to this grid (inclusive): ancestors and subtrees in one lookup.
    path: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default="{}")
    boundary: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True)
    )
    #: Properties of the imported feature other than code, parent_code, level and name.
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GridWorker(Base):
    __tablename__ = "grid_workers"
    __table_args__ = (
        CheckConstraint(
            "role IN ('L1_AGENT', 'L2_WORKER', 'L3_WORKER', 'MICRO_WORKER')", name="role"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
