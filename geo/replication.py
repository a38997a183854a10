"""How far a streaming replica is behind its primary, in seconds of writes it has not
replayed.

PostgreSQL's own measures each mislead in one case: ``now() - pg_last_xact_replay_timestamp()``
grows on a replica that is perfectly in step with an idle primary, and "received = replayed"
says nothing of a replica that lost its primary's stream. Here the primary's WAL position
is sampled over time (``LagClock.primary_at``) and the replica's replayed position is
compared with the samples: a replica that has replayed past the newest sample is in step
(0 s); otherwise it lacks what the primary had written at the oldest sample it has not
reached, and it is behind by that sample's age (a bound as fine as the sampling).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import psycopg

#: WAL positions as numbers (bytes since 0/0), comparable across the two servers.
PRIMARY_POSITION = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"
REPLICA_POSITION = (
    "SELECT pg_is_in_recovery(), pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint"
)


@dataclass(frozen=True, slots=True)
class ReplicaPosition:
    #: False: the server is no replica (promoted, or a primary named by mistake).
    in_recovery: bool
    replayed: int | None


async def primary_position(conn: psycopg.AsyncConnection[Any]) -> int:
    row = await (await conn.execute(PRIMARY_POSITION)).fetchone()
    return int(row[0]) if row else 0


async def replica_position(conn: psycopg.AsyncConnection[Any]) -> ReplicaPosition:
    row = await (await conn.execute(REPLICA_POSITION)).fetchone()
    if row is None:
        return ReplicaPosition(False, None)
    return ReplicaPosition(bool(row[0]), None if row[1] is None else int(row[1]))


class LagClock:
    """The primary's positions over time, and a replica's lag against them."""

    def __init__(self, keep: int = 2_000) -> None:
        self._samples: deque[tuple[float, int]] = deque(maxlen=keep)

    def primary_at(self, moment: float, position: int) -> None:
        self._samples.append((moment, position))

    def lag(self, now: float, replayed: int) -> float:
        """Seconds behind at ``now`` for a replica that has replayed up to ``replayed``."""
        while len(self._samples) > 1 and self._samples[1][1] <= replayed:
            self._samples.popleft()  # older than what the replica is known to have
        for moment, position in self._samples:
            if position > replayed:
                return max(0.0, now - moment)
        return 0.0
