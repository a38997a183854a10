"""The demo year (the seeded database, READ-ONLY) is routed by the service's own rule: a
sample of seeded cases, each routed again through ``route_case`` on its stored point,
accuracy and source, must land where the seed put it (grid, worker, reason, and the REPORTED
event's details); a queued case's grid is the one an agent confirmed, a grid that covers its
point. And the stories follow the routed grid: grid teams handle only cases under their
grid, on every level a case can be routed to.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from geo.cases.categories import LocationSource
from geo.cases.routing import RoutingReason, route_case, route_to_grid
from geo.coords import LonLat
from geo.grids.queries import grids_by_ids

pytestmark = pytest.mark.anyio

SAMPLE = 300
#: At most this many of the sample per reason the report was routed with, so that the rare
#: reasons (the queue, fallbacks, outside coverage) are in it too.
PER_REASON = 40


async def _sample(db: AsyncSession) -> list[dict]:
    rows = (
        await db.execute(
            text(
                """
                SELECT c.id, c.number, ST_X(c.location) AS lon, ST_Y(c.location) AS lat,
                       c.accuracy_m, c.location_source, c.grid_id, c.assignee_worker_id,
                       c.routing_reason, e.details AS reported
                FROM cases c JOIN case_events e ON e.case_id = c.id AND e.seq = 1
                ORDER BY c.id
                """
            )
        )
    ).mappings()
    by_reason: dict[str, list[dict]] = {}
    for row in rows:
        by_reason.setdefault(row["reported"]["routing"], []).append(dict(row))
    rng = random.Random(14)
    picked = [
        c for cases in by_reason.values() for c in rng.sample(cases, min(PER_REASON, len(cases)))
    ]
    chosen = {c["id"] for c in picked}
    rest = [c for cases in by_reason.values() for c in cases if c["id"] not in chosen]
    return picked + rng.sample(rest, SAMPLE - len(picked))


async def test_seeded_cases_are_where_route_case_sends_them(seeded_db: AsyncSession) -> None:
    sample = await _sample(seeded_db)
    assert len(sample) == SAMPLE
    seen: Counter[str] = Counter()
    for case in sample:
        routing = await route_case(
            seeded_db,
            LonLat(case["lon"], case["lat"]),
            accuracy_m=case["accuracy_m"],
            source=LocationSource(case["location_source"]),
        )
        where = (case["number"], case["location_source"], case["accuracy_m"], routing.details)
        assert case["reported"] == {"routing": routing.reason.value, **routing.details}, where
        seen[routing.reason.value] += 1
        if case["routing_reason"] != RoutingReason.CONFIRMED_BY_AGENT:
            assert case["routing_reason"] == routing.reason, where
            assert case["grid_id"] == (routing.grid.id if routing.grid else None), where
            assert case["assignee_worker_id"] == routing.worker_id, where
            continue
        # Accepted from the queue: the agent confirmed a grid that covers the point.
        assert routing.reason == RoutingReason.COARSE_LOCATION and routing.grid is None, where
        covers = await seeded_db.scalar(
            text(
                "SELECT ST_Covers(g.boundary, c.location) FROM cases c "
                "JOIN grids g ON g.id = c.grid_id WHERE c.id = :id"
            ),
            {"id": case["id"]},
        )
        assert covers, where
        grid = (await grids_by_ids(seeded_db, [case["grid_id"]]))[case["grid_id"]]
        assert case["assignee_worker_id"] == (await route_to_grid(seeded_db, grid)).worker_id, where
    assert {
        "MICRO_GRID_WORKER", "ACCURACY_CIRCLE_L3", "ACCURACY_CIRCLE_L2", "ACCURACY_CIRCLE_L1",
        "COARSE_LOCATION", "OUTSIDE_COVERAGE",
    } <= seen.keys(), seen  # fmt: skip


async def test_stories_follow_the_routed_grid(seeded_db: AsyncSession) -> None:
    # Closed cases on every level a report can be routed to.
    levels = dict(
        (
            await seeded_db.execute(
                text(
                    "SELECT g.level, count(*) FROM cases c JOIN grids g ON g.id = c.grid_id "
                    "WHERE c.status = 'closed' GROUP BY g.level"
                )
            )
        ).all()
    )
    assert set(levels) == {"MICRO", "L3", "L2", "L1"} and min(levels.values()) > 100, levels
    # A grid worker handles (or fixes on the spot) only cases under his own grid, and
    # verifies only cases in his L3 grid.
    strays = await seeded_db.scalar(
        text(
            """
            SELECT count(*) FROM case_events e
            JOIN cases c ON c.id = e.case_id JOIN grids g ON g.id = c.grid_id
            JOIN users u ON u.id = e.actor_id JOIN user_grids ug ON ug.user_id = u.id
            JOIN grids mine ON mine.id = ug.grid_id
            WHERE u.role = 'grid_worker'
              AND e.action IN ('start', 'report_handled', 'handle_on_site', 'verify_ok',
                               'verify_failed')
              AND NOT (mine.id = ANY(g.path)
                       AND (e.action NOT LIKE 'verify%' OR mine.level = 'L3'))
            """
        )
    )
    assert strays == 0
    by_level = dict(
        (
            await seeded_db.execute(
                text(
                    """
                    SELECT mine.level, count(*) FROM case_events e
                    JOIN user_grids ug ON ug.user_id = e.actor_id
                    JOIN grids mine ON mine.id = ug.grid_id
                    WHERE e.action = 'report_handled' GROUP BY mine.level
                    """
                )
            )
        ).all()
    )
    assert set(by_level) == {"L3", "L2", "L1"}, by_level  # grid teams of every level handle
