"""Clusters of a test's own, for tests that stop, restart or replicate a database.

Such tests never touch the cluster the suite runs on (DATABASE_URL or the checkout's `.data/`,
which other test runs share): each makes its embedded cluster in a folder of its own, with
the `circle` command as an operator would (`circle db up` under ``CIRCLE_DATA_DIR``), and
stops it afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from api.cli.localdb import Cluster
from api.settings import EMBEDDED_SUPERUSER, as_role
from tests.builders.clients import CIRCLE
from tests.builders.databases import TRAIL_KEYS_TEXT


@dataclass(frozen=True, slots=True)
class OwnCluster:
    """An embedded cluster under ``data_dir``, driven by the `circle` command."""

    data_dir: Path

    @property
    def env(self) -> dict[str, str]:
        """The environment of a `circle` command that uses this cluster (no DATABASE_URL: the
        command picks the owner or the application's roles, as it does on a newcomer's
        machine), with the tests' trail keys."""
        unset = ("DATABASE_URL", "DATABASE_OWNER_URL", "DATABASE_READ_URL", "READ_DATABASE_URL")
        env = {k: v for k, v in os.environ.items() if k not in unset}
        return {**env, "CIRCLE_DATA_DIR": str(self.data_dir), "TRAIL_KEYS": TRAIL_KEYS_TEXT}

    @property
    def cluster(self) -> Cluster:
        return Cluster(self.data_dir)

    @property
    def port(self) -> int:
        return int((self.data_dir / "port").read_text())

    def url(self, role: str = EMBEDDED_SUPERUSER) -> str:
        """Its database as ``role`` (the owner unless said otherwise)."""
        return as_role(self.cluster.url(), role)

    def circle(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([CIRCLE, *args], env=self.env, capture_output=True, text=True)
        if check:
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done


@contextmanager
def own_cluster(data_dir: Path, *, migrate: bool = True) -> Iterator[OwnCluster]:
    """A fresh embedded cluster (created, started, migrated), stopped and removed afterwards."""
    own = OwnCluster(data_dir)
    try:
        own.circle("db", "up")
        if migrate:
            own.circle("migrate")
        yield own
    finally:
        own.circle("db", "down", check=False)
        shutil.rmtree(own.cluster.home, ignore_errors=True)
