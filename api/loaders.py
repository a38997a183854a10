"""DataLoaders: one batch function per relation, each batch in its own short session."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from api.context import Context


class Loaders:
    """The request's loaders; built lazily by Context.loaders."""

    def __init__(self, context: Context) -> None:
        self._context = context
