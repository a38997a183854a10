"""Who a database URL connects as, and whether the service may run as that role (`circle
serve` checks before it starts; README, "Roles")."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from geo.db import conninfo


@dataclass(frozen=True, slots=True)
class RoleFacts:
    """What a URL's role may do that a served process must not."""

    name: str
    superuser: bool
    #: Predefined roles it holds that reach the server's files or programs.
    server_roles: tuple[str, ...]
    #: Tables of the database it owns (an owner alters, drops and truncates them).
    owned_tables: int

    def refusal(self) -> str | None:
        """Why the service must not run as this role; None when it may."""
        if self.superuser:
            return f"{self.name} is a superuser"
        if self.server_roles:
            return f"{self.name} holds {', '.join(self.server_roles)}"
        if self.owned_tables:
            return f"{self.name} owns {self.owned_tables} tables (it could alter or drop them)"
        return None


_ROLE_FACTS = """
SELECT current_user,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
       ARRAY(SELECT r FROM unnest(ARRAY['pg_read_server_files', 'pg_write_server_files',
                                        'pg_execute_server_program']) AS r
             WHERE pg_has_role(current_user, r, 'USAGE')),
       (SELECT count(*) FROM pg_tables
        WHERE schemaname = 'public' AND tableowner = current_user)
"""


def role_facts(url: str) -> RoleFacts:
    """Who ``url`` connects as, and what it may do that the service must not."""
    with psycopg.connect(conninfo(url), connect_timeout=10) as conn:
        name, superuser, server_roles, owned = conn.execute(_ROLE_FACTS).fetchone()  # type: ignore[misc]
    return RoleFacts(name, bool(superuser), tuple(server_roles), int(owned))
