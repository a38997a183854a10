"""Users, grid bindings, API tokens and the scope rules of an Actor."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from geo.accounts.actor import Actor, CaseScope, Scope
from geo.accounts.models import ApiToken, Role, Seat
from geo.accounts.service import (
    InvalidUser,
    UnknownGrid,
    UserNotFound,
    create_user,
    deactivate_user,
    get_actor,
)
from geo.accounts.tokens import (
    TOUCH_INTERVAL,
    InvalidTokenRequest,
    TokenNotFound,
    authenticate,
    issue_token,
    revoke_token,
    tokens_of,
)
from geo.clock import utcnow
from tests.builders.cases import tiny_grids

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": Role.AGENT}, "seat"),
        ({"role": Role.RESIDENT, "seat": Seat.DISTRICT}, "seat"),
        ({"role": Role.HANDLER}, "department"),
        ({"role": Role.AGENT, "seat": Seat.DEPARTMENT}, "department"),
        ({"role": Role.GRID_WORKER}, "grid"),
        ({"role": Role.AGENT, "seat": Seat.SUBDISTRICT}, "grid"),
        ({"role": Role.RESIDENT, "name": " "}, "name"),
    ],
)
async def test_user_rules(db: AsyncSession, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidUser, match=message):
        await create_user(db, **({"name": "测试"} | kwargs))


async def test_a_grid_worker_is_bound_to_existing_grids(db: AsyncSession) -> None:
    grids = await tiny_grids(db)
    with pytest.raises(UnknownGrid):
        await create_user(db, name="王伟", role=Role.GRID_WORKER, grid_ids=[10**8])
    user = await create_user(
        db, name="王伟", role=Role.GRID_WORKER, grid_ids=[grids["D111"], grids["D111A"]]
    )
    actor = await get_actor(db, user.id)
    assert actor.grid_ids == (grids["D111"], grids["D111A"])
    assert actor.grid_paths[0] == (grids["D"], grids["D1"], grids["D11"], grids["D111"])


async def test_a_token_is_shown_once_and_stored_as_a_hash(db: AsyncSession) -> None:
    grids = await tiny_grids(db)
    user = await create_user(
        db, name="街道座席", role=Role.AGENT, seat=Seat.SUBDISTRICT, grid_ids=[grids["D1"]]
    )
    issued = await issue_token(db, user_id=user.id, ttl=timedelta(days=1), label="cli")
    assert issued.plaintext.startswith(f"circle_{issued.token.prefix}_")
    assert len(issued.plaintext) == len("circle_") + 10 + 1 + 43
    stored = (await db.execute(text("SELECT * FROM api_tokens"))).mappings().one()
    assert issued.plaintext.split("_", 2)[2] not in str(dict(stored))
    assert stored["secret_hash"] == hashlib.sha256(issued.plaintext.encode()).hexdigest()

    actor = await authenticate(db, issued.plaintext)
    assert actor == Actor(
        user_id=user.id,
        name="街道座席",
        role=Role.AGENT,
        grid_ids=(grids["D1"],),
        grid_paths=((grids["D"], grids["D1"]),),
        department=None,
        seat=Seat.SUBDISTRICT,
    )
    assert issued.token.last_used_at is None
    await db.refresh(issued.token)
    assert issued.token.last_used_at is not None


@pytest.mark.parametrize(
    "bearer",
    [None, "", "circle_", "Bearer x", "circle_0123456789_" + "A" * 43, "circle_zz_" + "A" * 43],
)
async def test_malformed_or_unknown_tokens_authenticate_nobody(
    db: AsyncSession, bearer: str | None
) -> None:
    assert await authenticate(db, bearer) is None


async def test_wrong_secret_expired_revoked_and_inactive_are_refused(db: AsyncSession) -> None:
    user = await create_user(db, name="居民", role=Role.RESIDENT)
    issued = await issue_token(db, user_id=user.id, ttl=timedelta(hours=1))
    tampered = issued.plaintext[:-1] + ("A" if issued.plaintext[-1] != "A" else "B")
    assert await authenticate(db, tampered) is None
    later = utcnow() + timedelta(hours=2)
    assert await authenticate(db, issued.plaintext, now=later) is None
    assert await authenticate(db, issued.plaintext) is not None
    revoked = await revoke_token(db, prefix=issued.token.prefix)
    first = revoked.revoked_at
    assert (await revoke_token(db, prefix=issued.token.prefix)).revoked_at == first
    assert await authenticate(db, issued.plaintext) is None
    other = await issue_token(db, user_id=user.id, ttl=timedelta(hours=1))
    await deactivate_user(db, user_id=user.id)
    assert await authenticate(db, other.plaintext) is None
    with pytest.raises(UserNotFound):
        await issue_token(db, user_id=user.id, ttl=timedelta(hours=1))
    with pytest.raises(TokenNotFound):
        await revoke_token(db, prefix="0000000000")
    assert [t.id for t in await tokens_of(db, user.id)] == [other.token.id, issued.token.id]


async def test_token_lifetimes_are_bounded(db: AsyncSession) -> None:
    user = await create_user(db, name="居民", role=Role.RESIDENT)
    for ttl in (timedelta(0), timedelta(days=367)):
        with pytest.raises(InvalidTokenRequest):
            await issue_token(db, user_id=user.id, ttl=ttl)


async def test_last_use_is_written_at_most_once_a_minute(db: AsyncSession) -> None:
    user = await create_user(db, name="居民", role=Role.RESIDENT)
    issued = await issue_token(db, user_id=user.id, ttl=timedelta(days=1))
    now = utcnow()
    stamp = select(ApiToken.last_used_at).where(ApiToken.id == issued.token.id)
    await authenticate(db, issued.plaintext, now=now)
    await authenticate(db, issued.plaintext, now=now + TOUCH_INTERVAL / 2)
    assert await db.scalar(stamp) == now
    await authenticate(db, issued.plaintext, now=now + TOUCH_INTERVAL * 2)
    assert await db.scalar(stamp) == now + TOUCH_INTERVAL * 2


# --- scope rules, without a database ------------------------------------------------------

PATH = (1, 10, 100, 1000, 10000)  # district, L1, L2, L3, micro
IN_A = CaseScope(PATH, "城管局", reporter_user_id=7)
QUEUED = CaseScope((), None, reporter_user_id=None)


def actor(role: Role, *paths: tuple[int, ...], **kw: object) -> Actor:
    return Actor(
        user_id=kw.pop("user_id", 1),  # type: ignore[arg-type]
        name="x",
        role=role,
        grid_ids=tuple(p[-1] for p in paths),
        grid_paths=paths,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("who", "scope", "case", "expected"),
    [
        (actor(Role.AGENT, seat=Seat.DISTRICT), Scope.GRID, QUEUED, True),
        (actor(Role.AGENT, PATH[:2], seat=Seat.SUBDISTRICT), Scope.GRID, IN_A, True),
        (actor(Role.AGENT, (1, 11), seat=Seat.SUBDISTRICT), Scope.GRID, IN_A, False),
        (actor(Role.AGENT, PATH[:2], seat=Seat.SUBDISTRICT), Scope.GRID, QUEUED, False),
        (actor(Role.AGENT, seat=Seat.DEPARTMENT, department="城管局"), Scope.GRID, IN_A, True),
        (actor(Role.AGENT, seat=Seat.DEPARTMENT, department="住建局"), Scope.GRID, IN_A, False),
        (actor(Role.AGENT, PATH[:2], seat=Seat.SUBDISTRICT), Scope.DISTRICT, IN_A, False),
        (actor(Role.AGENT, seat=Seat.DISTRICT), Scope.DISTRICT, IN_A, True),
        (actor(Role.GRID_WORKER, PATH[:4]), Scope.L3_GRID, IN_A, True),
        (actor(Role.GRID_WORKER, PATH), Scope.L3_GRID, IN_A, False),  # micro worker
        (actor(Role.GRID_WORKER, PATH[:3]), Scope.L3_GRID, IN_A, False),  # community worker
        (actor(Role.GRID_WORKER, (1, 10, 100, 1001)), Scope.L3_GRID, IN_A, False),
        (actor(Role.HANDLER, department="城管局"), Scope.DEPARTMENT, IN_A, True),
        (actor(Role.HANDLER, department="住建局"), Scope.DEPARTMENT, IN_A, False),
        (actor(Role.GRID_WORKER, PATH[:4]), Scope.DEPARTMENT, IN_A, False),  # not its team's
        (
            actor(Role.GRID_WORKER, PATH[:4]),
            Scope.DEPARTMENT,
            CaseScope(PATH, None, None),  # dispatched to the grid team
            True,
        ),
        (actor(Role.RESIDENT, user_id=7), Scope.REPORTER, IN_A, True),
        (actor(Role.RESIDENT, user_id=8), Scope.REPORTER, IN_A, False),
        (actor(Role.AGENT, seat=Seat.DISTRICT), Scope.REPORTER, IN_A, False),
        (actor(Role.AGENT, seat=Seat.DISTRICT), Scope.REPORTER, CaseScope(PATH, None, None), True),
        (actor(Role.RESIDENT), Scope.ANY, QUEUED, True),
    ],
)
def test_scope_rules(who: Actor, scope: Scope, case: CaseScope, expected: bool) -> None:
    assert who.in_scope(scope, case) is expected
