"""`circle import merchants FILE` and `circle import service-points FILE` (CSV or GeoJSON).

All or nothing by default: one bad row and nothing is written, every problem is listed.
`--skip-bad` writes the good rows; `--report FILE` writes the problems as CSV (row, column,
message) instead of printing them.
"""

# A command-line module: printing is its job (pyproject lists cli.py and cli_data.py alike).
# ruff: noqa: T201

from __future__ import annotations

import argparse
import asyncio
import csv
from collections.abc import Sequence
from pathlib import Path

from api.cli.data import DataError
from api.settings import Settings
from geo.db import make_engine, make_sessionmaker
from geo.imports.checking import MERCHANTS, SERVICE_POINTS, ImportTarget
from geo.imports.importer import ImportRejected, ImportReport, import_file
from geo.imports.rows import RowProblem

SUFFIXES = (".csv", ".geojson", ".json")
#: Problems printed at most; --report writes them all.
SHOWN = 50


def register(what: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, noun in (("merchants", "merchants"), ("service-points", "service points")):
        p = what.add_parser(name, help=f"{noun} from a CSV or GeoJSON file")
        p.add_argument("file", type=Path)
        p.add_argument("--skip-bad", action="store_true", help="import the good rows anyway")
        p.add_argument("--report", type=Path, help="write the row problems to this CSV file")
        p.set_defaults(handler=import_places_command, noun=noun)


def import_places_command(settings: Settings, args: argparse.Namespace) -> None:
    path: Path = args.file
    if path.suffix.lower() not in SUFFIXES:
        raise DataError(f"{path} must be a .csv, .geojson or .json file")
    if not path.is_file():
        raise DataError(f"cannot read {path}: no such file")
    target = MERCHANTS if args.noun == "merchants" else SERVICE_POINTS
    url = settings.owner_database()
    report = asyncio.run(_import(url, path, target, args))
    _problems(report.problems, args.report)
    print(
        f"import: {report.imported} {args.noun} imported from {report.rows} rows, "
        f"{report.rejected} rejected, {report.outside_coverage} outside coverage (kept, flagged)"
    )


async def _import(
    url: str, path: Path, target: ImportTarget, args: argparse.Namespace
) -> ImportReport:
    engine = make_engine(url, statement_timeout_ms=600_000)
    try:
        async with make_sessionmaker(engine).begin() as session:
            return await import_file(session, path, target=target, skip_bad=args.skip_bad)
    except ImportRejected as rejected:
        _problems(rejected.problems, args.report)
        where = f"listed in {args.report}" if args.report else "listed above"
        raise DataError(
            f"{path}: {rejected} (problems {where}; --skip-bad imports the good rows)"
        ) from None
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror or error}") from None
    except (ValueError, csv.Error) as error:  # not UTF-8, not JSON, not a FeatureCollection
        raise DataError(f"{path} cannot be read as {path.suffix[1:]}: {error}") from None
    finally:
        await engine.dispose()


def _problems(problems: Sequence[RowProblem], report: Path | None) -> None:
    if report is not None:
        with report.open("w", encoding="utf-8-sig", newline="") as out:  # Excel reads the BOM
            writer = csv.writer(out)
            writer.writerow(("row", "column", "message"))
            writer.writerows((p.row, p.column, p.message) for p in problems)
        print(f"report: {len(problems)} problems written to {report}")
        return
    for p in problems[:SHOWN]:
        print(f"  row {p.row}, {p.column}: {p.message}")
    if len(problems) > SHOWN:
        print(f"  ... and {len(problems) - SHOWN} more (--report FILE writes them all)")
