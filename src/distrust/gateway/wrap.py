"""``distrust wrap`` / ``distrust unwrap``: route every configured MCP server through ``distrust run``.

A client starts whatever command its config names, so the only place to put the gateway in
front of a server without patching each client is the config itself. ``wrap`` rewrites each
server entry to ``<distrust> run --server <lock name>`` and remembers what was there;
``unwrap`` puts the user's file back exactly as it was.

Promises, and how they are kept:

* **Only the entry's launch fields change.** Comments, key order, formatting and unrelated
  settings survive because the edit is a handful of splices at the exact offsets of the
  ``command``/``args`` values (``gateway.configedit``), never a re-serialisation. Every edit
  is proved before it is written: the new text is parsed with discover's own parsers, the
  entry must now read as the distrust command, and the rest of the document must read exactly
  as before. An entry that cannot be edited safely (YAML anchors, TOML dotted keys, block
  scalars) is skipped with the reason, and the file is left alone if nothing can be done.
* **The env stays where it is.** The client keeps passing the server's environment (API
  tokens) to the process it starts, now ``distrust run``, which forwards only declared keys.
  No secret is moved into another file by wrap itself; the backups are copies of the user's
  file, kept in a directory only the user can read.
* **Unwrap is exact.** Before the first write the file is backed up and the state records the
  sha256 of the original bytes and of what distrust wrote. ``unwrap`` restores the backup byte
  for byte, but refuses when the file changed since distrust wrote it (the user's later edits
  would be lost) unless ``force`` is given; a forced restore backs up the edited file first.
* **Re-wrapping an edited file** (the user added a server after wrapping) is refused without
  ``force`` for the same reason. With ``force`` the edited file is backed up, new entries are
  wrapped, and the recorded original stays the pre-distrust file from the first wrap (the only
  version with no distrust entries, so the only honest target for unwrap); the edited copy's
  backup is listed in the state and in unwrap's report so those edits can be recovered.
* **Symlinked configs** (dotfile managers) are edited at their target; the link stays a link.

Remote (url) servers are converted to stdio entries too, since ``distrust run`` can relay to
the URL, when the client reads stdio entries from that file and the entry carries no headers
or auth settings (those hold credentials that a stdio entry could not pass on); otherwise they
are reported as skipped.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from distrust import paths
from distrust.discover.entries import (
    ARGS_FIELDS,
    COMMAND_FIELDS,
    HEADER_FIELDS,
    TYPE_FIELDS,
    URL_FIELDS,
    EntryContext,
    normalize_entry,
)
from distrust.discover.formats import ConfigSyntaxError, format_for, parse
from distrust.discover.table import KeyPath, Location, load_table
from distrust.fsutil import ReadError, atomic_write, read_bytes_capped
from distrust.gateway.configedit import (
    Edit,
    EditError,
    Member,
    Node,
    Syntax,
    apply_edits,
    read_tree,
    syntax_for,
    walk,
)
from distrust.model import Notice, ServerSpec
from distrust.statefiles import RecordStore, StateError

__all__ = [
    "FileOutcome",
    "ServerOutcome",
    "WrapError",
    "WrapReport",
    "WrappedServer",
    "is_wrapped",
    "load_wrapped",
    "run_args",
    "unwrap_configs",
    "wrap_configs",
]

STATE_VERSION = 1
_BOM = b"\xef\xbb\xbf"

# --- policy tables ----------------------------------------------------------------------------

# How a client spells the command of a stdio entry, used when a url entry becomes one. A client
# missing here gets "command". ``None`` means: this file's url entries must stay as they are.
STDIO_COMMAND_KEY: dict[str, str | None] = {
    "goose": "cmd",  # Goose extensions: type: stdio, cmd, args, envs
    # Claude Desktop ignores url entries in claude_desktop_config.json (remote servers are added
    # as connectors in the app), so turning one into a stdio entry would start a server the
    # user never ran.
    "claude-desktop": None,
}

# Fields of a remote entry that carry credentials or an auth flow. A stdio entry has no way to
# hand them to ``distrust run`` without moving secrets, so such an entry is left as it is.
REMOTE_AUTH_FIELDS: tuple[str, ...] = (
    *HEADER_FIELDS,
    "env_http_headers",  # Codex: header values read from env variables
    "bearer_token_env_var",  # Codex
    "oauth",  # Gemini CLI, VS Code
    "authProviderType",  # Gemini CLI
    "headersHelper",  # Claude Code
    "requestInit",  # Continue
)

# Names that say a command is distrust itself (an entry wrapped earlier, maybe by another path).
DISTRUST_EXECUTABLES = frozenset({"distrust", "distrust.exe", "distrust.cmd"})


class WrapError(ValueError):
    """The wrap request itself is unusable (not a user file problem): e.g. no distrust command."""


def run_args(lock_name: str) -> list[str]:
    """The arguments a wrapped entry passes to distrust: just enough to find the lock entry."""
    return ["run", "--server", lock_name]


def is_wrapped(command: str | None, args: Sequence[str], distrust_command: str | None = None) -> bool:
    """True when an entry already starts ``distrust run`` (this install's or any ``distrust``)."""
    if not command or not args or args[0] != "run":
        return False
    if distrust_command is not None and command == distrust_command:
        return True
    return Path(command.replace("\\", "/")).name.lower() in DISTRUST_EXECUTABLES


def _wrapped_lock_name(args: Sequence[str]) -> str | None:
    for index, arg in enumerate(args[:-1]):
        if arg == "--server":
            return args[index + 1]
    return None


# --- report -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerOutcome:
    """What happened to one server entry.

    ``action``: ``wrapped`` (rewritten now), ``already-wrapped`` (left alone), ``skipped``
    (left alone, ``reason`` says why), or ``restored`` (unwrap put it back).
    """

    name: str
    action: str
    lock_name: str | None = None
    reason: str = ""
    line: int | None = None
    transport: str | None = None


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one config file.

    ``status``: ``changed`` (wrap wrote it), ``restored`` (unwrap wrote the original back),
    ``unchanged`` (nothing to do), ``skipped`` (could not be read or edited safely; not
    touched) or ``refused`` (changed since distrust wrote it; not touched without ``force``).
    ``backup`` is the copy taken before this run wrote the file; ``other_backups`` lists older
    copies the user may want (the pre-distrust original, edits made between wrap runs).
    """

    path: Path
    client: str
    status: str
    servers: tuple[ServerOutcome, ...] = ()
    backup: Path | None = None
    reason: str = ""
    other_backups: tuple[Path, ...] = ()


@dataclass(frozen=True)
class WrapReport:
    files: tuple[FileOutcome, ...]
    state_dir: Path
    notices: tuple[Notice, ...] = ()

    @property
    def refused(self) -> tuple[FileOutcome, ...]:
        return tuple(f for f in self.files if f.status == "refused")

    @property
    def changed(self) -> tuple[FileOutcome, ...]:
        return tuple(f for f in self.files if f.status in ("changed", "restored"))

    def servers(self, action: str) -> list[tuple[FileOutcome, ServerOutcome]]:
        """Every (file, server) pair whose action is ``action``, in file order."""
        return [(f, s) for f in self.files for s in f.servers if s.action == action]


@dataclass(frozen=True)
class WrappedServer:
    """What a wrapped entry ran before, so ``distrust run --server NAME`` can start it.

    Env values are not kept: the client still passes them to ``distrust run``.
    """

    lock_name: str
    name: str
    client: str
    config_path: Path
    transport: str
    command: str | None
    args: tuple[str, ...]
    url: str | None
    cwd: str | None
    env_keys: tuple[str, ...]
    scope: str

    def definition(self) -> tuple[Any, ...]:
        return _definition(self.transport, self.command, self.args, self.url, self.cwd)


def _definition(
    transport: str, command: str | None, args: Sequence[str], url: str | None, cwd: str | None
) -> tuple[Any, ...]:
    """What makes two entries "the same server" for naming: what runs, not its env."""
    return (transport, command, tuple(args), url, cwd)


# --- state ------------------------------------------------------------------------------------


@dataclass
class _Record:
    """What distrust knows about one config file it wrote."""

    config_path: Path
    target: Path
    client: str
    original_sha256: str
    backup: Path
    written_sha256: str
    wrapped_at: str
    servers: list[WrappedServer] = field(default_factory=list)
    interim_backups: list[Path] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "config_path": str(self.config_path),
            "target": str(self.target),
            "client": self.client,
            "original_sha256": self.original_sha256,
            "backup": str(self.backup),
            "written_sha256": self.written_sha256,
            "wrapped_at": self.wrapped_at,
            "interim_backups": [str(p) for p in self.interim_backups],
            "servers": [
                {
                    "lock_name": s.lock_name,
                    "name": s.name,
                    "client": s.client,
                    "transport": s.transport,
                    "command": s.command,
                    "args": list(s.args),
                    "url": s.url,
                    "cwd": s.cwd,
                    "env_keys": list(s.env_keys),
                    "scope": s.scope,
                }
                for s in self.servers
            ],
        }

    @classmethod
    def from_json(cls, data: Any, where: Path) -> _Record:
        def need(obj: Any, key: str, kind: type) -> Any:
            value = obj.get(key) if isinstance(obj, dict) else None
            if not isinstance(value, kind):
                raise _StateError(f"{where}: field {key!r} missing or not a {kind.__name__}")
            return value

        def optional_str(obj: Any, key: str) -> str | None:
            value = obj.get(key)
            if value is not None and not isinstance(value, str):
                raise _StateError(f"{where}: field {key!r} must be a string or null")
            return value

        def str_list(obj: Any, key: str) -> list[str]:
            value = need(obj, key, list)
            if not all(isinstance(v, str) for v in value):
                raise _StateError(f"{where}: field {key!r} must be a list of strings")
            return list(value)

        if need(data, "version", int) != STATE_VERSION:
            raise _StateError(f"{where}: state version {data.get('version')} is not {STATE_VERSION}")
        servers = []
        for raw in need(data, "servers", list):
            servers.append(
                WrappedServer(
                    lock_name=need(raw, "lock_name", str),
                    name=need(raw, "name", str),
                    client=need(raw, "client", str),
                    config_path=Path(need(data, "config_path", str)),
                    transport=need(raw, "transport", str),
                    command=optional_str(raw, "command"),
                    args=tuple(str_list(raw, "args")),
                    url=optional_str(raw, "url"),
                    cwd=optional_str(raw, "cwd"),
                    env_keys=tuple(str_list(raw, "env_keys")),
                    scope=need(raw, "scope", str),
                )
            )
        return cls(
            config_path=Path(need(data, "config_path", str)),
            target=Path(need(data, "target", str)),
            client=need(data, "client", str),
            original_sha256=need(data, "original_sha256", str),
            backup=Path(need(data, "backup", str)),
            written_sha256=need(data, "written_sha256", str),
            wrapped_at=need(data, "wrapped_at", str),
            servers=servers,
            interim_backups=[Path(p) for p in str_list(data, "interim_backups")],
        )


_StateError = StateError


def _store(state_dir: Path) -> RecordStore[_Record]:
    return RecordStore(state_dir, _Record.from_json)


def _default_state_dir() -> Path:
    return paths.data_dir() / "wrap"


def load_wrapped(state_dir: Path | None = None) -> dict[str, WrappedServer]:
    """Every server distrust has wrapped, by lock name: what ``distrust run`` should start.

    Unreadable records are left out (``wrap``/``unwrap`` report them).
    """
    out: dict[str, WrappedServer] = {}
    for _, record in _store(state_dir or _default_state_dir()).all():
        if isinstance(record, _Record):
            for server in record.servers:
                out.setdefault(server.lock_name, server)
    return out


# --- reading configs --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    path: Path
    location: Location


@dataclass
class _Entry:
    """One server entry: its meaning (from discover) and its positions (from configedit)."""

    name: str
    where: tuple[str, ...]  # key path of the container holding it
    key: str | int  # its key in that container (a name, or an index in a list)
    node: Node | None
    spec: ServerSpec | None
    problems: list[str]
    lock_name: str | None = None


@dataclass
class _File:
    """A config file read for wrapping."""

    candidate: _Candidate
    target: Path
    raw: bytes
    bom: bool
    text: str
    fmt: str
    entries: list[_Entry]
    root: Any  # the parsed document, to compare with the edited one

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


def _candidates(
    home: Path, projects: Sequence[Path], clients: set[str] | None, env: Mapping[str, str] | None
) -> Iterator[_Candidate]:
    """Config files that exist, each once, in discover's order (the table's rows)."""
    table = load_table()
    seen: set[str] = set()

    def rows() -> Iterator[tuple[Path, Location]]:
        for location in table.user_locations:
            for path in location.candidates(home, env):
                yield path, location
        for project in projects:
            for location in table.project_locations:
                for path in location.project_candidates(Path(project)):
                    yield path, location

    for path, location in rows():
        if clients is not None and location.client.id not in clients:
            continue
        if not os.path.lexists(path):
            continue
        key = os.path.normcase(os.path.realpath(path))
        if key in seen:
            continue
        seen.add(key)
        if format_for(path.name, location.fmt) is None:
            continue
        yield _Candidate(path, location)


def _read_file(candidate: _Candidate) -> _File:
    """Read and parse one config; raise ``_Skip`` with the reason when it cannot be edited."""
    path = candidate.path
    target = Path(os.path.realpath(path))
    fmt = format_for(path.name, candidate.location.fmt)
    if fmt is None:  # pragma: no cover - filtered by _candidates
        raise _Skip("not a config format distrust reads")
    try:
        raw = read_bytes_capped(target)
    except ReadError as exc:
        raise _Skip(f"cannot read: {exc.reason}") from None
    bom = raw.startswith(_BOM)
    try:
        text = raw[len(_BOM) if bom else 0 :].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Skip(f"is not valid UTF-8 (byte {exc.start}); not touched") from None
    try:
        document = parse(text, fmt)
    except ConfigSyntaxError as exc:
        raise _Skip(f"not valid {fmt.upper()} ({exc}); not touched") from None
    try:
        tree = read_tree(text, fmt)
    except EditError as exc:
        raise _Skip(f"cannot locate values to edit ({exc}); not touched") from None
    entries = list(_entries(document.root, tree, candidate.location, path, document.key_line))
    return _File(candidate, target, raw, bom, text, fmt, entries, document.root)


class _Skip(Exception):
    """A whole file is left alone; the message is the reason shown to the user."""


def _py_walk(root: Any, keys: KeyPath) -> list[tuple[Any, tuple[str, ...], bool]]:
    """Values at ``keys`` in the parsed document, as discover's engine finds them."""
    found: list[tuple[Any, tuple[str, ...], bool]] = [(root, (), False)]
    for key in keys:
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


def _entries(root: Any, tree: Node, location: Location, path: Path, key_line: Any) -> Iterator[_Entry]:
    if not isinstance(root, dict):
        return
    for key_path in location.keys:
        nodes = {where: node for node, where in walk(tree, key_path)}
        for container, where, wild in _py_walk(root, key_path):
            ctx = EntryContext(location.client, path, location.wildcard_scope if wild else location.scope)
            node = nodes.get(where)
            if isinstance(container, dict):
                for name, raw in container.items():
                    member = node.member(str(name)) if node is not None and node.kind == "map" else None
                    line = key_line(container, str(name), where)
                    yield _entry(
                        str(name), where, str(name), raw, member.value if member else None, ctx, line
                    )
            elif isinstance(container, list):
                for index, raw in enumerate(container):
                    item = node.items[index] if node is not None and index < len(node.items) else None
                    name = raw.get("name") if isinstance(raw, dict) else None
                    if not isinstance(name, str) or not name:
                        name = f"{'.'.join(where)}[{index}]"
                    line = getattr(raw, "line", None)
                    yield _entry(name, where, index, raw, item, ctx, line)


def _entry(
    name: str,
    where: tuple[str, ...],
    key: str | int,
    raw: Any,
    node: Node | None,
    ctx: EntryContext,
    line: Any,
) -> _Entry:
    spec, notices = normalize_entry(name, raw, ctx, line if isinstance(line, int) else None)
    problems = [n.message for n in notices]
    return _Entry(name, where, key, node, spec, problems)


# --- planning edits ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    holder: Node
    member: Member


def _holders(entry: Node) -> list[Node]:
    """Maps whose fields make up the entry, highest precedence first (as discover flattens).

    Continue's old JSON nests ``transport: {...}`` (its fields win over the entry's), Goose's
    old format nests ``config: {...}`` (the entry's fields win).
    """
    holders = [entry]
    transport = entry.member("transport")
    if transport is not None and transport.value.kind == "map":
        holders.insert(0, transport.value)
    config = entry.member("config")
    launch_keys = ("cmd", "command", "uri", "url")
    if (
        config is not None
        and config.value.kind == "map"
        and not any(h.member(k) for h in holders for k in launch_keys)
    ):
        holders.append(config.value)
    return holders


def _find(holders: Sequence[Node], names: Sequence[str]) -> _Field | None:
    for name in names:
        for holder in holders:
            member = holder.member(name)
            if member is not None:
                return _Field(holder, member)
    return None


def _check_editable(node: Node, what: str) -> None:
    if node.exotic:
        raise EditError(f"its {what} uses {node.exotic}; edit it by hand")


def _replace_value(text: str, syntax: Syntax, found: _Field, value_text: str) -> Edit:
    """Replace a member's value; a block collection is replaced with its key (see below)."""
    value = found.member.value
    if value.kind != "scalar" and not value.flow:
        # ``args:\n- a\n- b``: a flow list cannot start where the block started (the column
        # may be the key's), so rewrite the whole member on the key's line.
        return Edit(found.member.key_start, value.end, syntax.member(found.member.key, value_text))
    return Edit(value.start, value.end, value_text)


def _plan(text: str, syntax: Syntax, entry: _Entry, distrust_command: str, lock_name: str) -> list[Edit]:
    """The edits that make ``entry`` start distrust; raise EditError with the reason if unsafe."""
    node, spec = entry.node, entry.spec
    assert spec is not None
    if node is None or node.kind != "map":
        raise EditError("could not locate the entry's text")
    if node.exotic:
        raise EditError(f"the entry uses {node.exotic}; edit it by hand")
    holders = _holders(node)
    new_args = syntax.string_list(run_args(lock_name))
    edits: list[Edit] = []

    if spec.transport == "stdio":
        command = _find(holders, COMMAND_FIELDS)
        if command is None:
            raise EditError("could not locate its command")
        args = _find(holders, ARGS_FIELDS)
        if command.member.value.kind == "map":  # Zed: "command": {"path": ..., "args": [...]}
            inner = command.member.value
            _check_editable(inner, "command")
            path_member = inner.member("path")
            if path_member is None:
                raise EditError("could not locate command.path")
            command = _Field(inner, path_member)
            inner_args = inner.member("args")
            if args is None and inner_args is not None:
                args = _Field(inner, inner_args)
        value = command.member.value
        _check_editable(value, "command")
        if value.kind != "scalar":
            raise EditError("its command is not a string")
        edits.append(Edit(value.start, value.end, syntax.string(distrust_command)))
        if args is not None:
            _check_editable(args.member.value, "args")
            edits.append(_replace_value(text, syntax, args, new_args))
        else:
            sep = syntax.separator(text, command.holder, command.member)
            edits.append(Edit(value.end, value.end, sep + syntax.member("args", new_args)))
        return edits

    # A remote server: becomes a stdio entry that starts the relay.
    key = STDIO_COMMAND_KEY.get(spec.client, "command")
    if key is None:
        raise EditError(f"remote server: {spec.client} does not read url entries from this file; left as is")
    auth = _find(holders, REMOTE_AUTH_FIELDS)
    if auth is not None:
        raise EditError(
            f"remote server with {auth.member.key!r} (credentials the client would no longer send);"
            " left as is"
        )
    if _find(holders, COMMAND_FIELDS) is not None:
        raise EditError("remote server that also names a command; ambiguous, left as is")
    url = _find(holders, [name for name, _ in URL_FIELDS])
    if url is None:
        raise EditError("could not locate its url")
    _check_editable(url.member.value, "url")
    args = _find(holders, ARGS_FIELDS)
    launch = syntax.member(key, syntax.string(distrust_command))
    if args is None:
        launch += syntax.separator(text, url.holder, url.member) + syntax.member("args", new_args)
    else:
        _check_editable(args.member.value, "args")
        edits.append(_replace_value(text, syntax, args, new_args))
    edits.append(Edit(url.member.key_start, url.member.value.end, launch))
    kind = _find(holders, TYPE_FIELDS)
    if kind is not None:
        _check_editable(kind.member.value, "type")
        if kind.member.value.kind != "scalar":
            raise EditError("its type is not a string")
        edits.append(Edit(kind.member.value.start, kind.member.value.end, syntax.string("stdio")))
    return edits


# --- proving an edit --------------------------------------------------------------------------


def _container(root: Any, where: tuple[str, ...]) -> Any:
    value = root
    for key in where:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _blank_entries(plain_root: Any, entries: Sequence[_Entry]) -> Any:
    """``plain_root`` (a fresh copy from :func:`_plain`) with the given entries set to None."""
    for entry in entries:
        container = _container(plain_root, entry.where)
        in_map = isinstance(container, dict) and isinstance(entry.key, str) and entry.key in container
        in_list = isinstance(container, list) and isinstance(entry.key, int) and entry.key < len(container)
        if in_map or in_list:
            container[entry.key] = None
    return plain_root


def _plain(value: Any) -> Any:
    """A copy in plain dicts and lists, so documents compare by content only (not line records)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _prove(file: _File, new_text: str, entries: Sequence[_Entry], distrust_command: str) -> None:
    """Raise EditError unless ``new_text`` is the old document with exactly these entries wrapped."""
    try:
        after = parse(new_text, file.fmt).root
    except ConfigSyntaxError as exc:
        raise EditError(f"the edit would break the file ({exc})") from None
    if _blank_entries(_plain(file.root), entries) != _blank_entries(_plain(after), entries):
        raise EditError("the edit would change something outside the entry")
    location = file.candidate.location
    for entry in entries:
        assert entry.spec is not None and entry.lock_name is not None
        container = _container(after, entry.where)
        try:
            raw = container[entry.key]
        except (KeyError, IndexError, TypeError):
            raise EditError("the entry is missing after the edit") from None
        ctx = EntryContext(location.client, entry.spec.config_path, entry.spec.scope)
        spec, _ = normalize_entry(entry.name, raw, ctx, entry.spec.line)
        old = entry.spec
        if (
            spec is None
            or spec.transport != "stdio"
            or spec.command != distrust_command
            or list(spec.args) != run_args(entry.lock_name)
            or spec.env != old.env
            or spec.cwd != old.cwd
            or spec.disabled != old.disabled
        ):
            raise EditError("the edited entry does not read back as the distrust command")


# --- lock names -------------------------------------------------------------------------------


def _assign_lock_names(
    entries: Sequence[_Entry],
    taken: Mapping[str, tuple[Any, ...] | None],
    name_for: Callable[[ServerSpec], str | None] | None = None,
) -> None:
    """Give each entry to wrap a lock name: its own name, qualified only when that is ambiguous.

    The rule is the lock's (``gateway/lock.py``): entries with the same name and the same
    definition (what runs, not its env) share the name, so the same server in two clients is
    one lock entry; when one name means different things, each becomes ``client/name`` (then
    ``client/name#2``…). Names recorded by earlier runs keep their meaning: ``taken`` maps
    them to their definition (None: unknown, so never reused). ``name_for`` lets the caller
    impose the names an existing ``distrust.lock`` already gives (None: use the rule).
    """
    used: dict[str, tuple[Any, ...] | None] = dict(taken)

    def claim(name: str, definition: tuple[Any, ...]) -> bool:
        if name in used and used[name] != definition:
            return False
        used[name] = definition
        return True

    groups: dict[str, list[_Entry]] = {}
    for entry in entries:
        assert entry.spec is not None
        imposed = name_for(entry.spec) if name_for else None
        if imposed:
            entry.lock_name = imposed
            used[imposed] = _spec_definition(entry.spec)
        else:
            groups.setdefault(entry.name, []).append(entry)

    for name in sorted(groups):
        group = groups[name]
        definitions = {_spec_definition(e.spec) for e in group}
        if len(definitions) == 1 and claim(name, next(iter(definitions))):
            for entry in group:
                entry.lock_name = name
            continue
        for entry in group:
            assert entry.spec is not None
            definition = _spec_definition(entry.spec)
            base = f"{entry.spec.client}/{name}"
            qualified, n = base, 1
            while not claim(qualified, definition):
                n += 1
                qualified = f"{base}#{n}"
            entry.lock_name = qualified


def _spec_definition(spec: ServerSpec | None) -> tuple[Any, ...]:
    assert spec is not None
    return _definition(spec.transport, spec.command, spec.args, spec.url, spec.cwd)


# --- wrap -------------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _encode(file: _File, text: str) -> bytes:
    return (_BOM if file.bom else b"") + text.encode("utf-8")


def wrap_configs(
    home: Path,
    *,
    projects: Sequence[Path] = (),
    clients: set[str] | None = None,
    distrust_command: str,
    state_dir: Path | None = None,
    force: bool = False,
    env: Mapping[str, str] | None = None,
    name_for: Callable[[ServerSpec], str | None] | None = None,
) -> WrapReport:
    """Rewrite every server entry in the configs under ``home`` (and ``projects``) to start
    ``distrust_command run --server NAME``.

    ``distrust_command`` should be an absolute path: GUI clients (Claude Desktop on macOS)
    start servers without the user's shell PATH. ``clients`` limits the run to those client
    ids (``clients.toml``). ``env`` adds the directories named by ``CODEX_HOME``,
    ``XDG_CONFIG_HOME``… as discover does. ``name_for`` returns the lock name a server
    already has in ``distrust.lock`` (None: derive it, see :func:`_assign_lock_names`).
    Never raises for a user file: every problem is in the report.
    """
    if not distrust_command or not distrust_command.strip():
        raise WrapError("distrust_command is empty: pass the path of the distrust executable")
    state = _store(state_dir or _default_state_dir())
    outcomes: list[FileOutcome] = []
    notices: list[Notice] = []

    files: list[tuple[_File, _Record | None]] = []
    taken: dict[str, tuple[Any, ...] | None] = {}
    for _, recorded in state.all():
        if isinstance(recorded, _Record):
            for server in recorded.servers:
                taken.setdefault(server.lock_name, server.definition())
        else:
            notices.append(Notice(str(recorded)))

    for candidate in _candidates(Path(home), projects, clients, env):
        client = candidate.location.client.id
        try:
            file = _read_file(candidate)
        except _Skip as exc:
            outcomes.append(FileOutcome(candidate.path, client, "skipped", reason=f"{candidate.path}: {exc}"))
            continue
        try:
            record = state.load(file.target)
        except _StateError as exc:
            reason = f"{candidate.path}: {exc}; fix or remove that record before wrapping this file"
            outcomes.append(FileOutcome(candidate.path, client, "refused", reason=reason))
            continue
        if (
            record is not None
            and file.sha256 == record.original_sha256
            and file.sha256 != record.written_sha256
        ):
            record = None  # the user restored the original by hand: start afresh
        if record is not None and file.sha256 != record.written_sha256 and not force:
            reason = (
                f"{candidate.path}: changed since distrust wrapped it on {record.wrapped_at}; not touched. "
                f"Run unwrap (add force to restore the original at {record.backup}, after a backup of "
                "your edits) or wrap with force to wrap your new entries too"
            )
            outcomes.append(FileOutcome(candidate.path, client, "refused", reason=reason))
            continue
        files.append((file, record))
        for entry in file.entries:
            spec = entry.spec
            if spec is not None and is_wrapped(spec.command, spec.args, distrust_command):
                name = _wrapped_lock_name(spec.args)
                if name is not None:
                    taken.setdefault(name, None)

    # Names go only to entries that can be wrapped, so an entry left alone (a remote server
    # with credentials) never forces another server of the same name to be qualified.
    to_wrap = [
        entry
        for file, _ in files
        for entry in file.entries
        if entry.spec is not None
        and not is_wrapped(entry.spec.command, entry.spec.args, distrust_command)
        and _can_plan(file, entry, distrust_command)
    ]
    _assign_lock_names(to_wrap, taken, name_for)
    for file, record in files:
        outcomes.append(_wrap_file(file, record, state, distrust_command))
    return WrapReport(tuple(outcomes), state.dir, tuple(notices))


def _can_plan(file: _File, entry: _Entry, distrust_command: str) -> bool:
    """Whether ``entry`` can be edited at all (tried with a stand-in lock name)."""
    try:
        _plan(file.text, syntax_for(file.fmt), entry, distrust_command, "-")
    except EditError:
        return False
    return True


def _wrap_file(
    file: _File, record: _Record | None, state: RecordStore[_Record], distrust_command: str
) -> FileOutcome:
    path = file.candidate.path
    client = file.candidate.location.client.id
    syntax = syntax_for(file.fmt)
    plans: dict[int, list[Edit]] = {}
    reasons: dict[int, str] = {}
    for index, entry in enumerate(file.entries):
        spec = entry.spec
        if spec is None:
            reasons[index] = (
                "; ".join(entry.problems) or "not a server distrust can start (built into the client)"
            )
        elif not is_wrapped(spec.command, spec.args, distrust_command):
            try:
                # No lock name: _can_plan already failed, and planning again gives the reason.
                lock_name = entry.lock_name or "-"
                plans[index] = _plan(file.text, syntax, entry, distrust_command, lock_name)
            except EditError as exc:
                reasons[index] = str(exc)
    new_text, failure = _prove_plans(file, plans, reasons, distrust_command)
    servers = tuple(_server_outcome(entry, index, plans, reasons) for index, entry in enumerate(file.entries))
    if failure:
        return FileOutcome(path, client, "skipped", servers, reason=f"{path}: {failure}; not touched")
    if new_text is None:
        return FileOutcome(path, client, "unchanged", servers, other_backups=_backups_of(record))
    planned = [file.entries[index] for index in plans]
    new_bytes = _encode(file, new_text)
    try:
        if read_bytes_capped(file.target) != file.raw:
            reason = f"{path}: changed while being wrapped; not touched"
            return FileOutcome(path, client, "refused", servers, reason=reason)
        saved = state.backup(file.target)
    except (OSError, ReadError) as exc:
        return FileOutcome(path, client, "skipped", servers, reason=f"{path}: cannot back up: {exc}")

    previous = copy.deepcopy(record)
    if record is None:
        record = _Record(path, file.target, client, file.sha256, saved, "", _now())
    elif file.sha256 != record.written_sha256:
        record.interim_backups.append(saved)  # forced: the user's edits since the last wrap
    record.written_sha256 = hashlib.sha256(new_bytes).hexdigest()
    record.wrapped_at = _now()
    known = {s.lock_name for s in record.servers}
    record.servers.extend(s for s in (_wrapped_server(e, path) for e in planned) if s.lock_name not in known)
    # The record goes first: if the config write then fails, the file still matches the
    # recorded original, which both wrap and unwrap recognise; the reverse order could leave
    # a wrapped file that unwrap knows nothing about.
    try:
        state.save(record)
        atomic_write(file.target, new_bytes)
    except OSError as exc:
        with contextlib.suppress(OSError):
            if previous is not None:
                state.save(previous)
            else:
                state.delete(record)
        return FileOutcome(path, client, "skipped", servers, reason=f"{path}: cannot write: {exc}")
    others = tuple(p for p in _backups_of(record) if p != saved)
    return FileOutcome(path, client, "changed", servers, backup=saved, other_backups=others)


def _prove_plans(
    file: _File, plans: dict[int, list[Edit]], reasons: dict[int, str], distrust_command: str
) -> tuple[str | None, str]:
    """Apply and prove ``plans`` (index -> edits); drop entries whose edit fails its proof.

    Returns (new text or None when nothing is left to change, reason the file as a whole
    failed). All entries are proved together first: one parse of a large file (a
    ``~/.claude.json`` with long project histories) rather than one per server. Only when that
    fails is each entry proved alone, to name the culprit and keep the others.
    """
    if not plans:
        return None, ""

    def attempt(indices: Sequence[int]) -> str:
        edits = [edit for index in indices for edit in plans[index]]
        text = apply_edits(file.text, edits)
        _prove(file, text, [file.entries[index] for index in indices], distrust_command)
        return text

    try:
        return attempt(list(plans)), ""
    except EditError:
        pass
    for index in list(plans):
        try:
            attempt([index])
        except EditError as exc:
            reasons[index] = str(exc)
            del plans[index]
    if not plans:
        return None, ""
    try:
        return attempt(list(plans)), ""
    except EditError as exc:  # each entry proved alone; together they must agree too
        for index in list(plans):
            reasons[index] = f"not edited: {exc}"
            del plans[index]
        return None, str(exc)


def _server_outcome(
    entry: _Entry, index: int, plans: dict[int, list[Edit]], reasons: dict[int, str]
) -> ServerOutcome:
    spec = entry.spec
    if spec is None:
        return ServerOutcome(entry.name, "skipped", reason=reasons.get(index, ""))
    line, transport = spec.line, spec.transport
    if index in plans:
        return ServerOutcome(entry.name, "wrapped", entry.lock_name, line=line, transport=transport)
    if index in reasons:
        return ServerOutcome(entry.name, "skipped", reason=reasons[index], line=line, transport=transport)
    lock = _wrapped_lock_name(spec.args)
    return ServerOutcome(entry.name, "already-wrapped", lock, line=line, transport=transport)


def _backups_of(record: _Record | None) -> tuple[Path, ...]:
    return (record.backup, *record.interim_backups) if record else ()


def _wrapped_server(entry: _Entry, path: Path) -> WrappedServer:
    spec = entry.spec
    assert spec is not None and entry.lock_name is not None
    return WrappedServer(
        lock_name=entry.lock_name,
        name=spec.name,
        client=spec.client,
        config_path=path,
        transport=spec.transport,
        command=spec.command,
        args=spec.args,
        url=spec.url,
        cwd=spec.cwd,
        env_keys=spec.env_keys,
        scope=spec.scope,
    )


# --- unwrap -----------------------------------------------------------------------------------


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    for root in roots:
        try:
            path.relative_to(root)
            return True
        except ValueError:
            continue
    return False


def unwrap_configs(
    home: Path,
    *,
    projects: Sequence[Path] = (),
    clients: set[str] | None = None,
    state_dir: Path | None = None,
    force: bool = False,
) -> WrapReport:
    """Put back, byte for byte, every config under ``home`` (or ``projects``) that wrap wrote.

    A file that changed since distrust wrote it is refused (its outcome says so and why)
    unless ``force``; then the edited file is backed up first and its backup reported.
    """
    state = _store(state_dir or _default_state_dir())
    roots = [Path(home), *map(Path, projects)]
    roots += [Path(os.path.realpath(r)) for r in roots]
    outcomes: list[FileOutcome] = []
    notices: list[Notice] = []
    for where, record in state.all():
        if isinstance(record, _StateError):
            notices.append(Notice(str(record), where))
            continue
        if clients is not None and record.client not in clients:
            continue
        if not (_inside(record.config_path, roots) or _inside(record.target, roots)):
            continue
        outcomes.append(_unwrap_file(record, state, force))
    return WrapReport(tuple(outcomes), state.dir, tuple(notices))


def _unwrap_file(record: _Record, state: RecordStore[_Record], force: bool) -> FileOutcome:
    path, client = record.config_path, record.client
    servers = tuple(
        ServerOutcome(s.name, "restored", s.lock_name, transport=s.transport) for s in record.servers
    )
    others = tuple(record.interim_backups)
    try:
        current = read_bytes_capped(record.target)
    except ReadError as exc:
        reason = f"{path}: cannot read ({exc.reason}); the original is at {record.backup}"
        return FileOutcome(path, client, "refused", reason=reason, other_backups=(record.backup, *others))
    current_sha = hashlib.sha256(current).hexdigest()
    if current_sha == record.original_sha256:
        state.delete(record)  # already the original (restored by hand)
        return FileOutcome(
            path, client, "unchanged", reason=f"{path}: already the original", other_backups=others
        )
    try:
        original = read_bytes_capped(record.backup)
    except ReadError as exc:
        return FileOutcome(path, client, "refused", reason=f"{path}: backup unreadable: {exc}")
    if hashlib.sha256(original).hexdigest() != record.original_sha256:
        reason = f"{path}: the backup {record.backup} no longer matches the original; not restored"
        return FileOutcome(path, client, "refused", reason=reason)
    saved: Path | None = None
    if current_sha != record.written_sha256:
        if not force:
            reason = (
                f"{path}: changed since distrust wrapped it on {record.wrapped_at}; not restored, "
                f"your edits would be lost. Use force to restore the original anyway (your current "
                f"file is backed up first), or copy your edits from it into {record.backup}"
            )
            return FileOutcome(
                path, client, "refused", servers, reason=reason, other_backups=(record.backup, *others)
            )
        try:
            saved = state.backup(record.target)
        except OSError as exc:
            return FileOutcome(
                path, client, "refused", reason=f"{path}: cannot back up the edited file: {exc}"
            )
    try:
        atomic_write(record.target, original)
    except OSError as exc:
        return FileOutcome(path, client, "refused", reason=f"{path}: cannot write: {exc}")
    state.delete(record)
    note = f"your edits made after wrapping are in {saved}" if saved else ""
    return FileOutcome(path, client, "restored", servers, backup=saved, reason=note, other_backups=others)
