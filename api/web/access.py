"""The access log: one JSON line per request, whatever the route, and the request's id.

The id is the trusted proxy's `X-Request-Id` (nginx's ``$request_id``; deploy/nginx) when the
peer is one of ``TRUSTED_PROXIES`` and the value looks like an id, otherwise a new one; it
goes back in the response's `X-Request-Id` and into every log line written while the
request runs (``logs.REQUEST_ID``), so an error line finds its request. The client address
follows `X-Forwarded-For` through the trusted proxies only (``ratelimit.forwarded_client``).
The GraphQL endpoint adds the operation's name and outcome, authentication the account.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.web.logs import REQUEST_ID
from api.web.ratelimit import forwarded_client

log = logging.getLogger("circle.access")

#: An operation name is logged up to this long (a client may send one of any length).
MAX_OPERATION_CHARS = 100
#: Where the request's record travels in the ASGI scope.
SCOPE_KEY = "circle.request"
#: What a proxy's request id may look like (nginx's is 32 hex digits); anything else, a
#: quote, a space, a newline, is replaced rather than written into the logs.
_GOOD_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@dataclass(slots=True)
class RequestRecord:
    """What the access line says beyond method, path, status and time; filled in as the
    request runs."""

    request_id: str
    client: str
    operation: str | None = None
    outcome: str | None = None
    account: int | None = None


def request_record(scope: Scope) -> RequestRecord | None:
    return scope.get(SCOPE_KEY)  # type: ignore[no-any-return]


class AccessLog:
    """ASGI middleware: the record of each HTTP request, its id echoed, its line logged."""

    def __init__(self, app: ASGIApp, trusted_proxies: Collection[str]) -> None:
        self.app = app
        self.trusted = frozenset(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        record = self._record(scope)
        scope[SCOPE_KEY] = record
        token = REQUEST_ID.set(record.request_id)
        id_header = (b"x-request-id", record.request_id.encode())
        status = 500  # what the server answers when the app fails before it starts one

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info("request", extra=_fields(scope, record, status, started))
            REQUEST_ID.reset(token)

    def _record(self, scope: Scope) -> RequestRecord:
        peer = scope["client"][0] if scope.get("client") else "unknown"
        proxied = peer in self.trusted
        forwarded_for = offered_id = None
        if proxied:
            for name, value in scope["headers"]:
                if name == b"x-forwarded-for":
                    forwarded_for = value.decode("latin-1")
                elif name == b"x-request-id":
                    offered_id = value.decode("latin-1")
        client = forwarded_client(peer, forwarded_for, self.trusted) if proxied else peer
        if offered_id is None or not _GOOD_ID.fullmatch(offered_id):
            offered_id = os.urandom(16).hex()
        return RequestRecord(offered_id, client)


def _fields(scope: Scope, record: RequestRecord, status: int, started: float) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "request_id": record.request_id,
        "client": record.client,
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "ms": round((time.perf_counter() - started) * 1e3, 2),
    }
    if record.operation is not None:  # the client's words: a line stays a line
        fields["op"] = record.operation[:MAX_OPERATION_CHARS]
    if record.outcome is not None:
        fields["outcome"] = record.outcome
    if record.account is not None:
        fields["account"] = record.account
    return fields
