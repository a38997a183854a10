"""Grids out as GeoJSON, streamed feature by feature; the output imports back unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import Text, cast, func, literal, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from geo.grids.models import Grid

#: Decimal places of exported coordinates: 1e-7° is about 1 cm.
PRECISION = 7


async def stream_feature_collection(
    session: AsyncSession, *, level: str | None = None, parent_code: str | None = None
) -> AsyncIterator[bytes]:
    """Yields a GeoJSON FeatureCollection in chunks, parents before children.

    Each feature's properties are the stored extra properties plus code, parent_code, level
    and name, exactly what `import_grids` reads. PostgreSQL builds each feature's JSON, so
    the geometry is never turned into Python objects.
    """
    parent = aliased(Grid)
    props = Grid.properties.op("||")(
        func.jsonb_build_object(
            literal("code"), Grid.code,
            literal("parent_code"), parent.code,
            literal("level"), Grid.level,
            literal("name"), Grid.name,
        )
    )  # fmt: skip
    feature = func.jsonb_build_object(
        literal("type"), literal("Feature"),
        literal("geometry"), cast(func.ST_AsGeoJSON(Grid.boundary, PRECISION), JSONB),
        literal("properties"), props,
    )  # fmt: skip
    stmt = (
        select(cast(feature, Text))
        .outerjoin(parent, parent.id == Grid.parent_id)
        .order_by(func.array_length(Grid.path, 1), Grid.code)
        .execution_options(yield_per=500)
    )
    if level is not None:
        stmt = stmt.where(Grid.level == level)
    if parent_code is not None:
        stmt = stmt.where(parent.code == parent_code)
    yield b'{"type":"FeatureCollection","features":['
    first = True
    async for (text,) in await session.stream(stmt):
        yield (b"" if first else b",") + text.encode()
        first = False
    yield b"]}"
