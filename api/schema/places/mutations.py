"""Merchant and service point writes: create, update (versioned) and close.

Every write is for administrators (api.schema.permissions), refused with a typed error before
anything is read. A location no grid covers is stored and flagged
(`outsideCoverage: true`), never refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import Maybe

from api.schema.common import (
    CoordSystemType,
    InvalidArgument,
    InvalidArgumentError,
    InvalidCoordinateError,
    PointInput,
)
from api.schema.context import Info
from api.schema.errors import AuthenticationRequiredError, NotPermittedError
from api.schema.permissions import Permission, require
from api.schema.places.args import no_nul
from api.schema.places.errors import (
    InvalidOpeningHoursError,
    InvalidPhoneError,
    NotFoundError,
    UnknownCategoryError,
    UnknownServicePointKindError,
    VersionConflictError,
    parse_id,
)
from api.schema.places.types import Merchant, MerchantStatusType, ServicePoint
from geo.coords import CoordSystem
from geo.merchants import service as merchants
from geo.merchants.models import MerchantStatus
from geo.service_points import service as service_points

WGS84 = CoordSystem.WGS84
R = TypeVar("R")
HOURS = "Weekly hours, OpenStreetMap form: 'Mo-Fr 07:00-22:00; Sa,Su 08:00-02:00', '24/7'."


@strawberry.input
class CreateMerchantInput:
    name: str
    category: str = strawberry.field(description="A code of merchantCategories.")
    location: PointInput
    phone: str | None = None
    address: str | None = None
    opening_hours: str | None = strawberry.field(default=None, description=HOURS)
    status: MerchantStatusType = MerchantStatus.OPEN  # type: ignore[valid-type]
    verified: bool = False


@strawberry.input(description="Omitted fields stay; null clears phone, address or hours.")
class UpdateMerchantInput:
    id: strawberry.ID
    expected_version: int = strawberry.field(description="The version you read.")
    name: Maybe[str | None]
    category: Maybe[str | None]
    location: Maybe[PointInput | None]
    phone: Maybe[str | None]
    address: Maybe[str | None]
    opening_hours: Maybe[str | None] = strawberry.field(description=HOURS)
    status: Maybe[MerchantStatusType | None]  # type: ignore[valid-type]
    verified: Maybe[bool | None]


@strawberry.input
class CreateServicePointInput:
    kind: str = strawberry.field(description="A code of servicePointKinds.")
    name: str
    location: PointInput
    phone: str | None = None
    address: str | None = None
    opening_hours: str | None = strawberry.field(default=None, description=HOURS)


@strawberry.input(description="Omitted fields stay; null clears phone, address or hours.")
class UpdateServicePointInput:
    id: strawberry.ID
    expected_version: int
    kind: Maybe[str | None]
    name: Maybe[str | None]
    location: Maybe[PointInput | None]
    phone: Maybe[str | None]
    address: Maybe[str | None]
    opening_hours: Maybe[str | None] = strawberry.field(description=HOURS)


@strawberry.type
class MerchantSaved:
    merchant: Merchant


@strawberry.type
class ServicePointSaved:
    service_point: ServicePoint


_REFUSED = AuthenticationRequiredError | NotPermittedError
_INVALID = (
    InvalidArgumentError
    | InvalidCoordinateError
    | InvalidPhoneError
    | InvalidOpeningHoursError
    | AuthenticationRequiredError
    | NotPermittedError
)
CreateMerchantResult = Annotated[
    MerchantSaved | _INVALID | UnknownCategoryError, strawberry.union("CreateMerchantResult")
]
UpdateMerchantResult = Annotated[
    MerchantSaved | _INVALID | UnknownCategoryError | NotFoundError | VersionConflictError,
    strawberry.union("UpdateMerchantResult"),
]
CloseMerchantResult = Annotated[
    MerchantSaved | NotFoundError | VersionConflictError | _REFUSED,
    strawberry.union("CloseMerchantResult"),
]
CreateServicePointResult = Annotated[
    ServicePointSaved | _INVALID | UnknownServicePointKindError,
    strawberry.union("CreateServicePointResult"),
]
UpdateServicePointResult = Annotated[
    ServicePointSaved
    | _INVALID
    | UnknownServicePointKindError
    | NotFoundError
    | VersionConflictError,
    strawberry.union("UpdateServicePointResult"),
]


@strawberry.type
class MerchantMutation:
    @strawberry.mutation(description="Adds a merchant; assigned to the grid covering it.")
    async def create_merchant(
        self,
        info: Info,
        input: CreateMerchantInput,
        output: CoordSystemType = WGS84,  # type: ignore[valid-type]
    ) -> CreateMerchantResult:
        return await _write(
            info,
            lambda session: merchants.create_merchant(
                session, **_create_fields(input), status=input.status, verified=input.verified
            ),
            lambda row: MerchantSaved(merchant=Merchant.from_row(row, CoordSystem(output))),
        )

    @strawberry.mutation(description="Changes the given fields of a merchant at expectedVersion.")
    async def update_merchant(
        self,
        info: Info,
        input: UpdateMerchantInput,
        output: CoordSystemType = WGS84,  # type: ignore[valid-type]
    ) -> UpdateMerchantResult:
        return await _write(
            info,
            lambda session: merchants.update_merchant(
                session,
                merchant_id=parse_id("merchant", input.id),
                expected_version=input.expected_version,
                **_changes(input),
            ),
            lambda row: MerchantSaved(merchant=Merchant.from_row(row, CoordSystem(output))),
        )

    @strawberry.mutation(description="Marks a merchant closed for good (kept, left out of lists).")
    async def close_merchant(
        self,
        info: Info,
        id: strawberry.ID,
        expected_version: int,
        output: CoordSystemType = WGS84,  # type: ignore[valid-type]
    ) -> CloseMerchantResult:
        return await _write(
            info,
            lambda session: merchants.close_merchant(
                session, merchant_id=parse_id("merchant", id), expected_version=expected_version
            ),
            lambda row: MerchantSaved(merchant=Merchant.from_row(row, CoordSystem(output))),
        )

    @strawberry.mutation(description="Adds a service point; assigned to the grid covering it.")
    async def create_service_point(
        self,
        info: Info,
        input: CreateServicePointInput,
        output: CoordSystemType = WGS84,  # type: ignore[valid-type]
    ) -> CreateServicePointResult:
        return await _write(
            info,
            lambda session: service_points.create_service_point(session, **_create_fields(input)),
            lambda row: ServicePointSaved(
                service_point=ServicePoint.from_row(row, CoordSystem(output))
            ),
        )

    @strawberry.mutation(description="Changes the given fields of a service point.")
    async def update_service_point(
        self,
        info: Info,
        input: UpdateServicePointInput,
        output: CoordSystemType = WGS84,  # type: ignore[valid-type]
    ) -> UpdateServicePointResult:
        return await _write(
            info,
            lambda session: service_points.update_service_point(
                session,
                point_id=parse_id("service_point", input.id),
                expected_version=input.expected_version,
                **_changes(input),
            ),
            lambda row: ServicePointSaved(
                service_point=ServicePoint.from_row(row, CoordSystem(output))
            ),
        )


async def _write(
    info: Info,
    work: Callable[[AsyncSession], Awaitable[R]],
    saved: Callable[[R], Any],
) -> Any:
    """One write path: the permission check, then one transaction. `work` parses and
    validates inside the transaction, so a refusal rolls back with nothing written."""
    require(info, Permission.WRITE_PLACES)
    async with info.context.write() as session:
        row = await work(session)
    return saved(row)


_TEXT = ("name", "category", "kind", "phone", "address")
#: Fields that cannot be cleared: null for them is refused, not taken as "no change".
_REQUIRED = frozenset({"name", "category", "kind", "location", "status", "verified"})


def _create_fields(input: Any) -> dict[str, Any]:
    """Domain arguments of a create input (NUL characters refused, location converted)."""
    values = {
        name: getattr(input, name) for name in (*_TEXT, "opening_hours") if hasattr(input, name)
    }
    no_nul(**values)
    fields = {name: value for name, value in values.items() if name != "opening_hours"}
    return {**fields, "hours": values["opening_hours"], "location": input.location.to_wgs84()}


def _changes(input: Any) -> dict[str, Any]:
    """Domain arguments of an update input: only the fields given (Maybe), checked."""
    changes: dict[str, Any] = {}
    for name in (*_TEXT, "opening_hours", "location", "status", "verified"):
        given = getattr(input, name, None)
        if given is None:
            continue
        value = given.value
        if value is None and name in _REQUIRED:
            raise InvalidArgument(name, f"{name} cannot be cleared; omit it to keep it")
        no_nul(**{name: value})
        key = "hours" if name == "opening_hours" else name
        changes[key] = value.to_wgs84() if name == "location" else value
    return changes
