"""The merchants table.

Index choices (measured on 1,000,000 points on this 2-core machine)
-------------------------------------------------------------------
* ``location`` is ``geometry(POINT, 4326)``, not geography. The nearest-first indexes hold
  it in World Mercator as PostgreSQL ``point`` keys of SP-GiST quadtrees (``geo.places.planar``):
  Mercator's planar distance is the geodesic one times a factor alike in every direction,
  so the index order is almost the geodesic order (a search of 21 rows needs 22-23
  candidates, against 27 and up to 120 on plain degrees), and the quadtree's exact leaves
  make a KNN scan of 25 rows about 0.2 ms, half what GiST on geometry takes. Queries
  re-rank the candidates by true geodesic distance (``geo.places.nearest`` explains why that stays
  exact).
* ``category_key`` is a small integer derived by PostgreSQL from ``category`` (position in
  :data:`CATEGORY_KEYS`). The category index puts each category in a band of its own
  (``planar.CATEGORY_BANDED_XY``), so "nearest pharmacy" is answered by index however rare
  pharmacies are; the column also makes the database refuse an unknown category (its key
  would be NULL).
* ``name_grams`` holds the character bigrams of the normalised name for Chinese substring
  search (GIN). pg_trgm cannot serve it: a two-character query such as 超市, the commonest
  shape of a Chinese search, yields no trigram, and ``name LIKE '%超市%'`` scans the whole
  index (checked on PostgreSQL 15, C.UTF-8). ``name_grams @> bigrams(q)`` narrows by index;
  ``strpos`` then confirms the substring.
* ``open_minutes`` is the week's opening time as minutes since Monday 00:00 Asia/Shanghai
  (``geo.places.hours.minutes_of_week_ranges``), so "open at" is one ``@>`` per row, no
  JSON decoding.

* ``hours_text`` is the hours' canonical text form (``Mo-Fr 07:00-22:00``), what the API
  shows: lists read it instead of the JSONB, whose conversion to text took 8 µs a row,
  0.2 ms of a 25-row nearest-first search (EXPLAIN ANALYZE, 1M merchants).

``name_grams``, ``hours_text`` and ``open_minutes`` are derived from ``name`` and
``opening_hours`` by the
code that writes merchants (``service.py``, ``geo.imports.importer``), which is cheaper than a
generated column: a SQL function computing the grams costs 31 µs per row in PostgreSQL,
more than the rest of a bulk insert, while Python does it alongside (``geo.imports.rows``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import INT4MULTIRANGE, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.db import Base
from geo.places.planar import CATEGORY_BANDED_XY, MERCATOR_XY, PlanarPoint
from geo.points import SRID

#: Category codes in the order that numbers them (1-based) in ``merchants.category_key``.
#: Append only: a key is stored in every row and in an index. The migration that adds a
#: category must also change the column's generation expression.
CATEGORY_KEYS: Final[tuple[str, ...]] = (
    "convenience_store",
    "fresh_supermarket",
    "breakfast_shop",
    "fresh_market",
    "pharmacy",
    "laundry",
    "hair_beauty",
    "post_express",
    "supermarket",
    "repair",
    "housekeeping",
    "photo_print",
    "restaurant",
    "cafe",
    "community_canteen",
    "fitness",
    "wellness",
    "clinic",
    "elderly_care",
    "child_care",
    "education",
    "bookstore",
    "culture_leisure",
    "pet_services",
)

KEY_OF_CATEGORY: Final = {code: n for n, code in enumerate(CATEGORY_KEYS, start=1)}


_KEY_EXPRESSION = (
    "(array_position('{" + ",".join(CATEGORY_KEYS) + "}'::text[], category::text))::smallint"
)


class MerchantStatus(StrEnum):
    """Whether a merchant trades: open, temporarily closed, or closed for good."""

    OPEN = "OPEN"
    TEMPORARILY_CLOSED = "TEMPORARILY_CLOSED"
    CLOSED = "CLOSED"


class Merchant(Base):
    __tablename__ = "merchants"
    __table_args__ = (
        CheckConstraint("status IN ('OPEN', 'TEMPORARILY_CLOSED', 'CLOSED')", name="status"),
        CheckConstraint("version >= 1", name="version"),
        # Nearest first, all categories and by category (geo.places.planar says how and why).
        Index("ix_merchants_xy", text(MERCATOR_XY), postgresql_using="spgist"),
        Index(
            "ix_merchants_category_xy", text(f"({CATEGORY_BANDED_XY})"), postgresql_using="spgist"
        ),
        Index("ix_merchants_name_grams", "name_grams", postgresql_using="gin"),
        # A grid's merchants (of a category) in id order: lists by grid subtree merge these
        # per-grid runs (queries.merchants_in_grid_subtree).
        Index("ix_merchants_grid_id", "grid_id", "category_key", "id"),
        # Open merchants around a point counted per category from the index alone
        # (nearest.count_within): it carries what the count reads.
        Index(
            "ix_merchants_open_mercator",
            "mercator",
            postgresql_using="spgist",
            postgresql_include=["category_key", "id"],
            postgresql_where=text("status = 'OPEN'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: A code of ``geo.merchants.taxonomy.CATEGORIES``.
    category: Mapped[str] = mapped_column(String(32))
    #: Position of ``category`` in :data:`CATEGORY_KEYS`, computed by PostgreSQL; NOT NULL
    #: makes the database itself refuse a category code it does not know.
    category_key: Mapped[int] = mapped_column(
        SmallInteger, Computed(_KEY_EXPRESSION, persisted=True)
    )
    #: Canonical form from ``geo.places.phones.normalize_phone``.
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(300), server_default="")
    location: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    #: ``location`` as the nearest-first indexes key it (``planar.MERCATOR_XY``), stored
    #: for ``ix_merchants_open_mercator``: PostgreSQL answers from an index alone only what
    #: it holds as columns. Computed by PostgreSQL, never loaded.
    mercator: Mapped[Any] = mapped_column(
        PlanarPoint(), Computed(MERCATOR_XY, persisted=True), deferred=True
    )
    #: ``geo.places.hours.to_json`` form; NULL when the hours are unknown. Never filtered on, so it
    #: has no statistics (0010): ANALYZE spent half its time sorting its sample.
    opening_hours: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    #: ``geo.places.hours.format_hours`` of the same hours (what lists show), NULL when unknown.
    hours_text: Mapped[str | None] = mapped_column(Text)
    #: Minutes since Monday 00:00 Asia/Shanghai when open; NULL when the hours are unknown.
    open_minutes: Mapped[Any] = mapped_column(INT4MULTIRANGE, nullable=True)
    status: Mapped[str] = mapped_column(String(24), server_default=MerchantStatus.OPEN.value)
    verified: Mapped[bool] = mapped_column(Boolean, server_default="false")
    #: True when no grid covers the location; the merchant is kept, with ``grid_id`` NULL.
    outside_coverage: Mapped[bool] = mapped_column(Boolean, server_default="false")
    #: The grid covering the location (``geo.grids.queries.route_point``), set on every write.
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"))
    #: Character bigrams of the normalised name (see the module docstring), compared in the
    #: "C" collation: equality is the same, and the GIN index builds a third faster (0010).
    name_grams: Mapped[list[str]] = mapped_column(ARRAY(Text(collation="C")), server_default="{}")
    #: Optimistic concurrency: every update must name the version it read.
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
