"""``distrust resident start|stop|status``: manage the warm analyser process."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from distrust.resident.protocol import (
    MessageReader,
    ResidentError,
    encode,
    make_private_directory,
    peer_uid,
    private_directory_problem,
    socket_path,
)
from distrust.resident.server import LOCK_NAME

START_TIMEOUT = 60.0
"""Warming up runs the whole engine once (~1 s); a slow machine gets a generous margin."""

LOG_NAME = "resident.log"


@dataclass(frozen=True)
class ResidentStatus:
    """What a running analyser reports about itself."""

    pid: int
    socket: str
    version: str
    package_dir: str
    python: str
    started: float
    served: int
    running: int
    idle_timeout: float

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> ResidentStatus:
        try:
            return cls(
                pid=int(message["pid"]),
                socket=str(message["socket"]),
                version=str(message["version"]),
                package_dir=str(message["package_dir"]),
                python=str(message["python"]),
                started=float(message["started"]),
                served=int(message["served"]),
                running=int(message["running"]),
                idle_timeout=float(message["idle_timeout"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ResidentError(f"unexpected status answer from the resident analyser: {exc}") from None


def _ask(path: str, message: dict[str, Any], timeout: float = 5.0) -> dict[str, Any] | None:
    """Send one control message and read the answer; None when nothing listens there."""
    directory = os.path.dirname(path) or "."
    if not os.path.exists(path):
        return None
    problem = private_directory_problem(directory)
    if problem is not None:
        raise ResidentError(f"refusing to talk to the socket at {path}: {problem}")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except (ConnectionRefusedError, FileNotFoundError):
            return None  # a socket file left behind by an analyser that died
        if peer_uid(sock) != os.getuid():
            raise ResidentError(f"the socket at {path} belongs to another user")
        sock.sendall(encode(message))
        return MessageReader(sock).next()


def status(path: str | None = None) -> ResidentStatus | None:
    """The running analyser's status, or None when none is running at ``path``."""
    answer = _ask(path or socket_path(os.environ), {"op": "status"})
    return None if answer is None else ResidentStatus.from_message(answer)


def start(path: str | None = None, idle_timeout: float | None = None) -> ResidentStatus:
    """Start an analyser in the background and return once it answers (it warms up first)."""
    if sys.platform != "linux":
        raise ResidentError("the resident analyser needs Linux (it relies on SO_PEERCRED and pidfd)")
    path = path or socket_path(os.environ)
    current = status(path)
    if current is not None:
        raise ResidentError(f"a resident analyser is already running (pid {current.pid}, socket {path})")
    directory = os.path.dirname(path) or "."
    make_private_directory(directory)
    # -P: nothing from the working directory may shadow a module of ours or of the stdlib
    command = [sys.executable, "-P", "-m", "distrust.resident.server", "--socket", path]
    if idle_timeout is not None:
        command += ["--idle-timeout", str(idle_timeout)]
    log_path = os.path.join(directory, LOG_NAME)
    with open(log_path, "wb") as log:  # a fresh log per start: it only holds start-up failures
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # not killed with the shell that started it
            cwd="/",
            close_fds=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise ResidentError(
                f"the resident analyser exited while starting (status {code}): {_log_tail(log_path)}"
            )
        try:
            current = status(path)
        except (OSError, ResidentError):
            current = None
        if current is not None and current.pid == process.pid:
            return current
        time.sleep(0.05)
    process.terminate()
    raise ResidentError(
        f"the resident analyser did not start within {START_TIMEOUT:.0f} s: {_log_tail(log_path)}"
    )


def stop(path: str | None = None, wait: float = 30.0) -> int | None:
    """Ask the analyser to stop (commands in progress finish first); its pid, or None if none ran.

    An analyser that does not answer (another protocol version, or hung) but still holds the
    lock is sent SIGTERM, using the pid it wrote into the lock file.
    """
    path = path or socket_path(os.environ)
    try:
        answer = _ask(path, {"op": "stop"})
    except (OSError, ResidentError):
        answer = None
    pid = int(answer.get("stopping", 0)) if answer is not None else 0
    if not pid:
        pid = _lock_holder(os.path.dirname(path) or ".") or 0
        if not pid:
            return None
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while pid and time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    return pid or None


def _lock_holder(directory: str) -> int | None:
    """The pid in the lock file while an analyser holds the lock, else None."""
    if private_directory_problem(directory) is not None:
        return None
    try:
        fd = os.open(os.path.join(directory, LOCK_NAME), os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            text = os.read(fd, 64).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() else None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None  # nobody holds it: no analyser is running
    finally:
        os.close(fd)


def _log_tail(log_path: str, lines: int = 5) -> str:
    try:
        with open(log_path, encoding="utf-8", errors="replace") as log:
            tail = log.read().splitlines()[-lines:]
    except OSError:
        return f"(no log at {log_path})"
    return " | ".join(tail) if tail else f"(nothing in {log_path})"
