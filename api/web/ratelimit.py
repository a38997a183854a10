"""Rate limits per client: token buckets kept in the server process.

Anonymous case reports are limited per client address: a burst of ``burst`` reports, then
``per_hour`` more each hour. The buckets live in memory, one process each: behind several
server processes the budget is per process, which is what a limit against scripted floods
needs (a shared budget would take a round trip to the database on every report).

The client address is the TCP peer's, unless the peer is a trusted proxy (settings
``TRUSTED_PROXIES``): then it is the nearest address in ``X-Forwarded-For`` that is not one
of those proxies. Untrusted peers cannot choose their address by sending the header.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from starlette.requests import Request


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Token buckets by key: ``burst`` at once, refilled at ``per_hour``."""

    def __init__(
        self,
        burst: int,
        per_hour: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if burst < 1 or per_hour <= 0:
            raise ValueError("a rate limit needs burst >= 1 and per_hour > 0")
        self.burst = burst
        self.per_second = per_hour / 3600.0
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> float | None:
        """Spends one token of ``key``'s bucket: None when there was one, else the seconds
        until there will be."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        else:
            refill = (now - bucket.at) * self.per_second
            bucket.tokens, bucket.at = min(float(self.burst), bucket.tokens + refill), now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self.per_second

    def _forget_full(self, now: float) -> None:
        """Drops the buckets that have refilled completely (they hold nothing to remember);
        if none has, the oldest half, so memory stays bounded under address floods."""
        full = [
            key
            for key, b in self._buckets.items()
            if b.tokens + (now - b.at) * self.per_second >= self.burst
        ]
        if not full:
            by_age = sorted(self._buckets, key=lambda key: self._buckets[key].at)
            full = by_age[: len(by_age) // 2 + 1]
        for key in full:
            del self._buckets[key]


def client_address(request: Request | None, trusted_proxies: Collection[str]) -> str:
    """The address a request comes from (see the module docstring); "unknown" without one."""
    if request is None or request.client is None:
        return "unknown"
    peer = request.client.host
    if peer not in trusted_proxies:
        return peer
    forwarded = [a.strip() for a in request.headers.get("x-forwarded-for", "").split(",")]
    for address in reversed([a for a in forwarded if a]):
        if address not in trusted_proxies:
            return address
    return peer
