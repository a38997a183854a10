"""Who is calling: the request's bearer token, authenticated once, before execution.

Decision: no `Authorization` header means an anonymous caller (who may, for example, report
a case). A header that is present but does not authenticate — another scheme, a malformed,
unknown, expired or revoked token, or a deactivated user — is answered with HTTP 401 and
`WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750) before anything runs, with a
GraphQL error whose `extensions.code` is UNAUTHENTICATED. Falling back to anonymous instead
would let a client with an expired token carry on as somebody else (its reports anonymous,
its reads refused for reasons it cannot see).
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from api.web.http import DatabaseUnavailable, RequestError
from geo.accounts.actor import Actor
from geo.accounts.tokens import authenticate

log = logging.getLogger("circle.auth")

CHALLENGE = 'Bearer realm="circle"'
INVALID = "The bearer token is not valid: unknown, expired or revoked, or its user is inactive."


class Unauthenticated(RequestError):
    """The request carries credentials that do not authenticate anybody."""

    def __init__(self, message: str) -> None:
        challenge = f'{CHALLENGE}, error="invalid_token"'
        super().__init__(message, 401, {"WWW-Authenticate": challenge}, "UNAUTHENTICATED")


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None without a header."""
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send credentials as 'Authorization: Bearer <token>'.")
    return token.strip()


async def authenticate_request(
    request: Request, sessionmaker: async_sessionmaker[AsyncSession]
) -> Actor | None:
    """The Actor of the request's bearer token, None when it has none; raises
    Unauthenticated (401) for credentials that do not authenticate."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        return None
    try:
        # A transaction of its own: authenticate() may record the token's last use.
        async with sessionmaker.begin() as session:
            actor = await authenticate(session, token)
    except (SQLAlchemyError, OSError) as error:
        log.error("authentication failed: %s", type(error).__name__, exc_info=error)
        raise DatabaseUnavailable() from None
    if actor is None:
        raise Unauthenticated(INVALID)
    return actor
