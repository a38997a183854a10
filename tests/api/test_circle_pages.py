"""The pages a phone camera opens: /c/{code}, /qr/{code}.svg|.png and the friendly 404.

The QR images are decoded here without segno's help (PNG: zlib and the PNG filters; SVG: its
path), and their modules compared with the QR encoding of the URL they must carry. The page
is also rendered by a real headless browser (Debian's chromium) when it is installed.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from xml.etree import ElementTree

import httpx
import orjson
import psycopg
import pytest
import segno

from api.settings import Settings
from tests.builders.clients import serving_env
from tests.builders.shapes import LAT0, LON0, tiny_district

pytestmark = pytest.mark.anyio

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def demo_code(seeded_url: str) -> str:
    with psycopg.connect(seeded_url) as conn:
        row = conn.execute(
            "SELECT code FROM circle_codes WHERE retired_at IS NULL ORDER BY id LIMIT 1"
        ).fetchone()
    assert row, "circle seed makes demo circle codes"
    return str(row[0])


def png_modules(data: bytes, scale: int, border: int) -> list[list[int]]:
    """Dark (1) / light (0) modules of a 1-bit greyscale PNG, by decoding it."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: dict[bytes, bytes] = {}
    at = 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        body = data[at + 8 : at + 8 + length]
        assert (
            zlib.crc32(kind + body)
            == struct.unpack(">I", data[at + 8 + length : at + 12 + length])[0]
        )
        chunks[kind] = chunks.get(kind, b"") + body
        at += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour, interlace) == (1, 0, 0)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = (width + 7) // 8
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            left = line[i - 1] if i else 0
            up, corner = previous[i], previous[i - 1] if i else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        rows.append(line)
        previous = line
    size = width // scale - 2 * border

    def dark(x: int, y: int) -> int:
        bit = (rows[y][x // 8] >> (7 - x % 8)) & 1
        return 1 - bit  # greyscale: 0 is black

    centre = scale // 2
    return [
        [dark((border + c) * scale + centre, (border + r) * scale + centre) for c in range(size)]
        for r in range(size)
    ]


def svg_modules(data: bytes, border: int) -> list[list[int]]:
    """Modules of segno's SVG path (M x y, h n, m dx dy; a line is drawn at row y - 0.5)."""
    root = ElementTree.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    path = next(e for e in root.iter() if e.tag.endswith("path")).attrib["d"]
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    tokens = path.replace("M", " M ").replace("m", " m ").replace("h", " h ").split()
    i = 0
    while i < len(tokens):
        op = tokens[i]
        if op in ("M", "m"):
            dx, dy = float(tokens[i + 1]), float(tokens[i + 2])
            x, y = (dx, dy) if op == "M" else (x + dx, y + dy)
            i += 3
        else:
            n = int(tokens[i + 1])
            dark |= {(int(y), int(x) + k) for k in range(n)}
            x += n
            i += 2
    size = max(c for _, c in dark) + 1 - border
    return [[int((border + r, border + c) in dark) for c in range(size)] for r in range(size)]


def qr_matrix(url: str) -> list[list[int]]:
    return [[int(v) for v in row] for row in segno.make(url, error="m").matrix]


async def test_qr_images_carry_the_circle_url(
    seeded_client: httpx.AsyncClient, demo_code: str, seeded_settings: Settings
) -> None:
    url = f"{seeded_settings.public_url}/c/{demo_code}"
    png = await seeded_client.get(f"/qr/{demo_code}.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png_modules(png.content, scale=10, border=4) == qr_matrix(url)
    svg = await seeded_client.get(f"/qr/{demo_code}.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg_modules(svg.content, border=4) == qr_matrix(url)
    assert qr_matrix(url) != qr_matrix(url + "x"), "the comparison can tell URLs apart"
    for path in ("/qr/never-issued.png", "/qr/never-issued.svg", "/qr/%00.svg"):
        assert (await seeded_client.get(path)).status_code == 404


class Links(HTMLParser):
    """Text of every element of a class, and every tel: link with its text."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.tel: list[tuple[str, str]] = []
        self._in: str | None = None
        self._href = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "span" and a.get("class") == "name":
            self._in = "name"
        elif tag == "a" and (a.get("href") or "").startswith("tel:"):
            self._in, self._href = "tel", a["href"] or ""

    def handle_data(self, data: str) -> None:
        if self._in == "name":
            self.names.append(data)
        elif self._in == "tel":
            self.tel.append((self._href, data))

    def handle_endtag(self, tag: str) -> None:
        self._in = None


def expected_tel(text: str) -> str:
    """tel: URI of the number shown on the button (RFC 3966, +86), written out by hand."""
    number = text.removeprefix("拨打 ")
    if number.startswith("1"):
        return f"tel:+86{number}"
    area, local = number.split("-")
    return f"tel:+86-{area[1:]}-{local}"


def check_page(html: str, circle: dict[str, Any]) -> None:
    page = Links()
    page.feed(html)
    shown = [n["merchant"]["name"] for c in circle["categories"] for n in c["nearest"]] + [
        n["servicePoint"]["name"] for k in circle["servicePoints"] for n in k["nearest"]
    ]
    assert page.names == shown
    assert page.tel, "tap-to-call links"
    for href, text in page.tel:
        assert href == expected_tel(text), (href, text)


CIRCLE = """query ($code: String!) { circle(code: $code) { ... on PlaceCircle {
  place { name }
  circle { categories { nearest { merchant { name } } }
           servicePoints { nearest { servicePoint { name } } } } } } }"""


async def circle_of(client: httpx.AsyncClient, code: str) -> dict[str, Any]:
    variables = {"code": code}
    body = (await client.post("/graphql", json={"query": CIRCLE, "variables": variables})).json()
    return dict(body["data"]["circle"])


async def test_circle_page_lists_what_is_near(
    seeded_client: httpx.AsyncClient, demo_code: str
) -> None:
    page = await seeded_client.get(f"/c/{demo_code}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text and "http" not in page.text.split("<body>")[0]
    assert 'name="viewport"' in page.text
    circle = await circle_of(seeded_client, demo_code)
    assert circle["place"]["name"] in page.text
    check_page(page.text, circle["circle"])


async def test_names_are_escaped_and_retired_codes_get_the_404_page(
    admin_client: httpx.AsyncClient,
) -> None:
    client = admin_client

    async def gql(query: str, **variables: Any) -> dict[str, Any]:
        body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
        assert "errors" not in body, body
        return body["data"]

    await gql("mutation ($fc: String!) { importGrids(geojson: $fc) { __typename } }",
              fc=orjson.dumps(tiny_district()).decode())  # fmt: skip
    where = {"longitude": LON0 + 0.002, "latitude": LAT0 + 0.002}
    evil = '<script>alert("x")</script>&老王\'s'
    shop = """mutation ($name: String!, $p: PointInput!) { createMerchant(input: {name: $name,
        category: "pharmacy", location: $p, phone: "0371 6789 1234"}) { __typename } }"""
    await gql(shop, name=evil, p=where)
    board = await gql(
        """mutation ($p: PointInput!) { createCircleCode(input: {name: "<b>板</b>", center: $p})
           { ... on CircleCodeSaved { circleCode { code } } } }""",
        p=where,
    )
    code = board["createCircleCode"]["circleCode"]["code"]
    page = await client.get(f"/c/{code}")
    assert page.status_code == 200
    assert "<script>" not in page.text and "<b>板" not in page.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;老王&#x27;s" in page.text
    assert "&lt;b&gt;板&lt;/b&gt;" in page.text
    assert 'href="tel:+86-371-67891234"' in page.text

    await gql("mutation ($c: String!) { retireCircleCode(code: $c) { __typename } }", c=code)
    for path in (f"/c/{code}", "/c/never-issued", "/c/%3Cscript%3E", f"/qr/{code}.png"):
        gone = await client.get(path)
        assert gone.status_code == 404, path
        assert gone.headers["content-type"].startswith("text/html")
        assert "找不到这个生活圈" in gone.text and "<script" not in gone.text


# -- a real browser -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(seeded_settings: Settings) -> Iterator[int]:
    """`circle serve` on the seeded district, in its own process."""
    port = _free_port()
    env = serving_env(seeded_settings)
    process = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield port
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="chromium is not installed (make test)")
async def test_circle_page_in_a_headless_browser(
    served: int, demo_code: str, seeded_client: httpx.AsyncClient
) -> None:
    with tempfile.TemporaryDirectory() as profile:
        browser = await asyncio.create_subprocess_exec(
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", "--dump-dom",
            f"http://127.0.0.1:{served}/c/{demo_code}",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(browser.communicate(), timeout=60)
    assert browser.returncode == 0
    dom = out.decode()
    assert dom.lstrip().lower().startswith("<!doctype html>"), dom[:200]
    check_page(dom, (await circle_of(seeded_client, demo_code))["circle"])
