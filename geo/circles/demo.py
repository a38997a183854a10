"""Demo circle codes: one community board (社区公告栏) per chosen L2 grid, for `circle seed`."""

from __future__ import annotations

import random
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.circles.queries import CircleCodeRow
from geo.circles.service import ALPHABET, CODE_CHARS, create_circle_code
from geo.coords import LonLat
from geo.grids.models import Grid

#: The L2 grids (communities) that get a board, by position in code order.
DEMO_BOARDS: Final = (0, 40, 90)


async def seed_demo_codes(session: AsyncSession, *, seed: int = 27) -> list[CircleCodeRow]:
    """A code at a point inside each chosen community (same seed, same codes)."""
    rng = random.Random(f"circle-codes:{seed}")
    point = func.ST_PointOnSurface(Grid.boundary)
    stmt = (
        select(Grid.code, Grid.name, func.ST_X(point), func.ST_Y(point))
        .where(Grid.level == "L2")
        .order_by(Grid.code)
    )
    communities = (await session.execute(stmt)).all()
    made: list[CircleCodeRow] = []
    for position in DEMO_BOARDS:
        if position >= len(communities):
            continue
        grid_code, name, lon, lat = communities[position]
        code = "".join(rng.choice(ALPHABET) for _ in range(CODE_CHARS))
        made.append(
            await create_circle_code(
                session,
                name=f"{name}公告栏",
                center=LonLat(lon, lat),
                grid_code=grid_code,
                code=code,
            )
        )
    return made
