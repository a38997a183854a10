"""The SQL side of a bulk import: staging tables, COPY, and the INSERT that assigns grids.

Everything runs on the psycopg connection under the caller's session, in its transaction.
Staging tables are temporary (dropped at commit, or by the next import in the session).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from psycopg import AsyncConnection, sql

from geo.points import point_text


@dataclass(frozen=True, slots=True)
class StagingLayout:
    """Where a chunk of checked rows waits before it joins ``table``."""

    table: str
    #: (column, SQL type) as the row checker returns values, then ``seq`` (the row's
    #: position among the good rows of its chunk, from 1); "row", "lon", "lat", "schedule"
    #: (a number in the hours table) and "seq" are not copied to ``table`` as they are.
    columns: tuple[tuple[str, str], ...]

    def position(self, column: str) -> int:
        return [c for c, _ in self.columns].index(column)

    @property
    def staged(self) -> tuple[tuple[str, str], ...]:
        return (*self.columns, ("seq", "int4"))

    @property
    def rows(self) -> sql.Identifier:
        return sql.Identifier(f"{self.table}_import")

    @property
    def hours(self) -> sql.Identifier:
        return sql.Identifier(f"{self.table}_import_hours")

    @property
    def rows_index(self) -> sql.Identifier:
        return sql.Identifier(f"{self.table}_import_geom")

    @property
    def copied(self) -> list[str]:
        return [c for c, _ in self.columns if c not in ("row", "lon", "lat", "schedule")]


async def create_staging(connection: AsyncConnection[Any], layout: StagingLayout) -> None:
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind)) for name, kind in layout.staged
    )
    # PostgreSQL builds the point while COPY streams in, in parallel with our parsing.
    point = sql.SQL(f"geom geometry GENERATED ALWAYS AS ({point_text('lon', 'lat')}) STORED")
    for name, body in (
        (layout.rows, sql.SQL("{}, {}").format(columns, point)),
        (
            layout.hours,
            sql.SQL(
                "schedule int4, opening_hours jsonb, hours_text text, open_minutes int4multirange"
            ),
        ),
    ):
        await connection.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(name))
        await connection.execute(
            sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(name, body)
        )


async def drop_staging(connection: AsyncConnection[Any], layout: StagingLayout) -> None:
    await connection.execute(sql.SQL("DROP TABLE {}, {}").format(layout.rows, layout.hours))


# COPY's text format: tab-separated, \N for NULL, backslash escapes (PostgreSQL docs,
# "COPY File Formats").
_NEEDS_ESCAPE: Final = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES: Final = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows in COPY text format. Built where the rows are checked, so the event loop only
    sends bytes while PostgreSQL works."""
    return "".join(map(copy_line, rows)).encode()


def copy_line(row: Sequence[Any]) -> str:
    """One row in COPY text format, with its newline."""
    return "\t".join(map(_copy_field, row)) + "\n"


def merchant_line(row: Sequence[Any]) -> str:
    """:func:`copy_line` of a merchant's staging values (``rows.merchant_values`` and the
    seq), written out: twice as fast (0.63 against 1.16 s per 100,000 rows). Only the
    name and the address can hold a character COPY or the grams' array literal escapes
    (category, phone and status are checked codes); such rows take the general path."""
    number, name, category, phone, address, lon, lat, schedule, status, verified, grams, seq = row
    if _NEEDS_ESCAPE.search(name) or _NEEDS_ESCAPE.search(address) or '"' in name:
        return copy_line(row)
    return (
        f"{number}\t{name}\t{category}\t{_NULL if phone is None else phone}\t{address}\t"
        f"{lon!r}\t{lat!r}\t{_NULL if schedule is None else schedule}\t{status}\t"
        f"{'t' if verified else 'f'}\t{grams}\t{seq}\n"
    )


_NULL: Final = "\\N"


def _copy_field(value: Any) -> str:
    if value.__class__ is str:  # most fields: checked before escaping, as few need it
        return value.translate(_COPY_ESCAPES) if _NEEDS_ESCAPE.search(value) else value
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    return repr(value)  # int, float: repr round-trips exactly


async def copy_data(connection: AsyncConnection[Any], target: sql.Identifier, data: bytes) -> None:
    async with (
        connection.cursor() as cursor,
        cursor.copy(sql.SQL("COPY {} FROM STDIN").format(target)) as copy,
    ):
        await copy.write(data)


async def insert_chunk(
    connection: AsyncConnection[Any], layout: StagingLayout, rows: int
) -> tuple[int, int]:
    """Moves the ``rows`` staged rows into the table; returns (rows inserted, outside
    coverage)."""
    # Built after COPY (a sorted build) rather than maintained row by row during it.
    await connection.execute(
        sql.SQL("CREATE INDEX {} ON {} USING gist (geom)").format(layout.rows_index, layout.rows)
    )
    cursor = await connection.execute(
        _INSERT.format(
            table=sql.Identifier(layout.table),
            columns=sql.SQL(", ").join(map(sql.Identifier, layout.copied)),
            copied=sql.SQL(", ").join(sql.Identifier("s", c) for c in layout.copied),
            staging=layout.rows,
            hours=layout.hours,
        ),
        {"sequence": f"{layout.table}_id_seq", "rows": rows},
    )
    imported, outside = await cursor.fetchone() or (0, 0)
    await connection.execute(sql.SQL("DROP INDEX {}").format(layout.rows_index))
    await connection.execute(sql.SQL("TRUNCATE {}").format(layout.rows))
    return int(imported), int(outside)


# Ids follow the file: the chunk draws one id per row from the table's sequence, and the
# row at position `seq` of the file (counted by the checker, from 1) gets the seq-th
# smallest. The rows themselves are written in the order staging holds them, bands of
# latitude sorted by longitude (importer._chunks), so neighbours share heap pages: the
# SP-GiST indexes then build in about half the time, and a nearby search reads fewer pages.
#
# Grid assignment follows route_point. `micro` is driven by the grids: each micro-grid
# probes the staged points inside its box (OFFSET 0 keeps that nested loop whatever the
# planner guesses about a fresh temp table), so PostGIS prepares the boundary once for all
# of them: five times faster than a lookup per point. A point on a shared edge matches
# several micro-grids and keeps the smallest code. Only points no micro-grid covers (gaps
# left by an import) look for the deepest grid covering them; OFFSET 0 again keeps that
# subquery from being inlined, and evaluated, twice.
_INSERT = sql.SQL(
    """
    WITH ids AS (
        SELECT array_agg(id ORDER BY id) AS ids
        FROM (SELECT nextval(%(sequence)s::regclass) AS id
              FROM generate_series(1, %(rows)s)) n
    ), micro AS (
        SELECT DISTINCT ON (p.row) p.row, g.id
        FROM grids g
        CROSS JOIN LATERAL (
            SELECT s.row FROM {staging} s WHERE ST_Covers(g.boundary, s.geom) OFFSET 0
        ) p
        WHERE g.level = 'MICRO'
        ORDER BY p.row, g.code
    ), inserted AS (
        INSERT INTO {table}
            (id, {columns}, opening_hours, hours_text, open_minutes, location, grid_id,
             outside_coverage)
        SELECT (SELECT ids FROM ids)[s.seq], {copied}, h.opening_hours, h.hours_text,
               h.open_minutes, s.geom, p.grid_id, p.grid_id IS NULL
        FROM {staging} s
        LEFT JOIN {hours} h ON h.schedule = s.schedule
        LEFT JOIN micro m ON m.row = s.row
        CROSS JOIN LATERAL (
            SELECT COALESCE(
                m.id,
                (SELECT id FROM grids
                 WHERE ST_Covers(boundary, s.geom)
                 ORDER BY array_length(path, 1) DESC, code LIMIT 1)
            ) AS grid_id
            OFFSET 0
        ) p
        RETURNING outside_coverage
    )
    SELECT count(*), count(*) FILTER (WHERE outside_coverage) FROM inserted
    """
)


@dataclass(frozen=True, slots=True)
class Rebuild:
    """What :func:`drop_indexes_if_small` dropped, to put back as it was."""

    table: str
    indexes: tuple[str, ...]  # CREATE INDEX statements
    constraints: tuple[tuple[str, str], ...]  # (name, definition): primary, foreign keys


async def drop_indexes_if_small(
    connection: AsyncConnection[Any], table: str, below: int
) -> Rebuild | None:
    """Drops the secondary indexes, foreign keys and primary key (``_CONSTRAINTS``) of
    ``table`` if it holds fewer than ``below`` rows; returns how to rebuild them (None when
    nothing was dropped)."""
    name = sql.Identifier(table)
    cursor = await connection.execute(
        sql.SQL("SELECT count(*) FROM (SELECT FROM {} LIMIT %s) AS t").format(name), (below,)
    )
    if ((await cursor.fetchone()) or (below,))[0] >= below:
        return None
    cursor = await connection.execute(_SECONDARY_INDEXES, (table,))
    indexes = await cursor.fetchall()
    cursor = await connection.execute(_CONSTRAINTS, {"table": table})
    constraints = await cursor.fetchall()
    for constraint, _ in constraints:
        await connection.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(name, sql.Identifier(constraint))
        )
    for index, _ in indexes:
        await connection.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(index)))
    return Rebuild(table, tuple(ddl for _, ddl in indexes), tuple(constraints))


async def truncate_if_empty(connection: AsyncConnection[Any], table: str) -> None:
    """Truncates ``table`` when it holds no row and no foreign key refers to it: it then gets
    a new file in this transaction, and with ``wal_level = minimal`` (the embedded cluster's,
    PostgreSQL's advice for bulk loads) its rows are written without WAL and the file is
    synced at commit. Changes nothing visible: the table was empty."""
    name = sql.Identifier(table)
    cursor = await connection.execute(
        sql.SQL(
            "SELECT NOT EXISTS (SELECT FROM {})"
            " AND NOT EXISTS (SELECT FROM pg_constraint WHERE confrelid = %s::regclass)"
        ).format(name),
        (table,),
    )
    if ((await cursor.fetchone()) or (False,))[0]:
        await connection.execute(sql.SQL("TRUNCATE {}").format(name))


async def restore_indexes(connection: AsyncConnection[Any], rebuild: Rebuild) -> None:
    """Recreates what :func:`drop_indexes_if_small` dropped, then refreshes statistics."""
    await connection.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for ddl in rebuild.indexes:
        await connection.execute(ddl)  # type: ignore[arg-type]  # from pg_get_indexdef
    name = sql.Identifier(rebuild.table)
    for constraint, definition in rebuild.constraints:
        await connection.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                name,
                sql.Identifier(constraint),
                sql.SQL(definition),  # type: ignore[arg-type]
            )
        )
    await connection.execute(sql.SQL("ANALYZE {}").format(name))


_SECONDARY_INDEXES = """
    SELECT c.relname, pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT i.indisunique
    ORDER BY c.relname
"""
#: Foreign keys, and the primary key when no foreign key refers to the table: an import
#: draws its ids from the sequence and holds the table locked, and re-adding the key checks
#: them all (a sorted build: 0.6 against 4.3 s of row-by-row upkeep per million rows).
_CONSTRAINTS = """
    SELECT conname, pg_get_constraintdef(oid)
    FROM pg_constraint
    WHERE conrelid = %(table)s::regclass
      AND (contype = 'f' OR contype = 'p' AND NOT EXISTS (
          SELECT FROM pg_constraint r WHERE r.confrelid = %(table)s::regclass))
    ORDER BY contype = 'f', conname
"""
