"""Several processes, one service: `circle serve --workers 2` logs every request once, counts
every request once in /metrics whichever worker answers the scrape, shows each worker's
process metrics, and runs the scheduled sweep in one process only."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.settings import Settings
from tests.builders.clients import serving_env
from tests.builders.servers import Served, circle_serve

REQUESTS = 40


@pytest.fixture(scope="module")
def two_workers(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    # A round every 0.2 s: in 3 s one leader runs some 15, two would run some 30.
    env = serving_env(settings, LOG_LEVEL="INFO", SWEEP_INTERVAL_S="0.2")
    log = tmp_path_factory.mktemp("workers") / "serve.log"
    with circle_serve(env, log, "--workers", "2") as served:
        started = time.monotonic()
        for _ in range(REQUESTS):  # a new connection each: the kernel spreads them
            httpx.post(served.url + "/graphql", json={"query": "query Probe { __typename }"})
        time.sleep(max(0.0, 3.0 - (time.monotonic() - started)))
        yield served


def sample(text: str, name: str, **labels: str) -> list[float]:
    """The values of metric ``name`` whose labels include ``labels``."""
    found = []
    for line in text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)", line)
        if not match or match[1] != name:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', match[2] or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            found.append(float(match[3]))
    return found


def test_every_request_is_logged_once_by_the_worker_that_served_it(two_workers: Served) -> None:
    lines = two_workers.lines()
    probes = [line for line in lines if line.get("op") == "Probe"]
    assert len(probes) == REQUESTS
    assert len({line["request_id"] for line in probes}) == REQUESTS
    # Both workers log (each set up its own logging), with their own pid.
    started = {line["pid"] for line in lines if line.get("msg", "").startswith("Started server")}
    assert len(started) == 2


def test_metrics_count_every_workers_requests(two_workers: Served) -> None:
    for _ in range(4):  # whichever worker answers the scrape
        text = httpx.get(two_workers.url + "/metrics").text
        count = sample(text, "circle_graphql_requests_total", operation="Probe", outcome="ok")
        assert count == [REQUESTS]
        # Process metrics of every worker: memory, CPU, open files.
        assert len(sample(text, "process_resident_memory_bytes")) == 2
        assert len(sample(text, "process_open_fds")) == 2
        assert sample(text, "process_cpu_seconds_total")[0] > 0


def test_the_sweep_has_one_leader(two_workers: Served) -> None:
    text = httpx.get(two_workers.url + "/metrics").text
    assert sorted(sample(text, "circle_scheduler_leader")) == [0.0, 1.0]
    rounds = sample(text, "circle_sweep_rounds_total")
    # Since the first round, under 4 s at one round per 0.2 s: at most 20 rounds for one
    # leader (two sweeping processes would have run about twice as many).
    assert rounds and 5 <= rounds[0] <= 20, rounds


def test_the_log_lines_carry_no_colour_codes(two_workers: Served) -> None:
    assert "\x1b[" not in Path(two_workers.log).read_text()
