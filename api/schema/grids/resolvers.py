"""Grid queries (grid, grids, gridAt) and the admin import."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import strawberry

from api.schema.common import (
    DEFAULT_PAGE,
    CoordSystemType,
    InvalidArgumentError,
    InvalidCoordinateError,
    PageInfo,
    Point,
    PointInput,
    encode_cursor,
    page_window,
)
from api.schema.context import Context, Info
from api.schema.errors import AuthenticationRequiredError, Error, NotPermittedError
from api.schema.grids.types import Grid, GridEdge, GridLevelType
from api.schema.permissions import Permission, require
from geo.coords import CoordSystem, LonLat
from geo.errors import DomainError
from geo.grids import queries, service
from geo.grids.queries import Candidate, Covered, Outside
from geo.grids.validation import ImportProblem, ProblemKind, Severity

ProblemKindType = strawberry.enum(ProblemKind, name="GridImportProblemKind")
SeverityType = strawberry.enum(Severity, name="Severity")


@strawberry.type
class GridConnection:
    edges: list[GridEdge]
    page_info: PageInfo


GridsResult = Annotated[GridConnection | InvalidArgumentError, strawberry.union("GridsResult")]


@strawberry.type(description="Another grid within reach of a point near a boundary.")
class GridCandidate:
    grid: Grid
    distance_m: float


@strawberry.type(description="The micro-grid covering the point (boundary points included).")
class GridMatch:
    grid: Grid = strawberry.field(description="The deepest grid covering the point.")
    point: Point = strawberry.field(description="The point, in the system asked for.")
    distance_to_boundary_m: float = strawberry.field(
        description="Geodesic distance from the point to the grid's boundary, in metres."
    )
    near_boundary: bool = strawberry.field(
        description="True when the point is closer to the boundary than the threshold or "
        "the stated accuracy: then `candidates` lists the other grids within that distance."
    )
    candidates: list[GridCandidate]

    @strawberry.field(description="District down to the grid, inclusive.")
    async def ancestors(self, info: Info) -> list[Grid]:
        return await self.grid.ancestors(info)


@strawberry.type(description="No grid covers the point.")
class OutsideCoverage(Error):
    nearest: Grid | None = strawberry.field(description="The nearest micro-grid.")
    distance_m: float | None = strawberry.field(description="Geodesic metres to it.")


GridAtResult = Annotated[
    GridMatch | OutsideCoverage | InvalidCoordinateError, strawberry.union("GridAtResult")
]


@strawberry.type(description="A problem found in an imported feature.")
class GridImportProblem:
    index: int | None = strawberry.field(description="The feature's position in the file.")
    code: str | None
    kind: ProblemKindType  # type: ignore[valid-type]
    severity: SeverityType  # type: ignore[valid-type]
    message: str
    distance_m: float | None
    area_m2: float | None
    other_code: str | None
    longitude: float | None
    latitude: float | None

    @classmethod
    def from_problem(cls, p: ImportProblem) -> GridImportProblem:
        lon, lat = p.location if p.location else (None, None)
        return cls(
            index=p.index,
            code=p.code,
            kind=p.kind,
            severity=p.severity,
            message=p.message,
            distance_m=p.distance_m,
            area_m2=p.area_m2,
            other_code=p.other_code,
            longitude=lon,
            latitude=lat,
        )


@strawberry.type
class GridsImported:
    created: int
    updated: int
    warnings: list[GridImportProblem]


@strawberry.type(description="The import was refused; nothing was written.")
class GridImportError(Error):
    problems: list[GridImportProblem]


class GeoJSONNotJSON(DomainError):
    """The importGrids text is not JSON at all: answered GridImportError without problems."""

    problems = ()


ImportGridsResult = Annotated[
    GridsImported | GridImportError | AuthenticationRequiredError | NotPermittedError,
    strawberry.union("ImportGridsResult"),
]

ROUTING_RULE = (
    "A point belongs to the micro-grids whose boundary covers it (edges and vertices "
    "included); on a shared edge or vertex, the one with the smallest code wins."
)


@strawberry.type
class GridQuery:
    @strawberry.field(description="A grid by its code.")
    async def grid(self, info: Info, code: str) -> Grid | None:
        async with info.context.read() as session:
            row = await queries.get_grid(session, code)
        return Grid.from_row(row, looked_up=True) if row else None

    @strawberry.field(description="Grids by code order, optionally one level or one parent's.")
    async def grids(
        self,
        info: Info,
        level: GridLevelType | None = None,  # type: ignore[valid-type]
        parent: str | None = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
    ) -> GridsResult:
        first, after = page_window(first, after)
        async with info.context.read() as session:
            rows = await queries.list_grids(
                session,
                level=level.value if level else None,
                parent_code=parent,
                after_code=after,
                limit=first + 1,
            )
        edges = [GridEdge(cursor=encode_cursor(r.code), node=Grid.from_row(r)) for r in rows]
        page = edges[:first]
        end = page[-1].cursor if page else None
        return GridConnection(
            edges=page, page_info=PageInfo(has_next_page=len(edges) > first, end_cursor=end)
        )

    @strawberry.field(description="The grid covering a point. " + ROUTING_RULE)
    async def grid_at(
        self,
        info: Info,
        point: PointInput,
        output: CoordSystemType = CoordSystem.WGS84,  # type: ignore[valid-type]
    ) -> GridAtResult:
        wgs, near_m, found = await locate(info.context, point)
        if isinstance(found, Covered):
            return GridMatch(
                grid=Grid.from_row(found.grid, found.parent, looked_up=True),
                point=Point.from_wgs84(wgs, CoordSystem(output)),
                distance_to_boundary_m=found.distance_to_edge_m,
                near_boundary=near_boundary(found, near_m),
                candidates=[_candidate(c) for c in found.others],
            )
        nearest = found.nearest
        return OutsideCoverage(
            message="No grid covers this point.",
            nearest=Grid.from_row(nearest.grid) if nearest else None,
            distance_m=nearest.distance_m if nearest else None,
        )


async def locate(context: Context, point: PointInput) -> tuple[LonLat, float, Covered | Outside]:
    """gridAt's lookup: the point in WGS 84 (InvalidCoordinate when it is out of range), the
    boundary threshold (the setting, widened to the stated accuracy), and where it falls."""
    wgs = point.to_wgs84()
    near_m = boundary_threshold(context, point)
    async with context.connect() as connection:
        found = await queries.route_point(connection, wgs, near_m=min(near_m, 5_000.0))
    return wgs, near_m, found


def boundary_threshold(context: Context, point: PointInput) -> float:
    """Metres from an edge within which gridAt says nearBoundary: the setting, widened to
    the point's stated accuracy."""
    return max(context.settings.boundary_warning_m, point.accuracy_m or 0.0)


def near_boundary(found: Covered, near_m: float) -> bool:
    return bool(found.others) or found.distance_to_edge_m < near_m


def _candidate(c: Candidate) -> GridCandidate:
    return GridCandidate(grid=Grid.from_row(c.grid), distance_m=c.distance_m)


@strawberry.type
class GridMutation:
    @strawberry.mutation(
        description="Imports grids from GeoJSON text: a FeatureCollection whose properties are "
        "code, parent_code, level and name (others kept). All or nothing; same codes update "
        "in place."
    )
    async def import_grids(self, info: Info, geojson: str) -> ImportGridsResult:
        require(info, Permission.WRITE_GRIDS)
        feature_collection = _json(geojson)
        async with info.context.write() as session:
            report = await service.import_grids(session, feature_collection)
        return GridsImported(
            created=report.created,
            updated=report.updated,
            warnings=[GridImportProblem.from_problem(p) for p in report.warnings],
        )


def _json(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise GeoJSONNotJSON(f"the GeoJSON is not valid JSON: {error}") from None
