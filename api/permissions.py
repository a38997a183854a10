"""Who may call what: the one permission check every write path passes through.

Until users and roles arrive (the access issue), every caller is allowed; tighten here.
"""

from __future__ import annotations

from api.context import Info


def require(info: Info, permission: str) -> None:
    """Raises when the caller lacks `permission`; today every caller has every permission."""
    return None
