"""Schema administration: alembic upgrades and scratch databases (CLI and tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from psycopg import sql
from sqlalchemy.engine import make_url

from api.settings import PROJECT_ROOT


def alembic_config(url: str) -> Config:
    config = Config(str(Path(PROJECT_ROOT, "alembic.ini")))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    with psycopg.connect(_plain(url)) as conn:
        exists = conn.execute("SELECT to_regclass('alembic_version')").fetchone()
        if not exists or exists[0] is None:
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None


def create_database(url: str, name: str) -> str:
    """Creates (after dropping) database `name` on the server of `url`; returns its URL."""
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return _with_database(url, name)


def drop_database(url: str, name: str) -> None:
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    return make_url(_plain(url)).set(database=name).render_as_string(hide_password=False)


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
    with psycopg.connect(_plain(url), connect_timeout=10) as conn:
        name, superuser, server_roles, owned = conn.execute(_ROLE_FACTS).fetchone()  # type: ignore[misc]
    return RoleFacts(name, bool(superuser), tuple(server_roles), int(owned))


def has_unsealed_trails(url: str) -> bool:
    """Whether some case has no trail seal yet (none before revision 0015 either)."""
    with psycopg.connect(_plain(url)) as conn:
        column = conn.execute(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_name = 'cases' AND column_name = 'trail_seal'"
        ).fetchone()
        if column is None:
            return False
        found = conn.execute("SELECT 1 FROM cases WHERE trail_seal IS NULL LIMIT 1").fetchone()
        return found is not None
