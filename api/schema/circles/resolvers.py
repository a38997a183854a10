"""Circle codes (一码通): the `circle` query, and issuing and retiring codes (admin)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.schema.circles.types import CircleCode, PlaceCircle, ServiceCircleType
from api.schema.common import (
    CoordSystemType,
    InvalidArgumentError,
    InvalidCoordinateError,
    PointInput,
)
from api.schema.context import Info
from api.schema.errors import AuthenticationRequiredError, NotPermittedError
from api.schema.permissions import Permission, require
from api.schema.places.args import no_nul
from api.schema.places.errors import NotFoundError
from geo.circles import queries, service
from geo.coords import CoordSystem

WGS84 = CoordSystem.WGS84

PlaceCircleResult = Annotated[
    PlaceCircle | NotFoundError | InvalidArgumentError, strawberry.union("PlaceCircleResult")
]


@strawberry.input
class CreateCircleCodeInput:
    name: str = strawberry.field(description="What residents see, e.g. 建新街社区公告栏.")
    center: PointInput
    grid: str | None = strawberry.field(
        default=None, description="The grid's code; by default the one covering the centre."
    )
    code: str | None = strawberry.field(
        default=None, description="4-32 letters, digits, - or _; by default 10 random ones."
    )


@strawberry.type
class CircleCodeSaved:
    circle_code: CircleCode


CreateCircleCodeResult = Annotated[
    CircleCodeSaved
    | InvalidArgumentError
    | InvalidCoordinateError
    | NotFoundError
    | AuthenticationRequiredError
    | NotPermittedError,
    strawberry.union("CreateCircleCodeResult"),
]
RetireCircleCodeResult = Annotated[
    CircleCodeSaved | NotFoundError | AuthenticationRequiredError | NotPermittedError,
    strawberry.union("RetireCircleCodeResult"),
]


@strawberry.type
class CircleQuery:
    @strawberry.field(
        description="The service circle of the place a circle code names (NotFoundError when "
        "the code is unknown or retired)."
    )
    async def circle(
        self,
        info: Info,
        code: str,
        minutes: float = 15.0,
        output: CoordSystemType = WGS84,  # type: ignore[valid-type]
    ) -> PlaceCircleResult:
        system = CoordSystem(output)
        async with info.context.connect() as connection:
            place, found = await queries.circle_of_code(connection, code, minutes=minutes)
        public_url = info.context.settings.public_url
        return PlaceCircle(
            place=CircleCode.from_row(place, public_url, system),
            circle=ServiceCircleType.from_circle(found, system),
        )


@strawberry.type
class CircleMutation:
    @strawberry.mutation(description="Issues a circle code for a place (admin).")
    async def create_circle_code(
        self,
        info: Info,
        input: CreateCircleCodeInput,
        output: CoordSystemType = WGS84,  # type: ignore[valid-type]
    ) -> CreateCircleCodeResult:
        require(info, Permission.WRITE_CIRCLE_CODES)
        no_nul(name=input.name, grid=input.grid, code=input.code)
        center = input.center.to_wgs84()
        async with info.context.write() as session:
            row = await service.create_circle_code(
                session, name=input.name, center=center, grid_code=input.grid, code=input.code
            )
        code = CircleCode.from_row(row, info.context.settings.public_url, CoordSystem(output))
        return CircleCodeSaved(circle_code=code)

    @strawberry.mutation(description="Retires a circle code: its page then answers 404 (admin).")
    async def retire_circle_code(self, info: Info, code: str) -> RetireCircleCodeResult:
        require(info, Permission.WRITE_CIRCLE_CODES)
        async with info.context.write() as session:
            row = await service.retire_circle_code(session, code=code)
        public_url = info.context.settings.public_url
        return CircleCodeSaved(circle_code=CircleCode.from_row(row, public_url, WGS84))
