"""API tokens: random bearer secrets, shown once, stored only as a hash.

Format: ``circle_<prefix>_<secret>``. The prefix (10 hex digits) is public: it finds the
row and names the token in listings and logs. The secret is ``secrets.token_urlsafe(32)``,
256 bits from the OS generator.

Why plain SHA-256 and not bcrypt/argon2: slow, salted hashes protect *low-entropy*
passwords from guessing after a database leak. A 256-bit random secret cannot be guessed
whatever the hash speed (2^255 tries on average), so a fast hash loses nothing and keeps
authentication, which runs on every request, at microseconds instead of ~100 ms. The
stored hash is compared with ``hmac.compare_digest`` (constant time).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Any, Final, NamedTuple

from sqlalchemy import Select, func, literal_column, or_, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from geo.accounts.actor import Actor
from geo.accounts.models import ApiToken, User, UserGrid
from geo.accounts.service import UserNotFound, actor_of
from geo.clock import utcnow
from geo.errors import DomainError
from geo.grids.models import Grid

TOKEN_PREFIX: Final = "circle_"
MAX_TOKEN_TTL: Final = timedelta(days=366)
#: last_used_at is written at most this often per token: one UPDATE per request would
#: turn every read into a write.
TOUCH_INTERVAL: Final = timedelta(minutes=1)
_FORMAT: Final = re.compile(r"circle_([0-9a-f]{10})_([A-Za-z0-9_-]{43})")
_DUMMY_HASH: Final = hashlib.sha256(b"no such token").hexdigest()


class InvalidTokenRequest(DomainError):
    """A token request that breaks a rule (message says which)."""


class TokenNotFound(DomainError):
    def __init__(self, prefix: str) -> None:
        super().__init__(f"token {prefix} does not exist")
        self.prefix = prefix


class IssuedToken(NamedTuple):
    """The plaintext is here once; only its hash is stored. Unpacks as (plaintext, token)."""

    plaintext: str
    token: ApiToken


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def issue_token(
    session: AsyncSession, *, user_id: int, ttl: timedelta, label: str | None = None
) -> IssuedToken:
    """Creates a token for an active user, valid for ``ttl`` (at most MAX_TOKEN_TTL)."""
    if not timedelta(0) < ttl <= MAX_TOKEN_TTL:
        raise InvalidTokenRequest(f"a token lives more than 0 s and at most {MAX_TOKEN_TTL.days} d")
    if label is not None and len(label) > 100:
        raise InvalidTokenRequest("a token label has at most 100 characters")
    user = await session.get(User, user_id)
    if user is None or not user.active:
        raise UserNotFound(user_id)
    prefix = secrets.token_hex(5)
    plaintext = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        prefix=prefix,
        user_id=user_id,
        secret_hash=_digest(plaintext),
        label=label,
        expires_at=utcnow() + ttl,
    )
    session.add(token)
    await session.flush()
    return IssuedToken(plaintext, token)


async def revoke_token(session: AsyncSession, *, prefix: str) -> ApiToken:
    """Revokes the token with ``prefix``; revoking twice keeps the first revocation time."""
    token = await session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if token is None:
        raise TokenNotFound(prefix)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        await session.flush()
    return token


async def tokens_of(session: AsyncSession, user_id: int) -> list[ApiToken]:
    """The user's tokens, newest first (hashes included; never the plaintext)."""
    stmt = select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
    return list(await session.scalars(stmt))


async def authenticate(
    session: AsyncSession, bearer: str | None, *, now: datetime | None = None
) -> Actor | None:
    """The Actor owning the bearer token, or None (malformed, unknown, wrong secret,
    expired, revoked, inactive user).

    Records ``last_used_at`` (at most once per TOUCH_INTERVAL); the caller commits it.
    """
    match = _FORMAT.fullmatch(bearer or "")
    if match is None:
        return None
    now = now or utcnow()
    row = (await session.execute(_token_lookup(match.group(1)))).first()
    stored = row.ApiToken.secret_hash if row else _DUMMY_HASH
    if not hmac.compare_digest(stored, _digest(match.group(0))) or row is None:
        return None
    token, user = row.ApiToken, row.User
    if token.revoked_at is not None or token.expires_at <= now or not user.active:
        return None
    if token.last_used_at is None or token.last_used_at < now - TOUCH_INTERVAL:
        await _touch(session, token.id, now)  # most requests: no write, one statement
    return actor_of(user, [(gid, tuple(path)) for gid, path in row.grids])


def _token_lookup(prefix: str) -> Select[tuple[ApiToken, User, Any]]:
    # One statement: token, user and the user's grids with their paths. Paths differ in
    # length, so they travel as JSON pairs, not as a 2-D array.
    pairs = func.json_agg(aggregate_order_by(func.json_build_array(Grid.id, Grid.path), Grid.id))
    grids = (
        select(func.coalesce(pairs, literal_column("'[]'::json")))
        .join(UserGrid, UserGrid.grid_id == Grid.id)
        .where(UserGrid.user_id == User.id)
        .scalar_subquery()
    )
    return (
        select(ApiToken, User, grids.label("grids"))
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.prefix == prefix)
        .execution_options(populate_existing=True)  # last_used_at as stored, not as cached
    )


async def _touch(session: AsyncSession, token_id: int, now: datetime) -> None:
    await session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOUCH_INTERVAL),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
