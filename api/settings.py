"""Settings: the only module that reads the environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.config import Config

#: The project checkout: the embedded database lives in its `.data/` folder.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The embedded cluster (api.cli.localdb) records its port in `data_dir/port` and serves this
#: database to this role.
EMBEDDED_DATABASE = "circle"
EMBEDDED_SUPERUSER = "postgres"


class DatabaseUnavailable(Exception):
    """No database to use, said in one sentence."""


def embedded_database_url(data_dir: Path, database: str = EMBEDDED_DATABASE) -> str:
    """The URL of the embedded cluster under ``data_dir``, from the port it recorded."""
    port_file = data_dir / "port"
    if not port_file.exists():
        raise DatabaseUnavailable(
            "The embedded database has never been started: run 'circle db up'."
        )
    port = int(port_file.read_text())
    return f"postgresql://{EMBEDDED_SUPERUSER}@127.0.0.1:{port}/{database}"


@dataclass(frozen=True, slots=True)
class Settings:
    #: An external PostgreSQL + PostGIS, or None for the embedded cluster under `data_dir`.
    database_url: str | None = None
    data_dir: Path = PROJECT_ROOT / ".data"
    debug: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    #: Public base URL, used in links printed on QR codes and pages.
    public_url: str = "http://127.0.0.1:8000"
    statement_timeout_ms: int = 5_000
    #: Keep it at or above the expected concurrency: SQLAlchemy closes overflow connections
    #: as soon as they are returned, so a pool smaller than the load reconnects all the time.
    pool_size: int = 20
    max_body_bytes: int = 1_000_000
    max_document_chars: int = 20_000
    max_document_tokens: int = 2_000
    max_depth: int = 12
    introspection: bool = True
    #: Estimated fields resolved per operation (api.web.validation.cost_limit_rule).
    max_cost: int = 50_000
    #: Anonymous case reports per client address: a burst, then this many an hour.
    report_burst: int = 20
    report_per_hour: float = 60.0
    #: Proxies whose X-Forwarded-For names the client (api.web.ratelimit.client_address).
    trusted_proxies: tuple[str, ...] = ()
    #: Points closer than this to their micro-grid's edge come back with the other candidates.
    boundary_warning_m: float = 20.0
    log_level: str = "INFO"
    #: Nearby lists with a flat node selection get their nodes written by PostgreSQL
    #: (api.fast.json_nodes); off, every node is built in Python (same answers, more CPU).
    json_nodes: bool = True
    #: Seconds between case sweeps (api.web.sweeping); 0: no sweeping in this process. Off by
    #: default here, so that an app built in code (tests, scripts) runs no background job
    #: unless asked; the server's environment default (load_settings) is 300.
    sweep_interval_s: float = 0.0

    def database(self) -> str:
        """The database the app and every command use: ``database_url`` (DATABASE_URL) when
        set, otherwise the embedded cluster's under ``data_dir``. The one place it is decided."""
        return self.database_url or embedded_database_url(self.data_dir)


def load_settings(env_file: str | None = None) -> Settings:
    """Reads settings from the environment (and, when given, an env file)."""
    config = Config(env_file)
    url = config("DATABASE_URL", default=None) or None
    port = config("PORT", cast=int, default=8000)
    return Settings(
        database_url=url,
        data_dir=Path(config("CIRCLE_DATA_DIR", default=str(PROJECT_ROOT / ".data"))),
        debug=config("DEBUG", cast=bool, default=False),
        host=config("HOST", default="127.0.0.1"),
        port=port,
        public_url=config("PUBLIC_URL", default=f"http://127.0.0.1:{port}"),
        statement_timeout_ms=config("STATEMENT_TIMEOUT_MS", cast=int, default=5_000),
        pool_size=config("DB_POOL_SIZE", cast=int, default=20),
        max_body_bytes=config("MAX_BODY_BYTES", cast=int, default=1_000_000),
        max_document_chars=config("MAX_DOCUMENT_CHARS", cast=int, default=20_000),
        max_depth=config("MAX_QUERY_DEPTH", cast=int, default=12),
        introspection=config("INTROSPECTION", cast=bool, default=True),
        max_cost=config("MAX_QUERY_COST", cast=int, default=50_000),
        report_burst=config("REPORT_BURST", cast=int, default=20),
        report_per_hour=config("REPORT_PER_HOUR", cast=float, default=60.0),
        trusted_proxies=tuple(
            a.strip() for a in config("TRUSTED_PROXIES", default="").split(",") if a.strip()
        ),
        boundary_warning_m=config("BOUNDARY_WARNING_M", cast=float, default=20.0),
        log_level=config("LOG_LEVEL", default="INFO"),
        json_nodes=config("JSON_NODES", cast=bool, default=True),
        sweep_interval_s=config("SWEEP_INTERVAL_S", cast=float, default=300.0),
    )
