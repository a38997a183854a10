"""How failures reach clients: typed error objects for expected ones, a mask for the rest."""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError

from geo.errors import DomainError

log = logging.getLogger("circle.errors")

MASKED_MESSAGE = "Unexpected error."


@strawberry.interface(description="A failure the caller can act on; the message is safe to show.")
class Error:
    message: str


def mask_errors(errors: list[GraphQLError]) -> list[GraphQLError]:
    """Replaces errors caused by unexpected exceptions with a masked one, logging the original.

    Parse, validation and variable errors (no original error) and domain errors stay visible:
    they help the client; anything else may leak internals.
    """
    out: list[GraphQLError] = []
    for error in errors:
        original = error.original_error
        if original is None or isinstance(original, (DomainError, GraphQLError)):
            out.append(error)
            continue
        log.error("unexpected error at %s", error.path, exc_info=original)
        out.append(
            GraphQLError(
                MASKED_MESSAGE,
                nodes=error.nodes,
                path=error.path,
                extensions={"code": "INTERNAL_SERVER_ERROR"},
            )
        )
    return out


@strawberry.type(description="This needs an account: send 'Authorization: Bearer <token>'.")
class AuthenticationRequiredError(Error):
    pass


@strawberry.type(description="The caller's role or grids do not allow this.")
class NotPermittedError(Error):
    pass


@strawberry.type(
    description="Too many requests of this kind from this client: retry after the given time."
)
class RateLimitedError(Error):
    retry_after_s: int = strawberry.field(description="Seconds to wait before the next try.")
