"""Where the resident analyser listens, and how a request and its answers are framed.

Only modules Python has loaded at start-up anyway, or that are built in, are imported here: this
module is on the path of every ``distrust inspect``/``diff`` call, before anything else is
loaded, so it must cost well under a millisecond. (A fresh interpreter takes ~15 ms; ``json``,
``socket`` and ``typing`` would add ~15 ms more, as much as serving the whole command.)

Safety of the socket rests on three checks, all fail-closed:

* the socket lives in a directory owned by the user and closed to everyone else (mode 0700);
  a directory that is not is never used and never created into;
* both ends read the other's uid from the kernel (``SO_PEERCRED``) and refuse any other user;
* the server answers only a client running the same Python and the same distrust installation,
  and declines once any of its own source files changed on disk (the client then analyses
  in-process, so an upgrade never runs old code).
"""

from __future__ import annotations

import _socket  # the C module behind ``socket``, which would import enum (~8 ms) on every call
import marshal
import os
import stat
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~3 ms to import; the client path cannot afford it
    from typing import Any

PROTOCOL = 1
"""Bumped whenever a message changes shape; a server and client that differ never talk."""

SOCKET_ENV = "DISTRUST_RESIDENT_SOCKET"
"""Use this socket path instead of the default (tests, or one analyser per project)."""

DISABLE_ENV = "DISTRUST_RESIDENT"
"""``0`` makes ``inspect``/``diff`` ignore a running resident analyser and work in-process."""

SOCKET_NAME = "resident.sock"
MAX_MESSAGE = 8 * 1024 * 1024
"""An environment is a few KB; anything near this size is not a request from our client."""

_LENGTH_BYTES = 4


class ResidentError(Exception):
    """The resident analyser cannot be used (unsafe directory, unreachable, refused)."""


def socket_path(environ: dict[str, str] | os._Environ[str]) -> str:
    """The socket for this user: ``$DISTRUST_RESIDENT_SOCKET``, else under ``$XDG_RUNTIME_DIR``.

    Without ``XDG_RUNTIME_DIR`` (no login session: containers, cron) it is
    ``/tmp/distrust-UID/``, a directory the server creates with mode 0700 and both ends check.
    """
    override = environ.get(SOCKET_ENV, "")
    if override:
        return override
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.isabs(runtime):
        return os.path.join(runtime, "distrust", SOCKET_NAME)
    return os.path.join("/tmp", f"distrust-{os.getuid()}", SOCKET_NAME)


def private_directory_problem(directory: str) -> str | None:
    """Why ``directory`` may not hold our socket, or None when it is ours alone.

    Anyone who can write to the directory could swap the socket for their own and receive every
    request, environment included; so it must be a real directory (not a link), owned by this
    user, with no access for group or others.
    """
    try:
        info = os.lstat(directory)
    except FileNotFoundError:
        return f"{directory} does not exist"
    except OSError as exc:
        return f"{directory}: {exc.strerror or exc}"
    if not stat.S_ISDIR(info.st_mode):
        return f"{directory} is not a directory"
    if info.st_uid != os.getuid():
        return f"{directory} belongs to uid {info.st_uid}, not to this user ({os.getuid()})"
    if info.st_mode & 0o077:
        return f"{directory} is open to other users (mode {stat.S_IMODE(info.st_mode):04o}; must be 0700)"
    return None


def make_private_directory(directory: str) -> None:
    """Create ``directory`` with mode 0700 if missing; raise ResidentError if it is not private."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise ResidentError(f"cannot create {directory}: {exc.strerror or exc}") from None
    problem = private_directory_problem(directory)
    if problem is not None:
        raise ResidentError(f"refusing to use {directory} for the resident analyser's socket: {problem}")


def peer_uid(sock: _socket.socket) -> int:
    """The uid of the process at the other end of a connected Unix socket, from the kernel."""
    creds = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)  # struct ucred: pid, uid, gid
    return int.from_bytes(creds[4:8], sys.byteorder, signed=True)


def package_dir() -> str:
    """The directory of the distrust installation in this interpreter (both ends must agree)."""
    return os.path.dirname(os.path.abspath(__file__)).rsplit(os.sep, 1)[0]


def encode(message: dict[str, Any]) -> bytes:
    """A length-prefixed message, serialised with :mod:`marshal`.

    marshal is built in (json would import re and enum: ~10 ms on every command) and round-trips
    the str, int, bool, list and dict a message holds, non-UTF-8 environment values included.
    It is not meant for hostile input, so both ends read it only from a peer the kernel says is
    this same user (``peer_uid``), who could as well attach a debugger to our process.
    """
    body = marshal.dumps(message)
    return len(body).to_bytes(_LENGTH_BYTES, "big") + body


class MessageReader:
    """Reads length-prefixed messages from a stream socket, keeping what arrived early.

    The server's answers (accepted, then exit) can arrive in one read; bytes beyond the current
    message wait in the buffer for the next call.
    """

    def __init__(self, sock: _socket.socket, first: bytes = b"") -> None:
        self.sock = sock
        self.buffer = bytearray(first)

    def _fill(self, size: int) -> bool:
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                return False
            self.buffer += chunk
        return True

    def next(self) -> dict[str, Any] | None:
        """The next message, or None when the stream ended cleanly between messages."""
        if not self._fill(_LENGTH_BYTES):
            if self.buffer:
                raise ResidentError("connection closed in the middle of a message")
            return None
        length = int.from_bytes(self.buffer[:_LENGTH_BYTES], "big")
        if length > MAX_MESSAGE:
            raise ResidentError(f"message of {length} bytes is larger than {MAX_MESSAGE}")
        if not self._fill(_LENGTH_BYTES + length):
            raise ResidentError("connection closed in the middle of a message")
        body = bytes(self.buffer[_LENGTH_BYTES : _LENGTH_BYTES + length])
        del self.buffer[: _LENGTH_BYTES + length]
        try:
            message = marshal.loads(body)
        except (ValueError, EOFError, TypeError) as exc:
            raise ResidentError(f"malformed message: {exc}") from None
        if not isinstance(message, dict):
            raise ResidentError("a message must be a mapping")
        return message
