"""A small, real npm registry for tests: packuments and tarballs over HTTP on 127.0.0.1.

It speaks enough of the registry protocol for distrust's fetch stage and for the real ``npm``
client (``npm view``, ``npm pack``, ``npm install``): ``GET /<name>`` returns a packument with
``versions``, ``dist-tags``, ``time``, ``_npmUser`` and ``dist`` (tarball URL, sha512
``integrity`` and sha1 ``shasum``), and ``GET /<name>/-/<file>.tgz`` returns the tarball.
Packages are published from directories of our own fixture code.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote


def pack_directory(src: Path, overrides: dict[str, Any] | None = None) -> tuple[bytes, dict[str, Any]]:
    """A gzip tarball of ``src`` under ``package/`` as npm packs it, and its package.json.

    ``overrides`` replaces top-level package.json fields (e.g. a version), so one fixture
    directory can be published as many versions.
    """
    manifest = json.loads((src / "package.json").read_text())
    manifest.update(overrides or {})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(p for p in src.rglob("*") if p.is_file()):
            rel = path.relative_to(src).as_posix()
            data = (
                (json.dumps(manifest, indent=2) + "\n").encode()
                if rel == "package.json"
                else path.read_bytes()
            )
            info = tarfile.TarInfo(f"package/{rel}")
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 499162500  # npm's fixed mtime (1985-10-26)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue(), manifest


@dataclass
class LocalNpmRegistry:
    """Published packages held in memory; ``url`` is set once the server runs."""

    url: str = ""
    packuments: dict[str, dict[str, Any]] = field(default_factory=dict)
    tarballs: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def publish(
        self,
        src: Path,
        *,
        version: str | None = None,
        publisher: str = "fixture-publisher",
        when: str = "2025-09-01T00:00:00.000Z",
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Publish ``src`` (optionally as another ``version``); returns the version document."""
        overrides = dict(extra or {})
        if version:
            overrides["version"] = version
        data, manifest = pack_directory(src, overrides)
        name, ver = manifest["name"], manifest["version"]
        filename = f"{name.split('/')[-1]}-{ver}.tgz"
        self.tarballs[f"/{name}/-/{filename}"] = data
        doc = self.packuments.setdefault(
            name,
            {"name": name, "dist-tags": {}, "versions": {}, "time": {"created": when}, "maintainers": []},
        )
        version_doc = dict(manifest)
        version_doc["_npmUser"] = {"name": publisher, "email": f"{publisher}@example.test"}
        version_doc["dist"] = {
            "tarball": f"{self.url}/{name}/-/{filename}",
            "integrity": "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode(),
            "shasum": hashlib.sha1(data).hexdigest(),
        }
        doc["versions"][ver] = version_doc
        doc["dist-tags"]["latest"] = ver
        doc["time"][ver] = when
        doc["time"]["modified"] = when
        if not any(m["name"] == publisher for m in doc["maintainers"]):
            doc["maintainers"].append({"name": publisher, "email": f"{publisher}@example.test"})
        return version_doc


def _handler(registry: LocalNpmRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = unquote(self.path.split("?", 1)[0])
            registry.requests.append(path)
            if path in registry.tarballs:
                self._send(200, registry.tarballs[path], "application/octet-stream")
                return
            doc = registry.packuments.get(path.lstrip("/"))
            if doc is None:
                self._send(404, b'{"error":"Not found"}', "application/json")
                return
            self._send(200, json.dumps(doc).encode(), "application/json")

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def running_registry() -> Iterator[LocalNpmRegistry]:
    """Start a registry on a free loopback port; stop it when the block ends."""
    registry = LocalNpmRegistry()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(registry))
    server.daemon_threads = True
    registry.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield registry
    finally:
        server.shutdown()
        server.server_close()
