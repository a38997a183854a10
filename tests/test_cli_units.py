"""`circle unit ...` and `circle user add --department` on a real database."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator

import psycopg
import pytest

from tests.builders.clients import CIRCLE

Circle = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def circle(database_url: str) -> Iterator[Circle]:
    env = {**os.environ, "DATABASE_URL": database_url}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([CIRCLE, *args], env=env, capture_output=True, text=True)

    yield run
    with psycopg.connect(database_url) as conn:
        conn.execute("TRUNCATE units, users RESTART IDENTITY CASCADE")


def test_a_handler_belongs_to_a_registered_unit(circle: Circle) -> None:
    refused = circle("user", "add", "--name", "处置员", "--role", "HANDLER",
                     "--department", "区城市管理局")  # fmt: skip
    assert refused.returncode != 0 and "not a registered unit" in refused.stderr
    added = circle("unit", "add", "区城市管理局", "区环卫中心")
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines() == ["unit: 区城市管理局", "unit: 区环卫中心"]
    ok = circle("user", "add", "--name", "处置员", "--role", "HANDLER",
                "--department", "区城市管理局")  # fmt: skip
    assert ok.returncode == 0, ok.stderr


def test_retired_units_leave_the_list(circle: Circle) -> None:
    circle("unit", "add", "区城市管理局", "区环卫中心")
    assert circle("unit", "retire", "区环卫中心").returncode == 0
    assert circle("unit", "list").stdout.splitlines() == ["区城市管理局", "units: 1"]
    everything = circle("unit", "list", "--all").stdout.splitlines()
    assert everything == ["区城市管理局", "区环卫中心  (retired)", "units: 2"]
    unknown = circle("unit", "retire", "不存在")
    assert unknown.returncode != 0 and "not a registered unit" in unknown.stderr
