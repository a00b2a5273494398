"""``distrust run``: start a server the way the lock says, behind the relay.

A locked server runs from the verified store (never ``npx`` fetching "latest"), after its store
entry is re-hashed, with only the env keys its config declares, and with its tools pinned in
the lock. An ad-hoc command (``distrust run -- CMD``) gets the same relay, with pins kept in
distrust's data dir, so even an unlocked server cannot change its tools unnoticed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from distrust import paths
from distrust.gateway.audit import AuditLog
from distrust.gateway.guarded import (
    EgressSettings,
    GuardError,
    known_iocs,
    overrides_from_env,
    run_guarded,
    script_paths,
)
from distrust.gateway.http_relay import RemoteUrlError, check_remote_url, run_http_relay
from distrust.gateway.launch import ServerLaunch, minimal_env
from distrust.gateway.lock import LockSurfaceStore, approve_server, default_lock_path, load_lock
from distrust.gateway.pins import FileSurfaceStore, diff_surfaces
from distrust.gateway.store import verify_store_entry


class RunError(Exception):
    """The server cannot be started safely; the message says why and what to do."""


def _declared_env(keys: Sequence[str], environ: Mapping[str, str]) -> dict[str, str]:
    """The values of the declared keys only: the client passed them to us, we pass them on."""
    return {k: environ[k] for k in keys if k in environ}


def run_locked(
    name: str,
    *,
    lock_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    sandbox: bool = True,
) -> int:
    """Run the locked server ``name`` from the store through the relay; returns the exit code."""
    lock_file = lock_path or default_lock_path()
    lock = load_lock(lock_file)
    entry = lock.server(name)
    if entry is None:
        known = ", ".join(s.name for s in lock.servers) or "none"
        raise RunError(f"{name!r} is not in {lock_file} (locked servers: {known}); run `distrust lock` first")
    if entry.launch is not None and entry.launch.transport in REMOTE_TRANSPORTS:
        return _run_remote(name, entry.launch.url, lock_file)
    if entry.launch is None or entry.launch.transport != "stdio" or not entry.launch.command:
        raise RunError(
            f"{name}: only locked stdio and streamable-HTTP servers can be run for now "
            f"(this entry is {entry.kind}, transport {entry.launch.transport if entry.launch else 'none'})"
        )
    if entry.store is not None:
        verify_store_entry(Path(entry.store.path), entry.store.digest)
    source = environ if environ is not None else os.environ
    env = minimal_env(_declared_env(entry.env_keys, source))
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")  # a Python server must not add files to the store
    launch = ServerLaunch(command=(entry.launch.command, *entry.launch.args), env=env, cwd=None)
    settings = EgressSettings(
        allow_hosts=entry.egress_allow,
        recipients=entry.recipients,
        ro_paths=(Path(entry.store.path),) if entry.store is not None else script_paths(launch.command),
        rw_paths=tuple(Path(p) for p in entry.fs_grants),
        overrides=_overrides(source),
        iocs=known_iocs(),
    )
    audit = AuditLog()
    try:
        return run_guarded(
            launch,
            server_name=name,
            surfaces=LockSurfaceStore(lock_file),
            audit=audit,
            settings=settings,
            sandbox=sandbox,
        )
    finally:
        audit.close()


def _overrides(environ: Mapping[str, str]) -> dict[str, str]:
    try:
        return overrides_from_env(environ)
    except GuardError as exc:
        raise RunError(str(exc)) from None


REMOTE_TRANSPORTS = ("http", "streamable-http")


def _run_remote(name: str, url: str | None, lock_file: Path) -> int:
    """A locked remote server: relay stdio to its URL, with the lock's pins and the audit log."""
    if not url:
        raise RunError(f"{name}: the lock entry has a remote transport but no url; run `distrust lock` again")
    try:
        check_remote_url(url)
    except RemoteUrlError as exc:
        raise RunError(f"{name}: {exc}") from None
    audit = AuditLog()
    try:
        return run_http_relay(url, server_name=name, surfaces=LockSurfaceStore(lock_file), audit=audit)
    finally:
        audit.close()


def adhoc_name(command: Sequence[str]) -> str:
    """A stable name for an unlocked command: its package or script name."""
    words = [w for w in command if not w.startswith("-")]
    last = Path(words[-1] if len(words) > 1 else command[0]).name
    return re.sub(r"[^\w.@-]+", "_", last) or "server"


def run_adhoc(
    command: Sequence[str],
    *,
    name: str | None = None,
    env_keys: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    allow_hosts: Sequence[str] = (),
    recipients: Sequence[str] = (),
    sandbox: bool = True,
) -> int:
    """Run any command behind the relay, sandboxed; tools are pinned in the data dir under ``name``."""
    if not command:
        raise RunError("nothing to run: give a command after `--`")
    server = name or adhoc_name(command)
    source = environ if environ is not None else os.environ
    env = minimal_env(_declared_env(env_keys, source))
    launch = ServerLaunch(command=tuple(command), env=env, cwd=None)
    settings = EgressSettings(
        allow_hosts=tuple(allow_hosts),
        recipients=tuple(recipients),
        ro_paths=script_paths(command),
        overrides=_overrides(source),
        iocs=known_iocs(),
    )
    pins = FileSurfaceStore(paths.data_dir() / "pins" / f"{server}.json")
    audit = AuditLog()
    try:
        return run_guarded(
            launch, server_name=server, surfaces=pins, audit=audit, settings=settings, sandbox=sandbox
        )
    finally:
        audit.close()


def pending_approval(name: str, *, lock_path: Path | None = None) -> tuple[list[str], str]:
    """The readable difference awaiting ``distrust approve name``, and where it is kept.

    Locked servers keep proposals in the lock; ad-hoc ones in distrust's pin files.
    """
    lock_file = lock_path or default_lock_path()
    if lock_file.exists():
        entry = load_lock(lock_file).server(name)
        if entry is not None:
            if entry.proposed_tools is None:
                raise RunError(f"{name}: no changed tools are awaiting approval")
            return diff_surfaces(entry.tools, entry.proposed_tools), "lock"
    pins = FileSurfaceStore(paths.data_dir() / "pins" / f"{name}.json")
    proposed = pins.proposed(name)
    if proposed is None:
        raise RunError(f"{name}: no changed tools are awaiting approval (not in the lock, no ad-hoc pins)")
    return diff_surfaces(pins.pinned(name), proposed), "pins"


def approve(name: str, *, lock_path: Path | None = None) -> None:
    """Pin the proposed tool definitions of ``name`` (after the user saw the difference)."""
    _, where = pending_approval(name, lock_path=lock_path)
    if where == "lock":
        approve_server(name, lock_path or default_lock_path())
        return
    pins = FileSurfaceStore(paths.data_dir() / "pins" / f"{name}.json")
    proposed = pins.proposed(name)
    if proposed is not None:
        pins.pin(name, proposed)
