"""Start an MCP server process with nothing of the user's environment it was not given.

A stdio MCP server normally inherits the whole environment of the client that starts it:
every API key, cloud credential and token the user has exported. A malicious server only has
to read ``process.env`` to steal them. The gateway therefore builds the server's environment
from scratch: the keys the server's config declares, plus a small, documented base that
programs need to start at all (:data:`BASE_ENV`). Nothing else crosses over.

The process is started without a shell (no quoting surprises, no ``$(...)`` expansion) in its
own process group, so that stopping it also stops the helpers it spawned (``npx`` runs the real
server as a child process).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class BaseEnvKey:
    """One environment variable a server may inherit from the user, and why it is harmless."""

    name: str
    rationale: str
    platform: str = "all"  # "all" | "posix" | "windows"


BASE_ENV: tuple[BaseEnvKey, ...] = (
    BaseEnvKey("PATH", "finds node, npx, python, uvx; a list of directories, not a secret"),
    BaseEnvKey("HOME", "package managers keep caches there; replaced by a private HOME when one is given"),
    BaseEnvKey("TMPDIR", "where temporary files go; replaced by a private directory when one is given"),
    BaseEnvKey("LANG", "text encoding of the process; wrong or missing breaks non-ASCII output"),
    BaseEnvKey("LC_ALL", "locale override, same reason as LANG"),
    BaseEnvKey("LC_CTYPE", "character classification locale, same reason as LANG"),
    BaseEnvKey("TZ", "time zone for timestamps the server prints"),
    BaseEnvKey("USER", "login name; some tools refuse to start without it", "posix"),
    BaseEnvKey("LOGNAME", "login name, POSIX spelling", "posix"),
    BaseEnvKey("SYSTEMROOT", "Windows system directory; many runtimes fail without it", "windows"),
    BaseEnvKey("WINDIR", "Windows directory", "windows"),
    BaseEnvKey("COMSPEC", "Windows command interpreter path, needed to run .cmd shims like npx", "windows"),
    BaseEnvKey("PATHEXT", "which extensions Windows treats as programs (npx.cmd)", "windows"),
    BaseEnvKey("APPDATA", "npm's global prefix and caches on Windows", "windows"),
    BaseEnvKey("LOCALAPPDATA", "per-user caches on Windows", "windows"),
    BaseEnvKey("USERPROFILE", "the Windows HOME", "windows"),
    BaseEnvKey("TEMP", "Windows temporary directory", "windows"),
    BaseEnvKey("TMP", "Windows temporary directory", "windows"),
    BaseEnvKey("PROGRAMFILES", "where Windows installs node and python", "windows"),
)
"""The only variables a server inherits unless its config declares more (same idea as the MCP
SDKs' ``DEFAULT_INHERITED_ENV_VARS``, minus anything that could hold a credential)."""


def default_passthrough_keys(platform: str = sys.platform) -> tuple[str, ...]:
    """Names from :data:`BASE_ENV` that apply on ``platform`` (``sys.platform`` spelling)."""
    family = "windows" if platform.startswith("win") else "posix"
    return tuple(k.name for k in BASE_ENV if k.platform in ("all", family))


def minimal_env(
    declared: Mapping[str, str],
    passthrough_keys: tuple[str, ...] | None = None,
    *,
    home: Path | None = None,
    tmpdir: Path | None = None,
    parent: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The complete environment for a server: the base keys copied from ``parent``, then ``declared``.

    ``declared`` is what the server's config says it needs (its API key, its options); those
    values win over the base. ``home``/``tmpdir`` replace the user's HOME/TMPDIR with private
    directories, so a server cannot read ``~/.ssh`` through ``$HOME``. ``parent`` defaults to
    ``os.environ``; nothing in it outside ``passthrough_keys`` reaches the server.
    """
    source = os.environ if parent is None else parent
    keys = default_passthrough_keys() if passthrough_keys is None else passthrough_keys
    env = {key: source[key] for key in keys if key in source}
    if home is not None:
        env["HOME"] = str(home)
        if "USERPROFILE" in keys:
            env["USERPROFILE"] = str(home)
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
        for key in ("TEMP", "TMP"):
            if key in keys:
                env[key] = str(tmpdir)
    for key, value in declared.items():
        if not key or "=" in key or "\0" in key or "\0" in value:
            raise ValueError(f"environment variable {key!r} of the server config is not a valid name/value")
        env[key] = value
    return env


class LaunchError(Exception):
    """The server could not be started; the message names the command and the reason."""


@dataclass(frozen=True)
class ServerLaunch:
    """How to start one stdio server: argv (no shell), its complete environment, its directory.

    ``env`` is used as is, so build it with :func:`minimal_env`. ``env`` is left out of ``repr``
    because declared values are often API keys.
    """

    command: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    cwd: Path | None = None

    def __post_init__(self) -> None:
        if not self.command or not self.command[0]:
            raise LaunchError("no command to launch: the server entry has an empty command")


STREAM_LIMIT = 64 * 1024 * 1024
"""Largest single JSON-RPC line accepted from either side (a big tool result fits; a runaway doesn't)."""


async def spawn(launch: ServerLaunch, *, stderr: IO[bytes] | int | None = None) -> asyncio.subprocess.Process:
    """Start the server with pipes on stdin/stdout; stderr goes to ours unless ``stderr`` is given.

    The child gets its own session (process group), so :func:`terminate` can reach the whole
    tree and a Ctrl-C in the user's terminal reaches the gateway first, which then shuts the
    server down in order.
    """
    try:
        return await asyncio.create_subprocess_exec(
            *launch.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            env=dict(launch.env),
            cwd=launch.cwd,
            limit=STREAM_LIMIT,
            start_new_session=sys.platform != "win32",
        )
    except FileNotFoundError:
        raise LaunchError(f"cannot start {launch.command[0]!r}: no such program (is it on PATH?)") from None
    except PermissionError:
        raise LaunchError(f"cannot start {launch.command[0]!r}: permission denied") from None
    except OSError as exc:
        raise LaunchError(f"cannot start {launch.command[0]!r}: {exc.strerror or exc}") from None


def _signal_group(proc: asyncio.subprocess.Process, sig: int) -> None:
    if proc.returncode is not None:
        return
    try:
        if sys.platform != "win32":
            os.killpg(proc.pid, sig)
        else:  # pragma: no cover - exercised on Windows only
            proc.send_signal(sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        proc.send_signal(sig)


async def terminate(proc: asyncio.subprocess.Process, grace: float = 3.0) -> int:
    """Stop the server the way the MCP stdio transport asks: close stdin, wait, SIGTERM, wait, SIGKILL.

    Returns the exit status. Never waits longer than about ``2 * grace`` seconds.
    """
    if proc.stdin is not None and not proc.stdin.is_closing():
        proc.stdin.close()
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None:
            _signal_group(proc, sig)
        try:
            return await asyncio.wait_for(proc.wait(), grace if sig != signal.SIGKILL else None)
        except TimeoutError:
            continue
    return await proc.wait()  # pragma: no cover - the SIGKILL wait above has no timeout


def describe_exit(returncode: int) -> str:
    """``exit code 3`` or ``signal 9 (SIGKILL)``: how a server ended, for messages and the audit log."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "unknown"
        return f"signal {-returncode} ({name})"
    return f"exit code {returncode}"
