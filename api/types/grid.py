"""The Grid type and its relations (loaded through DataLoaders)."""

from __future__ import annotations

import orjson
import strawberry
from strawberry.scalars import JSON

from api.context import Info
from api.types.common import CoordSystemType
from geo.coords import CoordSystem, geojson_from_wgs84
from geo.grids.models import GridWorker as GridWorkerModel
from geo.grids.models import WorkerRole
from geo.grids.queries import GridRow
from geo.grids.validation import GridLevel

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

    @classmethod
    def from_row(cls, row: GridRow) -> Grid:
        return cls(
            id=row.id,
            parent_id=row.parent_id,
            path=row.path,
            code=row.code,
            name=row.name,
            level=GridLevel(row.level),
            properties=row.properties,
        )

    @strawberry.field(description="The grid one level up (null for the district).")
    async def parent(self, info: Info) -> Grid | None:
        if self.parent_id is None:
            return None
        row = await info.context.loaders.grid.load(self.parent_id)
        return Grid.from_row(row) if row else None

    @strawberry.field(description="The grids one level down, by code.")
    async def children(self, info: Info) -> list[Grid]:
        rows = await info.context.loaders.children.load(self.id)
        return [Grid.from_row(r) for r in rows]

    @strawberry.field(description="The chain from the district down to this grid, inclusive.")
    async def ancestors(self, info: Info) -> list[Grid]:
        rows = await info.context.loaders.grid.load_many(list(self.path))
        return [Grid.from_row(r) for r in rows if r is not None]

    @strawberry.field(description="Workers assigned to this grid.")
    async def workers(self, info: Info) -> list[GridWorker]:
        return [GridWorker.from_model(w) for w in await info.context.loaders.workers.load(self.id)]

    @strawberry.field(description="The boundary as a GeoJSON MultiPolygon.")
    async def geometry(
        self,
        info: Info,
        system: CoordSystemType = CoordSystem.WGS84,  # type: ignore[valid-type]
    ) -> JSON:
        text = await info.context.loaders.geojson.load(self.id)
        return geojson_from_wgs84(orjson.loads(text), CoordSystem(system))


@strawberry.type
class GridEdge:
    cursor: str
    node: Grid
