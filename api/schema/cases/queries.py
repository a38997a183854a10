"""Case queries: case, cases, caseTrail, caseStats, caseCategories, viewer; grid.cases and
grid.caseStats (called from api.schema.grids.types). Access rules: api.schema.permissions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Sequence
from typing import Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader

from api.schema.cases.enums import RoleType, SeatType
from api.schema.cases.inputs import MOMENT_HELP, CaseFilterInput, parse_moment
from api.schema.cases.stats import CaseStatsReport, CaseStatsRow, GroupByType
from api.schema.cases.types import (
    Case,
    CaseCategory,
    CaseConnection,
    CaseEdge,
    CaseEvent,
    CaseTrail,
)
from api.schema.common import (
    DEFAULT_PAGE,
    InvalidArgument,
    InvalidArgumentError,
    PageInfo,
    encode_cursor,
    page_window,
)
from api.schema.context import Info
from api.schema.errors import AuthenticationRequiredError, NotPermittedError
from api.schema.grids.types import Grid
from api.schema.permissions import Permission, case_visibility, require, stats_refusal
from api.schema.places.errors import NotFoundError
from api.schema.selection import selected_below
from geo.cases import queries
from geo.cases.audit import case_trail
from geo.cases.categories import CASE_CATEGORIES
from geo.cases.errors import CaseNotFound
from geo.cases.models import Case as CaseModel
from geo.cases.queries import CaseFilter
from geo.cases.stats import GroupBy, case_stats
from geo.grids.queries import GridRow, get_grid

CaseResult = Annotated[
    Case | NotFoundError | AuthenticationRequiredError, strawberry.union("CaseResult")
]
CasesResult = Annotated[
    CaseConnection | InvalidArgumentError | AuthenticationRequiredError,
    strawberry.union("CasesResult"),
]
CaseTrailResult = Annotated[
    CaseTrail | NotFoundError | AuthenticationRequiredError, strawberry.union("CaseTrailResult")
]
CaseStatsResult = Annotated[
    CaseStatsReport | InvalidArgumentError | AuthenticationRequiredError | NotPermittedError,
    strawberry.union("CaseStatsResult"),
]


@strawberry.type(description="The signed-in caller.")
class Viewer:
    grid_ids: strawberry.Private[tuple[int, ...]]
    name: str
    role: RoleType  # type: ignore[valid-type]
    seat: SeatType | None  # type: ignore[valid-type]
    department: str | None

    @strawberry.field(description="The grids whose subtrees are the caller's scope.")
    async def grids(self, info: Info) -> list[Grid]:
        rows = await info.context.loaders.grid.load_many(list(self.grid_ids))
        return [Grid.from_row(r) for r in rows if r is not None]


async def visible_case(info: Info, case_id: int) -> Case | None:
    """The case if it exists and the caller may see it (both misses look the same)."""
    async with info.context.read() as session:
        found = await queries.get_case(session, case_id)
    if found is None:
        return None
    case = Case.from_model(found)
    admitted = case_visibility(info.context.actor).admits(await case.scope(info))
    return case if admitted else None


async def _grid_row(code: str | None, argument: str, info: Info) -> GridRow | None:
    if code is None:
        return None
    async with info.context.read() as session:
        row = await get_grid(session, code)
    if row is None:
        raise InvalidArgument(argument, "no grid has this code")
    return row


def _narrower(a: GridRow | None, b: GridRow | None) -> GridRow | bool | None:
    """The grid whose subtree is the intersection of both subtrees; False when disjoint."""
    if a is None or b is None:
        return a or b
    if a.id in b.path:
        return b
    return a if b.id in a.path else False


def _empty() -> CaseConnection:
    return CaseConnection(edges=[], page_info=PageInfo(has_next_page=False, end_cursor=None))


#: Node fields that read the case's grid (its path decides contact and allowed actions).
_NEEDS_GRID = frozenset({"grid", "reporterContact", "allowedActions"})


async def _load_what_the_nodes_ask(info: Info, cases: Sequence[CaseModel]) -> None:
    """Loads, in bulk and concurrently, the relations the page's nodes select, so that their
    resolvers answer without awaiting (api.schema.ready). Same statements as the DataLoaders would
    send, sooner."""
    wanted = selected_below(info, "edges", "node")
    loaders = info.context.loaders.cases
    jobs: list[Awaitable[Any]] = []

    def load(loader: DataLoader[int, Any], keys: Iterable[int | None]) -> None:
        distinct = list(dict.fromkeys(k for k in keys if k is not None))
        if distinct:
            jobs.append(loader.load_many(distinct))

    reporter_named = "actorName" in selected_below(info, "edges", "node", "lastEvent")
    if wanted & _NEEDS_GRID or reporter_named:
        load(loaders.grid, (c.grid_id for c in cases))
    if "assignedWorker" in wanted:
        load(loaders.worker, (c.assignee_worker_id for c in cases))
    if "handler" in wanted:
        load(loaders.user, (c.assignee_user_id for c in cases))
    if "lastEvent" in wanted:
        load(loaders.last_event, (c.id for c in cases))
    await asyncio.gather(*jobs)


async def list_cases(
    info: Info, grid: GridRow | None, filter: CaseFilterInput | None, first: int, after: str | None
) -> CasesResult:
    """A page of the cases the caller may see, in the grid's subtree when given."""
    require(info, Permission.READ_CASES)
    filter = filter or CaseFilterInput()
    visible = case_visibility(info.context.actor).criteria()
    first, key = page_window(first, after)
    criteria = filter.criteria()
    subtree = _narrower(grid, await _grid_row(filter.grid, "filter.grid", info))
    if visible is None or subtree is False:
        return _empty()
    grid_id = subtree.id if isinstance(subtree, GridRow) else None
    chosen = CaseFilter(grid_id=grid_id, **criteria, **visible)
    async with info.context.read() as session:
        page = await queries.list_cases(session, filter=chosen, first=first, after=key)
    await _load_what_the_nodes_ask(info, page.cases)
    edges = [
        CaseEdge(cursor=encode_cursor(queries.encode_cursor(c)), node=Case.from_model(c))
        for c in page.cases
    ]
    end = edges[-1].cursor if edges else None
    info_ = PageInfo(has_next_page=page.has_next_page, end_cursor=end)
    return CaseConnection(edges=edges, page_info=info_)


async def stats_of(
    info: Info,
    grid: GridRow | None,
    from_: str | None,
    to: str | None,
    category: str | None,
    group_by: GroupBy | None,
) -> CaseStatsResult:
    """The indicators of the grid's subtree (the district when None), grouped."""
    if refused := stats_refusal(info.context.actor, grid.path if grid else None):
        raise refused
    start, end = parse_moment("from", from_), parse_moment("to", to)
    if category is not None and category not in CASE_CATEGORIES:
        raise InvalidArgument("category", "unknown category; see caseCategories")
    async with info.context.read() as session:
        rows = await case_stats(
            session,
            grid_id=grid.id if grid else None,
            from_=start,
            to=end,
            category=category,
            group_by=GroupBy(group_by) if group_by else None,
        )
    return CaseStatsReport(
        grid=Grid.from_row(grid) if grid else None,
        group_by=group_by,
        rows=[CaseStatsRow.from_stats(r) for r in rows],
    )


@strawberry.type
class CaseQuery:
    @strawberry.field(description="Who is calling; null for anonymous callers.")
    def viewer(self, info: Info) -> Viewer | None:
        actor = info.context.actor
        if actor is None:
            return None
        return Viewer(
            grid_ids=actor.grid_ids,
            name=actor.name,
            role=actor.role,
            seat=actor.seat,
            department=actor.department,
        )

    @strawberry.field(description="The case taxonomy and each category's time limits.")
    def case_categories(self) -> list[CaseCategory]:
        return [CaseCategory.of(code) for code in CASE_CATEGORIES]

    @strawberry.field(
        description="A case the caller may see (api.schema.permissions lists who sees what)."
    )
    async def case(self, info: Info, id: int) -> CaseResult:
        require(info, Permission.READ_CASES)
        if case := await visible_case(info, id):
            return case
        raise CaseNotFound(id)

    @strawberry.field(description="Cases the caller may see, newest report first.")
    async def cases(
        self,
        info: Info,
        filter: CaseFilterInput | None = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
    ) -> CasesResult:
        return await list_cases(info, None, filter, first, after)

    @strawberry.field(description="A case's events and whether their hash chain verifies.")
    async def case_trail(self, info: Info, id: int) -> CaseTrailResult:
        require(info, Permission.READ_CASES)
        case = await visible_case(info, id)
        if case is None:
            raise CaseNotFound(id)
        async with info.context.read() as session:
            trail = await case_trail(session, id)
        return CaseTrail(
            case=case,
            events=[CaseEvent.from_model(e, case) for e in trail.events],
            verified=trail.check.ok,
            broken_at=trail.check.broken_at,
            reason=trail.check.reason,
        )

    @strawberry.field(
        description="The evaluation indicators (definitions on CaseStatsRow) for a grid's "
        "subtree (the whole district without one), reported in [from, to). " + MOMENT_HELP
    )
    async def case_stats(
        self,
        info: Info,
        grid: str | None = None,
        from_: Annotated[str | None, strawberry.argument(name="from")] = None,
        to: str | None = None,
        category: str | None = None,
        group_by: GroupByType | None = None,  # type: ignore[valid-type]
    ) -> CaseStatsResult:
        row = await _grid_row(grid, "grid", info)
        return await stats_of(info, row, from_, to, category, group_by)


def _row(grid: Grid) -> GridRow:
    return GridRow(grid.id, grid.code, grid.name, grid.level.value, grid.parent_id, grid.path, {})


async def grid_cases(
    info: Info, grid: Grid, filter: CaseFilterInput | None, first: int, after: str | None
) -> CasesResult:
    """Grid.cases: Query.cases within the grid's subtree."""
    return await list_cases(info, _row(grid), filter, first, after)


async def grid_case_stats(
    info: Info,
    grid: Grid,
    from_: str | None,
    to: str | None,
    category: str | None,
    group_by: GroupBy | None,
) -> CaseStatsResult:
    """Grid.caseStats: Query.caseStats for the grid's subtree."""
    return await stats_of(info, _row(grid), from_, to, category, group_by)
