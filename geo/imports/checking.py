"""The Python half of a bulk import: rows checked in chunks, ready for COPY.

An import keeps both CPU cores busy: PostgreSQL copies and inserts one chunk while Python
checks the next. Python's half runs in a thread, or, for a large file, in a child process
of its own: a thread checking rows holds the GIL, and the event loop then waits for it
before every piece of COPY data it sends (a million rows: COPY took 8-14 s beside a
checking thread, 4.5 s alone). The child reads the file itself and sends each chunk back
through a pipe; the pipe's buffer keeps it about one chunk ahead of the inserts.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from geo.imports.rows import (
    MERCHANT_REQUIRED,
    SERVICE_POINT_REQUIRED,
    BadRecord,
    Record,
    RowProblem,
    Schedules,
    load_geojson,
    merchant_values,
    read_csv,
    read_geojson,
    service_point_values,
)
from geo.imports.staging import StagingLayout, copy_line, copy_text, merchant_line


@dataclass(frozen=True, slots=True)
class ImportTarget:
    """A table to import into: its required columns, row checker and staging layout."""

    required: tuple[str, ...]
    check: Callable[[int, Mapping[str, Any], Schedules], tuple[Any, ...]]
    layout: StagingLayout
    #: A checked row (with its seq) as a line of COPY text.
    line: Callable[[tuple[Any, ...]], str] = copy_line


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
    merchant_line,
)
SERVICE_POINTS = ImportTarget(
    SERVICE_POINT_REQUIRED,
    service_point_values,
    StagingLayout("service_points", (("row", "int4"), ("kind", "text"), ("name", "text"), *_PLACE)),
)
#: The targets by table, how the child process is told which one to check for.
TARGETS = {t.layout.table: t for t in (MERCHANTS, SERVICE_POINTS)}


@dataclass(frozen=True, slots=True)
class Chunk:
    read: int
    good: int
    rows: bytes  # COPY text of the good rows, each ending with its seq
    problems: list[RowProblem]
    schedules: bytes  # COPY text of the opening hours first seen in this chunk


def chunks(records: Iterable[Record], target: ImportTarget, size: int) -> Iterator[Chunk]:
    """Checked rows, ``size`` at a time (the last chunk may be short or empty)."""
    schedules = Schedules()
    iterator = iter(records)
    known = 0
    lon, lat = target.layout.position("lon"), target.layout.position("lat")
    while True:
        rows: list[tuple[Any, ...]] = []
        problems: list[RowProblem] = []
        read = 0
        for row, fields in itertools.islice(iterator, size):
            read += 1
            try:
                rows.append((*target.check(row, fields, schedules), len(rows) + 1))
            except BadRecord as bad:
                problems += bad.problems
        # Bands about 220 m tall, west to east: a grid's points land on a few heap pages
        # of the staging table, which the grid-driven join then reads once, and the table
        # receives its rows in this order (staging.py says why).
        rows.sort(key=lambda r: (int(r[lat] * 500.0), r[lon]))
        fresh, known = schedules.rows[known:], len(schedules.rows)
        text = "".join(map(target.line, rows)).encode()
        yield Chunk(read, len(rows), text, problems, copy_text(fresh))
        if read < size:
            return


@contextmanager
def file_records(path: Path) -> Iterator[tuple[list[str] | None, Iterator[Record]]]:
    """The CSV header (None for GeoJSON) and the records of a ``.csv`` or
    ``.geojson``/``.json`` file (UTF-8, a BOM is fine)."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as stream:
            yield read_csv(stream)
        return
    with path.open(encoding="utf-8-sig") as stream:
        collection = load_geojson(stream)
    yield None, read_geojson(collection)


def file_header(path: Path) -> list[str] | None:
    """A CSV file's header (None for GeoJSON, whose properties have no header)."""
    if path.suffix.lower() != ".csv":
        return None  # not parsed here: a large GeoJSON is read once, by the child
    with file_records(path) as (header, _):
        return header


class Checked:
    """Chunks checked in a worker thread, fetched one at a time without blocking the loop."""

    def __init__(self, chunks: Iterator[Chunk]) -> None:
        self._chunks = chunks

    async def next(self) -> Chunk | None:
        return await asyncio.to_thread(next, self._chunks, None)

    def close(self) -> None:
        pass


class CheckedInProcess(Checked):
    """Chunks of a file checked by a child process (started here, ended by :meth:`close`).

    The child is ``python -m geo.imports.checking`` (not multiprocessing, which would run
    the caller's main script again in the child). It pickles each chunk to its stdout.
    Errors reading the file (not UTF-8, not CSV or GeoJSON) are raised by :meth:`next` as
    the child raised them.
    """

    def __init__(self, path: Path, target: ImportTarget, size: int) -> None:
        name = target.layout.table  # a key of TARGETS
        paths = os.pathsep.join(p for p in sys.path if p)  # the child imports what we do
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(path), name, str(size)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": paths},
        )
        super().__init__(iter(self._receive, None))

    def _receive(self) -> Chunk | None:
        assert self._process.stdout is not None
        try:
            message = pickle.load(self._process.stdout)
        except EOFError:
            raise RuntimeError("the import's checking process ended unexpectedly") from None
        if isinstance(message, _Failed):
            raise message.error
        return cast(Chunk | None, message)

    def close(self) -> None:
        self._process.kill()  # done, or abandoned after a failure: either way, stop it
        self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


@dataclass(frozen=True, slots=True)
class _Failed:
    error: Exception


def _check_file(path: Path, target: ImportTarget, size: int, out: BinaryIO) -> None:
    """The child's work: pickles each chunk of the file to ``out``, then None (or a
    _Failed)."""
    try:
        with file_records(path) as (_, records):
            for chunk in chunks(records, target, size):
                pickle.dump(chunk, out, protocol=pickle.HIGHEST_PROTOCOL)
                out.flush()
        pickle.dump(None, out)
    except Exception as error:  # sent to the parent, which raises it
        try:
            pickle.dump(_Failed(error), out)
        except Exception:  # an exception that does not pickle: keep its type and message
            pickle.dump(_Failed(ValueError(f"{type(error).__name__}: {error}")), out)
    out.flush()


if __name__ == "__main__":
    # Through the imported module, so the pickles name geo.imports.checking's classes.
    from geo.imports import checking

    path_arg, target_arg, size_arg = sys.argv[1:]
    checking._check_file(
        Path(path_arg), checking.TARGETS[target_arg], int(size_arg), sys.stdout.buffer
    )
