"""Schema administration: alembic upgrades and scratch databases (CLI and tests)."""

from __future__ import annotations

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
