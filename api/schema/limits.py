"""How often a caller may write: one budget per client address for anonymous callers, one
per account for signed-in ones, spent in PostgreSQL (geo.limits) so that every server
process spends from the same budget.

=====================  ================================  ====================================
who                    what spends                       budget (settings)
=====================  ================================  ====================================
anonymous, by address  reportCase                        REPORT_BURST, then REPORT_PER_HOUR
signed-in, by account  reportCase, recordLedgerItem,     ACCOUNT_WRITE_BURST, then
                       convertLedgerItem,                ACCOUNT_WRITES_PER_HOUR
                       settleLedgerItem (uploads later)
=====================  ================================  ====================================

An IPv6 address counts by its /64 (one subscriber's prefix: a client that owns one has
2^64 addresses to rotate through). A refusal is the operation's RateLimitedError, with the
wait in ``retryAfterS`` and a ``Retry-After`` header. The spend commits on its own, before
the write runs: a refused or failed write has spent its token.
"""

from __future__ import annotations

import ipaddress
import itertools
import math
from dataclasses import dataclass

from api.schema.context import Info
from api.schema.errors import RateLimitedError
from geo import limits

#: Every this many spends, a process also deletes the buckets that are full again.
PRUNE_EVERY = 500
_spends = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Budget:
    key: str
    burst: int
    per_hour: float
    #: The refusal's advice.
    advice: str


def address_key(address: str) -> str:
    """The address a budget is kept for: IPv6 by its /64, anything else as it is."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def write_budget(info: Info) -> Budget:
    """The budget the caller's writes spend from."""
    context, settings = info.context, info.context.settings
    if context.actor is None:
        return Budget(
            f"address:{address_key(context.address)}",
            settings.report_burst,
            settings.report_per_hour,
            "too many reports from this address",
        )
    return Budget(
        f"account:{context.actor.user_id}",
        settings.account_write_burst,
        settings.account_writes_per_hour,
        "too many writes from this account",
    )


async def spend(info: Info) -> RateLimitedError | None:
    """Spends one write of the caller's budget: None when there was one, else the refusal
    (and a Retry-After header on the response)."""
    budget = write_budget(info)
    async with info.context.write() as session:
        wait = await limits.take(session, budget.key, burst=budget.burst, per_hour=budget.per_hour)
        if next(_spends) % PRUNE_EVERY == 0:
            await limits.prune(session)
    if wait is None:
        return None
    seconds = max(1, math.ceil(wait))
    info.context.response_headers["Retry-After"] = str(seconds)
    return RateLimitedError(
        message=f"{budget.advice}: try again in {seconds} s", retry_after_s=seconds
    )
