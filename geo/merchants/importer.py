"""Bulk import of merchants and service points: CSV or GeoJSON, through COPY.

Steps, all inside the caller's transaction:

1. Every record is checked in Python (``rows.py``), which reports each bad column with its
   row number. Good rows go through ``COPY ... FROM STDIN`` into a temporary staging
   table, opening hours once per distinct schedule into a second one.
2. One ``INSERT ... SELECT`` (``staging.py``) moves the staged rows into the real table,
   assigning each to its grid in SQL with the rule of ``geo.grids.queries.route_point``:
   the micro-grid covering the point (``ST_Covers``, boundary included; smallest code on a
   shared edge), else the deepest grid covering it, else none (``outside_coverage``).

Both steps work on chunks of :data:`CHUNK_ROWS`: a worker thread checks the next chunk
while PostgreSQL copies and inserts the current one, so the two CPU cores stay busy.

A large import into a small table (a first chunk that is full, into a table holding fewer
rows than a chunk) follows PostgreSQL's advice for populating a database: the table's
secondary indexes and foreign keys are dropped first and rebuilt at the end, which for a
million merchants is about twice as fast as updating four indexes row by row. The table
is then locked (ACCESS EXCLUSIVE) until the caller commits. See bench/bench_merchants.py
for the figures.

Modes: all-or-nothing (the default) writes nothing when any row is bad and raises
ImportRejected with every problem; ``skip_bad=True`` writes the good rows and returns the
bad ones in the report. The statement timeout is lifted for the transaction: a million
rows take tens of seconds.
"""

from __future__ import annotations

import asyncio
import csv
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from psycopg import AsyncConnection
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from geo.errors import DomainError
from geo.merchants.rows import (
    MERCHANT_REQUIRED,
    SERVICE_POINT_REQUIRED,
    BadRecord,
    Record,
    RowProblem,
    Schedules,
    load_geojson,
    merchant_values,
    missing_columns,
    read_csv,
    read_geojson,
    service_point_values,
)
from geo.merchants.staging import (
    Rebuild,
    StagingLayout,
    copy_data,
    copy_text,
    create_staging,
    drop_indexes_if_small,
    drop_staging,
    insert_chunk,
    restore_indexes,
    truncate_if_empty,
)


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows: int
    imported: int
    outside_coverage: int
    problems: tuple[RowProblem, ...]

    @property
    def rejected(self) -> int:
        """Rows not imported (a row with several bad columns counts once)."""
        return len({p.row for p in self.problems})


class ImportRejected(DomainError):
    """An all-or-nothing import found bad rows (or a bad header); nothing was written."""

    def __init__(self, problems: Iterable[RowProblem], rows: int) -> None:
        self.problems = tuple(problems)
        self.rows = rows
        bad = len({p.row for p in self.problems})
        super().__init__(f"{bad} of {rows} rows are invalid; nothing was imported")


def write_report(path: Path, problems: Iterable[RowProblem]) -> int:
    """Writes problems as a UTF-8 CSV (row, column, message) for ``--skip-bad`` runs;
    returns how many it wrote."""
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(("row", "column", "message"))
        written = 0
        for problem in problems:
            writer.writerow((problem.row, problem.column, problem.message))
            written += 1
    return written


@dataclass(frozen=True, slots=True)
class ImportTarget:
    """A table to import into: its required columns, row checker and staging layout."""

    required: tuple[str, ...]
    check: Callable[[int, Mapping[str, Any], Schedules], tuple[Any, ...]]
    layout: StagingLayout


_PLACE = (("phone", "text"), ("address", "text"), ("lon", "float8"), ("lat", "float8"),
          ("schedule", "int4"))  # fmt: skip
MERCHANTS = ImportTarget(
    MERCHANT_REQUIRED,
    merchant_values,
    StagingLayout(
        "merchants",
        (
            ("row", "int4"),
            ("name", "text"),
            ("category", "text"),
            *_PLACE,
            ("status", "text"),
            ("verified", "bool"),
            ("name_grams", "text[]"),
        ),
    ),
)
SERVICE_POINTS = ImportTarget(
    SERVICE_POINT_REQUIRED,
    service_point_values,
    StagingLayout("service_points", (("row", "int4"), ("kind", "text"), ("name", "text"), *_PLACE)),
)

#: Rows checked, copied and inserted at a time. While PostgreSQL inserts one chunk, a
#: worker thread checks the next, so Python's parsing hides behind the index updates.
CHUNK_ROWS: Final = 100_000


async def import_file(
    session: AsyncSession,
    path: Path,
    *,
    target: ImportTarget = MERCHANTS,
    skip_bad: bool = False,
) -> ImportReport:
    """Imports a ``.csv`` or ``.geojson``/``.json`` file (UTF-8) into ``target``."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as stream:
            header, records = read_csv(stream)
            return await import_records(
                session, records, target=target, skip_bad=skip_bad, header=header
            )
    with path.open(encoding="utf-8-sig") as stream:
        collection = load_geojson(stream)
    return await import_records(session, read_geojson(collection), target=target, skip_bad=skip_bad)


async def import_records(
    session: AsyncSession,
    records: Iterable[Record],
    *,
    target: ImportTarget = MERCHANTS,
    skip_bad: bool = False,
    header: Iterable[str] | None = None,
) -> ImportReport:
    """Checks and imports records; all or nothing unless ``skip_bad``.

    ``header`` (CSV column names) is checked for the required columns first. Raises
    ImportRejected, having written nothing, when a row is bad and ``skip_bad`` is false.
    """
    if header is not None and (missing := missing_columns(header, target.required)):
        raise ImportRejected(missing, rows=0)
    connection = await _driver_connection(session)
    await create_staging(connection, target.layout)
    # Chunks are inserted as they come; a bad row found later must undo them all.
    await connection.execute("SAVEPOINT circle_import")
    report = await _import_chunks(connection, _chunks(records, target), target, skip_bad)
    if report.problems and not skip_bad:
        await connection.execute("ROLLBACK TO SAVEPOINT circle_import")
        await drop_staging(connection, target.layout)
        raise ImportRejected(report.problems, rows=report.rows)
    await connection.execute("RELEASE SAVEPOINT circle_import")
    await drop_staging(connection, target.layout)
    return report


async def _import_chunks(
    connection: AsyncConnection[Any],
    chunks: Iterator[_Chunk],
    target: ImportTarget,
    skip_bad: bool,
) -> ImportReport:
    """Inserts chunk after chunk while a worker thread checks the next one."""
    rows = imported = outside = 0
    problems: list[RowProblem] = []
    rebuild: Rebuild | None = None
    pending = asyncio.ensure_future(asyncio.to_thread(next, chunks, None))
    try:
        while (chunk := await pending) is not None:
            pending = asyncio.ensure_future(asyncio.to_thread(next, chunks, None))
            first, rows = rows == 0, rows + chunk.read
            problems += chunk.problems
            if problems and not skip_bad:
                continue  # keep checking, for the full report, but write nothing more
            if first and chunk.read == CHUNK_ROWS:
                rebuild = await drop_indexes_if_small(connection, target.layout.table, CHUNK_ROWS)
                if rebuild is not None:
                    await truncate_if_empty(connection, target.layout.table)
            await copy_data(connection, target.layout.hours, chunk.schedules)
            await copy_data(connection, target.layout.rows, chunk.rows)
            done, away = await insert_chunk(connection, target.layout)
            imported, outside = imported + done, outside + away
    finally:
        pending.cancel()  # after a failure: drop the chunk being checked, unread
    if rebuild is not None and not (problems and not skip_bad):
        await restore_indexes(connection, rebuild)
    return ImportReport(rows, imported, outside, tuple(problems))


@dataclass(frozen=True, slots=True)
class _Chunk:
    read: int
    rows: bytes  # COPY text of the good rows
    problems: list[RowProblem]
    schedules: bytes  # COPY text of the opening hours first seen in this chunk


def _chunks(records: Iterable[Record], target: ImportTarget) -> Iterator[_Chunk]:
    """Checked rows, CHUNK_ROWS at a time (the last chunk may be short or empty)."""
    schedules = Schedules()
    iterator = iter(records)
    known = 0
    lon, lat = target.layout.position("lon"), target.layout.position("lat")
    while True:
        rows: list[tuple[Any, ...]] = []
        problems: list[RowProblem] = []
        read = 0
        for row, fields in itertools.islice(iterator, CHUNK_ROWS):
            read += 1
            try:
                rows.append(target.check(row, fields, schedules))
            except BadRecord as bad:
                problems += bad.problems
        # Bands about 220 m tall, west to east: a grid's points land on a few heap pages
        # of the staging table, which the grid-driven join then reads once.
        rows.sort(key=lambda r: (int(r[lat] * 500.0), r[lon]))
        fresh, known = schedules.rows[known:], len(schedules.rows)
        yield _Chunk(read, copy_text(rows), problems, copy_text(fresh))
        if read < CHUNK_ROWS:
            return


async def _driver_connection(session: AsyncSession) -> AsyncConnection[Any]:
    """The psycopg connection under the session, inside the session's transaction."""
    connection = await session.connection()
    await connection.execute(text("SET LOCAL statement_timeout = 0"))
    await connection.execute(text("SET LOCAL work_mem = '64MB'"))  # sorts a chunk in memory
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, AsyncConnection)
    return driver
