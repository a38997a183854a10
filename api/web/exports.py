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
                async for chunk in stream_feature_collection(
                    session, level=level, parent_code=parent
                ):
                    yield chunk

        return StreamingResponse(body(), media_type="application/geo+json")

    return endpoint  # type: ignore[return-value]
