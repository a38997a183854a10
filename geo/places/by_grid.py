"""Places of several grid subtrees at once, for DataLoaders.

``grid.merchants`` on a page of 100 grids must not cost 100 statements: each distinct
listing shape (page size, cursor, filters) is one statement, a LATERAL join over the grid
ids, each grid's rows found through ``grids.path`` (every grid lists its ancestors and
itself, GIN-indexed) and cut at its own LIMIT. ``geo.merchants.queries.merchants_of_grids``
and ``geo.service_points.queries.service_points_of_grids`` run :func:`pages_of_grids` on their
tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ARRAY, ColumnElement, Integer, func, literal, select, true
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession

from geo.grids.models import Grid
from geo.places.queries import Page

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class GridListing:
    """One grid's list as a field asks for it: by id, after ``after_id``, at most ``limit``."""

    grid_id: int
    limit: int
    after_id: int | None = None
    #: Category codes (merchants) or kind codes (service points); empty means all.
    only: tuple[str, ...] = ()
    #: The grid's level from the top (1: the district, 2: a subdistrict); see _statement.
    depth: int = 5


async def pages_of_grids(
    session: AsyncSession,
    listings: Sequence[GridListing],
    table: Any,
    columns: Sequence[ColumnElement[Any]],
    condition: Callable[[tuple[str, ...]], list[ColumnElement[bool]]],
    make_row: Callable[[Any], T],
) -> dict[GridListing, Page[T]]:
    """Each listing's page of ``table``'s rows (``columns``, made by ``make_row``) under the
    ``condition`` its ``only`` codes give."""
    shapes: dict[tuple[int, int | None, tuple[str, ...]], list[GridListing]] = defaultdict(list)
    for listing in listings:
        shapes[(listing.limit, listing.after_id, listing.only)].append(listing)
    out: dict[GridListing, Page[T]] = {}
    for (limit, after_id, only), same in shapes.items():
        where = condition(only)
        if after_id is not None:
            where.append(table.c.id > after_id)
        deep = [x.grid_id for x in same if x.depth > BROAD_DEPTH]
        statements = [_statement(table, columns, where, deep, limit)] if deep else []
        statements += [
            _broad_statement(table, columns, where, x.grid_id, limit)
            for x in same
            if x.depth <= BROAD_DEPTH
        ]
        found: dict[int, list[T]] = defaultdict(list)
        for statement in statements:
            for row in (await session.execute(statement)).mappings():
                found[row["of_grid"]].append(make_row(row))
        for listing in same:
            rows = found.get(listing.grid_id, [])
            out[listing] = Page(tuple(rows[:limit]), has_next_page=len(rows) > limit)
    return out


#: Grids this close to the top (the district, subdistricts) hold a large share of all rows.
BROAD_DEPTH = 2


def _broad_statement(
    table: Any,
    columns: Sequence[ColumnElement[Any]],
    where: list[ColumnElement[bool]],
    grid_id: int,
    limit: int,
) -> Any:
    """A broad grid's first rows: in primary key order, which finds a page within the first
    few hundred rows when the subtree holds a large share of them (one statement per broad
    grid: there are at most 18 of them in the whole district)."""
    subtree = select(Grid.id).where(Grid.path.op("@>")(literal([grid_id], ARRAY(Integer))))
    return (
        select(literal(grid_id, Integer).label("of_grid"), *columns)
        .where(table.c.grid_id.in_(subtree), *where)
        .order_by(table.c.id)
        .limit(limit + 1)
    )


def _statement(
    table: Any,
    columns: Sequence[ColumnElement[Any]],
    where: list[ColumnElement[bool]],
    grid_ids: list[int],
    limit: int,
) -> Any:
    """Per requested grid: per grid of its subtree, that grid's first rows by id (its
    ``grid_id`` index), merged by id and cut.

    The cost follows the number of rows in the subtrees (each grid's are sorted), whatever
    the table's statistics: right below the subdistricts, wrong for the broad grids above
    (:func:`_broad_statement`).
    The plainer form, ``grid_id IN (subtree) ORDER BY id LIMIT n``, let the planner walk the
    primary key and run the correlated subtree test on every row: with stale statistics
    that was 100 grids x 50,000 merchants, and the statement timeout.
    """
    grids = func.unnest(literal(grid_ids, ARRAY(Integer))).table_valued("gid").render_derived()
    subtree = (
        select(Grid.id.label("sid"))
        .where(Grid.path.op("@>")(array([grids.c.gid])))
        .correlate(grids)
        .subquery()
    )
    per_grid = (
        select(*columns)
        .where(table.c.grid_id == subtree.c.sid, *where)
        .order_by(table.c.id)
        .limit(limit + 1)
        .lateral()
    )
    merged = (
        select(per_grid)
        .select_from(subtree)
        .join(per_grid, true())
        .order_by(per_grid.c.id)
        .limit(limit + 1)
        .lateral()
    )
    return select(grids.c.gid.label("of_grid"), merged).select_from(grids).join(merged, true())
