"""The resident analyser: a real server process, real forks, the real console script.

Every command run through it must behave exactly as the same command run in-process (same
stdout, stderr and exit status), with the client's working directory and environment; and the
analyser must step aside whenever it cannot be trusted to (unsafe directory, outdated code).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import distrust
from distrust.resident import protocol
from distrust.resident.protocol import MessageReader, ResidentError, encode
from distrust.resident.server import source_fingerprint

DISTRUST = str(Path(sys.executable).with_name("distrust"))
POSTMARK = Path(__file__).parent / "fixtures" / "packages" / "postmark-mcp"
OLD, NEW = POSTMARK / "1.0.15", POSTMARK / "1.0.16"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env.update(extra)
    return env


def _run(args: list[str], cwd: Path | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DISTRUST, *args], capture_output=True, text=True, env=_env(**extra), cwd=cwd, timeout=120
    )


def _served() -> int:
    proc = _run(["resident", "status"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return int(proc.stdout.split(" command(s) served")[0].rsplit(" ", 1)[1])


@pytest.fixture
def resident() -> Iterator[Path]:
    """A running analyser on the test's own socket (conftest points DISTRUST_RESIDENT_SOCKET there)."""
    sock = Path(os.environ[protocol.SOCKET_ENV])
    started = _run(["resident", "start", "--idle-timeout", "300"])
    assert started.returncode == 0, started.stdout + started.stderr
    assert "resident analyser started" in started.stdout
    try:
        yield sock
    finally:
        _run(["resident", "stop"])


def test_diff_through_the_analyser_is_the_in_process_diff(resident: Path) -> None:
    args = ["diff", str(OLD), str(NEW), "--format", "json"]
    served = _run(args)
    local = _run(args, DISTRUST_RESIDENT="0")
    assert _served() == 1  # the first run really went through the analyser
    assert served.returncode == local.returncode == 1  # critical finding, --fail-on high
    assert served.stdout == local.stdout
    assert served.stderr == local.stderr
    assert json.loads(served.stdout)["risk"]["level"] == "critical"


@pytest.mark.parametrize("fmt", ["table", "markdown", "sarif"])
def test_every_format_matches(resident: Path, fmt: str) -> None:
    args = ["inspect", str(NEW), "--format", fmt, "--fail-on", "none"]
    served, local = _run(args), _run(args, DISTRUST_RESIDENT="0")
    assert (served.returncode, served.stdout, served.stderr) == (local.returncode, local.stdout, local.stderr)
    assert served.returncode == 0


def test_relative_paths_output_file_and_environment_are_the_clients(resident: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    with tarfile.open(work / "postmark-mcp-1.0.16.tgz", "w:gz") as archive:
        archive.add(NEW, arcname="package")
    cache = tmp_path / "client-cache"
    proc = _run(
        ["inspect", "postmark-mcp-1.0.16.tgz", "--format", "json", "--output", "report.json"],
        cwd=work,
        DISTRUST_CACHE_DIR=str(cache),
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    assert json.loads((work / "report.json").read_text())["package"]["version"] == "1.0.16"
    assert any(cache.rglob("*.js"))  # extracted into the client's cache, not the analyser's
    assert _served() == 1


def test_errors_have_the_same_message_and_status(resident: Path, tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-package")
    served, local = _run(["inspect", missing]), _run(["inspect", missing], DISTRUST_RESIDENT="0")
    assert served.returncode == local.returncode == 2
    assert served.stderr == local.stderr and "error:" in served.stderr


def test_calls_the_fast_path_would_not_take_go_to_typer(resident: Path) -> None:
    served, local = _run(["inspect", "--help"]), _run(["inspect", "--help"], DISTRUST_RESIDENT="0")
    assert served.returncode == local.returncode == 0
    assert served.stdout == local.stdout and "--fail-on" in served.stdout
    bad = _run(["inspect", "x", "--format", "xml"])
    assert bad.returncode == 2 and "xml" in bad.stderr


def test_interrupt_reaches_the_command_and_its_status_is_ours(resident: Path, tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.mkdir()
    (big / "package.json").write_text('{"name": "big", "version": "1.0.0"}')
    body = "".join(f"function f{n}(a) {{ return require('path').join(a, 'x{n}'); }}\n" for n in range(200))
    for n in range(3000):
        (big / f"m{n}.js").write_text(body)
    proc = subprocess.Popen(
        [DISTRUST, "inspect", str(big), "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    deadline = time.monotonic() + 30
    while _running() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _running() == 1, "the command did not start in the analyser"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert out == "" and "Traceback" not in err
    assert _running() == 0


def _running() -> int:
    proc = _run(["resident", "status"])
    return int(proc.stdout.split(" running,")[0].rsplit(" ", 1)[1])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"package_dir": "/elsewhere/distrust"}, "a different distrust installation"),
        ({"prefix": "/another/venv"}, "a different Python environment"),
        ({"protocol": 0}, "different resident protocol"),
        ({"op": "shell"}, "not a request this analyser serves"),
    ],
)
def test_requests_it_must_not_serve_are_declined(
    resident: Path, change: dict[str, object], reason: str
) -> None:
    request: dict[str, object] = {
        "op": "run",
        "protocol": protocol.PROTOCOL,
        "version": distrust.__version__,
        "package_dir": protocol.package_dir(),
        "prefix": sys.prefix,
        "argv": ["distrust", "inspect", str(NEW)],
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": 0o022,
        "stdio": [],
        **change,
    }
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(resident))
        fds = b"".join(fd.to_bytes(4, sys.byteorder) for fd in (0, 1, 2))
        sock.sendmsg([encode(request)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
        assert MessageReader(sock).next() == {"declined": reason}
    assert _served() == 0


def test_a_second_start_is_refused(resident: Path) -> None:
    again = _run(["resident", "start"])
    assert again.returncode == 2
    assert "already running" in again.stderr


def test_stop_removes_the_socket_and_commands_then_run_in_process(resident: Path) -> None:
    stopped = _run(["resident", "stop"])
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert not resident.exists()
    assert _run(["resident", "status"]).returncode == 1
    proc = _run(["diff", str(OLD), str(NEW), "--format", "json"])
    assert proc.returncode == 1 and json.loads(proc.stdout)["risk"]["level"] == "critical"


def test_idle_analyser_exits_by_itself() -> None:
    started = _run(["resident", "start", "--idle-timeout", "1"])
    assert started.returncode == 0, started.stderr
    sock = Path(os.environ[protocol.SOCKET_ENV])
    deadline = time.monotonic() + 20
    while sock.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not sock.exists()
    assert _run(["resident", "status"]).returncode == 1


def test_an_outdated_analyser_steps_aside(resident: Path) -> None:
    """After distrust's files change on disk, the command runs in-process and the analyser exits."""
    source = Path(distrust.__file__)
    before = source.stat()
    try:
        os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
        proc = _run(["diff", str(OLD), str(NEW), "--format", "json"])
        assert proc.returncode == 1 and json.loads(proc.stdout)["risk"]["level"] == "critical"
        deadline = time.monotonic() + 20
        while resident.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not resident.exists()
    finally:
        os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_a_directory_others_can_write_to_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o777)
    proc = _run(["resident", "start"], DISTRUST_RESIDENT_SOCKET=str(shared / "r.sock"))
    assert proc.returncode == 2
    message = " ".join(proc.stderr.split())  # rich wraps long lines
    assert "open to other users (mode 0777; must be 0700)" in message and "Traceback" not in message
    assert not (shared / "r.sock").exists()


def test_private_directory_checks(tmp_path: Path) -> None:
    ok = tmp_path / "ok"
    ok.mkdir(mode=0o700)
    assert protocol.private_directory_problem(str(ok)) is None
    link = tmp_path / "link"
    link.symlink_to(ok)
    assert "not a directory" in (protocol.private_directory_problem(str(link)) or "")
    group = tmp_path / "group"
    group.mkdir()
    group.chmod(0o750)
    assert "0750" in (protocol.private_directory_problem(str(group)) or "")
    assert "does not exist" in (protocol.private_directory_problem(str(tmp_path / "nope")) or "")


def test_default_socket_location() -> None:
    assert protocol.socket_path({"XDG_RUNTIME_DIR": "/run/user/7"}) == "/run/user/7/distrust/resident.sock"
    assert protocol.socket_path({}) == f"/tmp/distrust-{os.getuid()}/resident.sock"
    assert protocol.socket_path({protocol.SOCKET_ENV: "/x/y.sock", "XDG_RUNTIME_DIR": "/r"}) == "/x/y.sock"


def test_peer_uid_comes_from_the_kernel() -> None:
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        assert protocol.peer_uid(a) == os.getuid()


def test_messages_are_framed_and_bounded() -> None:
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        env_value = "caf\udce9"  # an undecodable byte, as os.environ holds it
        a.sendall(encode({"op": "run", "env": {"X": env_value}}) + encode({"exit": 3}))
        reader = MessageReader(b)
        assert reader.next() == {"op": "run", "env": {"X": env_value}}
        assert reader.next() == {"exit": 3}
        a.sendall((protocol.MAX_MESSAGE + 1).to_bytes(4, "big"))
        with pytest.raises(ResidentError, match="larger than"):
            reader.next()
    c, d = socket.socketpair(socket.AF_UNIX)
    with d:
        c.sendall(encode({"op": "status"})[:-2])
        c.close()
        with pytest.raises(ResidentError, match="middle of a message"):
            MessageReader(d).next()
    e, f = socket.socketpair(socket.AF_UNIX)
    with e, f:
        e.sendall(encode([1, 2]))  # type: ignore[arg-type]
        with pytest.raises(ResidentError, match="must be a mapping"):
            MessageReader(f).next()


def test_fingerprint_notices_an_edit(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.pyc").write_bytes(b"\0")
    before = source_fingerprint(str(tmp_path))
    assert [Path(p).name for p, _, _ in before] == ["a.py"]  # bytecode is not code we ship
    (tmp_path / "a.py").write_text("x = 22\n")
    assert source_fingerprint(str(tmp_path)) != before
