"""The synthesised year under issue 14's rules: nobody certified their own work, patrol
finds fixed on the spot are counted apart, and the published figures still hold."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from geo.cases.models import Case
from geo.cases.stats import case_stats
from geo.clock import utcnow

pytestmark = pytest.mark.anyio


async def test_no_account_verified_or_evaluated_its_own_work(seeded_db: AsyncSession) -> None:
    # Read from the trails themselves, not from the columns the workflow keeps.
    offences = await seeded_db.scalar(
        text(
            """
            SELECT count(*) FROM case_events v
            JOIN LATERAL (
                SELECT actor_id FROM case_events h
                WHERE h.case_id = v.case_id AND h.seq < v.seq
                  AND h.action IN ('report_handled', 'handle_on_site')
                ORDER BY h.seq DESC LIMIT 1
            ) AS handler ON true
            WHERE v.action IN ('verify_ok', 'verify_failed', 'evaluate')
              AND v.actor_id = handler.actor_id
            """
        )
    )
    assert offences == 0
    evaluated_by_verifier = await seeded_db.scalar(
        text(
            """
            SELECT count(*) FROM case_events e
            JOIN LATERAL (
                SELECT actor_id FROM case_events v
                WHERE v.case_id = e.case_id AND v.seq < e.seq AND v.action = 'verify_ok'
                ORDER BY v.seq DESC LIMIT 1
            ) AS verifier ON true
            WHERE e.action = 'evaluate' AND e.actor_id = verifier.actor_id
            """
        )
    )
    assert evaluated_by_verifier == 0
    by_staff_reporters = await seeded_db.scalar(
        text(
            """
            SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id
            JOIN users u ON u.id = c.reporter_user_id
            WHERE e.action = 'evaluate' AND u.role = 'grid_worker'
            """
        )
    )
    assert by_staff_reporters == 0


async def test_self_handled_cases_are_counted_apart(seeded_db: AsyncSession) -> None:
    (stats,) = await case_stats(seeded_db, now=utcnow())
    fixed_on_site = await seeded_db.scalar(
        text(
            "SELECT count(DISTINCT c.id) FROM cases c JOIN case_events e ON e.case_id = c.id "
            "WHERE e.action = 'handle_on_site' AND c.status = 'closed'"
        )
    )
    assert stats.self_handled == fixed_on_site
    assert 100 < stats.self_handled < stats.closed // 10  # a share of the patrol finds
    never_evaluated = await seeded_db.scalar(
        select(func.count()).where(Case.self_handled, Case.evaluation_count > 0)
    )
    assert never_evaluated == 0
    assert round(stats.closure_rate * 100, 2) == 99.88  # type: ignore[operator]
    assert round(stats.satisfaction_rate * 100, 2) == 99.34  # type: ignore[operator]
