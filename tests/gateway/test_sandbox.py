"""The Linux sandbox, run for real: what a server inside can and cannot reach.

Each test starts real programs (Python, Node 20) under bubblewrap through :func:`sandboxed`,
with a stand-in egress proxy (:class:`EgressStub`) on the unix socket, and checks the outcome
from both sides: the program's own report and what the stub or a host listener saw. All the
network checks run inside one sandbox start (a JSON report) to keep the suite fast.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from distrust.gateway.launch import ServerLaunch, minimal_env
from distrust.gateway.sandbox import SandboxSpec, ensure_preload, probe, sandboxed
from distrust.gateway.sandbox.linux import BRIDGE_FAILED_EXIT

SUPPORT = probe()
pytestmark = pytest.mark.skipif(not SUPPORT.ok, reason=f"sandbox unavailable: {SUPPORT.reason}")

PRELOAD_TOOLS = Path(__file__).parent.parent / "tools" / "preload"
NODE = shutil.which("node")


# --- a stand-in egress proxy ---------------------------------------------------------------


def _read_head(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > 65536:
            return None
    return data


class EgressStub:
    """Threaded unix-socket HTTP proxy stub; ``seen`` lists request lines in arrival order."""

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self.seen: list[str] = []
        self._lock = threading.Lock()
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(socket_path))
        self._server.listen(32)
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _record(self, line: str) -> None:
        with self._lock:
            self.seen.append(line)

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            try:
                head = _read_head(conn)
                if head is None:
                    return
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                self._record(line)
                if line.startswith("CONNECT "):
                    if not line.split()[1].endswith(":80"):
                        conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                        return
                    conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    head = _read_head(conn)
                    if head is None:
                        return
                    line = head.split(b"\r\n", 1)[0].decode("latin-1")
                    self._record(line)
                body = f"proxied {line}".encode()
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
            except OSError:
                return

    def close(self) -> None:
        self._server.close()


@contextlib.contextmanager
def egress_stub() -> Iterator[EgressStub]:
    """A running stub in a short temp dir (unix socket paths are limited to ~108 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="dsb-"))
    stub = EgressStub(folder / "egress.sock")
    try:
        yield stub
    finally:
        stub.close()
        shutil.rmtree(folder, ignore_errors=True)


# --- running things inside ----------------------------------------------------------------------

CHECKS = r'''
import json, os, socket, sys, urllib.request

params = json.loads(sys.argv[1])
report = {"stdin": sys.stdin.readline().strip()}


def attempt(name, action):
    try:
        action()
        report[name] = "reached"
    except Exception as exc:
        report[name] = f"blocked: {type(exc).__name__}: {exc}"


def tcp(host, port):
    socket.create_connection((host, port), timeout=3).close()


def udp():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"x", ("1.1.1.1", 53))


def unix(address):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(3)
        s.connect(address)


def write(path):
    with open(path, "w") as fh:
        fh.write("inside")


attempt("tcp_public_ip", lambda: tcp("1.1.1.1", 443))
attempt("tcp_host_loopback", lambda: tcp("127.0.0.1", params["host_port"]))
attempt("dns", lambda: socket.getaddrinfo("pypi.org", 443))
attempt("udp", udp)
no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
attempt("client_ignoring_proxy", lambda: no_proxy.open("http://93.184.215.14/", timeout=3).read())
attempt("host_unix_socket", lambda: unix(params["unix_socket"]))
attempt("host_abstract_socket", lambda: unix("\0" + params["abstract"]))
for i, path in enumerate(params["run_sockets"]):
    attempt(f"run_socket_{i}", lambda p=path: unix(p))
attempt("write_store", lambda: write(os.path.join(params["store"], "planted.txt")))
attempt("write_grant", lambda: write(os.path.join(params["grant"], "written.txt")))
report["proxied"] = urllib.request.urlopen("http://example.test/via-proxy", timeout=5).read().decode()
report["home"] = os.environ.get("HOME")
report["home_ssh_key"] = os.path.exists(os.path.expanduser("~/.ssh/id_rsa"))
report["real_ssh_key"] = os.path.exists(params["real_key"])
report["secret"] = os.environ.get("DISTRUST_TEST_SECRET")
report["leaked"] = os.environ.get("DISTRUST_TEST_NOT_DECLARED")
report["root_listing"] = sorted(os.listdir("/"))
with open("/proc/self/status") as fh:
    report["cap_eff"] = [ln.split()[1] for ln in fh if ln.startswith("CapEff")][0]
print(json.dumps(report))
'''


def host_run_sockets() -> list[str]:
    """Unix sockets the host has under /run (docker.sock, dbus...), to prove none is reachable."""
    found: list[str] = []
    for root, _dirs, files in os.walk("/run"):
        for name in files:
            path = os.path.join(root, name)
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(os.stat(path).st_mode):
                    found.append(path)
        if len(found) >= 5:
            break
    return found[:5]


def run_sandboxed(
    launch: ServerLaunch, spec: SandboxSpec, stdin: str = "", timeout: float = 20
) -> subprocess.CompletedProcess[str]:
    wrapped = sandboxed(launch, spec)
    return subprocess.run(
        wrapped.command,
        input=stdin,
        env=dict(wrapped.env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def inside(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Run :data:`CHECKS` once inside a sandbox; yield its report plus what the host side saw."""
    base = tmp_path_factory.mktemp("sandbox")
    store = base / "store"
    grant = base / "grant"
    fake_home = base / "home"
    for folder in (store, grant, fake_home / ".ssh"):
        folder.mkdir(parents=True)
    (store / "checks.py").write_text(CHECKS, encoding="utf-8")
    key = fake_home / ".ssh" / "id_rsa"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY----- not a real key\n", encoding="utf-8")

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.setblocking(False)
    unix_dir = Path(tempfile.mkdtemp(prefix="dsb-host-"))
    unix_listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix_listener.bind(str(unix_dir / "host.sock"))
    unix_listener.listen(4)
    abstract_name = f"distrust-test-{os.getpid()}"
    abstract_listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract_listener.bind("\0" + abstract_name)
    abstract_listener.listen(4)

    params = {
        "host_port": listener.getsockname()[1],
        "unix_socket": str(unix_dir / "host.sock"),
        "abstract": abstract_name,
        "run_sockets": host_run_sockets(),
        "store": str(store),
        "grant": str(grant),
        "real_key": str(key),
    }
    parent_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(fake_home)}
    env = minimal_env({"DISTRUST_TEST_SECRET": "s3cret-value"}, parent=parent_env)
    os.environ["DISTRUST_TEST_NOT_DECLARED"] = "must-not-leak"
    try:
        with egress_stub() as stub:
            launch = ServerLaunch((sys.executable, str(store / "checks.py"), json.dumps(params)), env)
            spec = SandboxSpec(egress_socket=stub.socket_path, ro_paths=(store,), rw_paths=(grant,))
            wrapped = sandboxed(launch, spec)
            done = run_sandboxed(launch, spec, stdin="hello over stdio\n")
            assert done.returncode == 0, done.stderr
            report = json.loads(done.stdout)
            host_side = {"stub_seen": list(stub.seen), "argv": wrapped.command}
        for sock in (unix_listener, abstract_listener):
            sock.setblocking(False)
        accepted = {}
        for name, sock in (("tcp", listener), ("unix", unix_listener), ("abstract", abstract_listener)):
            try:
                sock.accept()[0].close()
                accepted[name] = True
            except BlockingIOError:
                accepted[name] = False
        yield {**report, **host_side, "accepted": accepted, "params": params, "grant_dir": grant}
    finally:
        os.environ.pop("DISTRUST_TEST_NOT_DECLARED", None)
        for sock in (listener, unix_listener, abstract_listener):
            sock.close()
        shutil.rmtree(unix_dir, ignore_errors=True)


def test_stdio_passes_through_unchanged(inside: dict[str, Any]) -> None:
    assert inside["stdin"] == "hello over stdio"


def test_http_through_the_proxy_reaches_the_egress_socket(inside: dict[str, Any]) -> None:
    assert inside["proxied"] == "proxied GET http://example.test/via-proxy HTTP/1.1"
    assert "GET http://example.test/via-proxy HTTP/1.1" in inside["stub_seen"]


@pytest.mark.parametrize(
    "check",
    ["tcp_public_ip", "tcp_host_loopback", "dns", "udp", "client_ignoring_proxy"],
)
def test_network_paths_around_the_proxy_fail(inside: dict[str, Any], check: str) -> None:
    assert inside[check].startswith("blocked:"), inside[check]


def test_host_loopback_listener_saw_nothing(inside: dict[str, Any]) -> None:
    assert inside["accepted"]["tcp"] is False


def test_host_unix_sockets_are_unreachable(inside: dict[str, Any]) -> None:
    assert inside["host_unix_socket"].startswith("blocked: FileNotFoundError"), inside["host_unix_socket"]
    assert inside["host_abstract_socket"].startswith("blocked:"), inside["host_abstract_socket"]
    assert inside["accepted"]["unix"] is False
    assert inside["accepted"]["abstract"] is False
    for i, path in enumerate(inside["params"]["run_sockets"]):
        assert inside[f"run_socket_{i}"].startswith("blocked:"), (path, inside[f"run_socket_{i}"])


def test_real_home_and_its_ssh_key_are_invisible(inside: dict[str, Any]) -> None:
    assert inside["home"] == "/home/sandbox"
    assert inside["home_ssh_key"] is False
    assert inside["real_ssh_key"] is False


def test_only_the_allowlist_is_mounted(inside: dict[str, Any]) -> None:
    system = {"usr", "bin", "sbin", "lib", "lib64", "lib32", "etc", "proc", "dev", "tmp", "home", "run"}
    toolchain = {Path(p).resolve().parts[1] for p in (sys.prefix, sys.base_prefix)}
    assert set(inside["root_listing"]) <= system | toolchain, inside["root_listing"]
    argv = inside["argv"]
    assert not any(flag.endswith("bind") and src == "/" for flag, src in itertools.pairwise(argv))


def test_store_is_read_only_and_grants_are_writable(inside: dict[str, Any]) -> None:
    assert inside["write_store"].startswith("blocked:"), inside["write_store"]
    assert inside["write_grant"] == "reached"
    assert (inside["grant_dir"] / "written.txt").read_text(encoding="utf-8") == "inside"


def test_environment_is_exactly_the_launch_env_and_secrets_stay_out_of_argv(inside: dict[str, Any]) -> None:
    assert inside["secret"] == "s3cret-value"
    assert inside["leaked"] is None
    assert not any("s3cret-value" in arg for arg in inside["argv"])


def test_no_capabilities_inside_even_as_root(inside: dict[str, Any]) -> None:
    assert int(inside["cap_eff"], 16) == 0


def test_bridge_failure_stops_the_server_before_it_starts(tmp_path: Path) -> None:
    """A socket nobody listens on still lets socat listen; a port clash must not: use port 0 check."""
    with egress_stub() as stub:
        launch = ServerLaunch((sys.executable, "-c", "print('server ran')"), minimal_env({}))
        # Port 1 needs CAP_NET_BIND_SERVICE, which --cap-drop ALL removed: socat cannot listen.
        done = run_sandboxed(launch, SandboxSpec(egress_socket=stub.socket_path, proxy_port=1))
    assert done.returncode == BRIDGE_FAILED_EXIT, (done.returncode, done.stderr)
    assert "server ran" not in done.stdout
    assert "egress bridge" in done.stderr


# --- Node 20 and the preload ----------------------------------------------------------------------

NODE_CLIENTS = r'''
const http = require('http');
const https = require('https');
function get(mod, url) {
  return new Promise((resolve) => {
    mod.get(url, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    }).on('error', (e) => resolve(`error: ${e.message}`));
  });
}
(async () => {
  const out = {};
  try {
    const res = await fetch('http://example.test/fetch');
    out.fetch = `${res.status} ${await res.text()}`;
  } catch (e) {
    out.fetch = `error: ${e.message} ${e.cause ? e.cause.code || e.cause.message : ''}`;
  }
  out.http = await get(http, 'http://example.test/http-get');
  out.https = await get(https, 'https://example.test/https-get');
  console.log(JSON.stringify(out));
})();
'''


@pytest.fixture
def preload_dir(monkeypatch: pytest.MonkeyPatch) -> Path:
    if not (PRELOAD_TOOLS / "node_modules" / "undici").is_dir():
        pytest.skip("tests/tools/preload is not installed (scripts/test.sh runs npm ci there)")
    monkeypatch.setenv("DISTRUST_NODE_PRELOAD_DIR", str(PRELOAD_TOOLS))
    found = ensure_preload()
    assert found == PRELOAD_TOOLS
    return found


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_node_fetch_http_and_https_go_through_the_proxy_with_the_preload(preload_dir: Path) -> None:
    with egress_stub() as stub:
        launch = ServerLaunch(("node", "-e", NODE_CLIENTS), minimal_env({}))
        done = run_sandboxed(launch, SandboxSpec(egress_socket=stub.socket_path, node_preload=preload_dir))
        seen = list(stub.seen)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["fetch"] == "200 proxied GET /fetch HTTP/1.1", out
    assert out["http"] == "200 proxied GET /http-get HTTP/1.1", out
    assert out["https"].startswith("403"), out  # the stub's refusal of CONNECT :443 came back
    assert "CONNECT example.test:443 HTTP/1.1" in seen
    assert seen.count("CONNECT example.test:80 HTTP/1.1") == 2
    assert "distrust: node proxy preload failed" not in done.stderr
    assert "UNDICI-EHPA" not in done.stderr  # the experimental warning is silenced


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_node_without_the_preload_fails_closed() -> None:
    with egress_stub() as stub:
        launch = ServerLaunch(("node", "-e", NODE_CLIENTS), minimal_env({}))
        done = run_sandboxed(launch, SandboxSpec(egress_socket=stub.socket_path))
        seen = list(stub.seen)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert all(v.startswith("error:") for v in out.values()), out
    assert seen == []
