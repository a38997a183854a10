"""The pages a phone camera opens: the circle page, its QR codes, and a friendly 404.

/c/{code}        the place's service circle as a light HTML page
/qr/{code}.svg   the QR code of {PUBLIC_URL}/c/{code} (for print)
/qr/{code}.png   the same as PNG (for chat apps and office software)
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import segno
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from api.settings import Settings
from api.web.circle_html import circle_page, not_found_page
from geo.circles.queries import CircleCodeNotFound, circle_of_code, get_circle_code
from geo.db import Queryable

#: Opens a short read connection (the app's read pool).
Connect = Callable[[], AbstractAsyncContextManager[Queryable]]

#: Error correction M (15 %): survives a scuffed or partly covered board, stays small.
QR_ERROR = "m"
QR_SCALE = {"svg": 8, "png": 10}
MEDIA = {"svg": "image/svg+xml", "png": "image/png"}
#: Shops open and close: a minute of caching spares the database a crowd at one board.
PAGE_CACHE = "public, max-age=60"


def circle_url(settings: Settings, code: str) -> str:
    return f"{settings.public_url.rstrip('/')}/c/{code}"


def qr_image(url: str, kind: str) -> bytes:
    """The QR code of ``url`` as SVG or PNG bytes, with the 4-module quiet zone of the standard."""
    out = io.BytesIO()
    segno.make(url, error=QR_ERROR, micro=False).save(
        out, kind=kind, scale=QR_SCALE[kind], border=4
    )
    return out.getvalue()


def page_routes(settings: Settings, connect: Connect) -> list[Route]:
    async def page(request: Request) -> Response:
        try:
            async with connect() as connection:
                place, circle = await circle_of_code(connection, request.path_params["code"])
        except CircleCodeNotFound:
            return HTMLResponse(not_found_page(), status_code=404)
        headers = {"Cache-Control": PAGE_CACHE}
        return HTMLResponse(circle_page(place, circle), headers=headers)

    def qr(kind: str) -> Callable[[Request], object]:
        async def endpoint(request: Request) -> Response:
            code = request.path_params["code"]
            async with connect() as connection:
                place = await get_circle_code(connection, code)
            if place is None:
                return HTMLResponse(not_found_page(), status_code=404)
            body = qr_image(circle_url(settings, place.code), kind)
            return Response(body, media_type=MEDIA[kind], headers={"Cache-Control": "no-cache"})

        return endpoint

    return [
        Route("/c/{code}", page),
        Route("/qr/{code}.svg", qr("svg")),
        Route("/qr/{code}.png", qr("png")),
    ]
