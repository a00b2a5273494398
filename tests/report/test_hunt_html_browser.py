"""The HTML hunt report in a real headless Chromium: it renders, draws the chart, fetches nothing.

Chromium is a Debian package (``scripts/test.sh`` installs it); the tests skip, saying so, only
when it is missing or cannot start here. The screenshot is copied to ``tests/out/`` so a
person can look at what a victim would see.
"""

from __future__ import annotations

import http.server
import re
import shutil
import struct
import subprocess
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from test_hunt_samples import sample_result

from distrust.report.hunt_html import CSP, render_hunt_html

OUT_DIR = Path(__file__).resolve().parents[1] / "out"
CHROMIUM_TIMEOUT = 60
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed (scripts/test.sh installs the Debian package)")
    return exe


def run_chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    cmd = [_chromium(), *FLAGS, f"--user-data-dir={profile}", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"chromium could not run here: {exc}")
    if proc.returncode != 0 and "--dump-dom" in args and not proc.stdout:
        pytest.skip(f"chromium could not run here (exit {proc.returncode}): {proc.stderr[-400:]}")
    return proc


def png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and raw (filtered) scanline bytes of a PNG, with the stdlib only."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hunt-html") / "report.html"
    path.write_text(render_hunt_html(sample_result(), package="postmark-mcp@1.0.16"), encoding="utf-8")
    return path


def test_screenshot_is_a_real_page(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "hunt.png"
    run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,1600", report.as_uri())
    if not shot.exists():
        pytest.skip("chromium ran but wrote no screenshot here")
    width, height, raw = png_pixels(shot)
    assert (width, height) == (1200, 1600)
    assert shot.stat().st_size > 20_000
    # Not blank: a page of text, cards and a chart has many distinct byte values and rows.
    rows = {
        raw[i : i + 1 + width * 3] for i in range(0, min(len(raw), 1600 * (1 + width * 4)), 1 + width * 3)
    }
    assert len(set(raw)) > 64 and len(rows) > 100
    OUT_DIR.mkdir(exist_ok=True)
    shutil.copyfile(shot, OUT_DIR / "hunt-report.png")


def test_dom_has_one_bar_per_day_and_no_active_content(report: Path, tmp_path: Path) -> None:
    dom = run_chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    assert "<svg" in dom
    bars = re.findall(r'<rect class="bar" data-date="([\d-]+)"', dom)
    assert bars == [d.isoformat() for d, _ in sample_result().per_day]
    assert "<script" not in dom and "<img" not in dom  # the hostile subject stayed text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "Content-Security-Policy" in dom


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    _Counter.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Counter.hits
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("with_csp", [True, False], ids=["csp-blocks", "control-without-csp"])
def test_csp_blocks_requests_even_if_markup_slipped_through(
    listener: tuple[str, list[str]], tmp_path: Path, with_csp: bool
) -> None:
    """Inject the request an escaping bug would allow; only the CSP-less control may fetch it."""
    base, hits = listener
    doc = render_hunt_html(sample_result())
    injected = f'<img src="{base}/img.png"><link rel="stylesheet" href="{base}/x.css">'
    doc = doc.replace("</main>", injected + "</main>")
    if not with_csp:
        doc = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", doc)
        assert CSP not in doc
    page = tmp_path / "page.html"
    page.write_text(doc, encoding="utf-8")
    run_chromium(tmp_path, "--dump-dom", "--virtual-time-budget=2000", page.as_uri())
    if with_csp:
        assert hits == []
    else:
        assert hits, "control page made no request: this test could not detect a leak"
