"""gzip for large answers, when no proxy in front compresses them (deploy/nginx does, and
asks the app for plain answers).

Why not Starlette's GZipMiddleware: it builds two header objects and a responder for every
request, also for clients that do not take gzip and for the many small GraphQL answers.
Here a request whose client does not accept gzip passes through untouched, and an answer
is held back only until its first body chunk says whether it is worth compressing.
"""

from __future__ import annotations

import zlib
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Answers smaller than this go out as they are: gzip saves little and costs a header.
MINIMUM_BYTES = 1024
#: zlib's level 6 (its default): the 3.4 MB grid export to 0.6 MB; 9 is slower for ~2 %.
LEVEL = 6
#: What is worth compressing (images other than SVG already are).
COMPRESSIBLE = (b"application/json", b"application/graphql-response+json",
                b"application/geo+json", b"text/", b"image/svg+xml")  # fmt: skip


def accepts_gzip(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether Accept-Encoding lists gzip (or *) without q=0."""
    for name, value in headers:
        if name != b"accept-encoding":
            continue
        for item in value.lower().split(b","):
            coding, _, params = item.strip().partition(b";")
            if coding.strip() in (b"gzip", b"*"):
                quality = params.replace(b" ", b"")
                return not (quality.startswith(b"q=0") and quality.rstrip(b"0.") == b"q=")
    return False


class Gzip:
    """ASGI middleware: gzip for clients that accept it, answers of MINIMUM_BYTES or more."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not accepts_gzip(scope["headers"]):
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _Compressing(send).send)


class _Compressing:
    """One answer's way out: the start held until the first body chunk decides."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._start: Message | None = None
        self._compressor: Any = None
        self._passing = False

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self._start = message
            self._passing = not _compressible(message.get("headers", []))
            if self._passing:
                await self._send(message)
            return
        if kind != "http.response.body" or self._passing:
            await self._send(message)
            return
        body, more = message.get("body", b""), message.get("more_body", False)
        if self._start is not None:  # the first chunk
            start, self._start = self._start, None
            if not more and len(body) < MINIMUM_BYTES:
                self._passing = True
                await self._send(start)
                await self._send(message)
                return
            self._compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            out = self._compressor.compress(body)
            if not more:
                out += self._compressor.flush()
            await self._send(_gzipped(start, len(out) if not more else None))
            await self._send({"type": "http.response.body", "body": out, "more_body": more})
            return
        out = self._compressor.compress(body)
        if not more:
            out += self._compressor.flush()
        if out or not more:
            await self._send({"type": "http.response.body", "body": out, "more_body": more})


def _compressible(headers: list[tuple[bytes, bytes]]) -> bool:
    media = b""
    for name, value in headers:
        if name == b"content-encoding":
            return False
        if name == b"content-type":
            media = value.lower()
    return media.startswith(COMPRESSIBLE)


def _gzipped(start: Message, length: int | None) -> Message:
    """The start message, saying gzip (and the compressed length when known)."""
    headers = [(k, v) for k, v in start.get("headers", []) if k not in (b"content-length",)]
    headers.append((b"content-encoding", b"gzip"))
    vary = [v for k, v in headers if k == b"vary"]
    if not any(b"accept-encoding" in v.lower() for v in vary):
        headers.append((b"vary", b"Accept-Encoding"))
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {**start, "headers": headers}
