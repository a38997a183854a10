"""The meeting ledger (台账): record an item for a grid, list a grid's items, convert one
into a case. Staff of the grid (or above it) and district seats only (api.schema.permissions)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

from api.schema.cases.actions import CaseReported
from api.schema.cases.enums import LocationSourceType
from api.schema.cases.errors import (
    ChannelNotAllowedError,
    IdempotencyKeyReusedError,
    InvalidCaseInputError,
    LedgerDateOutOfRangeError,
    LedgerItemSettledError,
    LocationOutsideGridError,
    UnknownCaseCategoryError,
)
from api.schema.cases.inputs import MOMENT_HELP, parse_moment
from api.schema.common import (
    DEFAULT_PAGE,
    InvalidArgument,
    InvalidArgumentError,
    InvalidCoordinateError,
    PageInfo,
    PointInput,
    encode_cursor,
    page_window,
)
from api.schema.context import Info
from api.schema.errors import AuthenticationRequiredError, NotPermittedError, RateLimitedError
from api.schema.grids.types import Grid
from api.schema.limits import spend
from api.schema.permissions import ledger_refusal, signed_in
from api.schema.places.errors import NotFoundError
from geo.cases import ledger
from geo.cases.categories import LocationSource
from geo.cases.errors import InvalidCaseInput
from geo.cases.ledger import LedgerStatus
from geo.cases.models import LedgerItem as ItemModel
from geo.clock import utcnow
from geo.grids.queries import GridRow, get_grid

LedgerStatusType = strawberry.enum(LedgerStatus, name="LedgerStatus")


@strawberry.type(description="An issue raised at a community meeting (台账), kept per grid.")
class LedgerItem:
    grid_id: strawberry.Private[int]
    id: int
    meeting: str
    raised_at: datetime
    text: str
    status: LedgerStatusType  # type: ignore[valid-type]
    converted_case_id: int | None = strawberry.field(description="The case it became.")

    @classmethod
    def from_model(cls, m: ItemModel) -> LedgerItem:
        return cls(
            grid_id=m.grid_id,
            id=m.id,
            meeting=m.meeting,
            raised_at=m.raised_at,
            text=m.text,
            status=LedgerStatus(m.status),
            converted_case_id=m.converted_case_id,
        )

    @strawberry.field
    async def grid(self, info: Info) -> Grid | None:
        row = await info.context.loaders.grid.load(self.grid_id)
        return Grid.from_row(row) if row else None


@strawberry.type
class LedgerItemEdge:
    cursor: str
    node: LedgerItem


@strawberry.type(description="A page of ledger items, newest first.")
class LedgerItemConnection:
    edges: list[LedgerItemEdge]
    page_info: PageInfo


@strawberry.type
class LedgerItemRecorded:
    item: LedgerItem


@strawberry.type(description="The item became a case (channel MEETING_LEDGER).")
class LedgerItemConverted:
    item: LedgerItem
    report: CaseReported


@strawberry.input
class RecordLedgerItemInput:
    grid: str = strawberry.field(description="The grid's code.")
    meeting: str = strawberry.field(description="Which meeting raised it ('11月楼院议事会').")
    text: str
    raised_at: str | None = strawberry.field(
        default=None,
        description="The meeting's date: today at the latest, a year back at the earliest. "
        "Default now. " + MOMENT_HELP,
    )


@strawberry.input
class ConvertLedgerItemInput:
    item_id: int
    category: str
    location: PointInput
    location_source: LocationSourceType = LocationSource.MAP_PICK  # type: ignore[valid-type]
    address: str | None = None


LedgerItemsResult = Annotated[
    LedgerItemConnection | InvalidArgumentError | AuthenticationRequiredError | NotPermittedError,
    strawberry.union("LedgerItemsResult"),
]
RecordLedgerItemResult = Annotated[
    LedgerItemRecorded
    | InvalidCaseInputError
    | LedgerDateOutOfRangeError
    | AuthenticationRequiredError
    | NotPermittedError
    | RateLimitedError,
    strawberry.union("RecordLedgerItemResult"),
]


@strawberry.enum(description="How an open ledger item is settled without a case.")
class LedgerSettlement(Enum):
    RESOLVED = "resolved"
    DROPPED = "dropped"


@strawberry.type
class LedgerItemSettled:
    item: LedgerItem


SettleLedgerItemResult = Annotated[
    LedgerItemSettled
    | LedgerItemSettledError
    | NotFoundError
    | AuthenticationRequiredError
    | RateLimitedError,
    strawberry.union("SettleLedgerItemResult"),
]
ConvertLedgerItemResult = Annotated[
    LedgerItemConverted
    | InvalidCoordinateError
    | UnknownCaseCategoryError
    | InvalidCaseInputError
    | ChannelNotAllowedError
    | IdempotencyKeyReusedError
    | LedgerItemSettledError
    | LocationOutsideGridError
    | NotFoundError
    | AuthenticationRequiredError
    | RateLimitedError,
    strawberry.union("ConvertLedgerItemResult"),
]


async def _grid(info: Info, code: str) -> GridRow | None:
    async with info.context.read() as session:
        return await get_grid(session, code)


def _after_id(key: str | None) -> int | None:
    if key is None:
        return None
    if not key.isdigit() or len(key) > 18:
        raise InvalidArgument("after", "after is not a cursor this API returned")
    return int(key)


@strawberry.type
class LedgerQuery:
    @strawberry.field(description="A grid's ledger (its whole subtree), newest first.")
    async def ledger_items(
        self,
        info: Info,
        grid: str,
        statuses: list[LedgerStatusType] | None = None,  # type: ignore[valid-type]
        first: int = DEFAULT_PAGE,
        after: str | None = None,
    ) -> LedgerItemsResult:
        first, key = page_window(first, after)
        after_id = _after_id(key)
        row = await _grid(info, grid)
        if row is None:
            raise InvalidArgument("grid", "no grid has this code")
        if refused := ledger_refusal(info.context.actor, row.path):
            raise refused
        query: dict[str, Any] = {"grid_id": row.id, "statuses": tuple(statuses or ())}
        async with info.context.read() as session:
            items = await ledger.list_ledger_items(session, first=first, after_id=after_id, **query)
            more = len(items) == first and bool(
                await ledger.list_ledger_items(session, first=1, after_id=items[-1].id, **query)
            )
        edges = [
            LedgerItemEdge(cursor=encode_cursor(str(i.id)), node=LedgerItem.from_model(i))
            for i in items
        ]
        end = edges[-1].cursor if edges else None
        return LedgerItemConnection(
            edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=end)
        )


@strawberry.type
class LedgerMutation:
    @strawberry.mutation(description="Records a meeting's issue in a grid's ledger.")
    async def record_ledger_item(
        self, info: Info, input: RecordLedgerItemInput
    ) -> RecordLedgerItemResult:
        row = await _grid(info, input.grid)
        if row is None:
            raise InvalidCaseInput("grid", "no grid has this code")
        if refused := ledger_refusal(info.context.actor, row.path):
            raise refused
        raised = parse_moment("raisedAt", input.raised_at) or utcnow()
        if limited := await spend(info):
            return limited
        async with info.context.write() as session:
            item = await ledger.record_ledger_item(
                session,
                actor=signed_in(info),
                grid_id=row.id,
                meeting=input.meeting,
                raised_at=raised,
                text=input.text,
            )
        return LedgerItemRecorded(item=LedgerItem.from_model(item))

    @strawberry.mutation(description="Reports an open ledger item as a case and links them.")
    async def convert_ledger_item(
        self, info: Info, input: ConvertLedgerItemInput
    ) -> ConvertLedgerItemResult:
        actor = signed_in(info)
        point = input.location.to_wgs84()
        if limited := await spend(info):
            return limited
        async with info.context.write() as session:
            item, result = await ledger.convert_ledger_item(
                session,
                item_id=input.item_id,
                actor=actor,
                category=input.category,
                point=point,
                location_source=input.location_source,
                accuracy_m=input.location.accuracy_m,
                address=input.address,
            )
        return LedgerItemConverted(
            item=LedgerItem.from_model(item), report=await CaseReported.from_result(info, result)
        )

    @strawberry.mutation(
        description="Settles an open ledger item without a case: resolved at the meeting or by "
        "the community itself, or dropped (withdrawn)."
    )
    async def settle_ledger_item(
        self, info: Info, item_id: int, settlement: LedgerSettlement
    ) -> SettleLedgerItemResult:
        actor = signed_in(info)
        if limited := await spend(info):
            return limited
        async with info.context.write() as session:
            item = await ledger.settle_ledger_item(
                session, item_id=item_id, actor=actor, status=LedgerStatus(settlement.value)
            )
        return LedgerItemSettled(item=LedgerItem.from_model(item))
