"""What the query asks below the current field: lets a list resolver load in bulk, once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from strawberry.types.nodes import SelectedField, Selection


def selected_below(info: Any, *path: str) -> set[str]:
    """Names of the fields selected at ``path`` under the current field (fragments and
    aliases flattened), e.g. ``selected_below(info, "edges", "node")`` on a connection."""
    level: list[Selection] = [child for field in info.selected_fields for child in field.selections]
    for name in path:
        level = [
            child for field in _fields(level) if field.name == name for child in field.selections
        ]
    return {field.name for field in _fields(level)}


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:  # an inline fragment or a fragment spread
            yield from _fields(selection.selections)
