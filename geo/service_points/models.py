"""The service_points table: the community's own services (see ``kinds.py``).

A district has about a thousand of them, so there is no category-keyed or text index as on
merchants: a nearest-first scan of the location index with the kind and name as filters
stays well under a millisecond. Location, hours and grid work as in ``geo.merchants.models``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import INT4MULTIRANGE, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.db import Base
from geo.places.planar import MERCATOR_XY
from geo.points import SRID
from geo.service_points.kinds import ServicePointKind

_KINDS_SQL = ", ".join(f"'{kind.value}'" for kind in ServicePointKind)


class ServicePoint(Base):
    __tablename__ = "service_points"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_KINDS_SQL})", name="kind"),
        CheckConstraint("version >= 1", name="version"),
        # World Mercator, as for merchants (geo.merchants.models): nearest-first by index.
        Index("ix_service_points_xy", text(MERCATOR_XY), postgresql_using="spgist"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: A ``ServicePointKind`` value.
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(300), server_default="")
    location: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    #: ``geo.places.hours.to_json`` form; NULL when unknown. No statistics (migration 0010):
    #: never filtered on.
    opening_hours: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    #: ``geo.places.hours.format_hours`` of the same hours, NULL when unknown (as on merchants).
    hours_text: Mapped[str | None] = mapped_column(Text)
    open_minutes: Mapped[Any] = mapped_column(INT4MULTIRANGE, nullable=True)
    outside_coverage: Mapped[bool] = mapped_column(Boolean, server_default="false")
    grid_id: Mapped[int | None] = mapped_column(
        ForeignKey("grids.id", ondelete="SET NULL"), index=True
    )
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
