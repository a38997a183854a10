"""The meeting ledger (台账): items per grid, converted into at most one case each."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from geo.cases.ledger import (
    LedgerItemNotFound,
    LedgerItemSettled,
    LedgerNotPermitted,
    LedgerStatus,
    convert_ledger_item,
    list_ledger_items,
    record_ledger_item,
    settle_ledger_item,
)
from geo.cases.routing import RoutingReason
from tests.builders.cases import T0, at, make_cast

pytestmark = pytest.mark.anyio


async def test_an_item_is_recorded_listed_and_converted_once(db: AsyncSession) -> None:
    cast = await make_cast(db)
    item = await record_ledger_item(
        db,
        actor=cast.subdistrict_agent,
        grid_id=cast.grids["D11"],
        meeting="6月楼院议事会",
        raised_at=T0,
        now=T0,
        text="8号院楼道堆物，存在消防隐患",
    )
    listed = await list_ledger_items(db, grid_id=cast.grids["D1"])
    assert [i.id for i in listed] == [item.id]
    assert await list_ledger_items(db, grid_id=cast.grids["D111"]) == []  # above it, not under

    converted, result = await convert_ledger_item(
        db,
        item_id=item.id,
        actor=cast.subdistrict_agent,
        category="fire_safety",
        point=at(2, 2),
    )
    assert converted.status == LedgerStatus.CONVERTED
    assert converted.converted_case_id == result.case.id
    assert (result.case.channel, result.case.description) == ("meeting_ledger", item.text)
    assert result.case.routing_reason == RoutingReason.MICRO_GRID_WORKER
    with pytest.raises(LedgerItemSettled):
        await convert_ledger_item(
            db, item_id=item.id, actor=cast.subdistrict_agent, category="other", point=at(2, 2)
        )
    assert await list_ledger_items(db, statuses=[LedgerStatus.OPEN]) == []


async def test_items_are_settled_by_staff_of_the_grid(db: AsyncSession) -> None:
    cast = await make_cast(db)
    with pytest.raises(LedgerNotPermitted):
        await record_ledger_item(
            db,
            actor=cast.resident,
            grid_id=cast.grids["D11"],
            meeting="m",
            raised_at=T0,
            text="t",
            now=T0,
        )
    item = await record_ledger_item(
        db,
        actor=cast.l3_worker,
        grid_id=cast.grids["D111"],
        meeting="m",
        raised_at=T0,
        text="t",
        now=T0,
    )
    with pytest.raises(LedgerNotPermitted):
        await settle_ledger_item(
            db, item_id=item.id, actor=cast.outsider_worker, status=LedgerStatus.RESOLVED
        )
    settled = await settle_ledger_item(
        db, item_id=item.id, actor=cast.district_agent, status=LedgerStatus.RESOLVED
    )
    assert settled.status == "resolved"
    with pytest.raises(LedgerItemNotFound):
        await settle_ledger_item(db, item_id=10**9, actor=cast.district_agent, status="dropped")
