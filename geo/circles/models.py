"""The circle_codes table: a place printed as a QR code (一码通) that opens its service circle.

A code is what a resident's phone camera reads: short, URL-safe and unguessable enough that
codes cannot be enumerated from one another (``service.new_code``). It also fits a WeChat
mini-program code's ``scene`` parameter (at most 32 visible characters). A retired code is
kept, so that a printed board still answers with a friendly "no longer in use" page, and
its text is never handed out again.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from geo.db import Base
from geo.points import SRID

#: Longest code accepted: the limit of a WeChat mini-program code's ``scene`` parameter.
MAX_CODE_CHARS = 32


class CircleCode(Base):
    __tablename__ = "circle_codes"
    __table_args__ = (
        CheckConstraint("code ~ '^[A-Za-z0-9_-]{4,32}$'", name="code_format"),
        CheckConstraint("length(name) BETWEEN 1 AND 200", name="name_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The text inside the QR code's URL (``/c/{code}``); unique, letters, digits, - and _.
    code: Mapped[str] = mapped_column(String(MAX_CODE_CHARS), unique=True)
    #: What residents see as the page title, e.g. 建新街社区公告栏.
    name: Mapped[str] = mapped_column(String(200))
    #: The centre of the circle (WGS-84).
    center: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    #: The grid the place belongs to: named by the admin, or the one covering the centre.
    grid_id: Mapped[int | None] = mapped_column(
        ForeignKey("grids.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: Set when an admin retires the code; the page then answers 404.
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
