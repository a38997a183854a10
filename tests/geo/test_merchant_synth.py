"""Synthetic merchants and service points: deterministic, valid, realistic enough."""

from __future__ import annotations

import re
from collections import Counter
from itertools import islice

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.coords import LonLat
from geo.grids.synth import DISTRICT_BOUNDS
from geo.imports.rows import Schedules, merchant_values, service_point_values
from geo.imports.synth import (
    merchant_records,
    seed_merchants,
    seed_service_points,
    synth_merchants,
    synth_service_points,
)
from geo.imports.synth_data import CATEGORY_MIX, NOUNS
from geo.merchants.models import Merchant
from geo.places.hours import parse_hours
from geo.service_points.models import ServicePoint
from tests.builders.places import geodesic_m

pytestmark = pytest.mark.anyio

CJK = re.compile(r"[\u4e00-\u9fff]")
CENTRE = LonLat(
    (DISTRICT_BOUNDS[0] + DISTRICT_BOUNDS[2]) / 2, (DISTRICT_BOUNDS[1] + DISTRICT_BOUNDS[3]) / 2
)


def test_same_seed_same_rows() -> None:
    assert list(synth_merchants(300, seed=5)) == list(synth_merchants(300, seed=5))
    assert list(synth_merchants(300, seed=5)) != list(synth_merchants(300, seed=6))
    assert list(synth_service_points(50)) == list(synth_service_points(50))


def test_every_row_passes_the_importer_checks() -> None:
    schedules = Schedules()
    for n, record in merchant_records(5_000):
        merchant_values(n, record, schedules)
    for n, record in enumerate(synth_service_points(1_000), start=2):
        service_point_values(n, record, schedules)


def test_names_categories_and_hours_look_real() -> None:
    rows = list(synth_merchants(20_000))
    shares = Counter(r["category"] for r in rows)
    for code, share in CATEGORY_MIX:
        assert shares[code] / len(rows) == pytest.approx(share, abs=0.01), code
    for r in rows[:2_000]:
        assert CJK.search(r["name"]) and any(noun in r["name"] for noun in NOUNS[r["category"]])
    hours = Counter(r["hours"] for r in rows)
    assert hours["24/7"] > 0 and hours[""] > 0
    past_midnight = [h for h in hours if h and h != "24/7" and any(
        i.close_min > 1440 for i in parse_hours(h).intervals)]  # fmt: skip
    assert past_midnight
    assert {r["status"] for r in rows} == {"OPEN", "TEMPORARILY_CLOSED", "CLOSED"}


def test_denser_in_the_centre() -> None:
    near = far = 0
    for r in islice(synth_merchants(10_000), 10_000):
        d = geodesic_m(CENTRE, LonLat(float(r["longitude"]), float(r["latitude"])))
        near += d < 1_000
        far += 3_000 <= d < 3_317  # a ring of the same area as the inner disc... roughly
    assert near > 3 * far


async def test_seeding_goes_through_the_importer(seeded_db: AsyncSession) -> None:
    before = await seeded_db.scalar(select(func.count()).select_from(Merchant)) or 0
    said = await seed_merchants(seeded_db, 3_000)
    assert said.startswith("merchants: 3000 imported")
    assert await seeded_db.scalar(select(func.count()).select_from(Merchant)) == before + 3_000
    outside = await seeded_db.scalar(
        select(func.count()).select_from(Merchant).where(Merchant.outside_coverage)
    )
    assert (outside or 0) < 0.05 * 3_000
    assert (await seed_service_points(seeded_db, 200)).startswith("service points: 200 imported")
    assert (await seeded_db.scalar(select(func.count()).select_from(ServicePoint)) or 0) >= 200
