"""Running the case sweep (geo.cases.sweeper): every SWEEP_INTERVAL_S seconds in each server
process, and on demand from `circle cases sweep`.

Every process runs the loop; the sweep's advisory lock makes one of them the leader of each
round, so several workers or hosts sweep no more than one would. A round is one transaction
per batch of closings, repeated while batches come back full; an error is logged and the
loop carries on at the next interval (the sweep keeps no state, so nothing is lost).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from geo.cases.sweeper import sweep

log = logging.getLogger("circle.sweeper")


@dataclass(frozen=True, slots=True)
class Round:
    """One round of sweeps: whether this process led it, and what it did."""

    led: bool
    closed: tuple[str, ...]
    marked_overdue: int
    seconds: float


async def sweep_round(sessionmaker: async_sessionmaker[AsyncSession]) -> Round:
    """Sweeps until nothing more is due (or another process holds the lock)."""
    started = time.perf_counter()
    closed: list[str] = []
    marked, led = 0, False
    while True:
        async with sessionmaker.begin() as session:
            report = await sweep(session)
        if not report.ran:
            break
        led = True
        closed += report.closed
        marked += report.marked_overdue
        if not report.more:
            break
    return Round(led, tuple(closed), marked, time.perf_counter() - started)


async def sweep_forever(sessionmaker: async_sessionmaker[AsyncSession], interval_s: float) -> None:
    """A round now, then one every ``interval_s`` seconds, until cancelled."""
    while True:
        try:
            done = await sweep_round(sessionmaker)
            if done.closed or done.marked_overdue:
                log.info(
                    "sweep: closed %d unevaluated cases, marked %d overdue (%.2f s)",
                    len(done.closed),
                    done.marked_overdue,
                    done.seconds,
                )
        except Exception:  # the database may be away for a while; try again next time
            log.warning("sweep failed; trying again in %.0f s", interval_s, exc_info=True)
        await asyncio.sleep(interval_s)


def start_sweeper(
    sessionmaker: async_sessionmaker[AsyncSession], interval_s: float
) -> asyncio.Task[None] | None:
    """The sweep loop as a task of the running loop; None when ``interval_s`` is 0 (off)."""
    if interval_s <= 0:
        return None
    return asyncio.create_task(sweep_forever(sessionmaker, interval_s), name="case-sweeper")
