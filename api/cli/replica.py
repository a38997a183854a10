"""A streaming replica of the embedded cluster, to run READ_DATABASE_URL on one machine as
on two: `circle db replica up | down | promote | status | url | drop`.

`up` lets the primary feed replicas (wal_level=replica, WAL senders; a restart of the
primary, on the same port, the first time), copies it with pg_basebackup (-R: the copy
follows the primary) into `<cluster>/replica/pgdata`, and starts the copy on a port of its
own, recorded in `<data_dir>/replica-port`, as a hot standby. `promote` turns it into a
primary (a failover: the old primary must stay down); `drop` removes its data.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

import psycopg

from api.cli.localdb import (
    DATABASE,
    SUPERUSER,
    Cluster,
    LocalDbError,
    _as_root,
    _free_port,
    _port_free,
    _server_cmd,
    find_installation,
    shared_buffers_mb,
)
from api.settings import READ_ROLE, Settings

#: WAL the primary keeps for a replica that was away (no replication slot, so a replica
#: left behind can never fill the primary's disk): some minutes of a busy day's writes.
WAL_KEEP = "1GB"


class Replica:
    """The replica of the embedded cluster under ``primary``."""

    def __init__(self, primary: Cluster) -> None:
        self.primary = primary

    @property
    def home(self) -> Path:
        return self.primary.home / "replica"

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def port(self) -> int | None:
        port_file = self.primary.data_dir / "replica-port"
        return int(port_file.read_text()) if port_file.exists() else None

    def url(self, role: str = READ_ROLE) -> str:
        """Its URL for ``role``: the read pool's (READ_DATABASE_URL) unless said otherwise."""
        if self.port is None:
            raise LocalDbError("There is no replica yet: run 'circle db replica up'.")
        return f"postgresql://{role}@127.0.0.1:{self.port}/{DATABASE}"

    def up(self) -> list[str]:
        inst = find_installation()
        if not self.primary.is_running(inst):
            raise LocalDbError("The embedded database is not running: run 'circle db up' first.")
        said: list[str] = []
        if self._let_primary_replicate():
            said.append("the primary now feeds replicas (wal_level=replica); restarted it")
        if not (self.pgdata / "PG_VERSION").exists():
            self._base_backup()
            said.append(f"copied the primary into {self.pgdata}")
        if self.is_running():
            said.append(f"already running on 127.0.0.1:{self.port}")
        else:
            self._start()
            said.append(f"started on 127.0.0.1:{self.port}, following the primary")
        said.append(f"READ_DATABASE_URL={self.url()}")
        return said

    def down(self) -> str:
        if not self.is_running():
            return "the replica is not running"
        self._pg_ctl("stop", "-m", "fast", "-w")
        return "stopped the replica"

    def promote(self) -> str:
        if not self.is_running():
            raise LocalDbError("The replica is not running: run 'circle db replica up'.")
        self._pg_ctl("promote", "-w")
        return f"promoted the replica on 127.0.0.1:{self.port}: it now takes writes"

    def drop(self) -> str:
        self.down()
        shutil.rmtree(self.home, ignore_errors=True)
        (self.primary.data_dir / "replica-port").unlink(missing_ok=True)
        return f"removed the replica ({self.home})"

    def status(self) -> str:
        if not (self.pgdata / "PG_VERSION").exists():
            return "no replica (run 'circle db replica up')"
        if not self.is_running():
            return f"stopped; data in {self.pgdata}"
        with psycopg.connect(self.url(SUPERUSER), connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT pg_is_in_recovery(), now() - pg_last_xact_replay_timestamp()"
            ).fetchone()
        role = "standby" if row and row[0] else "primary (promoted)"
        replayed = f"last replayed {row[1]} ago" if row and row[1] else "nothing replayed yet"
        return f"running as {role} on 127.0.0.1:{self.port}; {replayed}"

    def is_running(self) -> bool:
        if not (self.pgdata / "postmaster.pid").exists() or self.port is None:
            return False
        ready = subprocess.run(
            [find_installation().bindir / "pg_isready", "-q", "-h", "127.0.0.1",
             "-p", str(self.port)],
            check=False,
        )  # fmt: skip
        # 0: accepting connections; a standby still starting answers 1 and is running too.
        return ready.returncode in (0, 1)

    # -- steps ------------------------------------------------------------------------------

    def _let_primary_replicate(self) -> bool:
        """Sets the primary up to feed replicas; True when it had to be restarted for it."""
        with psycopg.connect(self.primary.url("postgres"), autocommit=True) as conn:
            level = conn.execute("SHOW wal_level").fetchone()
            senders = conn.execute("SHOW max_wal_senders").fetchone()
            if level and level[0] != "minimal" and senders and int(senders[0]) > 0:
                return False
            conn.execute("ALTER SYSTEM SET wal_level = 'replica'")
            conn.execute("ALTER SYSTEM SET max_wal_senders = 10")
            conn.execute(f"ALTER SYSTEM SET wal_keep_size = '{WAL_KEEP}'")
        self.primary.down()
        self.primary.up()
        return True

    def _base_backup(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        if _as_root():
            shutil.chown(self.home, SUPERUSER, SUPERUSER)
            self.home.chmod(0o700)
        cmd = _server_cmd(
            find_installation().bindir / "pg_basebackup", "-D", self.pgdata,
            "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", SUPERUSER,
            "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        self._run(cmd, "pg_basebackup failed")

    def _start(self) -> None:
        port = self.port if self.port and _port_free(self.port) else _free_port()
        (self.primary.data_dir / "replica-port").write_text(f"{port}\n")
        options = (
            f"-p {port} -k {self.primary.socket_dir} -c shared_buffers={shared_buffers_mb()}MB"
            # Back within a second of the primary's restart, not the default five.
            " -c wal_retrieve_retry_interval=1000"
        )
        cmd = _server_cmd(
            find_installation().bindir / "pg_ctl", "-D", self.pgdata,
            "-l", self.home / "postgres.log", "-w", "-t", "60", "-o", options, "start",
        )  # fmt: skip
        self._run(cmd, "the replica did not start")

    def _pg_ctl(self, *args: str) -> None:
        cmd = _server_cmd(find_installation().bindir / "pg_ctl", "-D", self.pgdata, *args)
        self._run(cmd, "pg_ctl failed")

    def _run(self, cmd: list[str], failure: str) -> None:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            raise LocalDbError(f"{failure}: {detail[-1] if detail else 'no output'}")


def register(db_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`circle db replica ...`."""
    parser = db_commands.add_parser("replica", help="a streaming replica of the embedded one")
    commands = parser.add_subparsers(dest="replica_command", required=True)
    for name, text in (
        ("up", "copy the primary (first time) and start following it"),
        ("down", "stop it"),
        ("promote", "make it a primary (failover)"),
        ("status", "say whether it runs, and how far behind"),
        ("url", "print its URL (READ_DATABASE_URL)"),
        ("drop", "stop it and remove its data"),
    ):
        commands.add_parser(name, help=text).set_defaults(handler=_handle, action=name)


def _handle(settings: Settings, args: argparse.Namespace) -> None:
    if settings.database_url:
        raise LocalDbError("DATABASE_URL is set: the embedded database is not used.")
    replica = Replica(Cluster(settings.data_dir))
    action = args.action
    if action == "up":
        lines = replica.up()
    elif action == "url":
        lines = [replica.url()]
    else:
        lines = [getattr(replica, action)()]
    for line in lines:
        print(f"replica: {line}" if action != "url" else line)  # noqa: T201
