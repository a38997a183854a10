"""`circle serve` as a process: it answers, and SIGTERM lets an in-flight request finish."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import psycopg
import pytest

from api.settings import Settings
from tests.builders.clients import serving_env
from tests.builders.servers import circle_serve


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = _free_port()
    env = serving_env(settings)
    process = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield process, port
    if process.poll() is None:
        process.kill()
    process.wait()
    if process.stdout:
        process.stdout.close()


def test_sigterm_finishes_the_request_in_flight(
    server: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = server
    body = orjson.dumps({"query": "{ __typename }"})
    head = (
        f"POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head + body[:5])  # the request has started, its body is not complete
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert process.poll() is None, "the server must wait for the request in flight"
        conn.sendall(body[5:])
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")
    assert answer.endswith(b'{"data":{"__typename":"Query"}}')
    # uvicorn re-raises the signal once it has shut down, so the exit status says SIGTERM.
    assert process.wait(timeout=15) in (0, -signal.SIGTERM)
    output = process.stdout.read().decode() if process.stdout else ""
    assert "Traceback" not in output
    # A new connection is refused once it has stopped.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_serve_refuses_a_superuser_or_an_owner(settings: Settings, database_url: str) -> None:
    env = serving_env(settings, DATABASE_URL=database_url)  # the fixtures' role: the owner
    done = subprocess.run(
        [sys.executable, "-m", "api", "serve", "--port", str(_free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "the service does not run as" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_serve_says_who_it_connects_as(
    server: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, _ = server
    process.send_signal(signal.SIGINT)
    output = process.communicate(timeout=15)[0].decode()
    assert "connected as circle_app, reads as circle_reader" in output


def test_public_links_follow_the_port_served(
    seeded_url: str, seeded_settings: Settings, tmp_path: Path
) -> None:
    """Without PUBLIC_URL, the links on QR codes and pages name the address `circle serve`
    listens on (--port), not the PORT variable's default."""
    with psycopg.connect(seeded_url) as conn:
        active = "SELECT code FROM circle_codes WHERE retired_at IS NULL LIMIT 1"
        (code,) = conn.execute(active).fetchone()
    env = serving_env(seeded_settings, SWEEP_INTERVAL_S="0")
    for name in ("PUBLIC_URL", "PORT", "HOST"):
        env.pop(name, None)
    with circle_serve(env, tmp_path / "serve.log") as served:
        query = "query ($c: String!) { circle(code: $c) { ... on PlaceCircle { place { url } } } }"
        body = {"query": query, "variables": {"c": code}}
        answer = httpx.post(served.url + "/graphql", json=body).json()
    assert answer["data"]["circle"]["place"]["url"] == f"{served.url}/c/{code}"
