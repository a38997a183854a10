"""Slow clients are dropped after HEADERS_TIMEOUT_S / BODY_TIMEOUT_S (api.web.slow), and the
server keeps serving the others meanwhile."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from api.settings import Settings
from tests.builders.clients import serving_env
from tests.builders.processes import free_port, stop, wait_listening

#: How long the test drips at most: far beyond the deadlines it sets (1 s).
DRIP_FOR_S = 20.0
REQUEST = (
    b"POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
    b"content-length: 27\r\n\r\n"
)
BODY = b'{"query": "{ __typename }"}'


@pytest.fixture
def server(settings: Settings) -> Iterator[int]:
    port = free_port()
    env = serving_env(settings, HEADERS_TIMEOUT_S="1", BODY_TIMEOUT_S="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port)
        yield port
    finally:
        stop(process)


def drip(port: int, head: bytes, data: bytes) -> tuple[int, bool]:
    """Sends ``head`` at once, then ``data`` a byte every 0.2 s while the server lets it;
    returns how many bytes of ``data`` went and whether the server answered anything. Asks
    another connection for a normal answer on the way."""
    others_served = False
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(head)
        sent, started = 0, time.monotonic()
        while sent < len(data) and time.monotonic() - started < DRIP_FOR_S:
            try:
                conn.sendall(data[sent : sent + 1])
            except OSError:
                break
            sent += 1
            if not others_served:
                answer = httpx.post(
                    f"http://127.0.0.1:{port}/graphql", json={"query": "{ __typename }"}
                )
                others_served = answer.json() == {"data": {"__typename": "Query"}}
            time.sleep(0.2)
        try:
            conn.settimeout(5)
            answered = conn.recv(1024) != b""
        except OSError:
            answered = False
    assert others_served, "the server kept serving the others"
    return sent, answered


def test_headers_sent_a_byte_at_a_time_are_dropped(server: int) -> None:
    sent, answered = drip(server, b"", REQUEST + BODY)
    assert sent < len(REQUEST), "dropped before the headers were complete"
    assert not answered


def test_a_body_sent_a_byte_at_a_time_is_dropped(server: int) -> None:
    sent, _ = drip(server, REQUEST, BODY)
    assert sent < len(BODY), "dropped before the body was complete"


def test_a_connection_that_sends_nothing_is_closed(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=DRIP_FOR_S) as conn:
        assert conn.recv(1024) == b"", "closed by the server, not by our timeout"


def test_a_prompt_client_is_answered(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=10) as conn:
        conn.sendall(REQUEST + BODY)
        assert conn.recv(65536).startswith(b"HTTP/1.1 200")
