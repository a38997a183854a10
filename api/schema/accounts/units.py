"""Registered units (geo.accounts.units) over GraphQL: staff list them, administrators
register and retire them. `circle unit ...` does the same from the command line."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.schema.common import InvalidArgumentError
from api.schema.context import Info
from api.schema.errors import AuthenticationRequiredError, NotPermittedError
from api.schema.permissions import Permission, require
from api.schema.places.errors import NotFoundError
from geo.accounts import units
from geo.accounts.models import Unit as UnitModel


@strawberry.type(description="A registered unit (职能部门): cases are dispatched to it by name.")
class Unit:
    name: str
    active: bool = strawberry.field(description="False: retired; no new dispatch to it.")

    @classmethod
    def from_model(cls, unit: UnitModel) -> Unit:
        return cls(name=unit.name, active=unit.active)


@strawberry.type
class UnitSaved:
    unit: Unit


_REFUSED = AuthenticationRequiredError | NotPermittedError


@strawberry.type
class UnitList:
    units: list[Unit]


UnitsResult = Annotated[UnitList | _REFUSED, strawberry.union("UnitsResult")]
SaveUnitResult = Annotated[
    UnitSaved | InvalidArgumentError | NotFoundError | _REFUSED, strawberry.union("SaveUnitResult")
]


@strawberry.type
class UnitQuery:
    @strawberry.field(description="The registered units, active ones unless asked (staff).")
    async def units(self, info: Info, include_retired: bool = False) -> UnitsResult:
        require(info, Permission.READ_CASE_STATS)
        async with info.context.read() as session:
            found = await units.list_units(session, include_retired=include_retired)
        return UnitList(units=[Unit.from_model(u) for u in found])


@strawberry.type
class UnitMutation:
    @strawberry.mutation(description="Registers a unit, or reactivates a retired one "
                         "(administrators).")  # fmt: skip
    async def register_unit(self, info: Info, name: str) -> SaveUnitResult:
        require(info, Permission.MANAGE_USERS)
        async with info.context.write() as session:
            (unit,) = await units.register_units(session, [name])
        return UnitSaved(unit=Unit.from_model(unit))

    @strawberry.mutation(description="Retires a unit: cases keep its name, new dispatches "
                         "refuse it (administrators).")  # fmt: skip
    async def retire_unit(self, info: Info, name: str) -> SaveUnitResult:
        require(info, Permission.MANAGE_USERS)
        async with info.context.write() as session:
            unit = await units.retire_unit(session, name)
        return UnitSaved(unit=Unit.from_model(unit))
