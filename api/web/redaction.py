"""Error messages that name only what the client wrote, when introspection is off.

graphql-core's validation and variable coercion messages name the schema: the suggestions
("Did you mean 'gridAt'?", hidden with ``hide_suggestions``), but also the types, arguments
and input fields a message is about ("Argument 'Query.gridAt(point:)' of type 'PointInput!'
is required"). With introspection off the schema is not public, so every name quoted in such
a message that the client did not write itself (in the document, or as a key of its
variables) becomes ``…``: the message still says what is wrong and where (its locations),
not what the schema holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Set
from typing import Any

from graphql import GraphQLError

HIDDEN = "…"
_QUOTED = re.compile(r"'([^']*)'")
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


def client_names(document: str, variables: Mapping[str, Any] | None = None) -> frozenset[str]:
    """Every name the client wrote: words of the document, keys of its variables."""
    names = set(_NAME.findall(document))
    stack: list[Any] = [variables or {}]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            names.update(k for k in value if isinstance(k, str))
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return frozenset(names)


def redact(message: str, known: Set[str]) -> str:
    """``message`` with every quoted name outside ``known`` replaced by ``…``."""

    def quoted(match: re.Match[str]) -> str:
        inner = _NAME.sub(lambda n: n.group() if n.group() in known else HIDDEN, match.group(1))
        return f"'{inner}'"

    return _QUOTED.sub(quoted, message)


def redact_errors(errors: Iterable[GraphQLError], known: Set[str]) -> list[GraphQLError]:
    """The errors with their messages redacted (locations, path and extensions kept)."""
    return [
        GraphQLError(
            redact(error.message, known),
            error.nodes,
            error.source,
            error.positions,
            error.path,
            error.original_error,
            error.extensions,
        )
        for error in errors
    ]
