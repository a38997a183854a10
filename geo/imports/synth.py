"""Deterministic synthetic merchants and service points for demos and benchmarks.

Records look like rows of an import CSV (strings by column name), so seeding goes through
the importer exactly as a real file would (:func:`seed_merchants`), and
:func:`write_merchants_csv` writes the same rows as a file for ``circle import``.

* **Where**: a mixture over :data:`geo.grids.synth.DISTRICT_BOUNDS`: a third of the shops
  around the district centre (Gaussian, σ ≈ 1.1 km), a third around a dozen local
  high streets (σ ≈ 450 m), a third spread evenly over an ellipse inside the district box.
  A few percent fall outside the district's irregular outline and import as
  ``outside_coverage``, as real data does.
* **What**: the category mix of a Chinese urban district (restaurants about a quarter,
  convenience stores a tenth, fresh markets rare); names are a prefix (an owner such as 老王
  or 张记, a street such as 德化街, or a shop-sign word such as 惠民) plus a category noun
  (便利店, 大药房, 烩面馆), sometimes with a branch suffix (（大学路店）).
* **Contact and hours**: valid mobiles and Zhengzhou landlines (0371); weekly hours typical
  of the category, including 24/7 shops and bars and barbecues open past midnight; a few
  merchants without phone or hours, some temporarily closed or closed.

Everything comes from ``random.Random(seed)``: same seed, same rows.
"""

from __future__ import annotations

import csv
import math
import random
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from geo.grids.synth import DISTRICT_BOUNDS
from geo.imports.checking import MERCHANTS, SERVICE_POINTS
from geo.imports.importer import import_records
from geo.imports.rows import Record
from geo.imports.synth_data import (
    BRANCH_SHARE,
    CATEGORY_MIX,
    HOURS,
    KIND_HOURS,
    KIND_MIX,
    KIND_NAMES,
    NOUNS,
    SHOP_WORDS,
    STREETS,
    SURNAMES,
)

MERCHANT_COLUMNS: Final = (
    "name", "category", "phone", "address", "longitude", "latitude", "system", "hours",
    "status", "verified",
)  # fmt: skip
SERVICE_POINT_COLUMNS: Final = (
    "kind", "name", "phone", "address", "longitude", "latitude", "system", "hours",
)  # fmt: skip

_WEST, _SOUTH, _EAST, _NORTH = DISTRICT_BOUNDS
_CENTRE: Final = ((_WEST + _EAST) / 2, (_SOUTH + _NORTH) / 2)
_COS_LAT: Final = math.cos(math.radians(_CENTRE[1]))
_RADII_DEG: Final = ((_EAST - _WEST) / 2 * 0.8, (_NORTH - _SOUTH) / 2 * 0.8)
_M_PER_DEG_LAT: Final = 110_900.0
_MOBILE_PREFIXES: Final = ("135", "136", "137", "138", "139", "150", "151", "152", "155",
                           "156", "158", "159", "166", "176", "177", "180", "183", "185",
                           "186", "187", "188", "189", "191", "199")  # fmt: skip


def synth_merchants(count: int = 50_000, seed: int = 27) -> Iterator[dict[str, str]]:
    """``count`` merchant records (CSV columns :data:`MERCHANT_COLUMNS`), deterministic."""
    rng = random.Random(f"merchants:{seed}")
    hubs = _hubs(rng)
    categories, weights = zip(*CATEGORY_MIX, strict=True)
    cumulative = _cumulative(weights)
    for _ in range(count):
        category = rng.choices(categories, cum_weights=cumulative)[0]
        lon, lat = _location(rng, hubs)
        yield {
            "name": _merchant_name(rng, category),
            "category": category,
            "phone": _phone(rng, mobile_share=0.6, none_share=0.06),
            "address": _address(rng),
            "longitude": f"{lon:.7f}",
            "latitude": f"{lat:.7f}",
            "system": "WGS84",
            "hours": "" if rng.random() < 0.05 else _pick(rng, HOURS[category]),
            "status": _status(rng),
            "verified": "true" if rng.random() < 0.65 else "false",
        }


def synth_service_points(count: int = 1_000, seed: int = 27) -> Iterator[dict[str, str]]:
    """``count`` service point records (CSV columns :data:`SERVICE_POINT_COLUMNS`)."""
    rng = random.Random(f"service-points:{seed}")
    hubs = _hubs(random.Random(f"merchants:{seed}"))  # the same high streets as the shops
    kinds, weights = zip(*KIND_MIX, strict=True)
    cumulative = _cumulative(weights)
    for _ in range(count):
        kind = rng.choices(kinds, cum_weights=cumulative)[0]
        lon, lat = _location(rng, hubs, spread=0.6)
        yield {
            "kind": kind,
            "name": rng.choice(KIND_NAMES[kind]).format(place=rng.choice(STREETS)),
            "phone": "" if kind == "public_toilet" else _phone(rng, 0.2, 0.1),
            "address": _address(rng),
            "longitude": f"{lon:.7f}",
            "latitude": f"{lat:.7f}",
            "system": "WGS84",
            "hours": _pick(rng, KIND_HOURS[kind]),
        }


def merchant_records(count: int = 50_000, seed: int = 27) -> Iterator[Record]:
    """:func:`synth_merchants` numbered as CSV rows (the header is row 1)."""
    return enumerate(synth_merchants(count, seed), start=2)


def write_merchants_csv(path: Path, count: int = 50_000, seed: int = 27) -> int:
    """Writes the records as a UTF-8 CSV with a header; returns the number of rows."""
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=MERCHANT_COLUMNS)
        writer.writeheader()
        rows = 0
        for record in synth_merchants(count, seed):
            writer.writerow(record)
            rows += 1
    return rows


async def seed_merchants(session: AsyncSession, count: int = 50_000, *, seed: int = 27) -> str:
    """Imports ``count`` synthetic merchants through the importer; says what it did."""
    started = time.perf_counter()
    report = await import_records(session, merchant_records(count, seed), target=MERCHANTS)
    seconds = time.perf_counter() - started
    return (
        f"merchants: {report.imported} imported, {report.outside_coverage} outside coverage "
        f"({seconds:.1f} s)"
    )


async def seed_service_points(session: AsyncSession, count: int = 1_000, *, seed: int = 27) -> str:
    """Imports ``count`` synthetic service points through the importer; says what it did."""
    started = time.perf_counter()
    records = enumerate(synth_service_points(count, seed), start=2)
    report = await import_records(session, records, target=SERVICE_POINTS)
    seconds = time.perf_counter() - started
    return (
        f"service points: {report.imported} imported, {report.outside_coverage} outside "
        f"coverage ({seconds:.1f} s)"
    )


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _hubs(rng: random.Random) -> list[tuple[float, float]]:
    """A dozen local high streets, scattered over the inner part of the district."""
    return [_in_ellipse(rng, 0.7) for _ in range(12)]


def _in_ellipse(rng: random.Random, scale: float) -> tuple[float, float]:
    while True:
        x, y = rng.uniform(-1, 1), rng.uniform(-1, 1)
        if x * x + y * y <= 1:
            return (_CENTRE[0] + x * _RADII_DEG[0] * scale, _CENTRE[1] + y * _RADII_DEG[1] * scale)


def _location(
    rng: random.Random, hubs: Sequence[tuple[float, float]], spread: float = 0.33
) -> tuple[float, float]:
    """Centre-heavy: Gaussian around the centre or a hub, else uniform over the ellipse."""
    draw = rng.random()
    if draw < spread:
        return _in_ellipse(rng, 1.0)
    (lon, lat), sigma_m = (
        (_CENTRE, 1_100.0) if draw < (1 + spread) / 2 else (rng.choice(hubs), 450.0)
    )
    sigma = sigma_m / _M_PER_DEG_LAT
    return lon + rng.gauss(0, sigma / _COS_LAT), lat + rng.gauss(0, sigma)


def _merchant_name(rng: random.Random, category: str) -> str:
    style = rng.random()
    if style < 0.35:
        prefix = rng.choice(("老{}", "{}记", "{}家", "{}姐", "小{}")).format(rng.choice(SURNAMES))
    elif style < 0.7:
        prefix = rng.choice(STREETS)
    else:
        prefix = rng.choice(SHOP_WORDS)
    name = prefix + rng.choice(NOUNS[category])
    if rng.random() < BRANCH_SHARE:
        name += f"（{rng.choice(STREETS)}店）"
    return name


def _phone(rng: random.Random, mobile_share: float, none_share: float) -> str:
    draw = rng.random()
    if draw < none_share:
        return ""
    if draw < none_share + mobile_share:
        return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
    return f"0371-{rng.choice('5689')}{rng.randrange(10**7):07d}"


def _address(rng: random.Random) -> str:
    street = rng.choice(STREETS)
    if rng.random() < 0.7:
        return f"二七区{street}{rng.randint(1, 299)}号"
    other = rng.choice([s for s in STREETS if s != street])
    return f"二七区{street}与{other}交叉口向{rng.choice('东西南北')}{rng.randint(1, 30) * 10}米"


def _status(rng: random.Random) -> str:
    draw = rng.random()
    return "OPEN" if draw < 0.94 else "TEMPORARILY_CLOSED" if draw < 0.98 else "CLOSED"


def _pick(rng: random.Random, options: Sequence[tuple[float, str]]) -> str:
    weights, values = zip(*options, strict=True)
    return rng.choices(values, weights=weights)[0]
