"""Hand an ``inspect``/``diff`` call to a running resident analyser, if there is a usable one.

Called by the console entry point before anything heavy is imported. Every way this can fail
*before* the analyser has accepted the command (no socket, unsafe directory, another user's
process, another distrust installation, the analyser outdated or busy starting) returns None,
and the command runs in-process exactly as it would without a resident analyser. Once the
analyser has accepted, it owns the command: its output goes straight to our stdout and stderr,
Ctrl-C and termination signals are forwarded to it, and its exit status becomes ours.
"""

from __future__ import annotations

import _signal  # ``signal`` would import enum (~8 ms); _signal is loaded at start-up already
import _socket  # likewise for ``socket``
import os
import sys

from distrust import __version__
from distrust.resident.protocol import (
    DISABLE_ENV,
    PROTOCOL,
    MessageReader,
    ResidentError,
    encode,
    package_dir,
    peer_uid,
    private_directory_problem,
    socket_path,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # not imported at run time: see protocol.py
    from collections.abc import Sequence
    from typing import Any

COMMANDS = frozenset({"inspect", "diff"})
"""Only these go to the analyser; it declines any call it would not parse exactly as Typer."""

CONNECT_TIMEOUT = 2.0
ACCEPT_TIMEOUT = 30.0
"""How long to wait for the analyser to say it took the command (a fork: normally ~ms)."""

FORWARDED_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")

EXIT_ERROR = 2


def _stdio_spec() -> list[list[Any]]:
    """How our stdin/stdout/stderr encode text, so the analyser's child writes the same bytes."""
    spec: list[list[Any]] = []
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        spec.append(
            [
                getattr(stream, "encoding", None) or "utf-8",
                getattr(stream, "errors", None) or "strict",
                bool(getattr(stream, "line_buffering", False)),
                bool(getattr(stream, "write_through", False)),
            ]
        )
    return spec


def _connect(path: str) -> _socket.socket | None:
    if private_directory_problem(os.path.dirname(path) or ".") is not None:
        return None
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(CONNECT_TIMEOUT)
    try:
        sock.connect(path)
        if peer_uid(sock) != os.getuid():
            raise OSError("the socket belongs to another user")
    except OSError:
        sock.close()
        return None
    return sock


def _send_request(sock: _socket.socket, argv: Sequence[str]) -> None:
    data = encode(
        {
            "op": "run",
            "protocol": PROTOCOL,
            "version": __version__,
            "package_dir": package_dir(),
            "prefix": sys.prefix,
            "argv": ["distrust", *argv],
            "cwd": os.getcwd(),
            "env": dict(os.environ),
            "umask": _current_umask(),
            "stdio": _stdio_spec(),
        }
    )
    fds = b"".join(fd.to_bytes(4, sys.byteorder) for fd in (0, 1, 2))  # an array of C ints
    sent = sock.sendmsg([data[:65536]], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
    sock.sendall(data[sent:])


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def run_resident(argv: Sequence[str]) -> int | None:
    """The exit status of ``distrust ARGV`` run by the resident analyser, or None to run it here."""
    if not argv or argv[0] not in COMMANDS or os.environ.get(DISABLE_ENV, "") == "0":
        return None
    if sys.platform != "linux":
        return None  # the analyser needs Linux (SO_PEERCRED, pidfd); elsewhere none can be running
    path = socket_path(os.environ)
    if not os.path.exists(path):
        return None  # the usual case: no analyser started; this cost one stat
    try:
        accepted = _hand_over(path, argv)
    except Exception:  # before acceptance nothing ran: any surprise means "analyse in-process"
        return None
    if accepted is None:
        return None
    sock, reader, child = accepted
    try:
        return _wait_for(sock, reader, child)
    finally:
        sock.close()


def _hand_over(path: str, argv: Sequence[str]) -> tuple[_socket.socket, MessageReader, int] | None:
    """Send the command; the connection, reader and command's pid once the analyser took it."""
    os.getcwd()  # raises if our working directory was deleted: the analyser could not enter it
    sock = _connect(path)
    if sock is None:
        return None
    try:
        _send_request(sock, argv)
        sock.settimeout(ACCEPT_TIMEOUT)
        reader = MessageReader(sock)
        answer = reader.next()
        if answer is None or "accepted" not in answer:
            sock.close()
            return None  # declined (outdated, other install, not a plain call) or gone
        return sock, reader, int(answer["accepted"])
    except BaseException:
        sock.close()
        raise


def _wait_for(sock: _socket.socket, reader: MessageReader, child: int) -> int:
    """Relay signals to the command until its exit status arrives; that status is ours."""

    def forward(signum: int, _frame: object) -> None:
        try:
            os.killpg(child, signum)  # the command and any workers it forked, as a terminal would
        except (ProcessLookupError, PermissionError):  # already gone; contextlib costs an import
            return

    numbers = [getattr(_signal, name) for name in FORWARDED_SIGNALS]
    previous = {s: _signal.signal(s, forward) for s in numbers}
    try:
        sock.settimeout(None)
        answer = reader.next()
    except (OSError, ResidentError):
        answer = None
    finally:
        for signum, handler in previous.items():
            _signal.signal(signum, handler)
    if answer is not None and "exit" in answer:
        return int(answer["exit"])
    if answer is not None and "signal" in answer:
        return 128 + int(answer["signal"])
    sys.stderr.write(
        "error: the resident analyser stopped before the command finished; run it again, or set "
        f"{DISABLE_ENV}=0 to analyse without it\n"
    )
    return EXIT_ERROR
