"""The embedded PostgreSQL + PostGIS cluster used when no DATABASE_URL is set.

Layout: `<data_dir>/port` records the TCP port (127.0.0.1 only) and, when the checkout is not
reachable by the `postgres` system user, `<data_dir>/location` records where the cluster lives
instead. The cluster folder holds `pgdata/`, `postgres.log` and `run/` (the unix socket).

PostgreSQL refuses to run as root, so when we are root every server command runs as `postgres`
through `runuser`; that user must be able to traverse every folder down to the data directory.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg

from api.settings import (
    EMBEDDED_DATABASE,
    EMBEDDED_SUPERUSER,
    DatabaseUnavailable,
    embedded_database_url,
)

DATABASE = EMBEDDED_DATABASE
SUPERUSER = EMBEDDED_SUPERUSER
#: A unix socket path may be at most about 107 bytes; keep room for "/.s.PGSQL.65535".
MAX_SOCKET_DIR = 90


class LocalDbError(DatabaseUnavailable):
    """A failure of the embedded cluster, said in one sentence."""


@dataclass(frozen=True, slots=True)
class Installation:
    bindir: Path
    major: str


def _pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if not pg_config:
        return None
    out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
    bindir = Path(out.stdout.strip())
    return bindir if (bindir / "initdb").exists() else None


def find_installation() -> Installation:
    """Finds the newest PostgreSQL server binaries, through pg_config or /usr/lib/postgresql."""
    candidates = sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin") if Path(p, "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    bindir = candidates[-1] if candidates else _pg_config_bindir()
    if bindir is None:
        raise LocalDbError(
            "PostgreSQL server is not installed: install it with "
            "'apt-get install postgresql postgresql-15-postgis-3' (or your version's PostGIS)."
        )
    major = bindir.parent.name if bindir.parent.name.isdigit() else _server_major(bindir)
    return Installation(bindir=bindir, major=major)


def _server_major(bindir: Path) -> str:
    out = subprocess.run([bindir / "postgres", "--version"], capture_output=True, text=True)
    return out.stdout.split()[-1].split(".")[0]


def missing_packages() -> list[str]:
    """Debian package names still needed for the embedded cluster (empty when all is there)."""
    try:
        inst = find_installation()
    except LocalDbError:
        return ["postgresql", "postgis"]
    if _postgis_control(inst).exists():
        return []
    return [f"postgresql-{inst.major}-postgis-3"]


def _postgis_control(inst: Installation) -> Path:
    return Path(f"/usr/share/postgresql/{inst.major}/extension/postgis.control")


def check_postgis(inst: Installation) -> None:
    if not _postgis_control(inst).exists():
        raise LocalDbError(
            f"PostGIS is not installed for PostgreSQL {inst.major}: install it with "
            f"'apt-get install postgresql-{inst.major}-postgis-3'."
        )


def _as_root() -> bool:
    return os.geteuid() == 0


def _server_cmd(*args: str | Path) -> list[str]:
    cmd = [str(a) for a in args]
    return ["runuser", "-u", SUPERUSER, "--", *cmd] if _as_root() else cmd


def _postgres_can_reach(path: Path) -> bool:
    if not _as_root():
        return True
    probe = subprocess.run(_server_cmd("test", "-x", path), check=False)
    return probe.returncode == 0


def _short_hash(path: Path) -> str:
    return hashlib.sha1(str(path).encode()).hexdigest()[:10]


class Cluster:
    """The embedded cluster of one checkout."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()

    # -- where things are -------------------------------------------------------------------

    @property
    def home(self) -> Path:
        location = self.data_dir / "location"
        if location.exists():
            return Path(location.read_text().strip())
        return self.data_dir / "cluster"

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def socket_dir(self) -> Path:
        run = self.home / "run"
        if len(str(run)) <= MAX_SOCKET_DIR:
            return run
        return Path(f"/tmp/circle-{_short_hash(self.data_dir)}-run")

    @property
    def logfile(self) -> Path:
        return self.home / "postgres.log"

    @property
    def port(self) -> int | None:
        port_file = self.data_dir / "port"
        return int(port_file.read_text()) if port_file.exists() else None

    def url(self, database: str = DATABASE) -> str:
        try:
            return embedded_database_url(self.data_dir, database)
        except DatabaseUnavailable as error:
            raise LocalDbError(str(error)) from None

    # -- lifecycle --------------------------------------------------------------------------

    def up(self) -> list[str]:
        """Creates (first time) and starts the cluster; returns what was done, line by line."""
        inst = find_installation()
        check_postgis(inst)
        said: list[str] = []
        self._prepare_home(said)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(inst)
            said.append(f"created a PostgreSQL {inst.major} cluster in {self.pgdata}")
        if self.is_running(inst):
            said.append(f"already running on 127.0.0.1:{self.port}")
        else:
            self._clear_stale_pid()
            recorded = self.port
            self._start(inst)
            said.append(f"started on 127.0.0.1:{self.port} (socket in {self.socket_dir})")
            if recorded and recorded != self.port:
                said.append(
                    f"port {recorded} is taken by another program: servers started with "
                    "the old URL must be restarted"
                )
        if self._ensure_database():
            said.append(f"created database {DATABASE}")
        return said

    def down(self) -> str:
        inst = find_installation()
        if not self.pgdata.exists() or not self.is_running(inst):
            return "the embedded database is not running"
        self._pg_ctl(inst, "stop", "-m", "fast", "-w")
        return f"stopped the embedded database ({self.pgdata})"

    def status(self) -> str:
        if not (self.pgdata / "PG_VERSION").exists():
            return "not created (run 'circle db up')"
        state = "running" if self.is_running(find_installation()) else "stopped"
        return f"{state}; data in {self.pgdata}; port {self.port}; url {self.url()}"

    def is_running(self, inst: Installation) -> bool:
        if not (self.pgdata / "postmaster.pid").exists() or self.port is None:
            return False
        ready = subprocess.run(
            [inst.bindir / "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            check=False,
        )
        return ready.returncode == 0

    # -- steps ------------------------------------------------------------------------------

    def _prepare_home(self, said: list[str]) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        location = self.data_dir / "location"
        if not location.exists() and not _postgres_can_reach(self.data_dir):
            elsewhere = Path(f"/var/tmp/circle-{_short_hash(self.data_dir)}")
            location.write_text(f"{elsewhere}\n")
            said.append(
                f"the postgres user cannot reach {self.data_dir}; "
                f"keeping the cluster in {elsewhere} instead"
            )
        for folder in (self.home, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
            if _as_root():
                shutil.chown(folder, SUPERUSER, SUPERUSER)
                folder.chmod(0o700)

    def _initdb(self, inst: Installation) -> None:
        cmd = _server_cmd(
            inst.bindir / "initdb",
            "-D",
            self.pgdata,
            "-U",
            SUPERUSER,
            "--auth=trust",  # reachable only on 127.0.0.1 and a private socket
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        self._run(cmd, "initdb failed")
        with (self.pgdata / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# circle: embedded development and test cluster\n"
                "listen_addresses = '127.0.0.1'\n"
                "max_connections = 200\n"
                # shared_buffers is set at every start (shared_buffers_mb), not here
                "work_mem = 16MB\n"
                "maintenance_work_mem = 256MB\n"
                "synchronous_commit = off\n"
                # No replicas or archive here: bulk loads into a table created or truncated
                # in the same transaction, and index builds, then skip WAL (PostgreSQL's
                # "Populating a Database"); geo.imports.staging.truncate_if_empty.
                "wal_level = minimal\n"
                "max_wal_senders = 0\n"
                "max_wal_size = 2GB\n"
                "jit = off\n"
            )

    def _clear_stale_pid(self) -> None:
        """Removes a postmaster.pid left by a crash, when no postgres process owns it."""
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text().splitlines()[0])
        comm = Path(f"/proc/{pid}/comm")
        if not comm.exists() or "postgres" not in comm.read_text():
            pid_file.unlink()

    def _start(self, inst: Installation) -> None:
        port = self.port if self.port and _port_free(self.port) else _free_port()
        (self.data_dir / "port").write_text(f"{port}\n")
        options = f"-p {port} -k {self.socket_dir} -c shared_buffers={shared_buffers_mb()}MB"
        cmd = _server_cmd(
            inst.bindir / "pg_ctl", "-D", self.pgdata, "-l", self.logfile, "-w", "-t", "60",
            "-o", options, "start",
        )  # fmt: skip
        self._run(cmd, "PostgreSQL did not start")

    def _ensure_database(self) -> bool:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE}"')
            return not exists

    def _pg_ctl(self, inst: Installation, *args: str) -> None:
        self._run(_server_cmd(inst.bindir / "pg_ctl", "-D", self.pgdata, *args), "pg_ctl failed")

    def _run(self, cmd: list[str], failure: str) -> None:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            tail = self._log_tail()
            reason = detail[-1] if detail else "no output"
            raise LocalDbError(f"{failure}: {reason}{tail}")

    def _log_tail(self) -> str:
        try:
            lines = self.logfile.read_text(errors="replace").strip().splitlines()[-3:]
        except OSError:
            return ""
        return " (log: " + " | ".join(lines) + ")" if lines else ""


def shared_buffers_mb() -> int:
    """A quarter of the machine's memory, PostgreSQL's own starting advice, within 256 MB and
    4 GB. Why not the 256 MB this cluster had: the benchmark's million merchants take 1 GB
    (heap and indexes), and a nearest-first search in an area no recent search had touched
    read its pages from the kernel's cache: 0.760 ms with 256 MB (10.5 pages read), 0.253 ms
    with 4 GB and the table in buffers (none read); EXPLAIN ANALYZE, 495 such points each.
    Shared memory is taken as it is used, so a small database costs no more. Set at start,
    so an existing cluster gets it too."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return max(256, min(4096, total // 4 // 2**20))


def _port_free(port: int) -> bool:
    """Whether PostgreSQL could listen on ``port``. It binds with SO_REUSEADDR, as does this
    probe: sockets its clients left behind after a stop (TIME_WAIT) do not keep it from the
    port, only another listener does; a probe without it took the port for busy and moved
    the cluster, leaving every running server on the old URL."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
