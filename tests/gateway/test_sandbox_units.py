"""The sandbox's command line, environment, path discovery, preload install and macOS profile.

These tests build argv and environments without starting a sandbox, so they run anywhere; the
behaviour inside a real sandbox is in ``test_sandbox.py``.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from distrust.gateway.launch import ServerLaunch, minimal_env
from distrust.gateway.sandbox import PreloadError, SandboxError, SandboxSpec, SandboxSupport, ensure_preload
from distrust.gateway.sandbox.linux import (
    CA_INSIDE,
    PRELOAD_SOURCE,
    bridge_script,
    sandbox_env,
    sandboxed,
    toolchain_paths,
)
from distrust.gateway.sandbox.macos import MacSandboxSpec, sandboxed_macos, seatbelt_profile

WORKS = SandboxSupport(True, "test", "/usr/bin/bwrap", "/usr/bin/socat")
PRELOAD_TOOLS = Path(__file__).parent.parent / "tools" / "preload"


@pytest.fixture
def egress(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "e.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    yield path
    sock.close()


def pairs(argv: tuple[str, ...], flag: str) -> list[tuple[str, str]]:
    return [(argv[i + 1], argv[i + 2]) for i, arg in enumerate(argv) if arg == flag]


def test_argv_confines_and_binds_what_the_spec_grants(tmp_path: Path, egress: Path) -> None:
    store, grant, ca = tmp_path / "store", tmp_path / "grant", tmp_path / "ca.pem"
    store.mkdir()
    grant.mkdir()
    ca.write_text("PEM", encoding="utf-8")
    launch = ServerLaunch(("node", str(store / "index.js")), minimal_env({"API_KEY": "k-123"}))
    spec = SandboxSpec(egress_socket=egress, ro_paths=(store,), rw_paths=(grant,), ca_cert=ca)
    argv = sandboxed(launch, spec, support=WORKS).command
    assert argv[:6] == (
        "/usr/bin/bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"
    )
    assert "--clearenv" not in argv and not any("k-123" in a for a in argv)
    ro = pairs(argv, "--ro-bind")
    assert ("/", "/") not in ro
    assert (str(store), str(store)) in ro
    assert (str(egress), "/run/egress.sock") in ro
    assert (str(ca), CA_INSIDE) in ro
    assert pairs(argv, "--bind") == [(str(grant), str(grant))]
    assert argv[argv.index("--") + 1 : argv.index("--") + 3] == ("/bin/sh", "-c")
    assert argv[-3:] == ("sh", "node", str(store / "index.js"))
    assert argv.index("--tmpfs") < argv.index("--bind")  # grants under /tmp survive the private /tmp


def test_env_adds_proxy_ca_and_preload_and_keeps_the_servers_own(egress: Path, tmp_path: Path) -> None:
    own = {"PATH": "/usr/bin", "API_KEY": "k", "NODE_OPTIONS": "--max-old-space-size=64"}
    launch = ServerLaunch(("node",), own)
    env = sandbox_env(launch, SandboxSpec(egress, ca_cert=tmp_path, node_preload=tmp_path, proxy_port=4000))
    assert env["API_KEY"] == "k" and env["HOME"] == "/home/sandbox" and env["TMPDIR"] == "/tmp"
    assert env["HTTPS_PROXY"] == env["http_proxy"] == "http://127.0.0.1:4000" and env["NO_PROXY"] == ""
    assert env["SSL_CERT_FILE"] == env["npm_config_cafile"] == env["NODE_EXTRA_CA_CERTS"] == CA_INSIDE
    assert env["NODE_OPTIONS"] == "--max-old-space-size=64 --require /run/distrust/preload.cjs"
    plain = sandbox_env(launch, SandboxSpec(egress))
    assert "SSL_CERT_FILE" not in plain and plain["NODE_OPTIONS"] == "--max-old-space-size=64"


def test_bridge_script_waits_for_the_port_it_opens() -> None:
    script = bridge_script(3128, "/usr/bin/socat")
    assert "TCP-LISTEN:3128,bind=127.0.0.1,fork,reuseaddr,nodelay UNIX-CONNECT:/run/egress.sock" in script
    assert "0100007F:0C38" in script and script.rstrip().endswith('exec "$@"')


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ro_paths": (Path("/nonexistent/store"),)}, "read-only path /nonexistent/store does not exist"),
        ({"rw_paths": (Path("relative"),)}, "writable path relative must be an absolute path"),
        ({"proxy_port": 70000}, "proxy_port 70000"),
        ({"ca_cert": Path("/nonexistent/ca.pem")}, "ca_cert /nonexistent/ca.pem does not exist"),
    ],
)
def test_bad_specs_are_named(egress: Path, change: dict[str, object], message: str) -> None:
    spec = SandboxSpec(egress_socket=egress, **change)  # type: ignore[arg-type]
    with pytest.raises(SandboxError, match=message):
        sandboxed(ServerLaunch(("true",)), spec, support=WORKS)


def test_missing_egress_socket_and_unavailable_sandbox_are_explained(tmp_path: Path, egress: Path) -> None:
    with pytest.raises(SandboxError, match="start the egress proxy first"):
        sandboxed(ServerLaunch(("true",)), SandboxSpec(tmp_path / "none.sock"), support=WORKS)
    broken = SandboxSupport(False, "bubblewrap is not installed", None, "/usr/bin/socat")
    with pytest.raises(SandboxError, match="cannot sandbox 'true': bubblewrap is not installed"):
        sandboxed(ServerLaunch(("true",)), SandboxSpec(egress), support=broken)


def test_ungranted_working_directory_is_refused(tmp_path: Path, egress: Path) -> None:
    with pytest.raises(SandboxError, match=r"working directory .* is not granted"):
        sandboxed(ServerLaunch(("true",), cwd=tmp_path), SandboxSpec(egress), support=WORKS)
    spec = SandboxSpec(egress, ro_paths=(tmp_path,))
    argv = sandboxed(ServerLaunch(("true",), cwd=tmp_path), spec, support=WORKS).command
    assert argv[argv.index("--chdir") + 1] == str(tmp_path)


def test_toolchain_of_a_venv_python_includes_venv_and_base_installation() -> None:
    found = toolchain_paths(sys.executable, os.environ.get("PATH"))
    assert Path(sys.base_prefix).resolve() in found
    if sys.prefix != sys.base_prefix:
        assert Path(sys.prefix).resolve() in found


def test_toolchain_follows_a_shebang_without_running_it(tmp_path: Path) -> None:
    runtime = tmp_path / "opt" / "runtime" / "bin" / "rt"
    runtime.parent.mkdir(parents=True)
    runtime.write_text("not executed\n", encoding="utf-8")
    runtime.chmod(0o755)  # found on PATH like a real interpreter; never run
    script = tmp_path / "tool" / "bin" / "server"
    script.parent.mkdir(parents=True)
    script.write_text("#!/usr/bin/env -S rt --flag\nexit 99\n", encoding="utf-8")
    found = toolchain_paths(str(script), str(runtime.parent))
    assert found == (tmp_path / "tool", tmp_path / "opt" / "runtime")


def test_preload_test_copy_matches_the_shipped_pins() -> None:
    for name in ("package.json", "package-lock.json"):
        assert (PRELOAD_TOOLS / name).read_bytes() == (PRELOAD_SOURCE / name).read_bytes(), name


def test_preload_loads_its_libraries_from_its_own_folder() -> None:
    text = (PRELOAD_SOURCE / "preload.cjs").read_text(encoding="utf-8")
    assert "path.join(__dirname, 'node_modules', name)" in text
    assert "require('undici')" not in text and "require('https-proxy-agent')" not in text


def test_preload_override_must_be_installed_from_the_same_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISTRUST_NODE_PRELOAD_DIR", str(tmp_path))
    with pytest.raises(PreloadError, match="node_modules lacks undici, https-proxy-agent"):
        ensure_preload()
    for dep in ("undici", "https-proxy-agent"):
        (tmp_path / "node_modules" / dep).mkdir(parents=True)
        (tmp_path / "node_modules" / dep / "package.json").write_text("{}", encoding="utf-8")
    (tmp_path / "package-lock.json").write_text("{}", encoding="utf-8")
    with pytest.raises(PreloadError, match=r"package-lock\.json differs"):
        ensure_preload()


def test_preload_install_without_npm_and_with_failing_npm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISTRUST_NODE_PRELOAD_DIR", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert ensure_preload(tmp_path / "data") is None
    fake_npm = tmp_path / "npm"
    fake_npm.write_text("#!/bin/sh\necho 'npm error network unreachable' >&2\nexit 1\n", encoding="utf-8")
    fake_npm.chmod(0o755)
    with pytest.raises(PreloadError, match=r"exit 1.*npm error network unreachable"):
        ensure_preload(tmp_path / "data", npm=str(fake_npm))
    assert [p.name for p in (tmp_path / "data" / "node-preload").iterdir()] == []  # no half install left


def test_macos_profile_denies_by_default_and_allows_only_the_proxy_port(tmp_path: Path) -> None:
    spec = MacSandboxSpec(
        real_home=Path("/Users/ann"),
        private_home=tmp_path / "home",
        private_tmp=tmp_path / "tmp",
        ro_paths=(Path('/store/odd"name'),),
        proxy_port=3999,
    )
    profile = seatbelt_profile(spec)
    assert profile.startswith("(version 1)\n(deny default)\n")
    assert '(allow network-outbound (remote ip "localhost:3999"))' in profile
    assert profile.count("network-outbound") == 1
    assert '(subpath "/store/odd\\"name")' in profile
    last = profile.strip().splitlines()[-1]
    assert last.startswith("(deny file-read* file-write*") and '"/Users/ann/.ssh"' in last
    launch = sandboxed_macos(ServerLaunch(("node", "x.js"), {"PATH": "/usr/bin"}), spec)
    assert launch.command[:2] == ("/usr/bin/sandbox-exec", "-p") and launch.command[-2:] == ("node", "x.js")
    assert launch.env["HTTPS_PROXY"] == "http://127.0.0.1:3999"
    assert launch.env["HOME"] == str(tmp_path / "home")
