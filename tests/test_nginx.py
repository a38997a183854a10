"""deploy/nginx/circle.conf in front of `circle serve`, end to end: Debian's nginx runs the
site as it is (only its placeholders, ports and log paths replaced), over TLS with a
certificate made for the test. The client connects from 127.0.0.2, the proxy reaches the
app from 127.0.0.1 (TRUSTED_PROXIES): the app sees the client's address, not one the
client chose; nginx compresses; nginx's request id is the app's and comes back."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.settings import Settings
from tests.builders.clients import serving_env
from tests.builders.servers import Served, circle_serve, free_port

ROOT = Path(__file__).parents[1]
SITE = ROOT / "deploy" / "nginx" / "circle.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CLIENT = "127.0.0.2"  # another loopback address than the proxy's

pytestmark = pytest.mark.skipif(
    not Path(NGINX).exists(), reason="nginx is not installed (make test-packages installs it)"
)


def site_for_test(app_port: int, http_port: int, tls_port: int, folder: Path) -> str:
    """The site with its placeholders, ports and paths replaced; each replacement must
    find its line, so the test notices when the site changes shape."""
    site = SITE.read_text()
    replacements = {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
        "    listen 80;\n": f"    listen 127.0.0.1:{http_port};\n",
        "    listen [::]:80;\n": "",
        "    listen 443 ssl http2;\n": f"    listen 127.0.0.1:{tls_port} ssl http2;\n",
        "    listen [::]:443 ssl http2;\n": "",
        "/etc/ssl/circle/fullchain.pem": str(folder / "cert.pem"),
        "/etc/ssl/circle/privkey.pem": str(folder / "key.pem"),
        "/var/log/nginx/circle.access.log": str(folder / "access.log"),
        "/var/log/nginx/circle.error.log": str(folder / "error.log"),
    }
    for old, new in replacements.items():
        assert old in site, old
        site = site.replace(old, new)
    return site


def main_config(folder: Path) -> str:
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    runs_as = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{runs_as}daemon off;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/main-error.log;\nevents {{ worker_connections 256; }}\n"
        "http {\n  include /etc/nginx/mime.types;\n"
        f"  client_body_temp_path {temp['body']};\n  proxy_temp_path {temp['proxy']};\n"
        f"  fastcgi_temp_path {temp['fastcgi']};\n  uwsgi_temp_path {temp['uwsgi']};\n"
        f"  scgi_temp_path {temp['scgi']};\n  include {folder}/site.conf;\n}}\n"
    )


@pytest.fixture(scope="module")
def proxied(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Served, Path]]:
    folder = tmp_path_factory.mktemp("nginx")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", folder / "key.pem", "-out", folder / "cert.pem"],
        check=True, capture_output=True,
    )  # fmt: skip
    env = serving_env(settings, LOG_LEVEL="INFO", SWEEP_INTERVAL_S="0",
                      TRUSTED_PROXIES="127.0.0.1")  # fmt: skip
    with circle_serve(env, folder / "serve.log") as app:
        http_port, tls_port = free_port(), free_port()
        (folder / "site.conf").write_text(site_for_test(app.port, http_port, tls_port, folder))
        (folder / "nginx.conf").write_text(main_config(folder))
        nginx = subprocess.Popen(
            [NGINX, "-c", folder / "nginx.conf", "-p", folder],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            base = f"https://localhost:{tls_port}"
            _wait_for(base, nginx)
            yield base, app, folder
        finally:
            nginx.terminate()
            nginx.communicate(timeout=10)


def _wait_for(base: str, nginx: subprocess.Popen[bytes]) -> None:
    for _ in range(100):
        if nginx.poll() is not None:
            raise AssertionError(nginx.stderr.read().decode() if nginx.stderr else "nginx died")
        try:
            httpx.get(base + "/healthz", verify=False, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("nginx did not answer")


def wait_for_text(path: Path, text: str) -> bool:
    """Whether ``text`` appears in ``path`` within 10 s (nginx logs a request once it has
    answered it)."""
    deadline = time.monotonic() + 10
    while text not in path.read_text():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def client() -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=CLIENT, verify=False)
    return httpx.Client(transport=transport, timeout=10)


def test_the_app_sees_the_clients_address_and_nginxs_request_id(
    proxied: tuple[str, Served, Path],
) -> None:
    base, app, folder = proxied
    with client() as http:
        # A client naming another address is not believed: nginx appends the real one.
        response = http.post(
            base + "/graphql",
            json={"query": "query ThroughNginx { __typename }"},
            headers={"x-forwarded-for": "203.0.113.9", "x-request-id": "chosen-by-client"},
        )
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    assert request_id != "chosen-by-client" and len(request_id) == 32
    (line,) = app.wait_for_lines(lambda line: line.get("op") == "ThroughNginx")
    assert line["client"] == CLIENT
    assert line["request_id"] == request_id
    assert wait_for_text(folder / "access.log", f"request_id={request_id}")


def test_nginx_compresses_large_answers(proxied: tuple[str, Served, Path]) -> None:
    base, _, _ = proxied
    introspection = "{ __schema { types { name fields { name description } } } }"
    with client() as http:
        request = http.build_request(
            "POST", base + "/graphql", json={"query": introspection},
            headers={"accept-encoding": "gzip"},
        )  # fmt: skip
        response = http.send(request, stream=True)
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert b'"__schema"' in gzip.decompress(raw)


def test_nginx_refuses_bodies_the_app_would(proxied: tuple[str, Served, Path]) -> None:
    base, _, _ = proxied
    too_big = b'{"query": "' + b" " * 1_000_001 + b'{ __typename }"}'
    with client() as http:
        response = http.post(
            base + "/graphql", content=too_big, headers={"content-type": "application/json"}
        )
    assert response.status_code == 413


def test_plain_http_is_sent_to_https(proxied: tuple[str, Served, Path]) -> None:
    _, _, folder = proxied
    site = (folder / "site.conf").read_text()
    http_port = site.split("listen 127.0.0.1:", 1)[1].split(";", 1)[0]
    response = httpx.get(f"http://127.0.0.1:{http_port}/graphql", headers={"host": "circle.test"})
    assert response.status_code == 301
    assert response.headers["location"] == "https://circle.test/graphql"
