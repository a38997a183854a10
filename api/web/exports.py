"""HTTP downloads: the grids as GeoJSON (`/grids.geojson?level=&parent=`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from geo.grids.export import stream_feature_collection

LEVELS = ("DISTRICT", "L1", "L2", "L3", "MICRO")


def grids_geojson(
    sessionmaker: Callable[[], async_sessionmaker[AsyncSession]],
) -> Callable[[Request], Response]:
    async def endpoint(request: Request) -> Response:
        level = request.query_params.get("level")
        if level is not None and level not in LEVELS:
            return JSONResponse(
                {"error": f"level must be one of {', '.join(LEVELS)}"}, status_code=400
            )
        parent = request.query_params.get("parent")

        async def body() -> AsyncIterator[bytes]:
            async with sessionmaker()() as session:
                await session.connection()
                async for chunk in stream_feature_collection(
                    session, level=level, parent_code=parent
                ):
                    yield chunk

        # The first chunk comes once the database has answered: a database that is away is
        # then still an error the app answers (503), not a stream cut short after its 200.
        chunks = body()
        first = await anext(chunks)
        return StreamingResponse(_after(first, chunks), media_type="application/geo+json")

    return endpoint  # type: ignore[return-value]


async def _after(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk
