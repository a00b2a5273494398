"""Walk the locations in the table, read each config that exists, and collect its servers.

Every user-file problem (unreadable, not a file, too big, not UTF-8, bad syntax, a server of
the wrong shape) becomes a :class:`~distrust.model.Notice` and the walk goes on: one broken
config must not hide the servers in the others. A location that does not exist is silence,
not a notice; most people use two or three clients, not twelve.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distrust.discover.entries import EntryContext, normalize_entry
from distrust.discover.formats import ConfigSyntaxError, Document, format_for, parse
from distrust.discover.table import Client, KeyPath, Location, Table, load_table
from distrust.fsutil import DEFAULT_MAX_BYTES, ReadError, read_text_capped
from distrust.model import Notice, ServerSpec

# errno values that mean "nothing is there" rather than "something is there but unreadable".
_ABSENT = {errno.ENOENT, errno.ENOTDIR}


@dataclass(frozen=True)
class Discovery:
    """The servers the configs declare, what could not be read, and which files were read."""

    servers: tuple[ServerSpec, ...]
    notices: tuple[Notice, ...]
    configs_read: tuple[Path, ...]


@dataclass(frozen=True)
class _Candidate:
    """A path worth reading and how to read it; ``location`` is None for an explicit file."""

    path: Path
    location: Location | None
    scope: str


@dataclass
class _Collector:
    servers: list[ServerSpec] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    configs_read: list[Path] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)


def discover(
    home: Path,
    *,
    projects: Sequence[Path] = (),
    extra_configs: Sequence[Path] = (),
    env: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Discovery:
    """Find the MCP servers configured under ``home``, in ``projects`` and in ``extra_configs``.

    Every location of every supported client is checked under ``home`` whatever the current
    OS. ``env`` (e.g. ``os.environ``) adds the directories that ``CLAUDE_CONFIG_DIR``,
    ``CODEX_HOME``, ``XDG_CONFIG_HOME``, ``APPDATA``… point at; without it discovery depends
    on ``home`` alone. The same file reached twice (a project that is the home, a symlink) is
    read once, as the first location that named it. Never raises for a user file.
    """
    table = load_table()
    out = _Collector()
    for candidate in _candidates(table, Path(home), projects, extra_configs, env):
        _read_candidate(table, candidate, out, max_bytes)
    return Discovery(tuple(out.servers), tuple(out.notices), tuple(out.configs_read))


def _candidates(
    table: Table,
    home: Path,
    projects: Sequence[Path],
    extra_configs: Sequence[Path],
    env: Mapping[str, str] | None,
) -> Iterator[_Candidate]:
    for location in table.user_locations:
        for path in location.candidates(home, env):
            yield _Candidate(path, location, location.scope)
    for project in projects:
        for location in table.project_locations:
            for path in location.project_candidates(Path(project)):
                yield _Candidate(path, location, location.scope)
    for extra in extra_configs:
        yield _Candidate(Path(extra), None, "user")


def _identity(path: Path) -> str:
    """One key per file, however it was reached; realpath tolerates loops and missing parts."""
    return os.path.normcase(os.path.realpath(path))


def _read_candidate(table: Table, candidate: _Candidate, out: _Collector, max_bytes: int) -> None:
    path = candidate.path
    explicit = candidate.location is None
    try:
        os.lstat(path)
    except OSError as exc:
        if exc.errno in _ABSENT:
            if explicit:  # the user named this file, so its absence is news
                out.notices.append(Notice(f"{path}: no such file", path))
            return
        reason = (exc.strerror or str(exc)).lower()
        out.notices.append(Notice(f"{path}: cannot read: {reason}", path))
        return
    key = _identity(path)
    if key in out.seen:
        return
    out.seen.add(key)

    declared = candidate.location.fmt if candidate.location else "auto"
    fmt = format_for(path.name, declared)
    if fmt is None:
        if explicit:
            fmt = "jsonc"  # an explicit file with an odd name: JSON is by far the most common
        else:
            return  # a README or backup beside Continue's block files: not a config
    try:
        text = read_text_capped(path, max_bytes)
    except ReadError as exc:
        out.notices.append(Notice(f"{path}: cannot read: {exc.reason}", path))
        return
    try:
        document = parse(text, fmt)
    except ConfigSyntaxError as exc:
        out.notices.append(Notice(f"{path}: not valid {fmt.upper()}: {exc}", path, exc.line))
        return
    out.configs_read.append(path)

    if candidate.location is not None:
        location = candidate.location
        keys, client, wildcard_scope = location.keys, location.client, location.wildcard_scope
    else:
        recognised = _recognise(table, path, document.root)
        if recognised is None:
            out.notices.append(Notice(f"{path}: no MCP server list found (not a known client config)", path))
            return
        keys, client, wildcard_scope = recognised
    _collect(document, keys, client, candidate.scope, wildcard_scope, path, out)


def _recognise(table: Table, path: Path, root: Any) -> tuple[tuple[KeyPath, ...], Client, str] | None:
    """Guess the client of an explicitly given file from its shape, then its name."""
    for shape in table.shapes:
        if not any(_lookup(root, key_path) for key_path in shape.keys):
            continue
        client_id = shape.client or _client_by_name(table, path.name, shape.keys[0])
        return shape.keys, table.clients[client_id], shape.wildcard_scope
    return None


def _client_by_name(table: Table, file_name: str, first_key: KeyPath) -> str:
    matches = {
        loc.client.id for loc in table.locations if loc.keys[0] == first_key and file_name in loc.file_names()
    }
    return matches.pop() if len(matches) == 1 else "custom"


def _lookup(root: Any, key_path: KeyPath) -> list[tuple[Any, tuple[str, ...], bool]]:
    """Values at ``key_path``: (value, concrete path, reached through a ``*``)."""
    found: list[tuple[Any, tuple[str, ...], bool]] = [(root, (), False)]
    for key in key_path:
        step: list[tuple[Any, tuple[str, ...], bool]] = []
        for value, where, wild in found:
            if not isinstance(value, dict):
                continue
            if key == "*":
                step.extend((v, (*where, str(k)), True) for k, v in value.items())
            elif key in value and value[key] is not None:
                step.append((value[key], (*where, key), wild))
        found = step
    return found


def _collect(
    document: Document,
    keys: Sequence[KeyPath],
    client: Client,
    scope: str,
    wildcard_scope: str,
    path: Path,
    out: _Collector,
) -> None:
    if not isinstance(document.root, dict):
        kind = "a list" if isinstance(document.root, list) else "a single value"
        out.notices.append(Notice(f"{path}: expected an object at the top level, found {kind}", path, 1))
        return
    for key_path in keys:
        for container, where, wild in _lookup(document.root, key_path):
            ctx = EntryContext(client, path, wildcard_scope if wild else scope)
            for name, raw, line in _entries(document, container, where, path, out):
                spec, notices = normalize_entry(name, raw, ctx, line)
                out.notices.extend(notices)
                if spec is not None:
                    out.servers.append(spec)


def _entries(
    document: Document, container: Any, where: tuple[str, ...], path: Path, out: _Collector
) -> Iterator[tuple[str, Any, int | None]]:
    """(name, entry, line) for a map of name -> entry or a list of entries with ``name``."""
    dotted = ".".join(where)
    if isinstance(container, dict):
        for name, raw in container.items():
            yield str(name), raw, document.key_line(container, str(name), where)
    elif isinstance(container, list):
        for index, raw in enumerate(container):
            line = Document.item_line(raw)
            name = raw.get("name") if isinstance(raw, dict) else None
            if not isinstance(name, str) or not name:
                name = f"{dotted}[{index}]"
            yield name, raw, line
    else:
        line = document.key_line(_parent(document.root, where), where[-1], where[:-1]) if where else None
        out.notices.append(
            Notice(f"{path}: '{dotted}' should be an object or a list of servers; ignored", path, line)
        )


def _parent(root: Any, where: tuple[str, ...]) -> Any:
    value = root
    for key in where[:-1]:
        value = value.get(key) if isinstance(value, dict) else None
    return value
