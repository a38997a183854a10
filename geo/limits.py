"""Rate limits kept in PostgreSQL: token buckets every server process spends from.

A bucket holds up to ``burst`` tokens and refills at ``per_hour``; a spend takes one token.
One statement per spend: an upsert that takes the token only when the refilled level holds
one (the row lock orders concurrent spends of one key, across processes), and the level the
caller would have had, to say how long to wait. The clock is the database's, so processes
with drifting clocks agree.

Rows whose bucket has refilled completely (``full_at`` passed) remember nothing a fresh
bucket would not: :func:`prune` deletes them, so the table holds only the keys that spent
recently, whatever the number of addresses an attacker cycles through.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, String, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from geo.db import Base


class RateBucket(Base):
    """One key's token bucket (see the module docstring)."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    full_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


# Why raw SQL: the refill arithmetic, the conditional take and the answer in one round trip.
# `level` is the bucket refilled to now; the upsert's WHERE takes a token only from a level
# of at least one. The second SELECT reads the row as it was before this statement (same
# snapshot): when nothing was taken it says how far from a token the key is.
_TAKE = text(
    """
WITH clock AS (SELECT coalesce(CAST(:now AS timestamptz), clock_timestamp()) AS t),
taken AS (
    INSERT INTO rate_limits AS b (key, tokens, updated_at, full_at)
    SELECT :key, :burst - 1.0, t, t + make_interval(secs => 1.0 / :rate) FROM clock
    ON CONFLICT (key) DO UPDATE SET
        tokens = least(:burst, b.tokens
            + extract(epoch FROM (SELECT t FROM clock) - b.updated_at) * :rate) - 1.0,
        updated_at = (SELECT t FROM clock),
        full_at = (SELECT t FROM clock) + make_interval(secs => (:burst + 1.0
            - least(:burst, b.tokens
                + extract(epoch FROM (SELECT t FROM clock) - b.updated_at) * :rate)) / :rate)
    WHERE least(:burst, b.tokens
            + extract(epoch FROM (SELECT t FROM clock) - b.updated_at) * :rate) >= 1.0
    RETURNING 1
)
SELECT (SELECT count(*) FROM taken) AS taken,
       (SELECT least(:burst, tokens + extract(epoch FROM (SELECT t FROM clock) - updated_at)
                * :rate)
        FROM rate_limits WHERE key = :key) AS level
"""
)

_PRUNE = text(
    "DELETE FROM rate_limits WHERE full_at < coalesce(CAST(:now AS timestamptz), clock_timestamp())"
)


async def take(
    conn: AsyncSession | AsyncConnection,
    key: str,
    *,
    burst: int,
    per_hour: float,
    now: datetime | None = None,
) -> float | None:
    """Spends one token of ``key``'s bucket: None when there was one, else the seconds until
    there will be. ``now`` stands in for the database clock (tests)."""
    if burst < 1 or per_hour <= 0:
        raise ValueError("a rate limit needs burst >= 1 and per_hour > 0")
    rate = per_hour / 3600.0
    params = {"key": key, "burst": float(burst), "rate": rate, "now": now}
    row = (await conn.execute(_TAKE, params)).one()
    if row.taken:
        return None
    level = float(row.level if row.level is not None else 0.0)
    return max(0.0, (1.0 - level) / rate)


async def prune(conn: AsyncSession | AsyncConnection, *, now: datetime | None = None) -> int:
    """Deletes the buckets that are full again; returns how many."""
    result = await conn.execute(_PRUNE, {"now": now})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
