"""Listing cases: filters, keyset paging, batch loaders, and the statement budget of a page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from geo.cases.categories import Channel
from geo.cases.errors import InvalidCaseInput, InvalidCursor
from geo.cases.models import Case
from geo.cases.queries import (
    CaseFilter,
    cases_by_ids,
    count_cases,
    events_of,
    get_case,
    get_case_by_number,
    grids_with_ancestors,
    is_overdue,
    last_events_of,
    list_cases,
    users_by_ids,
    workers_by_ids,
)
from geo.cases.workflow import Action, CaseStatus
from tests.builders.cases import T0, Cast, at, make_cast, report, take

pytestmark = pytest.mark.anyio

SPOTS = {"D111A": (2, 2), "D111B": (7, 2), "D111C": (2, 7), "D111E": (7, 7)}


@contextmanager
def counted(engine: AsyncEngine) -> Iterator[list[str]]:
    """Collects the SQL statements sent while the block runs (savepoints aside)."""
    statements: list[str] = []

    def collect(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        if not sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
            statements.append(sql)

    event.listen(engine.sync_engine, "before_cursor_execute", collect)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", collect)


async def many_cases(db: AsyncSession, cast: Cast, n: int) -> list[Case]:
    """``n`` cases round the four micro-grids, an hour apart; every third one accepted."""
    cases = []
    for i in range(n):
        code = list(SPOTS)[i % 4]
        result = await report(
            db,
            actor=cast.resident if i % 2 else None,
            point=at(*SPOTS[code]),
            category="sanitation" if i % 5 == 0 else "street_vending",
            now=T0 + timedelta(hours=i),
            idempotency_key=f"many-{i}",
        )
        case = result.case
        if i % 3 == 0:
            case = (await take(db, cast, case, Action.ACCEPT, now=case.reported_at)).case
        cases.append(case)
    return cases


async def test_a_page_of_100_with_grids_ancestors_last_events_and_assignees_costs_4_statements(
    db: AsyncSession, engine: AsyncEngine
) -> None:
    cast = await make_cast(db)
    await many_cases(db, cast, 120)
    db.expunge_all()  # nothing cached: every relation must come from the database
    with counted(engine) as statements:
        page = await list_cases(db, first=100)
        grids = await grids_with_ancestors(db, {c.grid_id for c in page.cases if c.grid_id})
        last = await last_events_of(db, [c.id for c in page.cases])
        workers = await workers_by_ids(
            db, {c.assignee_worker_id for c in page.cases if c.assignee_worker_id}
        )
    assert len(statements) == 4, statements
    assert len(page.cases) == 100 and page.has_next_page
    for case in page.cases:
        grid = grids[case.grid_id]  # type: ignore[index]
        assert [grids[g].code for g in grid.path] == ["D", "D1", "D11", "D111", grid.code]
        assert last[case.id].seq == case.version
        assert workers[case.assignee_worker_id].name in ("王伟", "李强")  # type: ignore[index]


async def test_keyset_pages_cover_every_case_once_newest_first(db: AsyncSession) -> None:
    cast = await make_cast(db)
    cases = await many_cases(db, cast, 23)
    seen: list[int] = []
    after = None
    while True:
        page = await list_cases(db, first=5, after=after)
        seen += [c.id for c in page.cases]
        if not page.has_next_page:
            break
        after = page.end_cursor
    expected = [c.id for c in sorted(cases, key=lambda c: (c.reported_at, c.id), reverse=True)]
    assert seen == expected


async def test_filters(db: AsyncSession) -> None:
    cast = await make_cast(db)
    cases = await many_cases(db, cast, 20)
    now = T0 + timedelta(days=1)

    async def ids(**criteria: Any) -> set[int]:
        page = await list_cases(db, filter=CaseFilter(**criteria), first=100, now=now)
        assert await count_cases(db, filter=CaseFilter(**criteria), now=now) == len(page.cases)
        return {c.id for c in page.cases}

    by_grid = {code: {c.id for c in cases if c.grid_id == cast.grids[code]} for code in SPOTS}
    assert await ids(grid_id=cast.grids["D111B"]) == by_grid["D111B"]
    assert await ids(grid_id=cast.grids["D1"]) == {c.id for c in cases}
    two = [cast.grids["D111A"], cast.grids["D111E"]]
    assert await ids(grid_ids=two) == by_grid["D111A"] | by_grid["D111E"]
    accepted = {c.id for c in cases if c.status == "accepted"}
    assert await ids(statuses=[CaseStatus.ACCEPTED]) == accepted
    assert await ids(categories=["sanitation"]) == {
        c.id for c in cases if c.category == "sanitation"
    }
    assert await ids(channels=[Channel.HOTLINE]) == set()
    assert await ids(reporter_user_id=cast.resident.user_id) == {
        c.id for c in cases if c.reporter_user_id == cast.resident.user_id
    }
    window = await ids(reported_from=T0 + timedelta(hours=5), reported_to=T0 + timedelta(hours=8))
    assert window == {c.id for c in cases[5:8]}
    overdue = {c.id for c in cases if is_overdue(c, now)}
    assert overdue and await ids(overdue=True) == overdue
    assert await ids(overdue=False) == {c.id for c in cases} - overdue


async def test_loaders_and_lookups(db: AsyncSession) -> None:
    cast = await make_cast(db)
    case = (await many_cases(db, cast, 4))[0]
    assert (await get_case(db, case.id)) is case
    assert (await get_case_by_number(db, case.number)) is case
    assert (await get_case(db, 10**9)) is None
    assert set(await cases_by_ids(db, [case.id, 10**9])) == {case.id}
    trails = await events_of(db, [case.id, 10**9])
    assert [e.action for e in trails[case.id]] == ["reported", "accept"] and trails[10**9] == []
    users = await users_by_ids(db, [cast.district_agent.user_id or 0])
    assert [u.name for u in users.values()] == ["区座席"]


async def test_bad_paging_input_is_a_domain_error(db: AsyncSession) -> None:
    with pytest.raises(InvalidCursor):
        await list_cases(db, after="not-a-cursor")
    with pytest.raises(InvalidCaseInput):
        await list_cases(db, first=101)
    with pytest.raises(InvalidCaseInput):
        await list_cases(db, first=0)
