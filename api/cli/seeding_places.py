"""Demo merchants, service points and circle codes for `circle seed` (after the grids)."""

from __future__ import annotations

import time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from geo.circles.demo import seed_demo_codes
from geo.circles.models import CircleCode
from geo.imports.synth import seed_merchants, seed_service_points
from geo.merchants.models import Merchant

#: About the shops of a real urban district of this size (Erqi has ~60,000 registered).
DEMO_MERCHANTS = 50_000
DEMO_SERVICE_POINTS = 1_000


async def seed_places(
    sessionmaker: async_sessionmaker[AsyncSession], *, only_if_empty: bool, public_url: str
) -> list[str]:
    """Merchants and service points (one transaction), then the demo circle codes."""
    said: list[str] = []
    async with sessionmaker() as session:
        merchants = await session.scalar(select(func.count()).select_from(Merchant))
        codes = await session.scalar(select(func.count()).select_from(CircleCode))
    if only_if_empty and merchants:
        said.append(f"the database already has {merchants} merchants; none loaded")
    else:
        async with sessionmaker.begin() as session:
            said.append(await seed_merchants(session, DEMO_MERCHANTS))
            said.append(await seed_service_points(session, DEMO_SERVICE_POINTS))
    if only_if_empty and codes:
        return said
    started = time.perf_counter()
    async with sessionmaker.begin() as session:
        made = await seed_demo_codes(session)
    said.append(f"circle codes: {len(made)} demo boards ({time.perf_counter() - started:.1f} s)")
    base = public_url.rstrip("/")
    said += [f"  {row.name}: {base}/c/{row.code}  (QR: {base}/qr/{row.code}.svg)" for row in made]
    return said
