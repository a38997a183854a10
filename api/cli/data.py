"""Data import/export subcommands of `circle`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import orjson

from api.settings import Settings
from geo.db import make_engine, make_sessionmaker
from geo.grids.export import stream_feature_collection
from geo.grids.service import GridImportFailed, import_grids


class DataError(Exception):
    """An import that was refused; the message is one sentence, details were printed."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    imp = commands.add_parser("import", help="import data from a file")
    what = imp.add_subparsers(dest="what", required=True)
    g = what.add_parser("grids", help="grids from a GeoJSON FeatureCollection")
    g.add_argument("file", type=Path)
    g.set_defaults(handler=import_grids_command)
    from api.cli.imports import register as register_places  # merchants, service-points

    register_places(what)

    exp = commands.add_parser("export", help="export data")
    what = exp.add_subparsers(dest="what", required=True)
    e = what.add_parser("grids", help="grids as GeoJSON (to stdout or --output)")
    e.add_argument("--level", choices=["DISTRICT", "L1", "L2", "L3", "MICRO"])
    e.add_argument("--parent", help="only the children of this grid code")
    e.add_argument("--output", type=Path)
    e.set_defaults(handler=export_grids_command)


def import_grids_command(settings: Settings, args: argparse.Namespace) -> None:
    try:
        collection = orjson.loads(args.file.read_bytes())
    except OSError as error:
        raise DataError(f"cannot read {args.file}: {error.strerror}") from None
    except orjson.JSONDecodeError as error:
        raise DataError(f"{args.file} is not valid JSON: {error}") from None
    asyncio.run(_import_grids(settings.owner_database(), collection))


async def _import_grids(url: str, collection: object) -> None:
    engine = make_engine(url, statement_timeout_ms=600_000)
    try:
        async with make_sessionmaker(engine).begin() as session:
            report = await import_grids(session, collection)  # type: ignore[arg-type]
    except GridImportFailed as failed:
        for p in failed.problems:
            where = f" at {p.location[0]:.7f},{p.location[1]:.7f}" if p.location else ""
            print(f"  {p.severity}: feature {p.index} ({p.code}): {p.message}{where}")
        raise DataError(str(failed)) from None
    finally:
        await engine.dispose()
    for w in report.warnings:
        print(f"  warning: feature {w.index} ({w.code}): {w.message}")
    print(f"import: {report.created} grids created, {report.updated} updated")


def export_grids_command(settings: Settings, args: argparse.Namespace) -> None:
    asyncio.run(_export_grids(settings.owner_database(), args))


async def _export_grids(url: str, args: argparse.Namespace) -> None:
    engine = make_engine(url, statement_timeout_ms=600_000)
    out = args.output.open("wb") if args.output else sys.stdout.buffer
    try:
        async with make_sessionmaker(engine)() as session:
            chunks = stream_feature_collection(session, level=args.level, parent_code=args.parent)
            async for chunk in chunks:
                out.write(chunk)
    finally:
        if args.output:
            out.close()
        await engine.dispose()
