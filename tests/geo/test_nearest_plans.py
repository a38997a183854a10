"""The nearest-first statements reach their indexes, in custom and in cached generic plans.

The index keys are expressions (geo/places/planar.py); a statement that spells its key
differently by so much as a cast would fall back to reading every row in the circle and
sorting it, and still answer correctly. Only the plan shows it. Sequential and bitmap scans
are switched off so that the plan on a near-empty test table shows which index the
statement *can* use; a statement that cannot use it still plans (on a sequential scan), and
the assertion names what it found.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, select
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.ext.asyncio import AsyncSession

from geo.circles.coverage import grid_service_coverage
from geo.circles.reach import service_circle
from geo.coords import LonLat
from geo.merchants.queries import MERCHANTS, nearby_merchants
from geo.places.queries import name_conditions
from geo.service_points.queries import nearby_service_points
from tests.builders.places import ORIGIN, with_tiny_district

pytestmark = pytest.mark.anyio

NEAR = LonLat(ORIGIN.lon + 0.0005, ORIGIN.lat + 0.0005)


class Sent:
    """Statements (SQL, parameters) a session sends while recording."""

    def __init__(self, db: AsyncSession) -> None:
        self.engine = db.bind.sync_engine  # type: ignore[union-attr]
        self.statements: list[tuple[str, Any]] = []

    def _record(self, conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        self.statements.append((statement, params))

    def __enter__(self) -> Sent:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    def matching(self, word: str) -> Iterator[tuple[str, Any]]:
        return ((s, p) for s, p in self.statements if word in s)


async def driver(db: AsyncSession) -> psycopg.AsyncConnection[Any]:
    """The psycopg connection under the session, inside the test's transaction."""
    raw = (await (await db.connection()).get_raw_connection()).driver_connection
    assert isinstance(raw, psycopg.AsyncConnection)
    return raw


async def plan_of(db: AsyncSession, statement: str, params: Any) -> str:
    async with (await driver(db)).cursor() as cursor:
        await cursor.execute("SET LOCAL enable_seqscan = off")
        await cursor.execute("SET LOCAL enable_bitmapscan = off")
        await cursor.execute("EXPLAIN " + statement, params)
        return "\n".join(line for (line,) in await cursor.fetchall())


async def test_searches_without_a_category_scan_the_plain_index(db: AsyncSession) -> None:
    await with_tiny_district(db)
    with Sent(db) as sent:
        await nearby_merchants(db, NEAR, radius_m=500, limit=5)
        await nearby_merchants(db, NEAR, radius_m=500, limit=5, after=(10.0, 3))
        await nearby_service_points(db, NEAR, radius_m=500, limit=5)
    statements = list(sent.matching("<->"))
    assert len(statements) == 3
    for statement, params in statements:
        plan = await plan_of(db, statement, params)
        table = "service_points" if "FROM service_points" in statement else "merchants"
        assert f"Index Scan using ix_{table}_xy" in plan, plan
        assert "Order By" in plan, plan  # nearest first from the index, no sort


async def test_searches_by_category_scan_the_banded_index(db: AsyncSession) -> None:
    await with_tiny_district(db)
    with Sent(db) as sent:
        await nearby_merchants(db, NEAR, radius_m=500, limit=5, categories=["pharmacy"])
        await nearby_merchants(db, NEAR, radius_m=500, limit=5, categories=["pharmacy", "cafe"])
        await service_circle(db, NEAR)  # a stream per category
    statements = [s for s in sent.matching("LIMIT") if "FROM merchants" in s[0]]
    assert len(statements) == 3
    for statement, params in statements:
        plan = await plan_of(db, statement, params)
        assert "Index Scan using ix_merchants_category_xy" in plan, plan
        assert "Order By" in plan, plan


async def test_circle_counts_and_grid_coverage_probe_the_indexes(db: AsyncSession) -> None:
    ids = await with_tiny_district(db)
    with Sent(db) as sent:
        await service_circle(db, NEAR)
        await grid_service_coverage(db, ids["D111E"], spacing_m=100)
    count = next(s for s in sent.statements if "count(" in s[0] and "GROUP BY" in s[0])
    # From the covering index alone, in a custom plan and in a cached generic one.
    for plan in (await plan_of(db, *count), await generic_plan_of(db, *count)):
        assert "Index Only Scan using ix_merchants_open_mercator" in plan, plan
    points = next(sent.matching("FROM service_points"))
    assert "Index Scan using ix_service_points_xy" in await plan_of(db, *points)
    coverage = next(sent.matching("samples"))
    assert "Index Scan using ix_merchants_category_xy" in await plan_of(db, *coverage)


async def generic_plan_of(db: AsyncSession, statement: str, params: Any) -> str:
    """The plan PostgreSQL caches for the statement prepared, made without the parameters'
    values (psycopg prepares a statement after five runs)."""
    async with (await driver(db)).cursor() as cursor:
        await cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        await cursor.execute("SET LOCAL enable_seqscan = off")
        await cursor.execute("SET LOCAL enable_bitmapscan = off")
        for _ in range(3):
            await cursor.execute(statement, params, prepare=True)
        await cursor.execute(
            "SELECT name, parameter_types FROM pg_prepared_statements"
            " WHERE generic_plans > 0 ORDER BY prepare_time DESC LIMIT 1"
        )
        found = await cursor.fetchone()
    assert found, "prepared and planned generically"
    name, types = found
    async with (await driver(db)).cursor() as cursor:
        await cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        args = ", ".join("NULL" for _ in types)  # a generic plan does not look at them
        await cursor.execute(f'EXPLAIN EXECUTE "{name}"({args})')
        return "\n".join(line for (line,) in await cursor.fetchall())


async def test_a_cached_generic_plan_keeps_the_category_index(db: AsyncSession) -> None:
    await with_tiny_district(db)
    with Sent(db) as sent:
        await nearby_merchants(db, NEAR, radius_m=500, limit=5, categories=["pharmacy"])
    statement, params = next(sent.matching("<->"))
    plan = await generic_plan_of(db, statement, params)
    assert "Index Scan using ix_merchants_category_xy" in plan, plan


async def test_name_search_reaches_the_bigram_index_in_its_collation(db: AsyncSession) -> None:
    # name_grams compares in "C" (migration 0010); the query's text[] takes the column's
    # collation, which the GIN index must share for the planner to use it.
    stmt = select(MERCHANTS.c.id).where(*name_conditions(MERCHANTS.c.name, MERCHANTS.c.name_grams))
    compiled = stmt.compile(dialect=psycopg_dialect())
    params = {**compiled.params, "text": "便利", "grams": ["便利"]}
    async with (await driver(db)).cursor() as cursor:
        await cursor.execute("SET LOCAL enable_seqscan = off")
        await cursor.execute("EXPLAIN " + str(compiled), params)
        plan = "\n".join(line for (line,) in await cursor.fetchall())
    assert "Bitmap Index Scan on ix_merchants_name_grams" in plan, plan
