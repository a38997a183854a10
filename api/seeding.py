"""Demo data: what `circle seed` loads (a synthetic district the size of Erqi's)."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from geo.db import make_engine, make_sessionmaker
from geo.grids.models import Grid
from geo.grids.service import WorkerInput, import_grids, replace_workers
from geo.grids.synth import synth_district, synth_feature_collection, synth_workers


def run_seed(url: str, *, only_if_empty: bool) -> list[str]:
    return asyncio.run(seed(url, only_if_empty=only_if_empty))


async def seed(url: str, *, only_if_empty: bool) -> list[str]:
    engine = make_engine(url, statement_timeout_ms=600_000)
    sessionmaker = make_sessionmaker(engine)
    said: list[str] = []
    try:
        async with sessionmaker() as session:
            count = await session.scalar(select(func.count()).select_from(Grid))
        if only_if_empty and count:
            return [f"the database already has {count} grids; nothing loaded"]
        said.append(await _seed_grids(sessionmaker))
    finally:
        await engine.dispose()
    return said


async def _seed_grids(sessionmaker) -> str:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    grids = synth_district()
    workers = [WorkerInput(w.grid_code, w.name, w.phone, w.role) for w in synth_workers(grids)]
    async with sessionmaker.begin() as session:
        report = await import_grids(session, synth_feature_collection(grids))
        stored = await replace_workers(session, workers)
    seconds = time.perf_counter() - started
    return (
        f"grids: {report.created} created, {report.updated} updated, "
        f"{stored} workers ({seconds:.1f} s)"
    )
