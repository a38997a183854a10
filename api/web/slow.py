"""Slow clients are dropped: each request's headers, then its body, must arrive in time.

uvicorn closes an idle kept-alive connection after a few seconds, but once a byte has come it
waits for the rest for ever: a client that sends its request a byte at a time (slowloris)
holds a connection, and a task, as long as it likes, and a few hundred such clients hold the
server. This protocol gives each request two deadlines, from its first byte (or from the
connection's opening, for the first request):

- HEADERS_TIMEOUT_S (10 s): the request line and every header;
- BODY_TIMEOUT_S (30 s): then the whole body (MAX_BODY_BYTES at most).

Past either, the connection is closed, whatever the request was doing; other connections
are not concerned. ``circle serve`` runs uvicorn with it (``http=DeadlineProtocol``).
"""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.settings import load_settings

log = logging.getLogger("circle.http")


@lru_cache(maxsize=1)
def _deadlines() -> tuple[float, float]:
    settings = load_settings()
    return settings.headers_timeout_s, settings.body_timeout_s


class DeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the two deadlines of the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.headers_timeout, self.body_timeout = _deadlines()
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.headers_timeout, "headers")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # the next request on a kept-alive connection
            self._arm(self.headers_timeout, "headers")

    def on_headers_complete(self) -> None:
        self._arm(self.body_timeout, "body")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float, part: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire, part, seconds)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self, part: str, seconds: float) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            client = self.client[0] if self.client else "unknown"
            log.warning("dropped a slow client", extra={"client": client, "late": part})
            self.transport.close()
