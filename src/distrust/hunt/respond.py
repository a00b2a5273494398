"""``distrust respond``: from a scan finding to a cleaned machine and a finished incident report.

A person who just learned that their assistant ran a malicious MCP server needs four things,
in this order: stop it from starting again, remove every copy of it, know which secrets it
could read, and tell whoever must be told. Each has one function here:

* :func:`plan_response` turns a :class:`~distrust.model.ScanResult` into a
  :class:`ResponsePlan`: which config entries to disable, which installed copies to delete,
  which credentials (by key name, never value) to rotate, and the advisories behind it all.
* :func:`disable_servers` edits client configs the way ``distrust wrap`` does: targeted
  splices located by :mod:`distrust.gateway.configedit` (comments, order and other servers are
  untouched), every edit proved by re-parsing, a backup first, an atomic write, and a state
  record so :func:`undo_disable` restores each file byte for byte, refusing when the user
  edited it since (unless ``force``).
* :func:`remove_installed` lists, and on request deletes, the package copies, but only inside
  the home and project directories the plan names and only directories whose own
  ``package.json`` says they are that package.
* :func:`incident_report` writes the markdown report with the remediation checklist.

How a client is told "do not start this server" is data (:data:`DISABLE_METHODS`): clients
that document a per-server switch get the switch (the entry stays, so nothing is lost);
for the others the entry is removed, and kept in the state record and the backup.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from distrust import paths
from distrust.discover.formats import ConfigSyntaxError, format_for, parse
from distrust.discover.table import KeyPath, load_table
from distrust.fsutil import ReadError, atomic_write, read_bytes_capped, read_text_capped
from distrust.gateway.configedit import (
    Edit,
    EditError,
    Member,
    Node,
    Syntax,
    apply_edits,
    newline_of,
    read_tree,
    starts_line,
    syntax_for,
    walk,
)
from distrust.hunt import HuntResult
from distrust.judge.secrets import redacted_spec
from distrust.model import Ecosystem, Finding, Installation, PackageRef, ResolvedServer, ScanResult, Severity
from distrust.report.common import SECRET_NAME, display_path, redact_args
from distrust.statefiles import RecordStore, StateError

__all__ = [
    "DISABLE_METHODS",
    "AffectedServer",
    "ConfigEntry",
    "ConfigOutcome",
    "DisableMethod",
    "DisableReport",
    "EntryOutcome",
    "InstalledCopy",
    "Removal",
    "ResponsePlan",
    "check_removals",
    "disable_method",
    "disable_servers",
    "incident_report",
    "plan_response",
    "remove_installed",
    "undo_disable",
]

STATE_VERSION = 1
_BOM = b"\xef\xbb\xbf"
REDACTED = "[redacted]"
MIN_SCRUB_LENGTH = 6  # shorter env values ("1", "dev") occur in any sentence; scrubbing them garbles text


# --- policy tables ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DisableMethod:
    """How one client is made to stop starting a server.

    ``kind`` is ``flag`` (set ``key`` to ``value`` in the entry: reversible by the user in the
    client's own UI, nothing is deleted) or ``remove`` (delete the entry; the only sure way
    when the client documents no switch, since an unknown key is silently ignored).
    """

    kind: str
    key: str | None
    value: bool | None
    rationale: str


_REMOVE = DisableMethod(
    "remove",
    None,
    None,
    "no documented per-server switch: an unknown 'disabled' key would be ignored and the server "
    "would still start, so the entry is removed (kept in the backup and the state record)",
)

DISABLE_METHODS: dict[str, DisableMethod] = {
    "cline": DisableMethod(
        "flag", "disabled", True, 'Cline reads "disabled": true per server (docs.cline.bot, MCP settings)'
    ),
    "windsurf": DisableMethod(
        "flag", "disabled", True, 'Windsurf\'s mcp_config.json honours "disabled": true per server'
    ),
    "codex": DisableMethod(
        "flag",
        "enabled",
        False,
        "Codex reads enabled = false in [mcp_servers.NAME] (developers.openai.com/codex/mcp)",
    ),
    "goose": DisableMethod(
        "flag", "enabled", False, "Goose extensions carry enabled: true|false (goose config-files guide)"
    ),
    # Claude Desktop, Claude Code (it disables only through settings.json lists), Cursor,
    # VS Code, Gemini CLI, Continue and Zed document no per-entry switch: the default applies.
}


def disable_method(client: str) -> DisableMethod:
    """The way ``client`` is told not to start a server (removal when it has no switch)."""
    return DISABLE_METHODS.get(client, _REMOVE)


# How each installation source is cleaned up when distrust cannot (or must not) delete it.
MANUAL_CLEANUP: dict[str, str] = {
    "npm-global": "run `npm uninstall -g {name}`",
    "uv-tool": "run `uv tool uninstall {name}`",
    "uv-cache": "run `uv cache clean {name}`",
    "pipx": "run `pipx uninstall {name}`",
    "venv": "uninstall {name} from the environment at {path}",
    "system": "uninstall {name} from {path} (outside your home: needs an administrator)",
    "lockfile": "update {path} to a clean version and reinstall",
    "npm-log": "nothing to remove: the npm log at {path} is the record that it was installed",
}
# Sources whose evidence points into a node_modules tree that can be deleted as a directory.
DELETABLE_SOURCES = frozenset({"npx-cache", "npm-global", "node_modules"})


# --- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigEntry:
    """Where a server is declared: the entry ``disable_servers`` edits."""

    client: str
    config_path: Path
    server: str
    line: int | None
    scope: str
    already_disabled: bool = False


@dataclass(frozen=True)
class InstalledCopy:
    """One installed copy of an affected package and the directory that removing it deletes.

    ``target`` is None when there is nothing on disk distrust may delete (a lockfile line, an
    npm log, a Python environment); ``manual`` then says what the person should do.
    """

    ref: PackageRef
    source: str
    evidence: Path
    target: Path | None
    when: datetime | None = None
    manual: str = ""


@dataclass(frozen=True)
class AffectedServer:
    """One configured server that must go, and everything the response needs to know about it."""

    entry: ConfigEntry
    resolved: ResolvedServer = field(repr=False)
    package: PackageRef | None
    versions: tuple[str, ...]
    floating: bool
    launch: str  # the command line, secrets redacted
    credentials: tuple[str, ...]  # env key names, never values
    advisories: tuple[str, ...]
    severity: Severity
    findings: tuple[Finding, ...]
    copies: tuple[InstalledCopy, ...]


@dataclass(frozen=True)
class ResponsePlan:
    """What to disable, remove and rotate; ``roots`` bound every deletion."""

    servers: tuple[AffectedServer, ...]
    min_severity: Severity
    roots: tuple[Path, ...]

    @property
    def packages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.package.name for s in self.servers if s.package))

    @property
    def advisories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a for s in self.servers for a in s.advisories))

    @property
    def credentials(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(k for s in self.servers for k in s.credentials))

    @property
    def copies(self) -> tuple[InstalledCopy, ...]:
        """Every installed copy once (two servers often share one npx cache entry)."""
        seen: dict[tuple[str, str], InstalledCopy] = {}
        for server in self.servers:
            for item in server.copies:
                seen.setdefault((str(item.target or item.evidence), item.ref.name), item)
        return tuple(seen.values())


def _spec_key(
    client: str, config_path: Path, name: str, line: int | None
) -> tuple[str, str, str, int | None]:
    # Findings carry a redacted copy of the spec, so they are matched by identity fields only.
    return (client, str(config_path), name, line)


def plan_response(
    scan: ScanResult,
    *,
    min_severity: Severity = Severity.CRITICAL,
    home: Path | None = None,
    projects: Sequence[Path] = (),
) -> ResponsePlan:
    """Every server with a finding at or above ``min_severity``, with what to do about it.

    ``home`` and ``projects`` should be what the scan looked at: they are the only
    directories :func:`remove_installed` may delete anything in.
    """
    by_server: dict[tuple[str, str, str, int | None], list[Finding]] = {}
    for finding in scan.findings:
        if finding.server is None or finding.severity < min_severity:
            continue
        spec = finding.server
        by_server.setdefault(_spec_key(spec.client, spec.config_path, spec.name, spec.line), []).append(
            finding
        )

    out: list[AffectedServer] = []
    for server in scan.servers:
        spec = server.spec
        findings = by_server.get(_spec_key(spec.client, spec.config_path, spec.name, spec.line))
        if not findings:
            continue
        package = server.package
        copies = tuple(
            _copy_of(inst) for inst in server.installed if package is None or inst.ref.name == package.name
        )
        safe = redacted_spec(spec)
        launch = " ".join([safe.command or "", *redact_args(safe.args)]).strip() or (safe.url or "")
        out.append(
            AffectedServer(
                entry=ConfigEntry(
                    spec.client, spec.config_path, spec.name, spec.line, spec.scope, spec.disabled
                ),
                resolved=server,
                package=package,
                versions=server.versions,
                floating=bool(package and not package.pinned),
                launch=launch,
                credentials=tuple(dict.fromkeys((*spec.env_keys, *(k for k, _ in spec.headers)))),
                advisories=tuple(dict.fromkeys(a for f in findings for a in f.advisories)),
                severity=max(f.severity for f in findings),
                findings=tuple(findings),
                copies=copies,
            )
        )
    roots = (home if home is not None else Path.home(), *projects)
    return ResponsePlan(tuple(out), min_severity, tuple(Path(r) for r in roots))


def _copy_of(inst: Installation) -> InstalledCopy:
    """The directory that holds this copy, when it is one distrust knows how to delete."""
    name = inst.ref.name
    folder = inst.path.parent if inst.path.name == "package.json" else inst.path
    if inst.source == "npx-cache" and "_npx" in inst.path.parts:
        index = inst.path.parts.index("_npx")
        if index + 1 < len(inst.path.parts):
            return InstalledCopy(
                inst.ref, inst.source, inst.path, Path(*inst.path.parts[: index + 2]), inst.when
            )
    if inst.source in DELETABLE_SOURCES and inst.ref.ecosystem == Ecosystem.NPM:
        return InstalledCopy(inst.ref, inst.source, inst.path, folder, inst.when)
    template = MANUAL_CLEANUP.get(inst.source, "remove {name} from {path} by hand")
    return InstalledCopy(
        inst.ref, inst.source, inst.path, None, inst.when, template.format(name=name, path=inst.path)
    )


# --- locating an entry in a config ------------------------------------------------------------


@dataclass
class _Located:
    """A server entry's text: its container, its key (name or list index) and its value node."""

    where: tuple[str, ...]
    key: str | int
    container: Node
    node: Node
    start: int  # where the entry's text starts: the key, or the list item


def _key_paths(client: str, path: Path) -> tuple[list[KeyPath], str | None]:
    """Key paths to servers and the syntax for ``path``, from discover's location table."""
    table = load_table()
    keys: list[KeyPath] = []
    fmt: str | None = None
    for location in table.locations:
        if location.client.id != client:
            continue
        keys.extend(k for k in location.keys if k not in keys)
        if fmt is None and path.name in location.file_names():
            fmt = format_for(path.name, location.fmt)
    if not keys:  # a file given explicitly: every shape's keys
        for shape in table.shapes:
            keys.extend(k for k in shape.keys if k not in keys)
    return keys, fmt or format_for(path.name, "auto")


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _container_value(root: Any, where: Sequence[str]) -> Any:
    value = root
    for key in where:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _locate(text: str, fmt: str, root: Any, keys: Sequence[KeyPath], name: str, line: int | None) -> _Located:
    """The entry called ``name`` (at ``line`` when several share the name); EditError if none."""
    tree = read_tree(text, fmt)
    found: list[_Located] = []
    for key_path in keys:
        for container, where in walk(tree, key_path):
            if container.kind == "map":
                member = container.member(name)
                if member is not None:
                    found.append(_Located(where, name, container, member.value, member.key_start))
            elif container.kind == "seq":
                parsed = _container_value(root, where)
                if not isinstance(parsed, list):
                    continue
                for index, raw in enumerate(parsed):
                    if isinstance(raw, dict) and raw.get("name") == name and index < len(container.items):
                        item = container.items[index]
                        found.append(_Located(where, index, container, item, item.start))
    if not found:
        raise EditError(f"server {name!r} is no longer in the file")
    if len(found) > 1 and line is not None:
        exact = [f for f in found if _line_of(text, f.start) == line]
        found = exact or found
    if len(found) > 1:
        raise EditError(f"{len(found)} entries are called {name!r}; disable the right one by hand")
    return found[0]


# --- planning one edit --------------------------------------------------------------------------

_LINE_TAIL = re.compile(r"[ \t]*(?://[^\n]*|#[^\n]*)?\r?\n")
_JSON_GAP = re.compile(r"(?:[ \t\r\n]+|//[^\n]*|/\*.*?\*/)*", re.DOTALL)


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _line_end(text: str, pos: int) -> int:
    """Offset of the line break ending the line that holds ``pos`` (before a ``\\r``)."""
    end = text.find("\n", pos)
    if end < 0:
        return len(text)
    return end - 1 if end > 0 and text[end - 1] == "\r" else end


def _flag_edit(text: str, fmt: str, syntax: Syntax, located: _Located, method: DisableMethod) -> Edit:
    """Set ``method.key`` in the entry: replace its value, or add the member after the last one."""
    node = located.node
    assert method.key is not None and method.value is not None
    if node.kind != "map":
        raise EditError("the entry is not a map")
    if node.exotic:
        raise EditError(f"the entry uses {node.exotic}; disable it by hand")
    value_text = "true" if method.value else "false"
    existing = node.member(method.key)
    if existing is not None:
        if existing.value.kind != "scalar" or existing.value.exotic:
            raise EditError(f"its {method.key!r} is not a plain value; disable it by hand")
        return Edit(existing.value.start, existing.value.end, value_text)
    # A TOML sub-table ([mcp_servers.x.env]) is a member too, but text after it belongs to it.
    members = [m for m in node.members if not (fmt == "toml" and m.value.kind == "map" and not m.value.flow)]
    if not members:
        raise EditError("the entry has no member to place the switch after; disable it by hand")
    last: Member = max(members, key=lambda m: m.value.end)
    new_member = syntax.member(method.key, value_text)
    if node.flow:
        return Edit(last.value.end, last.value.end, syntax.separator(text, node, last) + new_member)
    prefix = text[_line_start(text, last.key_start) : last.key_start]
    indent = prefix if prefix.strip() == "" else " " * len(prefix)  # "- name:" in a YAML list
    at = _line_end(text, last.value.end)
    return Edit(at, at, newline_of(text) + indent + new_member)


def _remove_edits(text: str, fmt: str, located: _Located) -> list[Edit]:
    """Delete the entry's text with its separator, leaving neighbours and comments in place."""
    container, start, end = located.container, located.start, located.node.end
    if located.node.exotic:
        raise EditError(f"the entry uses {located.node.exotic}; remove it by hand")
    if fmt == "toml":
        raise EditError("removing a TOML table is not supported; remove it by hand")
    if not container.flow:  # YAML block map member or block list item: whole lines
        line_start = _line_start(text, start)
        lead = text[line_start:start]
        if lead.strip() not in ("", "-"):
            raise EditError("the entry shares its line with other text; remove it by hand")
        tail = _LINE_TAIL.match(text, _line_end(text, end))
        stop = tail.end() if tail else len(text)
        return [Edit(line_start, stop, "")]
    if fmt != "jsonc":
        raise EditError("the entry is inside an inline YAML collection; remove it by hand")
    siblings = (
        [m.key_start for m in container.members]
        if container.kind == "map"
        else [i.start for i in container.items]
    )
    ends = (
        [m.value.end for m in container.members]
        if container.kind == "map"
        else [i.end for i in container.items]
    )
    index = siblings.index(start)
    edits: list[Edit] = []
    after = _JSON_GAP.match(text, end)
    pos = after.end() if after else end
    has_comma = text.startswith(",", pos)
    if has_comma:
        # Stop at the comma, not at the next key: comments above the next entry belong to it.
        end = pos + 1
    elif index > 0:
        # The last entry: the comma before it must go, or strict JSON readers reject the file.
        gap = _JSON_GAP.match(text, ends[index - 1])
        comma = gap.end() if gap else ends[index - 1]
        if not text.startswith(",", comma):
            raise EditError("could not find the comma before the entry")
        edits.append(Edit(comma, comma + 1, ""))
    if starts_line(text, start):
        tail = _LINE_TAIL.match(text, end)
        if tail is not None:
            start, end = _line_start(text, start), tail.end()
    else:
        space = re.compile(r"[ \t]*").match(text, end)
        end = space.end() if space else end
    edits.append(Edit(start, end, ""))
    return edits


def _plain(value: Any) -> Any:
    """A copy in plain dicts and lists, so documents compare by content (not line records)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _expected(root: Any, located: _Located, method: DisableMethod) -> Any:
    """The document as it must read after the edit: the entry gone, or its switch set."""
    out = copy.deepcopy(_plain(root))
    container = _container_value(out, located.where)
    if method.kind == "remove":
        del container[located.key]
    else:
        container[located.key][method.key] = method.value
    return out


# --- state ------------------------------------------------------------------------------------


@dataclass
class _Record:
    """What distrust wrote to one config file, and how to put the original back."""

    config_path: Path
    target: Path
    client: str
    original_sha256: str
    backup: Path
    written_sha256: str
    disabled_at: str
    servers: list[dict[str, Any]] = field(default_factory=list)
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
            "disabled_at": self.disabled_at,
            "servers": self.servers,
            "interim_backups": [str(p) for p in self.interim_backups],
        }

    @classmethod
    def from_json(cls, data: Any, where: Path) -> _Record:
        def need(key: str, kind: type) -> Any:
            value = data.get(key) if isinstance(data, dict) else None
            if not isinstance(value, kind):
                raise _StateError(f"{where}: field {key!r} missing or not a {kind.__name__}")
            return value

        if need("version", int) != STATE_VERSION:
            raise _StateError(f"{where}: state version {data.get('version')} is not {STATE_VERSION}")
        servers = need("servers", list)
        if not all(isinstance(s, dict) and isinstance(s.get("name"), str) for s in servers):
            raise _StateError(f"{where}: field 'servers' must list objects with a 'name'")
        interim = need("interim_backups", list)
        if not all(isinstance(p, str) for p in interim):
            raise _StateError(f"{where}: field 'interim_backups' must be a list of strings")
        return cls(
            config_path=Path(need("config_path", str)),
            target=Path(need("target", str)),
            client=need("client", str),
            original_sha256=need("original_sha256", str),
            backup=Path(need("backup", str)),
            written_sha256=need("written_sha256", str),
            disabled_at=need("disabled_at", str),
            servers=list(servers),
            interim_backups=[Path(p) for p in interim],
        )


_StateError = StateError


def _store(state_dir: Path) -> RecordStore[_Record]:
    return RecordStore(state_dir, _Record.from_json)


def _default_state_dir() -> Path:
    return paths.data_dir() / "respond"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- disable / undo ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryOutcome:
    """What happened to one server entry.

    ``action``: ``disabled`` (switch set), ``removed`` (entry deleted), ``already-disabled``,
    ``skipped`` (left alone; ``reason`` says why) or ``restored`` (undo put it back).
    """

    server: str
    action: str
    reason: str = ""
    line: int | None = None


@dataclass(frozen=True)
class ConfigOutcome:
    """What happened to one config file.

    ``status``: ``changed``, ``restored``, ``unchanged``, ``skipped`` (could not be read or
    edited safely; not touched) or ``refused`` (changed since distrust wrote it).
    """

    path: Path
    client: str
    status: str
    entries: tuple[EntryOutcome, ...] = ()
    backup: Path | None = None
    reason: str = ""


@dataclass(frozen=True)
class DisableReport:
    files: tuple[ConfigOutcome, ...]
    state_dir: Path
    notices: tuple[str, ...] = ()

    @property
    def refused(self) -> tuple[ConfigOutcome, ...]:
        return tuple(f for f in self.files if f.status == "refused")

    @property
    def changed(self) -> tuple[ConfigOutcome, ...]:
        return tuple(f for f in self.files if f.status in ("changed", "restored"))

    def entries(self, *actions: str) -> list[tuple[ConfigOutcome, EntryOutcome]]:
        return [(f, e) for f in self.files for e in f.entries if e.action in actions]


def _group_by_file(plan: ResponsePlan) -> dict[Path, list[ConfigEntry]]:
    groups: dict[Path, list[ConfigEntry]] = {}
    for server in plan.servers:
        entries = groups.setdefault(server.entry.config_path, [])
        if server.entry not in entries:
            entries.append(server.entry)
    return groups


def disable_servers(
    plan: ResponsePlan, *, state_dir: Path | None = None, force: bool = False
) -> DisableReport:
    """Stop every server in ``plan`` from starting, in every client config that declares it.

    Other entries, comments and formatting are left byte for byte. A file distrust already
    edited and the user changed since is refused unless ``force`` (the edited file is then
    backed up and the recorded original kept, so undo still returns the pre-distrust file).
    Never raises for a user file: every problem is an outcome with its reason.
    """
    state = _store(state_dir or _default_state_dir())
    outcomes = [_disable_file(path, entries, state, force) for path, entries in _group_by_file(plan).items()]
    return DisableReport(tuple(outcomes), state.dir)


def _disable_file(
    path: Path, entries: list[ConfigEntry], state: RecordStore[_Record], force: bool
) -> ConfigOutcome:
    client = entries[0].client
    target = Path(os.path.realpath(path))
    keys, fmt = _key_paths(client, path)
    if fmt is None:
        return ConfigOutcome(path, client, "skipped", reason=f"{path}: unknown config format; not touched")
    try:
        raw = read_bytes_capped(target)
    except ReadError as exc:
        return ConfigOutcome(path, client, "skipped", reason=f"{path}: cannot read: {exc.reason}")
    bom = raw.startswith(_BOM)
    try:
        text = raw[len(_BOM) if bom else 0 :].decode("utf-8")
    except UnicodeDecodeError as exc:
        return ConfigOutcome(path, client, "skipped", reason=f"{path}: not valid UTF-8 (byte {exc.start})")
    sha = hashlib.sha256(raw).hexdigest()
    try:
        record = state.load(target)
    except _StateError as exc:
        return ConfigOutcome(
            path, client, "refused", reason=f"{path}: {exc}; fix or remove that record first"
        )
    if record is not None and sha == record.original_sha256:
        record = None  # the user restored the original by hand: start afresh
    if record is not None and sha != record.written_sha256 and not force:
        reason = (
            f"{path}: changed since distrust disabled servers in it on {record.disabled_at}; not touched. "
            "Run with force to edit it anyway (your file is backed up first)"
        )
        return ConfigOutcome(path, client, "refused", reason=reason)

    method = disable_method(client)
    syntax = syntax_for(fmt)
    results: list[EntryOutcome] = []
    done: list[dict[str, Any]] = []
    for entry in entries:
        try:
            document = parse(text, fmt)
            located = _locate(text, fmt, document.root, keys, entry.server, entry.line)
            line = _line_of(text, located.start)
            parsed_entry = _container_value(_plain(document.root), located.where)[located.key]
            if _is_disabled(parsed_entry):
                results.append(EntryOutcome(entry.server, "already-disabled", line=line))
                continue
            if method.kind == "flag":
                edits = [_flag_edit(text, fmt, syntax, located, method)]
            else:
                edits = _remove_edits(text, fmt, located)
            new_text = apply_edits(text, edits)
            try:
                after = parse(new_text, fmt).root
            except ConfigSyntaxError as exc:
                raise EditError(f"the edit would break the file ({exc})") from None
            if _plain(after) != _expected(document.root, located, method):
                raise EditError("the edit would change something outside the entry")
        except (EditError, ConfigSyntaxError) as exc:
            results.append(EntryOutcome(entry.server, "skipped", reason=str(exc), line=entry.line))
            continue
        removed_text = text[located.start : located.node.end] if method.kind == "remove" else None
        text = new_text
        action = "removed" if method.kind == "remove" else "disabled"
        results.append(EntryOutcome(entry.server, action, reason=method.rationale, line=line))
        done.append({"name": entry.server, "method": method.kind, "line": line, "removed_text": removed_text})

    if not done:
        return ConfigOutcome(path, client, "unchanged", tuple(results))
    new_bytes = (_BOM if bom else b"") + text.encode("utf-8")
    try:
        if read_bytes_capped(target) != raw:
            return ConfigOutcome(
                path, client, "refused", tuple(results), reason=f"{path}: changed while being edited"
            )
        saved = state.backup(target)
    except (OSError, ReadError) as exc:
        return ConfigOutcome(path, client, "skipped", tuple(results), reason=f"{path}: cannot back up: {exc}")
    previous = copy.deepcopy(record)
    if record is None:
        record = _Record(path, target, client, sha, saved, "", _now())
    elif sha != record.written_sha256:
        record.interim_backups.append(saved)
    record.written_sha256 = hashlib.sha256(new_bytes).hexdigest()
    record.disabled_at = _now()
    record.servers.extend(done)
    # Record first: if the write then fails, the file still matches the recorded original.
    try:
        state.save(record)
        atomic_write(target, new_bytes)
    except OSError as exc:
        with contextlib.suppress(OSError):
            if previous is not None:
                state.save(previous)
            else:
                state.delete(record)
        return ConfigOutcome(path, client, "skipped", tuple(results), reason=f"{path}: cannot write: {exc}")
    return ConfigOutcome(path, client, "changed", tuple(results), backup=saved)


def _is_disabled(entry: Any) -> bool:
    return isinstance(entry, dict) and (entry.get("disabled") is True or entry.get("enabled") is False)


def undo_disable(state_dir: Path | None = None, *, force: bool = False) -> DisableReport:
    """Put back, byte for byte, every config file :func:`disable_servers` wrote.

    A file changed since distrust wrote it is refused (your edits would be lost) unless
    ``force``; then the edited file is backed up first and its backup reported.
    """
    state = _store(state_dir or _default_state_dir())
    outcomes: list[ConfigOutcome] = []
    notices: list[str] = []
    for _, record in state.all():
        if isinstance(record, _StateError):
            notices.append(str(record))
            continue
        outcomes.append(_undo_file(record, state, force))
    return DisableReport(tuple(outcomes), state.dir, tuple(notices))


def _undo_file(record: _Record, state: RecordStore[_Record], force: bool) -> ConfigOutcome:
    path, client = record.config_path, record.client
    entries = tuple(EntryOutcome(str(s["name"]), "restored") for s in record.servers)
    try:
        current = read_bytes_capped(record.target)
    except ReadError as exc:
        return ConfigOutcome(
            path, client, "refused", reason=f"{path}: cannot read ({exc.reason}); original at {record.backup}"
        )
    current_sha = hashlib.sha256(current).hexdigest()
    if current_sha == record.original_sha256:
        state.delete(record)
        return ConfigOutcome(path, client, "unchanged", reason=f"{path}: already the original")
    try:
        original = read_bytes_capped(record.backup)
    except ReadError as exc:
        return ConfigOutcome(path, client, "refused", reason=f"{path}: backup unreadable: {exc}")
    if hashlib.sha256(original).hexdigest() != record.original_sha256:
        return ConfigOutcome(
            path,
            client,
            "refused",
            reason=f"{path}: the backup {record.backup} no longer matches the original",
        )
    saved: Path | None = None
    if current_sha != record.written_sha256:
        if not force:
            reason = (
                f"{path}: changed since distrust edited it on {record.disabled_at}; not restored, your edits "
                f"would be lost. Use force to restore anyway (your file is backed up first), or copy your "
                f"edits into the original at {record.backup}"
            )
            return ConfigOutcome(path, client, "refused", entries, reason=reason)
        try:
            saved = state.backup(record.target)
        except OSError as exc:
            return ConfigOutcome(
                path, client, "refused", reason=f"{path}: cannot back up the edited file: {exc}"
            )
    try:
        atomic_write(record.target, original)
    except OSError as exc:
        return ConfigOutcome(path, client, "refused", reason=f"{path}: cannot write: {exc}")
    state.delete(record)
    note = f"your edits made after distrust's are in {saved}" if saved else ""
    return ConfigOutcome(path, client, "restored", entries, backup=saved, reason=note)


# --- removing installed copies ----------------------------------------------------------------


@dataclass(frozen=True)
class Removal:
    """One installed copy and the verdict on deleting it.

    ``status``: ``remove`` (safe to delete), ``removed``, ``gone`` (no longer there),
    ``refused`` (``reason`` says why it must not be deleted) or ``manual`` (not a directory
    distrust deletes; ``reason`` says what to do).
    """

    path: Path
    package: str
    source: str
    status: str
    reason: str = ""


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path != root and path.is_relative_to(root) for root in roots)


def _manifest_name(folder: Path) -> str | None:
    """The ``name`` in ``folder/package.json``; raise ValueError naming the file when unreadable."""
    manifest = folder / "package.json"
    try:
        data = json.loads(read_text_capped(manifest, 1024 * 1024))
    except ReadError as exc:
        raise ValueError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{manifest}: line {exc.lineno}: not valid JSON") from None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def _judge_copy(item: InstalledCopy, roots: Sequence[Path]) -> Removal:
    name = item.ref.name
    if item.target is None:
        return Removal(item.evidence, name, item.source, "manual", item.manual)
    target = item.target
    if not os.path.lexists(target):
        return Removal(target, name, item.source, "gone", "no longer on disk")
    real_roots = [Path(os.path.realpath(r)) for r in roots]
    absolute = Path(os.path.abspath(target))
    if Path(os.path.realpath(target)) != absolute:
        return Removal(target, name, item.source, "refused", "the path goes through a symbolic link")
    if not _inside(absolute, real_roots):
        where = ", ".join(str(r) for r in roots)
        manual = MANUAL_CLEANUP.get(item.source, "remove it by hand")
        return Removal(
            target,
            name,
            item.source,
            "refused",
            f"outside the directories given ({where}); {manual.format(name=name, path=target)}",
        )
    package_dir = target / "node_modules" / name if item.source == "npx-cache" else target
    try:
        found = _manifest_name(package_dir)
    except ValueError as exc:
        return Removal(target, name, item.source, "refused", f"cannot confirm what it is: {exc}")
    if found != name:
        return Removal(
            target,
            name,
            item.source,
            "refused",
            f"{package_dir / 'package.json'} names {found!r}, not {name!r}",
        )
    if item.source == "npx-cache" and target.parent.name != "_npx":
        return Removal(target, name, item.source, "refused", "not an npx cache entry (_npx/<hash>)")
    if item.source != "npx-cache" and not (
        target.parent.name == "node_modules"
        or (target.parent.name.startswith("@") and target.parent.parent.name == "node_modules")
    ):
        return Removal(target, name, item.source, "refused", "not a package folder inside node_modules")
    return Removal(target, name, item.source, "remove")


def check_removals(plan: ResponsePlan) -> tuple[Removal, ...]:
    """The verdict on every installed copy in ``plan``; nothing is deleted."""
    return tuple(_judge_copy(item, plan.roots) for item in plan.copies)


def remove_installed(plan: ResponsePlan, *, dry_run: bool = True) -> list[str]:
    """The package directories that are (``dry_run``) or were deleted.

    Only directories inside the plan's home and project roots whose ``package.json`` names the
    affected package are deleted; the check is made again right before deleting. Copies that
    are refused or need a manual step are in :func:`check_removals`.
    """
    out: list[str] = []
    for verdict in check_removals(plan):
        if verdict.status != "remove":
            continue
        if not dry_run:
            shutil.rmtree(verdict.path)
        out.append(str(verdict.path))
    return out


# --- incident report --------------------------------------------------------------------------

# What the law and contracts ask after a breach; each row becomes a checklist item.
NOTIFICATIONS: tuple[tuple[str, str], ...] = (
    (
        "GDPR Art. 33",
        "If personal data was involved: notify your supervisory authority without undue delay and where "
        "feasible within 72 hours of becoming aware{deadline}; a processor tells its controller "
        "without undue delay.",
    ),
    (
        "GDPR Art. 34",
        "If the breach is likely to result in a high risk to people (password resets, one-time codes, "
        "credentials, financial or health data): tell the affected data subjects without undue delay.",
    ),
    (
        "Contracts",
        "Send the breach notices your customer, processor and partner agreements require, "
        "in the time they set.",
    ),
)
HIGH_RISK_CATEGORIES = frozenset({"password-reset", "otp", "credential", "invoice", "personal-data"})


def _entry_state(entry: ConfigEntry) -> str:
    """``disabled`` / ``enabled`` / ``unknown: why``, read from the config on disk now."""
    keys, fmt = _key_paths(entry.client, entry.config_path)
    if fmt is None:
        return "unknown: unknown config format"
    try:
        text = read_text_capped(entry.config_path)
        document = parse(text, fmt)
        located = _locate(text, fmt, document.root, keys, entry.server, None)
    except ReadError as exc:
        return "disabled" if not entry.config_path.exists() else f"unknown: {exc.reason}"
    except ConfigSyntaxError as exc:
        return f"unknown: {exc}"
    except EditError as exc:
        return "disabled" if "no longer in the file" in str(exc) else f"unknown: {exc}"
    raw = _container_value(_plain(document.root), located.where)[located.key]
    return "disabled" if _is_disabled(raw) else "enabled"


def _box(done: bool) -> str:
    return "- [x]" if done else "- [ ]"


def _fmt_time(value: datetime | None) -> str:
    if value is None:
        return "unknown"
    return value.strftime("%Y-%m-%d %H:%M %Z").strip()


def _secret_values(plan: ResponsePlan) -> list[str]:
    values: set[str] = set()
    for server in plan.servers:
        spec = server.resolved.spec
        for _, value in (*spec.env, *spec.headers):
            if len(value) >= MIN_SCRUB_LENGTH:
                values.add(value)
    return sorted(values, key=len, reverse=True)


def incident_report(plan: ResponsePlan, hunt: HuntResult | None, *, generated: datetime) -> str:
    """The incident report in markdown: what happened, when, what was exposed, what to do.

    Checklist boxes reflect the machine as it is now (configs and package folders are
    re-read), so running it again after the clean-up ticks them. Credentials appear by key
    name only; as a last guard every configured secret value is scrubbed from the text.
    """
    home = plan.roots[0] if plan.roots else None
    lines: list[str] = []
    add = lines.append
    names = ", ".join(plan.packages) or "no package"
    add(f"# Incident report: {names}")
    add("")
    add(f"Generated {_fmt_time(generated)} by `distrust respond`.")
    add("")
    if not plan.servers:
        add(
            f"No configured server has a finding at or above {plan.min_severity.label}: "
            "nothing to respond to."
        )
        return "\n".join(lines) + "\n"

    add("## What happened")
    add("")
    for server in plan.servers:
        pkg = server.package
        versions = ", ".join(server.versions) or "unknown"
        advisories = ", ".join(server.advisories) or "none"
        where = display_path(server.entry.config_path, home)
        line = f":{server.entry.line}" if server.entry.line else ""
        add(
            f"- **{server.entry.server}** in {server.entry.client} (`{where}{line}`) runs "
            f"`{pkg.name if pkg else server.launch}`, versions seen: {versions}; advisories: {advisories}."
        )
        add(f"  - Launched as `{server.launch}`.")
        if server.floating:
            add(
                "  - How it got there: the config names no exact version, so each launch ran whatever "
                "the registry or the npx cache offered; a malicious release reached this machine without "
                "any change to the config."
            )
        elif pkg and pkg.version:
            add(f"  - How it got there: the config pins {pkg.version}, a version the advisories list.")
        for finding in server.findings:
            add(f"  - {finding.severity.label.upper()} {finding.rule_id}: {finding.title}")
    add("")

    add("## Timeline")
    add("")
    events: list[tuple[datetime, str]] = []
    for item in plan.copies:
        if item.when is not None:
            events.append(
                (item.when, f"{item.ref} present ({item.source}, {display_path(item.evidence, home)})")
            )
    if hunt is not None and hunt.first is not None:
        events.append((hunt.first, "first message copied to an unintended recipient"))
    if hunt is not None and hunt.last is not None:
        events.append((hunt.last, "last message copied to an unintended recipient"))
    for when, what in sorted(events, key=lambda e: e[0].timestamp()):
        add(f"- {_fmt_time(when)}: {what}")
    add(f"- {_fmt_time(generated)}: this report")
    if hunt is None:
        add("- Exposure window unknown: no mail hunt was run (`distrust hunt`).")
    add("")

    add("## What was exposed")
    add("")
    exposed = len(hunt.exposures) if hunt else 0
    if hunt is None:
        add("Not measured: run `distrust hunt` over the sent-mail logs to count the copied messages.")
    else:
        add(
            f"{exposed} of {hunt.scanned} sent messages went to unintended recipients "
            f"(sources: {', '.join(hunt.sources) or 'none'})."
        )
        categories = Counter(c for e in hunt.exposures for c in (e.categories or ("uncategorised",)))
        if categories:
            add("")
            add("| category | messages |")
            add("|---|---|")
            for category, count in sorted(categories.items(), key=lambda kv: (-kv[1], kv[0])):
                add(f"| {category} | {count} |")
        hidden = Counter(r for e in hunt.exposures for r in e.hidden)
        if hidden:
            add("")
            add("Unintended recipients: " + ", ".join(f"`{r}` ({n})" for r, n in hidden.most_common()))
        people = {r for e in hunt.exposures for r in (*e.record.to, *e.record.cc)}
        add(f"\nIntended recipients of the exposed messages (data subjects to consider): {len(people)}.")
    add("")

    add("## Remediation checklist")
    add("")
    for server in plan.servers:
        state = _entry_state(server.entry)
        where = display_path(server.entry.config_path, home)
        suffix = "" if state in ("disabled", "enabled") else f" ({state})"
        add(
            f"{_box(state == 'disabled')} Disable **{server.entry.server}** in {server.entry.client} "
            f"(`{where}`){suffix}"
        )
    for verdict in check_removals(plan):
        path = display_path(verdict.path, home)
        if verdict.status in ("gone", "remove"):
            add(f"{_box(verdict.status == 'gone')} Remove {verdict.package} ({verdict.source}): `{path}`")
        else:
            add(f"- [ ] Remove {verdict.package} ({verdict.source}) at `{path}`: {verdict.reason}")
    rotate: dict[str, list[str]] = {}
    for server in plan.servers:
        for key in server.credentials:
            rotate.setdefault(key, []).append(server.entry.server)
    for key, servers in rotate.items():
        given = ", ".join(dict.fromkeys(servers))
        if SECRET_NAME.search(key):
            add(f"- [ ] Rotate `{key}` (given to {given}); revoke the old value at its issuer")
        else:
            add(f"- [ ] Check `{key}` (given to {given}): rotate it if it holds a secret")
    if hunt is not None:
        for credential in hunt.credentials_to_rotate:
            if credential not in rotate:
                add(f"- [ ] Rotate the credential seen in exposed mail: `{credential}`")
    if hunt is not None and exposed:
        add(
            f"- [ ] Review the {exposed} exposed messages (list below) and act on each: "
            "reset what a copied reset link or code could open"
        )
    elif hunt is None:
        add("- [ ] Run `distrust hunt` to find the messages that were copied")
    high_risk = bool(hunt and any(set(e.categories) & HIGH_RISK_CATEGORIES for e in hunt.exposures))
    deadline = (
        f" (if you became aware at {_fmt_time(generated)}: by {_fmt_time(generated + timedelta(hours=72))})"
    )
    for law, text in NOTIFICATIONS:
        add(f"- [ ] {law}: {text.format(deadline=deadline)}")
    add("  Facts for the notices: nature of the breach: " + _facts(plan, hunt, high_risk))
    add(
        "- [ ] Only if you need the original configs back: `distrust respond --undo` restores them "
        "byte for byte (it re-enables the servers: pin a clean version first)"
    )
    add("")

    if hunt is not None and hunt.exposures:
        add("## Exposed messages")
        add("")
        add("| sent | message id | hidden recipients | categories |")
        add("|---|---|---|---|")
        for exposure in sorted(
            hunt.exposures, key=lambda e: (e.record.sent is None, e.record.sent or generated)
        ):
            record = exposure.record
            add(
                f"| {_fmt_time(record.sent)} | `{record.message_id}` | {', '.join(exposure.hidden)} | "
                f"{', '.join(exposure.categories) or '-'} |"
            )
        add("")

    text = "\n".join(lines) + "\n"
    for value in _secret_values(plan):
        text = text.replace(value, REDACTED)
    return text


def _facts(plan: ResponsePlan, hunt: HuntResult | None, high_risk: bool) -> str:
    parts = [
        f"package {', '.join(plan.packages)} (advisories {', '.join(plan.advisories) or 'none'}) "
        "ran as an MCP server with access to the assistant's mail tool"
    ]
    if hunt is not None:
        recipients = sorted({r for e in hunt.exposures for r in e.hidden})
        parts.append(f"{len(hunt.exposures)} messages copied to {', '.join(recipients) or 'no one found'}")
        if hunt.first or hunt.last:
            parts.append(f"between {_fmt_time(hunt.first)} and {_fmt_time(hunt.last)}")
        parts.append("high-risk content present" if high_risk else "no high-risk content classified")
    parts.append("measures: servers disabled, package copies removed, credentials rotated (see checklist)")
    return "; ".join(parts) + "."
