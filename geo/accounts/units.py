"""Registered units (职能部门): the departments cases are dispatched to, by name.

A unit is data, not a free-text field: DISPATCH and co-handling accept only a registered,
active unit (:func:`require_units`), and handlers and department seats belong to one. A case
sent to a name nobody belongs to could be neither started nor returned; now the name must
be one the district registered (``circle unit add``, the ``registerUnit`` mutation).
Retiring a unit keeps its history: cases and users keep the name, new dispatches refuse it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from geo.accounts.models import Unit
from geo.errors import DomainError

UNIT_MAX = 100


class UnknownUnit(DomainError):
    """A unit name that is not registered, or retired."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name!r} is not a registered unit")
        self.unit = name


class InvalidUnit(DomainError):
    """A unit name that breaks a rule (message says which)."""


def _clean(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > UNIT_MAX or "\x00" in cleaned:
        raise InvalidUnit(f"a unit name needs 1 to {UNIT_MAX} characters, no NUL")
    return cleaned


async def register_units(session: AsyncSession, names: Sequence[str]) -> list[Unit]:
    """Registers (or reactivates) each unit; returns them in order. Idempotent."""
    cleaned = list(dict.fromkeys(_clean(n) for n in names))
    if not cleaned:
        return []
    stmt = (
        insert(Unit)
        .values([{"name": n} for n in cleaned])
        .on_conflict_do_update(index_elements=[Unit.name], set_={"active": True})
        .returning(Unit)
    )
    units = {u.name: u for u in await session.scalars(stmt)}
    return [units[n] for n in cleaned]


async def retire_unit(session: AsyncSession, name: str) -> Unit:
    """Marks the unit inactive: no new dispatch to it; its history stays."""
    unit = await session.scalar(select(Unit).where(Unit.name == name.strip()))
    if unit is None:
        raise UnknownUnit(name)
    unit.active = False
    await session.flush()
    return unit


async def list_units(session: AsyncSession, *, include_retired: bool = False) -> list[Unit]:
    stmt = select(Unit).order_by(Unit.name)
    if not include_retired:
        stmt = stmt.where(Unit.active)
    return list(await session.scalars(stmt))


async def require_units(session: AsyncSession, names: Sequence[str]) -> None:
    """Raises UnknownUnit naming the first of ``names`` that is not a registered active unit."""
    if not names:
        return
    wanted = [n for n in names if "\x00" not in n]  # PostgreSQL text cannot hold NUL
    active = set(await session.scalars(select(Unit.name).where(Unit.name.in_(wanted), Unit.active)))
    for name in names:
        if name not in active:
            raise UnknownUnit(name)
