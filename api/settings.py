"""Settings: the only module that reads the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from starlette.config import Config

#: The project checkout: the embedded database lives in its `.data/` folder.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The embedded cluster (api.cli.localdb) records its port in `data_dir/port` and serves this
#: database; its superuser owns the schema (migrations run as the owner).
EMBEDDED_DATABASE = "circle"
EMBEDDED_SUPERUSER = "postgres"
#: The roles the service connects as (created and granted by migration 0016): the
#: application's, for its writes and reads, and the read pool's, which may only read.
APP_ROLE = "circle_app"
READ_ROLE = "circle_reader"


class DatabaseUnavailable(Exception):
    """No database to use, said in one sentence."""


class TrailKeyUnavailable(DatabaseUnavailable):
    """No key to seal the case trail with, said in one sentence."""


#: The key ring's file in the data folder (the embedded default; `circle trail keygen`).
TRAIL_KEY_FILE = "trail.keys"


def embedded_database_url(
    data_dir: Path, database: str = EMBEDDED_DATABASE, role: str = EMBEDDED_SUPERUSER
) -> str:
    """The URL of the embedded cluster under ``data_dir``, from the port it recorded, for
    ``role`` (the superuser, who owns the schema, unless said otherwise)."""
    port_file = data_dir / "port"
    if not port_file.exists():
        raise DatabaseUnavailable(
            "The embedded database has never been started: run 'circle db up'."
        )
    port = int(port_file.read_text())
    return f"postgresql://{role}@127.0.0.1:{port}/{database}"


def as_role(url: str, role: str) -> str:
    """``url`` with its user replaced by ``role`` and no password: for clusters that let
    local roles in without one (the embedded cluster, a test cluster)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{quote(role)}@{host}"))


@dataclass(frozen=True, slots=True)
class Settings:
    #: The application's database URL (role APP_ROLE), or None for the embedded cluster
    #: under `data_dir`.
    database_url: str | None = None
    #: The owner's URL (migrations, seeding, imports, scratch databases); None: as
    #: `database_url` (one role for everything), or the embedded cluster's owner.
    owner_url: str | None = None
    #: The read pool's URL (role READ_ROLE); None: as `database_url`, or the embedded
    #: cluster's reader.
    read_url: str | None = None
    data_dir: Path = PROJECT_ROOT / ".data"
    debug: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    #: Public base URL, used in links printed on QR codes and pages (PUBLIC_URL; by default
    #: the address served, see default_public_url).
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
    #: Estimated work per operation, in units of about 10 µs (api.web.cost).
    max_cost: int = 50_000
    #: Wall-clock seconds a GraphQL request may run before it is stopped (api.web.http).
    request_timeout_s: float = 10.0
    #: Seconds a request's headers, then its body, may take to arrive (api.web.slow).
    headers_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    #: Anonymous case reports per client address: a burst, then this many an hour.
    report_burst: int = 20
    report_per_hour: float = 60.0
    #: Proxies whose X-Forwarded-For names the client (api.web.ratelimit.client_address) and
    #: whose X-Request-Id is kept (api.web.access).
    trusted_proxies: tuple[str, ...] = ()
    #: Origins a browser may call the API from (CORS); empty: none.
    cors_origins: tuple[str, ...] = ()
    #: A streaming replica for the read pool (READ_DATABASE_URL, as READ_ROLE; api.web.replica),
    #: used while it is in step, else ``read_database()``; None: the primary serves reads.
    read_database_url: str | None = None
    #: Replay lag (seconds) beyond which reads go to the primary instead of the replica.
    replica_max_lag_s: float = 2.0
    #: Where worker processes share their metrics (PROMETHEUS_MULTIPROC_DIR, prometheus
    #: client's multiprocess mode; `circle serve --workers N` sets it); None: one process.
    metrics_dir: Path | None = None
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
    #: The case trail's key ring (geo.cases.seal): TRAIL_KEYS itself ("id hex, id hex", the
    #: first signs), else the file TRAIL_KEY_FILE (default `data_dir/trail.keys`). Never
    #: in the database.
    trail_keys: str | None = None
    trail_key_file: Path | None = None
    #: Signed-in writes (reportCase, the ledger) per account: a burst, then this many an hour.
    account_write_burst: int = 60
    account_writes_per_hour: float = 600.0

    def database(self) -> str:
        """The database the served app writes and reads as: ``database_url`` (DATABASE_URL)
        when set, otherwise the embedded cluster's, as APP_ROLE. These three methods are the
        one place URLs are decided."""
        return self.database_url or embedded_database_url(self.data_dir, role=APP_ROLE)

    def owner_database(self) -> str:
        """The database as its owner, for migrations, seeding, imports and maintenance:
        DATABASE_OWNER_URL, else DATABASE_URL, else the embedded cluster's superuser."""
        return self.owner_url or self.database_url or embedded_database_url(self.data_dir)

    def key_file(self) -> Path:
        """Where the trail's key ring is kept when TRAIL_KEYS does not give it."""
        return self.trail_key_file or self.data_dir / TRAIL_KEY_FILE

    def trail_key_text(self) -> str:
        """The trail's key ring as text (geo.cases.seal.TrailKeys.parse reads it); raises
        TrailKeyUnavailable when there is none."""
        if self.trail_keys:
            return self.trail_keys
        path = self.key_file()
        try:
            return path.read_text()
        except FileNotFoundError:
            raise TrailKeyUnavailable(
                f"No case trail key at {path}: create one with 'circle trail keygen' "
                "(or set TRAIL_KEYS)."
            ) from None

    def read_database(self) -> str:
        """The database as the read pool sees it: DATABASE_READ_URL, else DATABASE_URL, else
        the embedded cluster's, as READ_ROLE."""
        return (
            self.read_url
            or self.database_url
            or embedded_database_url(self.data_dir, role=READ_ROLE)
        )


def default_public_url(host: str, port: int) -> str:
    """The address served, as a browser on this machine reaches it (a wildcard listening
    address is reached through 127.0.0.1). Behind a proxy, set PUBLIC_URL."""
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _listed(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def load_settings(env_file: str | None = None) -> Settings:
    """Reads settings from the environment (and, when given, an env file)."""
    config = Config(env_file)
    url = config("DATABASE_URL", default=None) or None
    owner_url = config("DATABASE_OWNER_URL", default=None) or None
    read_url = config("DATABASE_READ_URL", default=None) or None
    host = config("HOST", default="127.0.0.1")
    port = config("PORT", cast=int, default=8000)
    metrics_dir = config("PROMETHEUS_MULTIPROC_DIR", default=None)
    return Settings(
        database_url=url,
        owner_url=owner_url,
        read_url=read_url,
        data_dir=Path(config("CIRCLE_DATA_DIR", default=str(PROJECT_ROOT / ".data"))),
        debug=config("DEBUG", cast=bool, default=False),
        host=host,
        port=port,
        public_url=config("PUBLIC_URL", default=None) or default_public_url(host, port),
        statement_timeout_ms=config("STATEMENT_TIMEOUT_MS", cast=int, default=5_000),
        pool_size=config("DB_POOL_SIZE", cast=int, default=20),
        max_body_bytes=config("MAX_BODY_BYTES", cast=int, default=1_000_000),
        max_document_chars=config("MAX_DOCUMENT_CHARS", cast=int, default=20_000),
        max_depth=config("MAX_QUERY_DEPTH", cast=int, default=12),
        introspection=config("INTROSPECTION", cast=bool, default=True),
        max_cost=config("MAX_QUERY_COST", cast=int, default=50_000),
        request_timeout_s=config("REQUEST_TIMEOUT_S", cast=float, default=10.0),
        headers_timeout_s=config("HEADERS_TIMEOUT_S", cast=float, default=10.0),
        body_timeout_s=config("BODY_TIMEOUT_S", cast=float, default=30.0),
        report_burst=config("REPORT_BURST", cast=int, default=20),
        report_per_hour=config("REPORT_PER_HOUR", cast=float, default=60.0),
        trusted_proxies=_listed(config("TRUSTED_PROXIES", default="")),
        cors_origins=_listed(config("CORS_ORIGINS", default="")),
        read_database_url=config("READ_DATABASE_URL", default=None) or None,
        replica_max_lag_s=config("REPLICA_MAX_LAG_S", cast=float, default=2.0),
        metrics_dir=Path(metrics_dir) if metrics_dir else None,
        boundary_warning_m=config("BOUNDARY_WARNING_M", cast=float, default=20.0),
        log_level=config("LOG_LEVEL", default="INFO"),
        json_nodes=config("JSON_NODES", cast=bool, default=True),
        sweep_interval_s=config("SWEEP_INTERVAL_S", cast=float, default=300.0),
        trail_keys=config("TRAIL_KEYS", default=None) or None,
        trail_key_file=_path_or_none(config("TRAIL_KEY_FILE", default="")),
        account_write_burst=config("ACCOUNT_WRITE_BURST", cast=int, default=60),
        account_writes_per_hour=config("ACCOUNT_WRITES_PER_HOUR", cast=float, default=600.0),
    )


def _path_or_none(value: str) -> Path | None:
    return Path(value) if value.strip() else None


def hand_to_workers(values: Mapping[str, str]) -> None:
    """Puts ``values`` in this process's environment for the server processes it starts:
    uvicorn's workers read their settings afresh (load_settings), so `circle serve` hands
    them its flags (host, port) and the metrics folder this way."""
    os.environ.update(values)
