"""A real npm registry for the lock tests: Verdaccio 5 on a free loopback port, never proxying out.

Verdaccio is installed from ``tests/tools/registry`` (pinned by its package-lock.json; the test
script runs ``npm ci --ignore-scripts`` there). Each test gets its own Verdaccio over a copy of
a storage directory prepared once per session (stand-in dependencies + postmark-mcp 1.0.15),
so one test publishing 1.0.16 never changes what another test sees. Packages are published
with the real ``npm publish``, authenticated through a pre-written htpasswd file (no adduser).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
VERDACCIO = TESTS / "tools" / "registry" / "node_modules" / ".bin" / "verdaccio"
POSTMARK = TESTS / "fixtures" / "packages" / "postmark-mcp"
STANDINS = TESTS / "fixtures" / "lock" / "standins"
USER, PASSWORD = "fixture-publisher", "fixture-password"

CONFIG = """\
storage: {storage}
auth:
  htpasswd:
    file: {htpasswd}
    max_users: -1
uplinks: {{}}
packages:
  '**':
    access: $all
    publish: $authenticated
listen: 127.0.0.1:{port}
web:
  enable: false
log: {{ type: stdout, format: pretty, level: error }}
"""


def verdaccio_available() -> bool:
    return VERDACCIO.exists() and shutil.which("node") is not None and shutil.which("npm") is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Verdaccio:
    url: str
    npmrc: Path
    work: Path

    def publish(self, package_dir: Path) -> None:
        """``npm publish`` a copy of ``package_dir`` (our own fixture code) to this registry."""
        staging = self.work / "publish" / f"{package_dir.parent.name}-{package_dir.name}"
        if staging.exists():
            shutil.rmtree(staging)
        shutil.copytree(package_dir, staging)
        subprocess.run(
            ["npm", "publish", "--registry", self.url, "--ignore-scripts", "--access", "public"],
            cwd=staging,
            env={**os.environ, "npm_config_userconfig": str(self.npmrc)},
            check=True,
            capture_output=True,
            timeout=60,
        )


def write_npmrc(path: Path, url: str, cache: Path) -> None:
    """User config for npm: basic auth for the test registry only, and a private cache."""
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    host = url.removeprefix("http:")
    path.write_text(f"{host}/:_auth={token}\ncache={cache}\nupdate-notifier=false\nfund=false\naudit=false\n")


@contextmanager
def running_verdaccio(storage: Path, work: Path, cache: Path) -> Iterator[Verdaccio]:
    """Start Verdaccio on ``storage``; wait for ``/-/ping``; stop it (by its own pid) at the end."""
    work.mkdir(parents=True, exist_ok=True)
    htpasswd = work / "htpasswd"
    sha = base64.b64encode(hashlib.sha1(PASSWORD.encode()).digest()).decode()
    htpasswd.write_text(f"{USER}:{{SHA}}{sha}:autocreated 2025-09-01T00:00:00.000Z\n")
    port = _free_port()
    config = work / "config.yaml"
    config.write_text(CONFIG.format(storage=storage, htpasswd=htpasswd, port=port))
    url = f"http://127.0.0.1:{port}"
    log = (work / "verdaccio.log").open("wb")
    proc = subprocess.Popen([str(VERDACCIO), "--config", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ping", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"verdaccio did not start: {(work / 'verdaccio.log').read_text()}"
                    ) from None
                time.sleep(0.05)
        npmrc = work / "npmrc"
        write_npmrc(npmrc, url, cache)
        yield Verdaccio(url, npmrc, work)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def prepare_storage(storage: Path, work: Path, cache: Path) -> None:
    """Publish the stand-in dependencies and postmark-mcp 1.0.15 into ``storage``."""
    with running_verdaccio(storage, work, cache) as registry:
        for standin in sorted(STANDINS.iterdir()):
            if standin.is_dir():
                registry.publish(standin)
        registry.publish(POSTMARK / "1.0.15")


def write_cursor_config(home: Path, servers: dict[str, dict[str, object]]) -> Path:
    """A Cursor user config (``~/.cursor/mcp.json``) holding ``servers``."""
    path = home / ".cursor" / "mcp.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"mcpServers": servers}, indent=2))
    return path


SECRET_TOKEN = "pm-token-value-never-in-the-lock-3b1f"

POSTMARK_SERVER: dict[str, object] = {
    "command": "npx",
    "args": ["-y", "postmark-mcp"],
    "env": {"POSTMARK_SERVER_TOKEN": SECRET_TOKEN, "DEFAULT_SENDER_EMAIL": "me@example.com"},
}
