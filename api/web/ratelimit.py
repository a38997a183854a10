"""Who the client is, for the rate limits (api.schema.limits, kept in PostgreSQL by
geo.limits so that every server process spends from the same budget).

The client address is the TCP peer's, unless the peer is a trusted proxy (settings
``TRUSTED_PROXIES``): then it is the nearest address in ``X-Forwarded-For`` that is not one
of those proxies. Untrusted peers cannot choose their address by sending the header.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.requests import Request


def client_address(request: Request | None, trusted_proxies: Collection[str]) -> str:
    """The address a request comes from (see the module docstring); "unknown" without one."""
    if request is None or request.client is None:
        return "unknown"
    peer = request.client.host
    if peer not in trusted_proxies:
        return peer
    return forwarded_client(peer, request.headers.get("x-forwarded-for"), trusted_proxies)


def forwarded_client(peer: str, forwarded_for: str | None, trusted_proxies: Collection[str]) -> str:
    """The client behind a trusted proxy ``peer``: the nearest address in its
    X-Forwarded-For that is not a trusted proxy (``peer`` itself when there is none)."""
    forwarded = [a.strip() for a in (forwarded_for or "").split(",")]
    for address in reversed([a for a in forwarded if a]):
        if address not in trusted_proxies:
            return address
    return peer
