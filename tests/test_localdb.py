"""The embedded cluster: lifecycle in a folder the postgres user cannot reach, stale pid files."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from api.cli.localdb import Cluster, LocalDbError
from api.settings import Settings

ROOT = Path(__file__).parents[1]


def test_database_url_wins_and_data_dir_is_untouched(tmp_path: Path) -> None:
    data_dir = tmp_path / "never"
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql://x@127.0.0.1:9/db",
        "CIRCLE_DATA_DIR": str(data_dir),
    }
    circle = str(ROOT / ".venv" / "bin" / "circle")
    up = subprocess.run([circle, "db", "up"], env=env, capture_output=True, text=True)
    assert up.returncode == 1
    assert "DATABASE_URL is set" in up.stderr
    assert "Traceback" not in up.stderr
    url = subprocess.run([circle, "db", "url"], env=env, capture_output=True, text=True)
    assert url.stdout.strip() == "postgresql://x@127.0.0.1:9/db"
    assert not data_dir.exists()
    settings = Settings(database_url="postgresql://x@127.0.0.1:9/db", data_dir=data_dir)
    assert settings.database() == settings.database_url


def test_url_before_first_start_is_one_clear_sentence(tmp_path: Path) -> None:
    with pytest.raises(LocalDbError, match="circle db up"):
        Cluster(tmp_path / "fresh").url()


@pytest.mark.skipif(os.geteuid() != 0, reason="relocation only applies when run as root")
def test_cluster_in_private_folder_is_relocated_and_survives_a_crash(tmp_path: Path) -> None:
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    cluster = Cluster(private / "deep" / ".data")
    try:
        said = cluster.up()
        assert any("cannot reach" in line for line in said)
        assert not str(cluster.pgdata).startswith(str(private))
        assert any("already running" in line for line in cluster.up())  # idempotent
        with psycopg.connect(cluster.url()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)

        # A crash: the postmaster dies hard and leaves its pid file behind.
        pid = int((cluster.pgdata / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)
        _wait_gone(pid)
        assert (cluster.pgdata / "postmaster.pid").exists()
        assert any("started" in line for line in cluster.up())
        with psycopg.connect(cluster.url()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert "stopped" in cluster.down()
        assert "not running" in cluster.down()
    finally:
        subprocess.run(["pkill", "-9", "-f", str(cluster.pgdata)], check=False)
        shutil.rmtree(cluster.home, ignore_errors=True)


def _wait_gone(pid: int) -> None:
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.05)
