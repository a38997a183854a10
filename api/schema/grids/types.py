"""The Grid type and its relations (loaded through DataLoaders)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import orjson
import strawberry
from strawberry.scalars import JSON

from api.schema import ready
from api.schema.common import DEFAULT_PAGE, CoordSystemType
from api.schema.context import Info
from api.schema.permissions import WORKER_LOOKUPS_PER_REQUEST, workers_visible
from geo.coords import CoordSystem, geojson_from_wgs84
from geo.grids.models import GridWorker as GridWorkerModel
from geo.grids.models import WorkerRole
from geo.grids.queries import GridRow
from geo.grids.validation import GridLevel

if TYPE_CHECKING:
    from api.schema.cases.inputs import CaseFilterInput
    from api.schema.cases.queries import CasesResult, CaseStatsResult
    from api.schema.cases.stats import GroupByType
    from api.schema.circles.types import GridServiceCoverageResult
    from api.schema.places.connections import MerchantsResult, ServicePointsResult

GridLevelType = strawberry.enum(
    GridLevel,
    name="GridLevel",
    description="DISTRICT; L1 subdistrict (一级); L2 community (二级); L3 block (三级); "
    "MICRO building or courtyard group (微网格). Each level partitions its parent.",
)
WorkerRoleType = strawberry.enum(WorkerRole, name="WorkerRole")


@strawberry.type(description="A person responsible for a grid (网格员).")
class GridWorker:
    name: str
    phone: str
    role: WorkerRoleType  # type: ignore[valid-type]

    @classmethod
    def from_model(cls, m: GridWorkerModel) -> GridWorker:
        return cls(name=m.name, phone=m.phone, role=WorkerRole(m.role))


@strawberry.type(description="A polygon of responsibility (网格) in the district's hierarchy.")
class Grid:
    id: strawberry.Private[int]
    parent_id: strawberry.Private[int | None]
    path: strawberry.Private[tuple[int, ...]]
    code: str = strawberry.field(description="Stable administrative-style code.")
    name: str
    level: GridLevelType  # type: ignore[valid-type]
    properties: JSON = strawberry.field(description="Other properties of the imported feature.")
    #: The parent's row when the statement that found this grid brought it along.
    parent_row: strawberry.Private[GridRow | None] = None
    #: The caller asked for this grid itself (gridAt, grid(code)), not through a list.
    looked_up: strawberry.Private[bool] = False

    @classmethod
    def from_row(
        cls, row: GridRow, parent: GridRow | None = None, *, looked_up: bool = False
    ) -> Grid:
        return cls(
            id=row.id,
            parent_id=row.parent_id,
            path=row.path,
            code=row.code,
            name=row.name,
            level=GridLevel(row.level),
            properties=row.properties,
            parent_row=parent,
            looked_up=looked_up,
        )

    @strawberry.field(description="The grid one level up (null for the district).")
    def parent(self, info: Info) -> Grid | None:
        if self.parent_id is None:
            return None
        if self.parent_row is not None:
            return Grid.from_row(self.parent_row)
        return ready.one(info.context.loaders.grid, self.parent_id, _grid_or_none)  # type: ignore[return-value]

    @strawberry.field(description="The grids one level down, by code.")
    async def children(self, info: Info) -> list[Grid]:
        rows = await info.context.loaders.children.load(self.id)
        return [Grid.from_row(r) for r in rows]

    @strawberry.field(description="The chain from the district down to this grid, inclusive.")
    def ancestors(self, info: Info) -> list[Grid]:
        return ready.many(info.context.loaders.grid, self.path, _grids)

    @strawberry.field(
        description="Workers assigned to this grid, with their phones. Staff see them on any "
        "grid; everyone else on a grid they looked up themselves (gridAt's grid, grid(code)), "
        f"at most {WORKER_LOOKUPS_PER_REQUEST} a request, and an empty list elsewhere: the "
        "worker of the grid at a point, not a directory (api.schema.permissions)."
    )
    async def workers(self, info: Info) -> list[GridWorker]:
        if not workers_visible(info.context, looked_up=self.looked_up):
            return []
        return [GridWorker.from_model(w) for w in await info.context.loaders.workers.load(self.id)]

    @strawberry.field(description="The boundary as a GeoJSON MultiPolygon.")
    async def geometry(
        self,
        info: Info,
        system: CoordSystemType = CoordSystem.WGS84,  # type: ignore[valid-type]
    ) -> JSON:
        text = await info.context.loaders.geojson.load(self.id)
        return geojson_from_wgs84(orjson.loads(text), CoordSystem(system))

    # -- merchants and service points (api.schema.grids.places; lazy types avoid import cycles)

    @strawberry.field(description="Merchants of this grid and every grid below it, by id.")
    async def merchants(
        self,
        info: Info,
        categories: list[str] | None = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
        output: CoordSystemType = CoordSystem.WGS84,  # type: ignore[valid-type]
    ) -> Annotated[MerchantsResult, strawberry.lazy("api.schema.places.connections")]:
        from api.schema.grids.places import grid_merchants

        return await grid_merchants(info, self.id, len(self.path), categories, first, after, output)

    @strawberry.field(description="Service points of this grid and every grid below it, by id.")
    async def service_points(
        self,
        info: Info,
        kinds: list[str] | None = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
        output: CoordSystemType = CoordSystem.WGS84,  # type: ignore[valid-type]
    ) -> Annotated[ServicePointsResult, strawberry.lazy("api.schema.places.connections")]:
        from api.schema.grids.places import grid_service_points

        return await grid_service_points(info, self.id, len(self.path), kinds, first, after, output)

    @strawberry.field(
        description="For each basic category, the share of the grid within its walking tier "
        "of an open merchant, sampled on a lattice spacingM metres apart (see the type). One "
        "request computes at most 10,000 lattice points: grids past that answer "
        "InvalidArgumentError (ask for fewer grids, or a wider spacingM)."
    )
    async def service_coverage(
        self, info: Info, spacing_m: float = 50.0
    ) -> Annotated[GridServiceCoverageResult, strawberry.lazy("api.schema.circles.types")]:
        from api.schema.grids.places import grid_coverage

        return await grid_coverage(info, self.id, spacing_m)

    # -- cases (api.schema.cases.queries; lazy types avoid import cycles)

    @strawberry.field(
        description="Cases of this grid's subtree the caller may see, newest report first "
        "(the rules of Query.cases; a filter grid narrows further)."
    )
    async def cases(
        self,
        info: Info,
        filter: Annotated[CaseFilterInput, strawberry.lazy("api.schema.cases.inputs")]
        | None = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
    ) -> Annotated[CasesResult, strawberry.lazy("api.schema.cases.queries")]:
        from api.schema.cases.queries import grid_cases

        return await grid_cases(info, self, filter, first, after)

    @strawberry.field(description="Query.caseStats for this grid's subtree.")
    async def case_stats(
        self,
        info: Info,
        from_: Annotated[str | None, strawberry.argument(name="from")] = None,
        to: str | None = None,
        category: str | None = None,
        group_by: Annotated[GroupByType, strawberry.lazy("api.schema.cases.stats")] | None = None,
    ) -> Annotated[CaseStatsResult, strawberry.lazy("api.schema.cases.queries")]:
        from api.schema.cases.queries import grid_case_stats

        return await grid_case_stats(info, self, from_, to, category, group_by)


@strawberry.type
class GridEdge:
    cursor: str
    node: Grid


def _grids(rows: list[GridRow | None]) -> list[Grid]:
    return [Grid.from_row(r) for r in rows if r is not None]


def _grid_or_none(row: GridRow | None) -> Grid | None:
    return Grid.from_row(row) if row is not None else None
