"""Writing grids: the all-or-nothing GeoJSON import (upsert by code) and worker assignment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon
from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from geo.errors import DomainError
from geo.grids.models import Grid, GridWorker
from geo.grids.validation import (
    LEVELS,
    ExistingGrid,
    GridFeature,
    ImportProblem,
    ProblemKind,
    parse_features,
    validate_hierarchy,
)
from geo.points import SRID
from geo.text import contains_nul

#: Rows per INSERT statement: well under PostgreSQL's 65,535 bind parameters.
BATCH = 1_000


class GridImportFailed(DomainError):
    """The import was refused; nothing was written. `problems` lists every error found."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"the grid import has {len(errors)} problem(s); nothing was imported")
        self.problems = list(problems)


_NUL_PROBLEM = ImportProblem(
    index=None,
    code=None,
    kind=ProblemKind.MALFORMED_FEATURE,
    message="the file contains the NUL character (U+0000), which cannot be stored",
    location=None,
)


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: int
    updated: int
    warnings: tuple[ImportProblem, ...]


async def import_grids(session: AsyncSession, collection: Mapping[str, Any]) -> ImportReport:
    """Validates a FeatureCollection and upserts its grids by code, all or nothing.

    Raises GridImportFailed (before writing anything) when any feature has an error; warnings
    (gaps inside a parent) do not stop the import and come back in the report.
    """
    if contains_nul(collection):
        raise GridImportFailed([_NUL_PROBLEM])
    features, problems = parse_features(collection)
    existing = await _existing_parents(session, features)
    problems += validate_hierarchy(features, existing)
    if any(p.severity == "error" for p in problems):
        raise GridImportFailed(problems)
    known = await _ids_by_code(session, [f.code for f in features])
    ids = {g.code: g.id for g in existing.values()}
    for level in LEVELS:
        batch = [f for f in features if f.level == level]
        ids.update(await _upsert(session, batch, ids))
    await _recompute_paths(session)
    updated = sum(1 for f in features if f.code in known)
    warnings = tuple(p for p in problems if p.severity != "error")
    return ImportReport(created=len(features) - updated, updated=updated, warnings=warnings)


async def _existing_parents(
    session: AsyncSession, features: Sequence[GridFeature]
) -> dict[str, ExistingGrid]:
    in_file = {f.code for f in features}
    wanted = {f.parent_code for f in features if f.parent_code and f.parent_code not in in_file}
    if not wanted:
        return {}
    stmt = select(Grid.id, Grid.code, Grid.level, Grid.boundary).where(Grid.code.in_(wanted))
    return {
        code: ExistingGrid(code=code, level=level, geometry=to_shape(boundary), id=gid)
        for gid, code, level, boundary in (await session.execute(stmt)).all()
    }


async def _ids_by_code(session: AsyncSession, codes: Iterable[str]) -> dict[str, int]:
    stmt = select(Grid.code, Grid.id).where(Grid.code.in_(list(codes)))
    return dict((await session.execute(stmt)).all())


async def _upsert(
    session: AsyncSession, features: Sequence[GridFeature], ids: Mapping[str, int]
) -> dict[str, int]:
    out: dict[str, int] = {}
    for start in range(0, len(features), BATCH):
        rows = [_values(f, ids) for f in features[start : start + BATCH]]
        stmt = insert(Grid).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=[Grid.code],
            set_={
                "name": stmt.excluded.name,
                "level": stmt.excluded.level,
                "parent_id": stmt.excluded.parent_id,
                "boundary": stmt.excluded.boundary,
                "properties": stmt.excluded.properties,
                "updated_at": func.now(),
            },
        ).returning(Grid.code, Grid.id)
        out.update(dict((await session.execute(stmt)).all()))
    return out


def _values(feature: GridFeature, ids: Mapping[str, int]) -> dict[str, Any]:
    geometry = feature.geometry
    if not isinstance(geometry, MultiPolygon):
        geometry = MultiPolygon([geometry])
    return {
        "code": feature.code,
        "name": feature.name,
        "level": str(feature.level),
        "parent_id": ids[feature.parent_code] if feature.parent_code else None,
        "boundary": from_shape(geometry, srid=SRID),
        "properties": feature.properties,
    }


async def _recompute_paths(session: AsyncSession) -> None:
    """Rebuilds every grid's path (district → itself) from parent links: one statement."""
    await session.execute(
        text(
            """
            WITH RECURSIVE tree(id, path) AS (
                SELECT id, ARRAY[id] FROM grids WHERE parent_id IS NULL
                UNION ALL
                SELECT g.id, t.path || g.id FROM grids g JOIN tree t ON g.parent_id = t.id
            )
            UPDATE grids SET path = tree.path FROM tree
            WHERE grids.id = tree.id AND grids.path IS DISTINCT FROM tree.path
            """
        )
    )


@dataclass(frozen=True, slots=True)
class WorkerInput:
    grid_code: str
    name: str
    phone: str
    role: str


async def replace_workers(session: AsyncSession, workers: Sequence[WorkerInput]) -> int:
    """Replaces the workers of every grid named in `workers`; returns how many were stored."""
    ids = await _ids_by_code(session, {w.grid_code for w in workers})
    missing = sorted({w.grid_code for w in workers} - ids.keys())
    if missing:
        raise DomainError(f"unknown grid code(s): {', '.join(missing[:5])}")
    await session.execute(delete(GridWorker).where(GridWorker.grid_id.in_(list(ids.values()))))
    rows = [
        {"grid_id": ids[w.grid_code], "name": w.name, "phone": w.phone, "role": w.role}
        for w in workers
    ]
    for start in range(0, len(rows), BATCH * 5):
        await session.execute(insert(GridWorker), rows[start : start + BATCH * 5])
    return len(rows)
