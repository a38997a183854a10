"""Bulk import of merchants and service points: CSV or GeoJSON, through COPY.

Steps, all inside the caller's transaction:

1. Every record is checked in Python (``rows.py``), which reports each bad column with its
   row number. Good rows go through ``COPY ... FROM STDIN`` into a temporary staging
   table, opening hours once per distinct schedule into a second one.
2. One ``INSERT ... SELECT`` (``staging.py``) moves the staged rows into the real table,
   assigning each to its grid in SQL with the rule of ``geo.grids.queries.route_point``:
   the micro-grid covering the point (``ST_Covers``, boundary included; smallest code on a
   shared edge), else the deepest grid covering it, else none (``outside_coverage``).

Both steps work on chunks of :data:`CHUNK_ROWS`: Python checks the next chunk (in a thread,
or for a large file in a child process, ``checking.py``) while PostgreSQL copies and
inserts the current one, so the two CPU cores stay busy.

A large import into a small table (a first chunk that is full, into a table holding fewer
rows than a chunk) follows PostgreSQL's advice for populating a database: the table's
secondary indexes, foreign keys and (when no foreign key refers to the table) primary key
are dropped first and rebuilt at the end, which for a million merchants is about twice as
fast as updating five indexes row by row. The table
is then locked (ACCESS EXCLUSIVE) until the caller commits. See bench/bench_merchants.py
for the figures.

Modes: all-or-nothing (the default) writes nothing when any row is bad and raises
ImportRejected with every problem; ``skip_bad=True`` writes the good rows and returns the
bad ones in the report. The statement timeout is lifted for the transaction: a million
rows take tens of seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import psycopg
from psycopg import AsyncConnection
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from geo.errors import DomainError
from geo.imports.checking import (
    MERCHANTS,
    Checked,
    CheckedInProcess,
    ImportTarget,
    chunks,
    file_header,
    file_records,
)
from geo.imports.rows import Record, RowProblem, missing_columns
from geo.imports.staging import (
    Rebuild,
    copy_data,
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


#: Rows checked, copied and inserted at a time. While PostgreSQL inserts one chunk, Python
#: checks the next (``checking.py``), so the parsing hides behind the inserts.
CHUNK_ROWS: Final = 100_000
#: Files from this size up are checked in a child process (``checking.py`` says why);
#: smaller ones in a thread, which starts without the child's half second.
PROCESS_BYTES: Final = 4_000_000


async def import_file(
    session: AsyncSession,
    path: Path,
    *,
    target: ImportTarget = MERCHANTS,
    skip_bad: bool = False,
) -> ImportReport:
    """Imports a ``.csv`` or ``.geojson``/``.json`` file (UTF-8) into ``target``."""
    if (await asyncio.to_thread(path.stat)).st_size < PROCESS_BYTES:
        with file_records(path) as (header, records):
            checked = Checked(chunks(records, target, CHUNK_ROWS))
            return await _import(session, checked, target, skip_bad, header)
    header = file_header(path)
    return await _import(
        session, CheckedInProcess(path, target, CHUNK_ROWS), target, skip_bad, header
    )


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
    checked = Checked(chunks(records, target, CHUNK_ROWS))
    return await _import(session, checked, target, skip_bad, header)


async def _import(
    session: AsyncSession,
    checked: Checked,
    target: ImportTarget,
    skip_bad: bool,
    header: Iterable[str] | None,
) -> ImportReport:
    try:
        if header is not None and (missing := missing_columns(header, target.required)):
            raise ImportRejected(missing, rows=0)
        connection = await _driver_connection(session)
        await create_staging(connection, target.layout)
        # Chunks are inserted as they come; a bad row found later must undo them all, and
        # so must a file that turns out unreadable half way (not UTF-8 past row 50,000).
        await connection.execute("SAVEPOINT circle_import")
        try:
            report = await _import_chunks(connection, checked, target, skip_bad)
        except Exception:
            with contextlib.suppress(psycopg.Error):  # a lost connection keeps nothing anyway
                await connection.execute("ROLLBACK TO SAVEPOINT circle_import")
            raise
    finally:
        checked.close()
    if report.problems and not skip_bad:
        await connection.execute("ROLLBACK TO SAVEPOINT circle_import")
        await drop_staging(connection, target.layout)
        raise ImportRejected(report.problems, rows=report.rows)
    await connection.execute("RELEASE SAVEPOINT circle_import")
    await drop_staging(connection, target.layout)
    return report


async def _import_chunks(
    connection: AsyncConnection[Any],
    checked: Checked,
    target: ImportTarget,
    skip_bad: bool,
) -> ImportReport:
    """Inserts chunk after chunk while the next one is being checked."""
    rows = imported = outside = 0
    problems: list[RowProblem] = []
    rebuild: Rebuild | None = None
    pending = asyncio.ensure_future(checked.next())
    try:
        while (chunk := await pending) is not None:
            pending = asyncio.ensure_future(checked.next())
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
            done, away = await insert_chunk(connection, target.layout, chunk.good)
            imported, outside = imported + done, outside + away
    finally:
        pending.cancel()  # after a failure: drop the chunk being checked, unread
    if rebuild is not None and not (problems and not skip_bad):
        await restore_indexes(connection, rebuild)
    return ImportReport(rows, imported, outside, tuple(problems))


async def _driver_connection(session: AsyncSession) -> AsyncConnection[Any]:
    """The psycopg connection under the session, inside the session's transaction."""
    connection = await session.connection()
    await connection.execute(text("SET LOCAL statement_timeout = 0"))
    await connection.execute(text("SET LOCAL work_mem = '256MB'"))  # sorts a chunk in memory
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, AsyncConnection)
    return driver
