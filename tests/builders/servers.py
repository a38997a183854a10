"""`circle serve` as a process of the test's own, and clients that load it from threads."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from threading import Event, Lock, Thread
from typing import Any

import httpx
import orjson
import psycopg

from tests.builders.clients import CIRCLE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Served:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_for_lines(self, wanted: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """The lines ``wanted`` picks, once there are some (a request's line is written just
        after its answer is sent), or none after 10 s."""
        deadline = time.monotonic() + 10
        while not (found := [line for line in self.lines() if wanted(line)]):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return found

    def lines(self) -> list[dict[str, Any]]:
        """The JSON lines the server logged so far (other lines skipped)."""
        found = []
        for line in self.log.read_bytes().splitlines():
            try:
                found.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                continue
        return found


@contextmanager
def circle_serve(
    env: Mapping[str, str], log: Path, *args: str, ready_path: str = "/healthz"
) -> Iterator[Served]:
    """`circle serve` on a free port with ``env``; output in ``log``. Waits until
    ``ready_path`` answers 200, stops the server with SIGTERM afterwards."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [CIRCLE, "serve", "--port", str(port), *args],
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    served = Served(process, port, log)
    try:
        _wait_ready(served, ready_path)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(served: Served, path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise AssertionError(f"circle serve exited: {served.log.read_text()[-2000:]}")
        try:
            if httpx.get(served.url + path, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"circle serve did not answer {path}: {served.log.read_text()[-2000:]}")


# -- load ----------------------------------------------------------------------------------

REPORT = """mutation ($input: ReportCaseInput!) { reportCase(input: $input) {
  __typename ... on CaseReported { case { number } } ... on CaseAlreadyReported { number }
  ... on Error { message } } }"""


def report_input(key: str) -> dict[str, Any]:
    return {
        "category": "street_vending",
        "description": "占道经营",
        "location": {"longitude": 113.65, "latitude": 34.76},
        "locationSource": "GPS",
        "idempotencyKey": key,
    }


@dataclass
class Tally:
    """What the clients saw: answers by kind, acknowledged keys, the times of answers."""

    lock: Lock = field(default_factory=Lock)
    #: (monotonic time, status, ok) of every answer.
    answers: list[tuple[float, int, bool]] = field(default_factory=list)
    #: 200 answers that carried errors (must stay empty).
    errors_with_200: list[str] = field(default_factory=list)
    #: Non-200 answers other than 503 with Retry-After (must stay empty).
    unexpected: list[str] = field(default_factory=list)
    acknowledged: dict[str, str] = field(default_factory=dict)  # key -> case number
    transport_errors: int = 0

    def record(self, status: int, ok: bool) -> None:
        with self.lock:
            self.answers.append((time.monotonic(), status, ok))

    def first_ok_after(self, moment: float) -> float | None:
        with self.lock:
            later = [t for t, _, ok in self.answers if ok and t >= moment]
        return min(later) if later else None

    def count(self, status: int) -> int:
        with self.lock:
            return sum(1 for _, s, _ in self.answers if s == status)


def classify(tally: Tally, response: httpx.Response) -> dict[str, Any] | None:
    """Records the answer; returns the GraphQL data of a clean 200, else None."""
    if response.status_code == 200:
        payload = response.json()
        if "errors" in payload:
            with tally.lock:
                tally.errors_with_200.append(response.text[:300])
            tally.record(200, False)
            return None
        tally.record(200, True)
        return payload["data"]  # type: ignore[no-any-return]
    if response.status_code != 503 or not response.headers.get("retry-after"):
        with tally.lock:
            tally.unexpected.append(f"{response.status_code} {response.text[:200]}")
    tally.record(response.status_code, False)
    return None


def report_until_acknowledged(base: str, tally: Tally, stop: Event) -> None:
    """Reports cases one after another, each retried with its idempotency key until it is
    acknowledged (a clean 200) or the run ends."""
    with httpx.Client(base_url=base, timeout=30) as http:
        while not stop.is_set():
            key = str(uuid.uuid4())
            body = {"query": REPORT, "variables": {"input": report_input(key)}}
            while not stop.is_set():
                try:
                    response = http.post("/graphql", json=body)
                except httpx.HTTPError:
                    with tally.lock:
                        tally.transport_errors += 1
                    time.sleep(0.1)
                    continue
                data = classify(tally, response)
                if data is not None:
                    answer = data["reportCase"]
                    with tally.lock:
                        if answer["__typename"] == "CaseReported":
                            tally.acknowledged[key] = answer["case"]["number"]
                        elif answer["__typename"] == "CaseAlreadyReported":
                            # An earlier try was stored, its answer lost (a 503): a retry
                            # with the key says so, and the report is acknowledged now.
                            tally.acknowledged[key] = answer["number"]
                        else:
                            tally.unexpected.append(str(answer))
                    break
                time.sleep(0.1)


def read_repeatedly(base: str, query: str, tally: Tally, stop: Event) -> None:
    with httpx.Client(base_url=base, timeout=30) as http:
        while not stop.is_set():
            try:
                classify(tally, http.post("/graphql", json={"query": query}))
            except httpx.HTTPError:
                with tally.lock:
                    tally.transport_errors += 1
            time.sleep(0.05)


def threads(target: Any, count: int, *args: Any) -> list[Thread]:
    started = [Thread(target=target, args=args, daemon=True) for _ in range(count)]
    for thread in started:
        thread.start()
    return started


def env_for_load(env: Mapping[str, str]) -> dict[str, str]:
    """A server environment for load tests: no report budget in the way, no sweeper, quiet."""
    return {
        **env,
        "REPORT_BURST": "1000000",
        "REPORT_PER_HOUR": "1000000000",
        "SWEEP_INTERVAL_S": "0",
        "LOG_LEVEL": "WARNING",
    }


def assert_stored_once(url: str, writes: Tally, at_least: int = 8) -> None:
    """Every write the service acknowledged is stored exactly once."""
    assert len(writes.acknowledged) > at_least
    with psycopg.connect(url) as conn:
        stored = dict(
            conn.execute(
                "SELECT idempotency_key, count(*) FROM cases "
                "WHERE idempotency_key = ANY(%s) GROUP BY idempotency_key",
                (list(writes.acknowledged),),
            ).fetchall()
        )
    assert stored == dict.fromkeys(writes.acknowledged, 1)
