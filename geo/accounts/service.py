"""Users: create them with a role, seat and grids; load them as an :class:`Actor`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncSession

from geo.accounts.actor import Actor
from geo.accounts.models import ApiToken, Role, Seat, User, UserGrid
from geo.accounts.units import require_units
from geo.clock import utcnow
from geo.errors import DomainError
from geo.grids.models import Grid

NAME_MAX = 100
PHONE_MAX = 32
DEPARTMENT_MAX = 100


class InvalidUser(DomainError):
    """A user definition that breaks a rule (message says which)."""


class UserNotFound(DomainError):
    def __init__(self, user_id: int) -> None:
        super().__init__(f"user {user_id} does not exist or is inactive")
        self.user_id = user_id


class UnknownGrid(DomainError):
    def __init__(self, grid_ids: Sequence[int]) -> None:
        super().__init__(f"unknown grid id(s): {', '.join(map(str, grid_ids))}")
        self.grid_ids = list(grid_ids)


class UnknownGridCode(DomainError):
    def __init__(self, code: str) -> None:
        super().__init__(f"no grid has the code {code!r}")
        self.code = code


async def grid_ids_of_codes(session: AsyncSession, codes: Sequence[str]) -> list[int]:
    """The ids of the grids with these codes, in order (one statement); raises
    UnknownGridCode naming the first code no grid has."""
    wanted = [c for c in codes if "\x00" not in c]  # PostgreSQL text cannot hold NUL
    rows = await session.execute(select(Grid.code, Grid.id).where(Grid.code.in_(wanted)))
    found: dict[str, int] = dict(rows.all())
    for code in codes:
        if code not in found:
            raise UnknownGridCode(code)
    return [found[code] for code in codes]


def _validate(
    name: str, role: Role, department: str | None, seat: Seat | None, grid_ids: Sequence[int]
) -> None:
    if not name.strip() or len(name) > NAME_MAX:
        raise InvalidUser(f"a name needs 1 to {NAME_MAX} characters")
    if (role is Role.AGENT) != (seat is not None):
        raise InvalidUser("agents, and only agents, have a seat")
    if (role is Role.HANDLER or seat is Seat.DEPARTMENT) and not (department or "").strip():
        raise InvalidUser("handlers and department seats need a department")
    if department is not None and len(department) > DEPARTMENT_MAX:
        raise InvalidUser(f"a department name has at most {DEPARTMENT_MAX} characters")
    if (role is Role.GRID_WORKER or seat is Seat.SUBDISTRICT) and not grid_ids:
        raise InvalidUser("grid workers and subdistrict seats are bound to at least one grid")


async def create_user(
    session: AsyncSession,
    *,
    name: str,
    role: Role,
    phone: str | None = None,
    department: str | None = None,
    seat: Seat | None = None,
    grid_ids: Sequence[int] = (),
) -> User:
    """Creates an active user bound to ``grid_ids``; raises InvalidUser, UnknownGrid, or
    UnknownUnit when ``department`` is not a registered unit (geo.accounts.units)."""
    try:
        role, seat = Role(role), Seat(seat) if seat is not None else None
    except ValueError:
        raise InvalidUser(f"unknown role {role!r} or seat {seat!r}") from None
    _validate(name, role, department, seat, grid_ids)
    if phone is not None and len(phone) > PHONE_MAX:
        raise InvalidUser(f"a phone number has at most {PHONE_MAX} characters")
    if department is not None and department.strip():
        await require_units(session, [department.strip()])
    user = User(
        name=name.strip(),
        role=role.value,
        phone=phone,
        department=department.strip() if department else None,
        seat=seat.value if seat else None,
    )
    session.add(user)
    await session.flush()
    await bind_grids(session, user_id=user.id, grid_ids=grid_ids)
    return user


async def bind_grids(session: AsyncSession, *, user_id: int, grid_ids: Sequence[int]) -> None:
    """Replaces the user's grid bindings with ``grid_ids`` (all must exist)."""
    wanted = sorted(set(grid_ids))
    if wanted:
        found = set(await session.scalars(select(Grid.id).where(Grid.id.in_(wanted))))
        if missing := [g for g in wanted if g not in found]:
            raise UnknownGrid(missing)
    await session.execute(delete(UserGrid).where(UserGrid.user_id == user_id))
    if wanted:
        rows = [{"user_id": user_id, "grid_id": g} for g in wanted]
        await session.execute(insert(UserGrid).values(rows).on_conflict_do_nothing())


async def deactivate_user(session: AsyncSession, *, user_id: int) -> User:
    """Marks the user inactive: its tokens stop working, its history stays."""
    user = await session.get(User, user_id)
    if user is None:
        raise UserNotFound(user_id)
    user.active = False
    await session.flush()
    return user


async def get_actor(session: AsyncSession, user_id: int) -> Actor:
    """The active user as an Actor (grids and their paths included); raises UserNotFound."""
    user = await session.get(User, user_id)
    if user is None or not user.active:
        raise UserNotFound(user_id)
    rows = (
        await session.execute(
            select(Grid.id, Grid.path)
            .join(UserGrid, UserGrid.grid_id == Grid.id)
            .where(UserGrid.user_id == user_id)
            .order_by(Grid.id)
        )
    ).all()
    return actor_of(user, [(gid, tuple(path)) for gid, path in rows])


def actor_of(user: User, grids: Sequence[tuple[int, tuple[int, ...]]]) -> Actor:
    """Builds the Actor of ``user`` bound to ``grids`` ((id, path) pairs)."""
    return Actor(
        user_id=user.id,
        name=user.name,
        role=Role(user.role),
        grid_ids=tuple(g for g, _ in grids),
        grid_paths=tuple(p for _, p in grids),
        department=user.department,
        seat=Seat(user.seat) if user.seat else None,
    )


async def count_users(session: AsyncSession) -> int:
    """How many users exist (active or not)."""
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)


@dataclass(frozen=True, slots=True)
class UserListing:
    """A user as `circle user list` shows it: grid codes and the number of usable tokens."""

    user: User
    grid_codes: tuple[str, ...]
    live_tokens: int


async def list_users(
    session: AsyncSession,
    *,
    now: datetime | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> list[UserListing]:
    """Users by id (after ``after_id``, at most ``limit``; all by default), with their grid
    codes and their tokens neither expired nor revoked."""
    now = now or utcnow()
    codes = (
        select(func.array_agg(aggregate_order_by(Grid.code, Grid.code)))
        .join(UserGrid, UserGrid.grid_id == Grid.id)
        .where(UserGrid.user_id == User.id)
        .scalar_subquery()
    )
    live = (
        select(func.count())
        .where(
            ApiToken.user_id == User.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now
        )
        .scalar_subquery()
    )
    stmt = select(User, codes, live).order_by(User.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(User.id > after_id)
    rows = await session.execute(stmt)
    return [UserListing(user, tuple(grids or ()), int(n)) for user, grids, n in rows]
