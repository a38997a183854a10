"""The merchants table.

Index choices (measured on 1,000,000 points on this 2-core machine)
-------------------------------------------------------------------
* ``location`` is ``geometry(POINT, 4326)``, not geography. The spatial indexes hold it
  in World Mercator, ``ST_Transform(location, 3395)``: a GiST KNN scan (``<->``) on geometry
  takes about 0.13 ms for the first 20 rows against 0.3-0.4 ms on geography, and builds in
  3 s instead of 10 s (PostGIS's sorted build exists for 2-D geometry only). Mercator's
  planar distance is the geodesic one times a factor alike in every direction, so the
  index order is almost the geodesic order: a nearest-first search of 21 rows needs 22-23
  candidates, against 27 (median; up to 120 beside a crowded street) when the index held
  degrees, whose east-west unit is 0.82 of the north-south one here. Queries re-rank the
  candidates by true geodesic distance (``geo.merchants.nearest`` explains why that stays
  exact). The transform is a closed formula, about as cheap as reading the point.
* ``category_key`` is a small integer derived by PostgreSQL from ``category`` (position in
  :data:`CATEGORY_KEYS`), so that the composite GiST ``(category_key, Mercator location)``
  answers "nearest pharmacy" by index, however rare pharmacies are. A text key in that index costs
  35 s per million inserts through btree_gist, a smallint 10 s; the column also makes the
  database refuse an unknown category (its key would be NULL). The index is partial on an
  always-true predicate so that searches without a category cannot use it (see below).
* ``name_grams`` holds the character bigrams of the normalised name for Chinese substring
  search (GIN). pg_trgm cannot serve it: a two-character query such as 超市, the commonest
  shape of a Chinese search, yields no trigram, and ``name LIKE '%超市%'`` scans the whole
  index (checked on PostgreSQL 15, C.UTF-8). ``name_grams @> bigrams(q)`` narrows by index;
  ``strpos`` then confirms the substring.
* ``open_minutes`` is the week's opening time as minutes since Monday 00:00 Asia/Shanghai
  (``hours.minutes_of_week_ranges``), so "open at" is one ``@>`` per row, no JSON decoding.

``name_grams`` and ``open_minutes`` are derived from ``name`` and ``opening_hours`` by the
code that writes merchants (``service.py``, ``importer.py``), which is cheaper than a
generated column: a SQL function computing the grams costs 31 µs per row in PostgreSQL,
more than the rest of a bulk insert, while Python does it alongside (``importer.py``).
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

#: What the spatial indexes hold; queries must spell it the same way (``nearest.mercator``).
MERCATOR_LOCATION: Final = text("st_transform(location, 3395)")

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
        Index("ix_merchants_mercator", MERCATOR_LOCATION, postgresql_using="gist"),
        # btree_gist: the category narrows a nearest-first scan inside the index itself.
        # The predicate holds for every row (the key is NOT NULL); it is there so that a
        # query without a category cannot use this index. A cached generic plan (psycopg
        # prepares a statement after five runs) would otherwise pick it for a search of all
        # categories, where it is three times slower than ix_merchants_mercator.
        Index(
            "ix_merchants_category_key_mercator",
            "category_key",
            MERCATOR_LOCATION,
            postgresql_using="gist",
            postgresql_where=text("category_key IS NOT NULL"),
        ),
        Index("ix_merchants_name_grams", "name_grams", postgresql_using="gin"),
        # A grid's merchants (of a category) in id order: lists by grid subtree merge these
        # per-grid runs (queries.merchants_in_grid_subtree).
        Index("ix_merchants_grid_id", "grid_id", "category_key", "id"),
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
    #: Canonical form from ``phones.normalize_phone``.
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(300), server_default="")
    location: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    #: ``hours.to_json`` form; NULL when the hours are unknown.
    opening_hours: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    #: Minutes since Monday 00:00 Asia/Shanghai when open; NULL when the hours are unknown.
    open_minutes: Mapped[Any] = mapped_column(INT4MULTIRANGE, nullable=True)
    status: Mapped[str] = mapped_column(String(24), server_default=MerchantStatus.OPEN.value)
    verified: Mapped[bool] = mapped_column(Boolean, server_default="false")
    #: True when no grid covers the location; the merchant is kept, with ``grid_id`` NULL.
    outside_coverage: Mapped[bool] = mapped_column(Boolean, server_default="false")
    #: The grid covering the location (``geo.grids.queries.route_point``), set on every write.
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"))
    #: Character bigrams of the normalised name (see the module docstring).
    name_grams: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    #: Optimistic concurrency: every update must name the version it read.
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
