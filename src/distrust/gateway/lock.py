"""``distrust.lock``: the exact MCP servers this machine may run, pinned by hash, reviewable as text.

The lock is what turns "``npx -y postmark-mcp``, whatever the registry serves today" into
"postmark-mcp 1.0.15, sha512-…, installed in the verified store, able to reach these hosts".
It is TOML because people read it in code review and edit a few lists in it (egress hosts,
file grants, mail recipients); everything else is written by ``distrust lock``/``update``.

Stability is a feature: the same machine locked twice gives byte-identical text, so a diff
of the lock shows only real changes. Servers are sorted by name, keys come in the fixed order
of :func:`_server_doc`, and every list whose order means nothing is sorted (launch ``args``
keep their order: it is meaningful).

Server names. A server is keyed by the name its client config gives it. When two clients use
the same name for *different* things (another package, another version spec, another URL),
both entries are renamed ``client/name`` (and ``client/name#2``… if one client has it twice),
so no entry silently wins. The same name for the same thing in several clients is one entry
listing every client and config path.

Layout of one entry (``[servers.NAME]``)::

    kind        "package" | "remote" | "unlockable"
    clients, configs, config_name, env_keys (names only: values are never written)
    reason      why an "unlockable" entry could not be locked (docker, local script…)
    notes       how the version was chosen, and similar facts for the reviewer
    package     {ecosystem, name, version, integrity, registry, spec}
    store       {path, digest}: the verified store entry and the digest of its manifest
    launch      {command, args, transport, url}: how ``distrust run`` starts it (from the store)
    profile     {digest, level, score, network, email_recipients, env_secrets, install_hooks}
    egress      {allow}: hosts the server may reach; derived from the profile, yours to edit
    fs_grants   paths the sandbox will expose (gateway part 2; empty until then)
    recipients  mail recipients the egress inspectors will allow (empty: no extra recipients)
    tools       the pinned surface (instructions + tool definitions); absent until first run
    proposed_tools  a changed surface awaiting ``distrust approve``
"""

from __future__ import annotations

import contextlib
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import tomli_w

from distrust import paths
from distrust.fsutil import ReadError, atomic_write, backup, read_text_capped
from distrust.gateway.surface import Surface, ToolDef

LOCK_VERSION: Final = 1
LOCK_FILE_NAME: Final = "distrust.lock"
BACKUP_DIR_NAME: Final = "distrust.lock.backups"

HEADER: Final = """\
# distrust.lock: the exact MCP servers this machine may run, pinned by version and hash.
# Written by `distrust lock`. Review it like code; commit it if you share a setup.
# To change a server's version run `distrust update NAME`: it shows what the new version can
# do that the locked one could not, and rewrites this file only if you approve. A version or
# integrity edited here by hand no longer matches the verified store and is refused.
# Yours to edit: [servers.NAME.egress] allow, fs_grants, recipients.
"""

KIND_PACKAGE: Final = "package"
KIND_REMOTE: Final = "remote"
KIND_UNLOCKABLE: Final = "unlockable"
KINDS: Final = (KIND_PACKAGE, KIND_REMOTE, KIND_UNLOCKABLE)


class LockError(Exception):
    """The lock file cannot be used; the message names the file, line and field where known."""

    def __init__(self, path: Path, reason: str, *, line: int | None = None, field: str | None = None) -> None:
        where = f"{path}:{line}" if line else str(path)
        what = f" [{field}]" if field else ""
        super().__init__(f"{where}{what}: {reason}")
        self.path = path
        self.line = line
        self.field = field
        self.reason = reason


class LockMissingError(LockError):
    """No lock file yet: ``distrust lock`` has not been run (or was pointed elsewhere)."""


class UnknownServerError(LockError):
    """The lock has no entry of that name."""


@dataclass(frozen=True)
class LockedPackage:
    """The exact version that runs, the hash it was verified against, and where it came from."""

    ecosystem: str
    name: str
    version: str
    integrity: str  # npm SRI ``sha512-…`` or PyPI ``sha256:…``
    registry: str  # the registry or index URL the artifact was fetched from
    spec: str | None = None  # what the client config asked for (``latest``, ``^1.0``), if not exact


@dataclass(frozen=True)
class StoreRef:
    """Where the verified copy is installed and the digest its manifest must still have."""

    path: str
    digest: str


@dataclass(frozen=True)
class Launch:
    """How to start the server: from the store for packages, the URL for remote servers."""

    transport: str
    command: str | None = None
    args: tuple[str, ...] = ()
    url: str | None = None


@dataclass(frozen=True)
class ProfileSummary:
    """The reviewer's view of what the locked version can do (the full profile is recomputable)."""

    digest: str
    level: str
    score: int
    network: tuple[str, ...] = ()
    email_recipients: tuple[str, ...] = ()
    env_secrets: tuple[str, ...] = ()
    install_hooks: tuple[str, ...] = ()


@dataclass(frozen=True)
class LockedServer:
    """One ``[servers.NAME]`` entry."""

    name: str
    kind: str
    clients: tuple[str, ...] = ()
    configs: tuple[str, ...] = ()
    config_name: str = ""  # the name in the client config (differs from ``name`` when disambiguated)
    env_keys: tuple[str, ...] = ()
    reason: str | None = None
    notes: tuple[str, ...] = ()
    package: LockedPackage | None = None
    store: StoreRef | None = None
    launch: Launch | None = None
    profile: ProfileSummary | None = None
    egress_allow: tuple[str, ...] = ()
    fs_grants: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    tools: Surface | None = None
    proposed_tools: Surface | None = None


@dataclass(frozen=True)
class LockFile:
    """Every locked server, sorted by name."""

    servers: tuple[LockedServer, ...] = ()
    version: int = LOCK_VERSION

    def server(self, name: str) -> LockedServer | None:
        return next((s for s in self.servers if s.name == name), None)

    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.servers)

    def with_server(self, entry: LockedServer) -> LockFile:
        """A copy with ``entry`` added or replacing the entry of the same name."""
        kept = [s for s in self.servers if s.name != entry.name]
        return replace(self, servers=tuple(sorted([*kept, entry], key=lambda s: s.name)))

    def without(self, name: str) -> LockFile:
        return replace(self, servers=tuple(s for s in self.servers if s.name != name))


def default_lock_path() -> Path:
    """``paths.config_dir()/distrust.lock`` (``$DISTRUST_CONFIG_DIR`` moves it)."""
    return paths.config_dir() / LOCK_FILE_NAME


# --- writing ---------------------------------------------------------------------------------


def _sorted_unique(values: tuple[str, ...] | list[str]) -> list[str]:
    return sorted(set(values))


def _surface_doc(surface: Surface) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if surface.instructions is not None:
        doc["instructions"] = surface.instructions
    tools = []
    for tool in sorted(surface.tools, key=lambda t: t.name):
        entry: dict[str, Any] = {"name": tool.name, "description": tool.description}
        if tool.title is not None:
            entry["title"] = tool.title
        entry["input_schema"] = tool.input_schema
        if tool.output_schema is not None:
            entry["output_schema"] = tool.output_schema
        if tool.annotations is not None:
            entry["annotations"] = tool.annotations
        tools.append(entry)
    doc["tool"] = tools
    return doc


def _server_doc(s: LockedServer) -> dict[str, Any]:
    """One entry as TOML-ready dicts, keys in the order a reviewer reads them."""
    doc: dict[str, Any] = {"kind": s.kind}
    if s.config_name and s.config_name != s.name:
        doc["config_name"] = s.config_name
    doc["clients"] = _sorted_unique(s.clients)
    doc["configs"] = _sorted_unique(s.configs)
    doc["env_keys"] = _sorted_unique(s.env_keys)
    if s.reason:
        doc["reason"] = s.reason
    if s.notes:
        doc["notes"] = list(s.notes)
    doc["fs_grants"] = _sorted_unique(s.fs_grants)
    doc["recipients"] = _sorted_unique(s.recipients)
    if s.package:
        p = s.package
        pkg: dict[str, Any] = {
            "ecosystem": p.ecosystem,
            "name": p.name,
            "version": p.version,
            "integrity": p.integrity,
            "registry": p.registry,
        }
        if p.spec is not None:
            pkg["spec"] = p.spec
        doc["package"] = pkg
    if s.store:
        doc["store"] = {"path": s.store.path, "digest": s.store.digest}
    if s.launch:
        launch: dict[str, Any] = {"transport": s.launch.transport}
        if s.launch.command is not None:
            launch["command"] = s.launch.command
            launch["args"] = list(s.launch.args)
        if s.launch.url is not None:
            launch["url"] = s.launch.url
        doc["launch"] = launch
    if s.profile:
        pr = s.profile
        doc["profile"] = {
            "digest": pr.digest,
            "level": pr.level,
            "score": pr.score,
            "network": _sorted_unique(pr.network),
            "email_recipients": _sorted_unique(pr.email_recipients),
            "env_secrets": _sorted_unique(pr.env_secrets),
            "install_hooks": _sorted_unique(pr.install_hooks),
        }
    if s.kind != KIND_UNLOCKABLE:
        doc["egress"] = {"allow": _sorted_unique(s.egress_allow)}
    if s.tools is not None:
        doc["tools"] = _surface_doc(s.tools)
    if s.proposed_tools is not None:
        doc["proposed_tools"] = _surface_doc(s.proposed_tools)
    return doc


def render_lock(lock: LockFile) -> str:
    """The lock as text: header comment, ``lock_version``, then servers sorted by name."""
    servers = {s.name: _server_doc(s) for s in sorted(lock.servers, key=lambda s: s.name)}
    body = tomli_w.dumps({"lock_version": lock.version, "servers": servers})
    return HEADER + "\n" + body


def write_lock(lock: LockFile, path: Path | None = None) -> bool:
    """Write ``lock`` (backup of the old file first, then an atomic replace).

    Returns False, touching nothing, when the file already holds exactly this text: re-locking
    an unchanged machine must not pile up backups or change timestamps.
    """
    target = path or default_lock_path()
    text = render_lock(lock)
    if target.exists():
        try:
            if read_text_capped(target) == text:
                return False
        except ReadError:
            pass
        backup(target, target.parent / BACKUP_DIR_NAME)
    atomic_write(target, text, mode=0o644 if not target.exists() else None)
    return True


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Serialise read-modify-write of the lock between processes (the relay pins while a
    ``distrust lock`` may be running). POSIX ``flock`` on a sidecar file; elsewhere a no-op."""
    try:
        import fcntl
    except ImportError:  # Windows: atomic writes still keep the file whole
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.flock", "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def modify_lock(
    change: Callable[[LockFile], LockFile], path: Path | None = None, *, create: bool = False
) -> LockFile:
    """Read the lock, apply ``change``, write the result, all under an exclusive file lock.

    ``create`` starts from an empty lock when the file does not exist yet.
    """
    target = path or default_lock_path()
    with _exclusive(target):
        current = LockFile() if create and not target.exists() else load_lock(target)
        updated = change(current)
        write_lock(updated, target)
        return updated


# --- reading ---------------------------------------------------------------------------------

_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


def load_lock(path: Path | None = None) -> LockFile:
    """Parse and check a lock file. Raises :class:`LockError` naming file, line and field."""
    target = path or default_lock_path()
    if not target.exists():
        raise LockMissingError(target, "no lock file; run `distrust lock` first")
    try:
        text = read_text_capped(target)
    except ReadError as exc:
        raise LockError(target, exc.reason) from None
    return parse_lock(text, target)


def load_lock_or_empty(path: Path | None = None) -> LockFile:
    """Like :func:`load_lock`, but a missing file is an empty lock (a broken one still raises)."""
    try:
        return load_lock(path)
    except LockMissingError:
        return LockFile()


def parse_lock(text: str, path: Path) -> LockFile:
    """Check ``text`` field by field; every problem names the line where it is."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _TOML_POSITION.search(message)
        reason = _TOML_POSITION.sub("", message).strip()
        raise LockError(path, f"not valid TOML: {reason}", line=int(m.group(1)) if m else None) from None
    reader = _Reader(path, text)
    version = doc.get("lock_version")
    if version is None:
        raise reader.error("missing; this does not look like a distrust lock", "lock_version", ())
    if not isinstance(version, int) or isinstance(version, bool):
        raise reader.error("must be an integer", "lock_version", ())
    if version != LOCK_VERSION:
        raise reader.error(
            f"is {version}, this distrust reads version {LOCK_VERSION}; upgrade distrust or re-run "
            "`distrust lock`",
            "lock_version",
            (),
        )
    unknown = set(doc) - {"lock_version", "servers"}
    if unknown:
        key = sorted(unknown)[0]
        raise reader.error("unknown top-level key", key, ())
    servers_doc = doc.get("servers", {})
    if not isinstance(servers_doc, dict):
        raise reader.error("must be a table of servers", "servers", ())
    servers = [reader.server(name, entry) for name, entry in servers_doc.items()]
    return LockFile(tuple(sorted(servers, key=lambda s: s.name)), version)


class _Reader:
    """Field checks that can point at the line a field is on (tomllib gives values, not lines)."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    # Locating lines: find the table header, then the key within that table.
    def _header_line(self, table: tuple[str, ...]) -> int | None:
        wanted = ".".join(table)
        for number, raw in enumerate(self.lines, start=1):
            line = raw.strip()
            if line.startswith("[") and not line.startswith("[["):
                name = line.strip("[]").strip()
                if _normalise_key_path(name) == wanted:
                    return number
        return None

    def line_of(self, key: str, table: tuple[str, ...]) -> int | None:
        start = self._header_line(table) if table else 0
        if start is None:
            # the key may be written inline: servers.NAME = { … } or dotted keys
            return self._first_mention(table[-1] if table else key)
        pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
        for number in range(start + 1, len(self.lines) + 1):
            line = self.lines[number - 1].strip()
            if line.startswith("[") and number > start:
                break
            if pattern.match(line):
                return number
        return start or None

    def _first_mention(self, word: str) -> int | None:
        for number, raw in enumerate(self.lines, start=1):
            if word in raw:
                return number
        return None

    def error(self, reason: str, key: str, table: tuple[str, ...]) -> LockError:
        dotted = ".".join((*table, key)) if key else ".".join(table)
        return LockError(self.path, reason, line=self.line_of(key, table), field=dotted)

    # Typed getters.
    def text(self, doc: Mapping[str, Any], key: str, table: tuple[str, ...], *, required: bool = True) -> str:
        value = doc.get(key)
        if value is None:
            if required:
                raise self.error("missing", key, table)
            return ""
        if not isinstance(value, str):
            raise self.error(f"must be a string, not {type(value).__name__}", key, table)
        return value

    def optional_text(self, doc: Mapping[str, Any], key: str, table: tuple[str, ...]) -> str | None:
        return self.text(doc, key, table, required=False) if key in doc else None

    def integer(self, doc: Mapping[str, Any], key: str, table: tuple[str, ...]) -> int:
        value = doc.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error("must be an integer" if key in doc else "missing", key, table)
        return value

    def strings(self, doc: Mapping[str, Any], key: str, table: tuple[str, ...]) -> tuple[str, ...]:
        value = doc.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error("must be a list of strings", key, table)
        return tuple(value)

    def table(
        self, doc: Mapping[str, Any], key: str, table: tuple[str, ...], *, required: bool = False
    ) -> dict[str, Any] | None:
        value = doc.get(key)
        if value is None:
            if required:
                raise self.error("missing", key, table)
            return None
        if not isinstance(value, dict):
            raise self.error("must be a table", key, table)
        return value

    def known_keys(self, doc: Mapping[str, Any], allowed: frozenset[str], table: tuple[str, ...]) -> None:
        for key in doc:
            if key not in allowed:
                raise self.error(f"unknown key (expected one of: {', '.join(sorted(allowed))})", key, table)

    # Sections.
    def server(self, name: str, doc: Any) -> LockedServer:
        where = ("servers", name)
        if not isinstance(doc, dict):
            raise self.error("must be a table", name, ("servers",))
        self.known_keys(doc, _SERVER_KEYS, where)
        kind = self.text(doc, "kind", where)
        if kind not in KINDS:
            raise self.error(f"is {kind!r}; expected one of: {', '.join(KINDS)}", "kind", where)
        package = self._package(doc, where)
        launch = self._launch(doc, where)
        if kind == KIND_PACKAGE and (package is None or launch is None):
            raise self.error("a package entry needs [package] and [launch]", "kind", where)
        if kind == KIND_REMOTE and (launch is None or launch.url is None):
            raise self.error("a remote entry needs [launch] with a url", "kind", where)
        egress = self.table(doc, "egress", where) or {}
        self.known_keys(egress, frozenset({"allow"}), (*where, "egress"))
        return LockedServer(
            name=name,
            kind=kind,
            clients=self.strings(doc, "clients", where),
            configs=self.strings(doc, "configs", where),
            config_name=self.optional_text(doc, "config_name", where) or name,
            env_keys=self.strings(doc, "env_keys", where),
            reason=self.optional_text(doc, "reason", where),
            notes=self.strings(doc, "notes", where),
            package=package,
            store=self._store(doc, where),
            launch=launch,
            profile=self._profile(doc, where),
            egress_allow=self.strings(egress, "allow", (*where, "egress")),
            fs_grants=self.strings(doc, "fs_grants", where),
            recipients=self.strings(doc, "recipients", where),
            tools=self._surface(doc, "tools", where),
            proposed_tools=self._surface(doc, "proposed_tools", where),
        )

    def _package(self, doc: Mapping[str, Any], where: tuple[str, ...]) -> LockedPackage | None:
        pkg = self.table(doc, "package", where)
        if pkg is None:
            return None
        t = (*where, "package")
        self.known_keys(pkg, frozenset({"ecosystem", "name", "version", "integrity", "registry", "spec"}), t)
        return LockedPackage(
            ecosystem=self.text(pkg, "ecosystem", t),
            name=self.text(pkg, "name", t),
            version=self.text(pkg, "version", t),
            integrity=self.text(pkg, "integrity", t),
            registry=self.text(pkg, "registry", t),
            spec=self.optional_text(pkg, "spec", t),
        )

    def _store(self, doc: Mapping[str, Any], where: tuple[str, ...]) -> StoreRef | None:
        store = self.table(doc, "store", where)
        if store is None:
            return None
        t = (*where, "store")
        self.known_keys(store, frozenset({"path", "digest"}), t)
        return StoreRef(path=self.text(store, "path", t), digest=self.text(store, "digest", t))

    def _launch(self, doc: Mapping[str, Any], where: tuple[str, ...]) -> Launch | None:
        launch = self.table(doc, "launch", where)
        if launch is None:
            return None
        t = (*where, "launch")
        self.known_keys(launch, frozenset({"transport", "command", "args", "url"}), t)
        return Launch(
            transport=self.text(launch, "transport", t),
            command=self.optional_text(launch, "command", t),
            args=self.strings(launch, "args", t),
            url=self.optional_text(launch, "url", t),
        )

    def _profile(self, doc: Mapping[str, Any], where: tuple[str, ...]) -> ProfileSummary | None:
        prof = self.table(doc, "profile", where)
        if prof is None:
            return None
        t = (*where, "profile")
        allowed = {"digest", "level", "score", "network", "email_recipients", "env_secrets", "install_hooks"}
        self.known_keys(prof, frozenset(allowed), t)
        return ProfileSummary(
            digest=self.text(prof, "digest", t),
            level=self.text(prof, "level", t),
            score=self.integer(prof, "score", t),
            network=self.strings(prof, "network", t),
            email_recipients=self.strings(prof, "email_recipients", t),
            env_secrets=self.strings(prof, "env_secrets", t),
            install_hooks=self.strings(prof, "install_hooks", t),
        )

    def _surface(self, doc: Mapping[str, Any], key: str, where: tuple[str, ...]) -> Surface | None:
        surf = self.table(doc, key, where)
        if surf is None:
            return None
        t = (*where, key)
        self.known_keys(surf, frozenset({"instructions", "tool"}), t)
        raw_tools = surf.get("tool", [])
        if not isinstance(raw_tools, list):
            raise self.error("must be a list of [[tool]] tables", "tool", t)
        tools = []
        tool_keys = frozenset(
            {"name", "description", "title", "input_schema", "output_schema", "annotations"}
        )
        for raw in raw_tools:
            if not isinstance(raw, dict):
                raise self.error("each entry must be a table", "tool", t)
            self.known_keys(raw, tool_keys, t)
            tools.append(
                ToolDef(
                    name=self.text(raw, "name", t),
                    description=self.text(raw, "description", t, required=False),
                    title=self.optional_text(raw, "title", t),
                    input_schema=self.text(raw, "input_schema", t, required=False) or "{}",
                    output_schema=self.optional_text(raw, "output_schema", t),
                    annotations=self.optional_text(raw, "annotations", t),
                )
            )
        return Surface(
            self.optional_text(surf, "instructions", t), tuple(sorted(tools, key=lambda x: x.name))
        )


_SERVER_KEYS: Final = frozenset(
    {
        "kind",
        "config_name",
        "clients",
        "configs",
        "env_keys",
        "reason",
        "notes",
        "package",
        "store",
        "launch",
        "profile",
        "egress",
        "fs_grants",
        "recipients",
        "tools",
        "proposed_tools",
    }
)


def _normalise_key_path(text: str) -> str:
    """``servers."claude/postmark".package`` → ``servers.claude/postmark.package`` (quotes dropped)."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([^.\s]+)', text)
    return ".".join(next(p for p in groups if p) if any(groups) else "" for groups in parts)


# --- the tool surface, stored in the lock ----------------------------------------------------


@dataclass
class LockSurfaceStore:
    """:class:`~distrust.gateway.surface.SurfaceStore` kept in ``distrust.lock``.

    Every call reads the file afresh (a ``distrust approve`` in another terminal is seen at
    once) and every write is a locked read-modify-write with a backup, so the relay and the
    CLI never overwrite each other's changes.
    """

    lock_path: Path = field(default_factory=default_lock_path)

    def _entry(self, server: str) -> LockedServer:
        entry = load_lock(self.lock_path).server(server)
        if entry is None:
            raise UnknownServerError(self.lock_path, f"no server named {server!r} in the lock")
        return entry

    def pinned(self, server: str) -> Surface | None:
        return self._entry(server).tools

    def proposed(self, server: str) -> Surface | None:
        return self._entry(server).proposed_tools

    def pin(self, server: str, surface: Surface) -> None:
        def change(lock: LockFile) -> LockFile:
            entry = _require(lock, server, self.lock_path)
            still_proposed = entry.proposed_tools
            if still_proposed is not None and still_proposed.digest() == surface.digest():
                still_proposed = None
            return lock.with_server(replace(entry, tools=surface, proposed_tools=still_proposed))

        modify_lock(change, self.lock_path)

    def propose(self, server: str, surface: Surface) -> None:
        def change(lock: LockFile) -> LockFile:
            entry = _require(lock, server, self.lock_path)
            return lock.with_server(replace(entry, proposed_tools=surface))

        modify_lock(change, self.lock_path)


def _require(lock: LockFile, server: str, path: Path) -> LockedServer:
    entry = lock.server(server)
    if entry is None:
        raise UnknownServerError(path, f"no server named {server!r} in the lock")
    return entry


def approve_server(name: str, lock_path: Path | None = None) -> Surface:
    """Move ``name``'s proposed surface to pinned; returns the newly pinned surface.

    Raises :class:`UnknownServerError` for an unknown name and :class:`LockError` when there is
    nothing to approve.
    """
    target = lock_path or default_lock_path()
    approved: list[Surface] = []

    def change(lock: LockFile) -> LockFile:
        entry = _require(lock, name, target)
        if entry.proposed_tools is None:
            raise LockError(target, f"server {name!r} has no changed tools awaiting approval")
        approved.append(entry.proposed_tools)
        return lock.with_server(replace(entry, tools=entry.proposed_tools, proposed_tools=None))

    modify_lock(change, target)
    return approved[0]


def env_keys_of(keys: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Env variable *names* for the lock, sorted; a separate function so no caller passes values."""
    return tuple(sorted({k for k in keys if k}))
