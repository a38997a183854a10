"""Demo data: what `circle seed` loads (a synthetic district the size of Erqi's)."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from api.cli.seeding_places import seed_places
from api.settings import Settings
from geo.cases.seal import TrailKeys
from geo.cases.synth import seed_cases
from geo.db import make_engine, make_sessionmaker
from geo.grids.models import Grid
from geo.grids.service import WorkerInput, import_grids, replace_workers
from geo.grids.synth import synth_district, synth_feature_collection, synth_workers

PUBLIC_URL = Settings().public_url


def run_seed(
    url: str,
    *,
    only_if_empty: bool,
    merchants: bool = True,
    public_url: str = PUBLIC_URL,
    cases: bool = False,
    trail_keys: TrailKeys | None = None,
) -> list[str]:
    return asyncio.run(
        seed(
            url,
            only_if_empty=only_if_empty,
            merchants=merchants,
            public_url=public_url,
            cases=cases,
            trail_keys=trail_keys,
        )
    )


async def seed(
    url: str,
    *,
    only_if_empty: bool,
    merchants: bool = True,
    public_url: str = PUBLIC_URL,
    cases: bool = False,
    trail_keys: TrailKeys | None = None,
) -> list[str]:
    """Grids, then (with `merchants`) merchants, service points and demo circle codes, then
    (with `cases`) demo users of every role, their tokens and a year of cases.

    With `only_if_empty`, each part loads only into an empty table; cases never load twice.
    Cases are off by default: they take half a minute, too long for the test fixtures; their
    trails are sealed with ``trail_keys`` (geo.cases.seal), which they need.
    """
    engine = make_engine(url, statement_timeout_ms=600_000)
    sessionmaker = make_sessionmaker(engine, trail_keys=trail_keys)
    said: list[str] = []
    try:
        async with sessionmaker() as session:
            count = await session.scalar(select(func.count()).select_from(Grid))
        if only_if_empty and count:
            said.append(f"the database already has {count} grids; none loaded")
        else:
            said.append(await _seed_grids(sessionmaker))
        if merchants:
            said += await seed_places(
                sessionmaker, only_if_empty=only_if_empty, public_url=public_url
            )
        if cases:
            said += await _seed_cases(sessionmaker)
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


async def _seed_cases(sessionmaker) -> list[str]:  # type: ignore[no-untyped-def]
    """Demo users of every role, one printed token per role, and a year of cases (once)."""
    async with sessionmaker.begin() as session:
        return await seed_cases(session, only_if_empty=True)
