"""Running the case sweep (geo.cases.sweeper): every SWEEP_INTERVAL_S seconds by the one
process that leads the scheduled jobs, and on demand from `circle cases sweep`.

Every server process runs the loop, but only the leader (geo.leadership: an advisory lock
held for as long as its connection lives) sweeps; the others ask for the lead every few
seconds, and one of them takes over when the leader stops or loses its database. A round is
one transaction per batch of closings, repeated while batches come back full (the sweep's
own per-round lock keeps `circle cases sweep` from overlapping it); an error is logged and
the loop carries on at the next interval (the sweep keeps no state, so nothing is lost).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.web.metrics import LEADER, SWEEP_ROUNDS
from geo.cases.sweeper import sweep
from geo.leadership import Leadership

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


#: How often a process that does not lead asks for the lead (at most; sooner with a shorter
#: sweep interval): how long the jobs may wait for a new leader.
STANDBY_POLL_S = 5.0


async def sweep_forever(
    sessionmaker: async_sessionmaker[AsyncSession], leadership: Leadership, interval_s: float
) -> None:
    """While leading, a round now and one every ``interval_s`` seconds; until cancelled."""
    try:
        while True:
            leading = False
            try:
                leading = await leadership.held()
                LEADER.set(1 if leading else 0)
                if leading:
                    await _sweep_once(sessionmaker)
            except Exception:  # the database may be away for a while; try again next time
                LEADER.set(0)
                log.warning("sweep failed; trying again in %.0f s", interval_s, exc_info=True)
            await asyncio.sleep(interval_s if leading else min(interval_s, STANDBY_POLL_S))
    finally:
        await leadership.release()


async def _sweep_once(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    done = await sweep_round(sessionmaker)
    SWEEP_ROUNDS.inc()
    if done.closed or done.marked_overdue:
        log.info(
            "sweep: closed %d unevaluated cases, marked %d overdue (%.2f s)",
            len(done.closed),
            done.marked_overdue,
            done.seconds,
        )


def start_sweeper(
    sessionmaker: async_sessionmaker[AsyncSession], conninfo: str, interval_s: float
) -> asyncio.Task[None] | None:
    """The sweep loop as a task of the running loop; None when ``interval_s`` is 0 (off).
    ``conninfo``: the database where the processes agree on their leader."""
    if interval_s <= 0:
        return None
    loop = sweep_forever(sessionmaker, Leadership(conninfo), interval_s)
    return asyncio.create_task(loop, name="case-sweeper")
