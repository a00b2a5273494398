"""``distrust lock``, ``verify`` and ``update``: pin what runs, check the machine, change it on purpose.

* :func:`lock_servers` walks discover → resolve → fetch → analyze → judge for every configured
  server, installs each chosen version into the verified store and writes ``distrust.lock``.
* :func:`verify_machine` compares the machine with the lock and lists every difference.
* :func:`update_server` moves one server to a new version only after the Risk Engine diff
  from the locked version was shown to ``approve`` and accepted.

Nothing here prints; the CLI renders the result records. Every refusal carries its reason.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from distrust.analyze.profile import build_profile
from distrust.analyze.results import DiffResult
from distrust.analyze.score import Assessment, assess_profile, domain_of, is_test_path, with_findings
from distrust.discover import discover
from distrust.fetch import FetchedArtifact, FetchError, fetch, npm_dist, npm_packument, pypi_file
from distrust.fetch.npm import npm_registry_url
from distrust.fetch.pypi import pypi_index_url, pypi_project_json
from distrust.gateway.lock import (
    KIND_PACKAGE,
    KIND_REMOTE,
    KIND_UNLOCKABLE,
    Launch,
    LockedPackage,
    LockedServer,
    LockError,
    LockFile,
    ProfileSummary,
    StoreRef,
    UnknownServerError,
    default_lock_path,
    env_keys_of,
    load_lock,
    load_lock_or_empty,
    modify_lock,
)
from distrust.gateway.store import (
    StoreEntry,
    StoreError,
    StoreMissingError,
    install_artifact,
    verify_store_entry,
)
from distrust.gateway.surface import canonical_json
from distrust.intel.store import AdvisoryStore
from distrust.model import (
    Advisory,
    Capability,
    Ecosystem,
    Finding,
    Notice,
    PackageRef,
    Profile,
    ResolvedServer,
    ServerSpec,
    Severity,
)
from distrust.resolve import ResolveContext, resolve_all_detailed
from distrust.resolve.command import safe_url
from distrust.resolve.locations import Source

# Evidence that a version was installed once, not that a copy is on disk now.
_PAST_ONLY: Final = frozenset({Source.LOCKFILE, Source.NPM_LOG})
LOCKABLE: Final = (Ecosystem.NPM, Ecosystem.PYPI)
HIGHLIGHT_LIMIT: Final = 20  # a summary for reviewers, not the whole profile

# Why a server cannot be locked yet, by what it runs. Shown to the user verbatim.
UNLOCKABLE_REASONS: Final[dict[str, str]] = {
    Ecosystem.DOCKER: (
        "docker image: distrust does not lock images yet; pin it by digest (image@sha256:…) in the config"
    ),
    Ecosystem.LOCAL: "a local script or binary: no registry hash vouches for it, so there is nothing to pin",
    "unknown": "could not tell which package this server runs",
}

# How each version choice is explained in the lock's notes.
CHOICE_NOTES: Final[dict[str, str]] = {
    "kept": "kept the locked version {version}; use `distrust update {server}` to change it",
    "pinned": "the config pins {version}",
    "installed": "spec {spec!r} floats; locked the one installed copy found, {version}",
    "latest": "spec {spec!r} floats and {copies}; locked the registry's current latest, {version}",
}

# Lock outcome statuses, for the CLI's table and exit code.
STATUS_LOCKED: Final = "locked"
STATUS_REMOTE: Final = "remote"
STATUS_SKIPPED: Final = "skipped"  # unlockable: recorded with its reason
STATUS_REFUSED: Final = "refused"  # known advisory, risk at or above high, fetch or store failure
STATUS_KEPT: Final = "kept"  # a wrapped config entry: its lock entry is kept unchanged


@dataclass(frozen=True)
class Machine:
    """The machine as lock and verify see it (see :class:`~distrust.resolve.ResolveContext`)."""

    home: Path
    projects: tuple[Path, ...] = ()
    extra_configs: tuple[Path, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    system_roots: tuple[Path, ...] = ()

    @classmethod
    def current(cls, projects: tuple[Path, ...] = (), extra_configs: tuple[Path, ...] = ()) -> Machine:
        ctx = ResolveContext.for_current_user(projects)
        return cls(ctx.home, projects, extra_configs, dict(os.environ), ctx.system_roots)


@dataclass(frozen=True)
class Sources:
    """Where packages come from; ``None`` means the env override or the public registry."""

    npm_registry: str | None = None
    pypi_index: str | None = None


@dataclass(frozen=True)
class LockOutcome:
    """What happened to one server: locked, remote, skipped (unlockable) or refused, and why."""

    name: str
    status: str
    detail: str
    entry: LockedServer | None = None
    findings: tuple[Finding, ...] = ()
    advisories: tuple[str, ...] = ()


@dataclass(frozen=True)
class LockResult:
    lock_path: Path
    outcomes: tuple[LockOutcome, ...]
    notices: tuple[Notice, ...] = ()
    written: bool = False  # False when the file already held exactly this lock

    @property
    def refused(self) -> tuple[LockOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == STATUS_REFUSED)


class LockingError(Exception):
    """A server could not be locked; the message is the reason shown to the user."""

    def __init__(self, reason: str, findings: Sequence[Finding] = (), advisories: Sequence[str] = ()) -> None:
        super().__init__(reason)
        self.findings = tuple(findings)
        self.advisories = tuple(advisories)


# --- naming ----------------------------------------------------------------------------------


def _identity(server: ResolvedServer) -> tuple[str, ...]:
    """What a server *is*, for deciding whether two same-named entries are the same server."""
    ref = server.package
    if server.spec.url and not server.spec.command:
        return ("remote", safe_url(server.spec.url))
    if ref is None:
        return ("unknown", server.spec.command or "", *server.spec.args)
    return (ref.ecosystem, ref.name, ref.version or "", ref.spec or "")


def name_servers(servers: Sequence[ResolvedServer]) -> list[tuple[str, list[ResolvedServer]]]:
    """Unique lock names: the config's name, or ``client/name`` where clients disagree on it.

    Entries with the same name and the same identity (package and spec, or URL) merge into one
    lock entry listing all their clients and configs.
    """
    by_name: dict[str, list[ResolvedServer]] = {}
    for server in servers:
        by_name.setdefault(server.spec.name, []).append(server)
    named: list[tuple[str, list[ResolvedServer]]] = []
    for name, group in by_name.items():
        identities = {_identity(s) for s in group}
        if len(identities) == 1:
            named.append((name, group))
            continue
        used: dict[str, int] = {}
        for server in group:
            base = f"{server.spec.client}/{name}"
            used[base] = used.get(base, 0) + 1
            unique = base if used[base] == 1 else f"{base}#{used[base]}"
            named.append((unique, [server]))
    return sorted(named, key=lambda item: item[0])


# --- helpers ---------------------------------------------------------------------------------


def package_args(spec: ServerSpec, ref: PackageRef) -> tuple[str, ...]:
    """The server's own arguments: what follows the package word on the command line.

    ``npx -y postmark-mcp --port 1`` → ``("--port", "1")``. When the package is not named on
    the command line (a node script path), every argument after the script is the server's.
    """
    words = list(spec.args)
    name = ref.name.lower()
    for i, word in enumerate(words):
        w = word.lower()
        if w == name or w.startswith((f"{name}@", f"{name}==", f"{name}[")) or w.endswith(f"/{name}"):
            return tuple(words[i + 1 :])
    return tuple(words[1:]) if words else ()


def _server_registry(spec: ServerSpec, ecosystem: str, sources: Sources) -> str:
    """The registry the server's launcher would use: explicit option, the server's env, the default."""
    if ecosystem == Ecosystem.NPM:
        if sources.npm_registry:
            return npm_registry_url(sources.npm_registry)
        from_env = next((v for k, v in spec.env if k.lower() == "npm_config_registry" and v.strip()), None)
        return npm_registry_url(from_env)
    if sources.pypi_index:
        return pypi_index_url(sources.pypi_index)
    from_env = next(
        (v for k, v in spec.env if k.lower() in ("uv_index_url", "pip_index_url") and v.strip()), None
    )
    if from_env:
        trimmed = from_env.strip().rstrip("/")
        return pypi_index_url(trimmed.removesuffix("/simple"))
    return pypi_index_url(None)


def _fetch_spec(ecosystem: str, name: str, version: str) -> str:
    return f"npm:{name}@{version}" if ecosystem == Ecosystem.NPM else f"pypi:{name}=={version}"


def _latest(ecosystem: str, name: str, registry: str) -> str:
    if ecosystem == Ecosystem.NPM:
        return npm_dist(name, None, registry).version
    return pypi_file(name, None, registry, prefer="wheel").version


def _advisory_findings(ref: PackageRef, advisories: Sequence[Advisory]) -> list[Finding]:
    out = []
    for adv in advisories:
        bad = adv.malicious
        out.append(
            Finding(
                rule_id="DT-SCAN-001" if bad else "DT-SCAN-003",
                severity=Severity.CRITICAL if bad else Severity.HIGH,
                title=f"{ref} is a known-malicious version" if bad else f"{ref} has known vulnerabilities",
                detail=f"{adv.id}: {adv.summary}",
                package=ref,
                advisories=(adv.id, *adv.aliases),
            )
        )
    return out


def _metadata_findings(
    artifact: FetchedArtifact, registry: str, notices: list[Notice]
) -> tuple[Finding, ...]:
    """Registry facts about the version (new publisher, impersonation), as ``distrust inspect`` judges."""
    from distrust.analyze.metadata import MetadataError, assess_npm_metadata, assess_pypi_metadata

    ref = artifact.ref
    if ref.version is None:
        return ()
    try:
        if ref.ecosystem == Ecosystem.NPM:
            return assess_npm_metadata(npm_packument(ref.name, registry), ref.version).findings
        return assess_pypi_metadata(pypi_project_json(ref.name, None, registry), ref.version).findings
    except (FetchError, MetadataError) as exc:
        notices.append(Notice(f"{ref}: registry metadata not judged: {exc}"))
        return ()


def profile_digest(capabilities: Sequence[Capability]) -> str:
    """sha256 over the sorted distinct (kind, value) pairs: unchanged by a reformat, changed by
    any new thing the code can do."""
    pairs = sorted({(c.kind, c.value) for c in capabilities})
    return "sha256:" + hashlib.sha256(canonical_json(pairs).encode()).hexdigest()


def _short(values: set[str]) -> tuple[str, ...]:
    return tuple(sorted(values)[:HIGHLIGHT_LIMIT])


def summarise_profile(profile: Profile, assessment: Assessment) -> ProfileSummary:
    """The few facts a reviewer of the lock wants: where it talks, whom it mails, what it reads."""
    caps = [c for c in profile.capabilities if not is_test_path(c.file)]
    network = {
        d
        for c in caps
        if c.kind in ("network.url", "network.host", "network.request")
        if (d := domain_of(c.value))
    }
    recipients = {c.value for c in caps if c.kind == "email.recipient" and "<dynamic>" not in c.value}
    secrets = {c.value for c in caps if c.kind == "env.read.secret"}
    hooks = {c.value for c in caps if c.kind == "install.hook"}
    return ProfileSummary(
        digest=profile_digest(profile.capabilities),
        level=assessment.level.label,
        score=assessment.score,
        network=_short(network),
        email_recipients=_short(recipients),
        env_secrets=_short(secrets),
        install_hooks=_short(hooks),
    )


def egress_hosts(profile: Profile) -> tuple[str, ...]:
    """Hosts named literally by network code (URLs and host literals), the egress starting point."""
    hosts: set[str] = set()
    for cap in profile.capabilities:
        if is_test_path(cap.file) or "<dynamic>" in cap.value:
            continue
        if cap.kind == "network.url":
            try:
                host = urlsplit(cap.value.strip()).hostname
            except ValueError:
                host = None
            if host:
                hosts.add(host.lower())
        elif cap.kind == "network.host":
            host = cap.value.strip().rsplit(":", 1)[0] if cap.value.count(":") == 1 else cap.value.strip()
            if host:
                hosts.add(host.lower().strip("[]"))
    return tuple(sorted(hosts))


@dataclass(frozen=True)
class _Judged:
    artifact: FetchedArtifact
    profile: Profile
    assessment: Assessment


def _fetch_and_judge(
    ecosystem: str, name: str, version: str, registry: str, notices: list[Notice]
) -> _Judged:
    npm_reg = registry if ecosystem == Ecosystem.NPM else None
    pypi_idx = registry if ecosystem == Ecosystem.PYPI else None
    # The store installs PyPI wheels only (no setup.py runs), so the wheel is what gets judged.
    artifact = fetch(
        _fetch_spec(ecosystem, name, version), npm_registry=npm_reg, pypi_index=pypi_idx, prefer="wheel"
    )
    profile = build_profile(artifact)
    if artifact.skipped:
        profile = replace(profile, unanalysed=(*profile.unanalysed, *artifact.skipped))
    assessment = with_findings(assess_profile(profile), _metadata_findings(artifact, registry, notices))
    return _Judged(artifact, profile, assessment)


# --- lock ------------------------------------------------------------------------------------


def lock_servers(
    machine: Machine,
    *,
    server: str | None = None,
    lock_path: Path | None = None,
    sources: Sources = Sources(),
    force: bool = False,
    advisories: AdvisoryStore | None = None,
    store_root: Path | None = None,
) -> LockResult:
    """Lock every configured server (or only ``server``) and write the lock.

    A server already in the lock keeps its locked version unless its config now pins another
    exact version: re-locking never upgrades silently (``update_server`` does that, with a diff).
    Versions matching a known advisory are refused always; versions the Risk Engine rates high
    or critical are refused unless ``force``. Refused and unlockable servers keep their previous
    lock entry, if any. Raises :class:`LockError` only when the existing lock is unreadable.
    """
    target = lock_path or default_lock_path()
    existing = load_lock_or_empty(target)
    intel = advisories or AdvisoryStore.load()
    discovery = discover(
        machine.home, projects=machine.projects, extra_configs=machine.extra_configs, env=machine.env
    )
    ctx = ResolveContext(machine.home, machine.projects, dict(machine.env), machine.system_roots)
    resolution = resolve_all_detailed([s for s in discovery.servers if not s.disabled], ctx)
    notices = [*discovery.notices, *resolution.notices]
    named = name_servers(resolution.servers)
    if server is not None:
        named = [(n, g) for n, g in named if n == server or g[0].spec.name == server]
        if not named:
            known = ", ".join(n for n, _ in name_servers(resolution.servers)) or "none"
            raise UnknownServerError(target, f"no configured server named {server!r} (configured: {known})")
    outcomes: list[LockOutcome] = []
    entries: list[LockedServer] = []
    for name, group in named:
        wrapped = wrapped_name(group[0].spec)
        if wrapped is not None:
            outcomes.append(_wrapped_outcome(wrapped, existing))
            continue
        outcome = _lock_one(name, group, existing.server(name), sources, force, intel, store_root, notices)
        outcomes.append(outcome)
        if outcome.entry is not None:
            entries.append(outcome.entry)

    def change(current: LockFile) -> LockFile:
        updated = current
        if server is None:  # a full lock drops servers no config declares any more
            configured = {wrapped_name(g[0].spec) or n for n, g in named}
            for old in current.servers:
                if old.name not in configured:
                    updated = updated.without(old.name)
        for entry in entries:
            updated = updated.with_server(entry)
        return updated

    before = target.read_bytes() if target.exists() else None
    modify_lock(change, target, create=True)
    written = before is None or target.read_bytes() != before
    return LockResult(target, tuple(outcomes), tuple(notices), written)


def _wrapped_outcome(name: str, existing: LockFile) -> LockOutcome:
    """A config already wrapped by ``distrust wrap`` runs lock entry ``name``: keep that entry."""
    entry = existing.server(name)
    if entry is None:
        reason = (
            f"the config runs `distrust run --server {name}` but the lock has no entry {name!r}; "
            "run `distrust unwrap`, then `distrust lock`"
        )
        return LockOutcome(name, STATUS_REFUSED, reason)
    version = f" at {entry.package.version}" if entry.package else ""
    return LockOutcome(name, STATUS_KEPT, f"wrapped: runs the locked entry{version}, kept as it is", entry)


def _base_entry(name: str, group: list[ResolvedServer]) -> LockedServer:
    first = group[0].spec
    return LockedServer(
        name=name,
        kind=KIND_UNLOCKABLE,
        clients=tuple(sorted({s.spec.client for s in group})),
        configs=tuple(sorted({str(s.spec.config_path) for s in group})),
        config_name=first.name,
        env_keys=env_keys_of([k for s in group for k in s.spec.env_keys]),
    )


def _lock_one(
    name: str,
    group: list[ResolvedServer],
    old: LockedServer | None,
    sources: Sources,
    force: bool,
    intel: AdvisoryStore,
    store_root: Path | None,
    notices: list[Notice],
) -> LockOutcome:
    resolved = group[0]
    spec, ref = resolved.spec, resolved.package
    base = _base_entry(name, group)
    if spec.url and not spec.command:
        url = safe_url(spec.url)
        note = (
            ("query string and credentials of the URL are not recorded",) if url != spec.url.strip() else ()
        )
        entry = replace(
            base,
            kind=KIND_REMOTE,
            notes=note,
            launch=Launch(transport=spec.transport, url=url),
            egress_allow=old.egress_allow if old and old.kind == KIND_REMOTE else _url_host(url),
            fs_grants=old.fs_grants if old else (),
            recipients=old.recipients if old else (),
            tools=old.tools if old else None,
            proposed_tools=old.proposed_tools if old else None,
        )
        return LockOutcome(
            name, STATUS_REMOTE, f"remote server at {url}: endpoint and transport locked", entry
        )
    if ref is None or ref.ecosystem not in LOCKABLE:
        reason = UNLOCKABLE_REASONS.get(ref.ecosystem if ref else "unknown", UNLOCKABLE_REASONS["unknown"])
        return LockOutcome(name, STATUS_SKIPPED, reason, replace(base, reason=reason))
    try:
        entry, judged, chosen = _lock_package(
            name, base, resolved, old, sources, force, intel, store_root, notices
        )
    except LockingError as exc:
        return LockOutcome(name, STATUS_REFUSED, str(exc), old, exc.findings, exc.advisories)
    except (FetchError, StoreError) as exc:
        return LockOutcome(name, STATUS_REFUSED, str(exc), old)
    assert entry.package is not None
    detail = f"{entry.package.name}@{entry.package.version} ({judged.assessment.level.label}); {chosen}"
    return LockOutcome(name, STATUS_LOCKED, detail, entry, judged.assessment.findings)


def _url_host(url: str) -> tuple[str, ...]:
    host = urlsplit(url).hostname
    return (host,) if host else ()


def _choose_version(
    name: str, resolved: ResolvedServer, old: LockedServer | None, registry: str
) -> tuple[str, str]:
    """(version, note) following the rules in :func:`lock_servers`."""
    ref = resolved.package
    assert ref is not None
    exact = ref.version
    same_pkg = (
        old is not None
        and old.package is not None
        and (old.package.ecosystem, old.package.name)
        == (
            ref.ecosystem,
            ref.name,
        )
    )
    if (
        same_pkg
        and old is not None
        and old.package is not None
        and (exact is None or exact == old.package.version)
    ):
        version = old.package.version
        return version, CHOICE_NOTES["kept"].format(version=version, server=name)
    if exact:
        return exact, CHOICE_NOTES["pinned"].format(version=exact)
    copies = sorted(
        {i.ref.version for i in resolved.installed if i.ref.version and i.source not in _PAST_ONLY}
    )
    spec_text = ref.spec or "latest"
    if len(copies) == 1:
        return copies[0], CHOICE_NOTES["installed"].format(spec=spec_text, version=copies[0])
    latest = _latest(ref.ecosystem, ref.name, registry)
    why = (
        f"{len(copies)} installed copies were found ({', '.join(copies)})" if copies else "no installed copy"
    )
    return latest, CHOICE_NOTES["latest"].format(spec=spec_text, copies=why, version=latest)


def _lock_package(
    name: str,
    base: LockedServer,
    resolved: ResolvedServer,
    old: LockedServer | None,
    sources: Sources,
    force: bool,
    intel: AdvisoryStore,
    store_root: Path | None,
    notices: list[Notice],
) -> tuple[LockedServer, _Judged, str]:
    ref = resolved.package
    assert ref is not None
    registry = _server_registry(resolved.spec, ref.ecosystem, sources)
    version, note = _choose_version(name, resolved, old, registry)
    exact = PackageRef(ref.ecosystem, ref.name, version, pinned=True)
    known = intel.match(ref.ecosystem, ref.name, version)
    if known:
        findings = _advisory_findings(exact, known)
        ids = ", ".join(a.id for a in known)
        raise LockingError(
            f"{exact} matches known advisories ({ids}); refusing to lock it", findings, [a.id for a in known]
        )
    judged = _fetch_and_judge(ref.ecosystem, ref.name, version, registry, notices)
    if judged.assessment.level >= Severity.HIGH and not force:
        worst = sorted(judged.assessment.findings, key=lambda f: -int(f.severity))[:3]
        why = "; ".join(f"{f.rule_id} {f.title}" for f in worst)
        level = judged.assessment.level.label
        raise LockingError(
            f"{exact} is rated {level} ({why}); not locked (use force to lock it anyway)",
            judged.assessment.findings,
        )
    stored = install_artifact(judged.artifact, registry=registry, root=store_root)
    entry = _package_entry(base, resolved, old, judged, stored, registry, (note,))
    if old is not None and old.package is not None and old.package.version == version and old.notes:
        # Re-locking an unchanged version keeps the note that says why it was chosen, so the
        # file stays byte-identical; the outcome still says the version was kept.
        entry = replace(entry, notes=old.notes)
    return entry, judged, note


def _package_entry(
    base: LockedServer,
    resolved: ResolvedServer,
    old: LockedServer | None,
    judged: _Judged,
    stored: StoreEntry,
    registry: str,
    notes: tuple[str, ...],
) -> LockedServer:
    ref = resolved.package
    assert ref is not None and judged.artifact.ref.version is not None
    keep = old is not None and old.package is not None and old.package.name == ref.name
    derived = egress_hosts(judged.profile)
    return replace(
        base,
        kind=KIND_PACKAGE,
        notes=notes,
        package=LockedPackage(
            ecosystem=ref.ecosystem,
            name=ref.name,
            version=judged.artifact.ref.version,
            integrity=judged.artifact.integrity,
            registry=registry,
            spec=None if ref.pinned and ref.version else (ref.spec or "latest"),
        ),
        store=StoreRef(str(stored.path), stored.digest),
        launch=Launch(
            transport=resolved.spec.transport,
            command=stored.command,
            args=(*stored.args, *package_args(resolved.spec, ref)),
        ),
        profile=summarise_profile(judged.profile, judged.assessment),
        egress_allow=tuple(sorted({*old.egress_allow, *derived})) if keep and old else derived,
        fs_grants=old.fs_grants if keep and old else (),
        recipients=old.recipients if keep and old else (),
        tools=old.tools if keep and old else None,
        proposed_tools=old.proposed_tools if keep and old else None,
    )


# --- verify ----------------------------------------------------------------------------------

# Kinds of difference between the machine and the lock. ``blocking`` ones mean the machine no
# longer runs what was locked (exit 1); the others are advice.
DRIFT_KINDS: Final[dict[str, tuple[bool, str]]] = {
    "not-configured": (True, "locked, but no client config declares it any more"),
    "not-locked": (True, "configured, but not in the lock: run `distrust lock`"),
    "package-changed": (True, "the config now runs another package than the locked one"),
    "version-changed": (True, "the config now pins another version than the locked one"),
    "store-missing": (True, "the verified store entry is gone: run `distrust lock` to reinstall it"),
    "store-tampered": (True, "the verified store entry changed after locking: it will not be run"),
    "lock-mismatch": (
        True,
        "the lock's package, version or integrity is not what its store entry holds (hand edit?)",
    ),
    "env-keys-changed": (True, "the config passes other environment variables than when locked"),
    "remote-changed": (True, "the config now points at another URL than the locked one"),
    "floating": (False, "the config still launches with a floating spec; run it through `distrust wrap`"),
    "unlockable": (False, "not locked: see the reason recorded in the lock"),
}


@dataclass(frozen=True)
class Drift:
    kind: str
    server: str
    detail: str

    @property
    def blocking(self) -> bool:
        return DRIFT_KINDS[self.kind][0]


@dataclass(frozen=True)
class VerifyResult:
    lock_path: Path
    drifts: tuple[Drift, ...]
    notices: tuple[Notice, ...] = ()

    @property
    def drifted(self) -> bool:
        """True when anything blocking differs (the CLI exits 1)."""
        return any(d.blocking for d in self.drifts)


def wrapped_name(spec: ServerSpec) -> str | None:
    """The lock name a config entry rewritten by ``distrust wrap`` starts, else None.

    Wrapped entries read ``<path>/distrust run --server NAME`` (see ``gateway/wrap.py``): what
    they run is the lock entry NAME, so lock and verify look that entry up instead of resolving
    the command (which would only say "a local program called distrust").
    """
    command = Path((spec.command or "").replace("\\", "/")).name.lower()
    if command not in ("distrust", "distrust.exe") or not spec.args or spec.args[0] != "run":
        return None
    args = list(spec.args)
    for i, word in enumerate(args[:-1]):
        if word == "--server":
            return args[i + 1]
    return None


def verify_machine(
    machine: Machine, *, lock_path: Path | None = None, check_store: bool = True
) -> VerifyResult:
    """Every difference between the configured servers and the lock (``LockError`` if no lock)."""
    target = lock_path or default_lock_path()
    lock = load_lock(target)
    discovery = discover(
        machine.home, projects=machine.projects, extra_configs=machine.extra_configs, env=machine.env
    )
    ctx = ResolveContext(machine.home, machine.projects, dict(machine.env), machine.system_roots)
    resolution = resolve_all_detailed([s for s in discovery.servers if not s.disabled], ctx)
    named = dict(name_servers(resolution.servers))
    drifts: list[Drift] = []

    def add(kind: str, server: str, extra: str = "") -> None:
        text = DRIFT_KINDS[kind][1] + (f" ({extra})" if extra else "")
        drifts.append(Drift(kind, server, text))

    by_config_name = {s.config_name: s for s in lock.servers}
    configured_names: set[str] = set()
    for name, group in named.items():
        wrapped = wrapped_name(group[0].spec)
        entry = (
            lock.server(wrapped) if wrapped else lock.server(name) or by_config_name.get(group[0].spec.name)
        )
        configured_names.update({wrapped} if wrapped else {name, group[0].spec.name})
        if entry is None:
            add("not-locked", wrapped or name, "wrapped, but the lock has no such entry" if wrapped else "")
            continue
        for resolved in group:
            _compare(entry, resolved, add)
    for entry in lock.servers:
        if entry.name not in configured_names and entry.config_name not in configured_names:
            add("not-configured", entry.name)
            continue
        if check_store and entry.kind == KIND_PACKAGE and entry.store is not None:
            try:
                stored = verify_store_entry(Path(entry.store.path), entry.store.digest)
            except StoreMissingError as exc:
                add("store-missing", entry.name, str(exc))
                continue
            except StoreError as exc:
                add("store-tampered", entry.name, str(exc))
                continue
            locked = entry.package
            if locked and (stored.name, stored.version, stored.integrity) != (
                locked.name,
                locked.version,
                locked.integrity,
            ):
                add("lock-mismatch", entry.name, f"store holds {stored.name}@{stored.version}")
    order = {k: i for i, k in enumerate(DRIFT_KINDS)}
    drifts.sort(key=lambda d: (d.server, order[d.kind]))
    return VerifyResult(target, tuple(drifts), (*discovery.notices, *resolution.notices))


def _compare(entry: LockedServer, resolved: ResolvedServer, add: Callable[[str, str, str], None]) -> None:
    spec, ref = resolved.spec, resolved.package
    keys = env_keys_of(list(spec.env_keys))
    if keys != tuple(sorted(entry.env_keys)):
        gone = sorted(set(entry.env_keys) - set(keys))
        new = sorted(set(keys) - set(entry.env_keys))
        add(
            "env-keys-changed",
            entry.name,
            "; ".join(
                p
                for p in (
                    f"added {', '.join(new)}" if new else "",
                    f"removed {', '.join(gone)}" if gone else "",
                )
                if p
            ),
        )
    if entry.kind == KIND_UNLOCKABLE:
        add("unlockable", entry.name, entry.reason or "")
        return
    if wrapped_name(spec):
        return  # runs the lock entry itself: only the env keys above can drift
    if entry.kind == KIND_REMOTE:
        url = safe_url(spec.url) if spec.url else None
        if entry.launch is None or url != entry.launch.url:
            add("remote-changed", entry.name, f"config: {url or 'no URL'}")
        return
    locked = entry.package
    if locked is None:
        return
    if ref is None or (ref.ecosystem, ref.name) != (locked.ecosystem, locked.name):
        add("package-changed", entry.name, f"config runs {ref or 'an unknown program'}, locked {locked.name}")
        return
    if ref.version and ref.pinned and ref.version != locked.version:
        add("version-changed", entry.name, f"config pins {ref.version}, locked {locked.version}")
    elif not (ref.version and ref.pinned):
        add("floating", entry.name, f"config asks for {ref.spec or 'latest'}; locked {locked.version}")


# --- update ----------------------------------------------------------------------------------

UPDATE_UPDATED: Final = "updated"
UPDATE_DECLINED: Final = "declined"
UPDATE_CURRENT: Final = "current"


@dataclass(frozen=True)
class UpdateResult:
    server: str
    status: str  # "updated" | "declined" | "current"
    old_version: str
    new_version: str
    diff: DiffResult | None = None
    entry: LockedServer | None = None


def update_server(
    name: str,
    *,
    approve: Callable[[DiffResult], bool],
    to_version: str | None = None,
    lock_path: Path | None = None,
    sources: Sources = Sources(),
    advisories: AdvisoryStore | None = None,
    store_root: Path | None = None,
) -> UpdateResult:
    """Offer ``name`` a new version (``to_version`` or the registry's latest) through ``approve``.

    The Risk Engine diff from the locked version is computed first; known advisories for the
    candidate are added to its findings, so the person approving sees them. Only when
    ``approve(diff)`` returns True is the candidate installed into the store and the lock
    rewritten (backup + atomic). Raises :class:`LockError` for an unknown or unlockable server,
    and fetch/store errors as they come.
    """
    from distrust.pipeline.risk import FetchOptions, run_diff

    target = lock_path or default_lock_path()
    lock = load_lock(target)
    entry = lock.server(name)
    if entry is None:
        raise UnknownServerError(target, f"no server named {name!r} in the lock")
    if entry.kind != KIND_PACKAGE or entry.package is None:
        raise LockError(target, f"server {name!r} is {entry.kind}: there is no package version to update")
    locked = entry.package
    registry = locked.registry
    candidate = to_version or _latest(locked.ecosystem, locked.name, registry)
    if candidate == locked.version:
        return UpdateResult(name, UPDATE_CURRENT, locked.version, candidate, entry=entry)
    opts = (
        FetchOptions(npm_registry=registry)
        if locked.ecosystem == Ecosystem.NPM
        else FetchOptions(pypi_index=registry)
    )
    diff = run_diff(
        _fetch_spec(locked.ecosystem, locked.name, locked.version),
        _fetch_spec(locked.ecosystem, locked.name, candidate),
        opts,
    )
    intel = advisories or AdvisoryStore.load()
    new_ref = PackageRef(locked.ecosystem, locked.name, candidate, pinned=True)
    known = intel.match(locked.ecosystem, locked.name, candidate)
    if known:
        diff = replace(diff, assessment=with_findings(diff.assessment, _advisory_findings(new_ref, known)))
    if not approve(diff):
        return UpdateResult(name, UPDATE_DECLINED, locked.version, candidate, diff, entry)
    notices: list[Notice] = []
    judged = _fetch_and_judge(locked.ecosystem, locked.name, candidate, registry, notices)
    stored = install_artifact(judged.artifact, registry=registry, root=store_root)
    # Launch args are the store's program words, then the server's own; both installers write
    # one program word (the bin file / console script), so the server's args start after it.
    server_args = entry.launch.args[len(stored.args) :] if entry.launch else ()
    derived = egress_hosts(judged.profile)
    note = f"updated from {locked.version} to {candidate} after review of the diff"
    new_entry = replace(
        entry,
        notes=(note,),
        package=replace(locked, version=candidate, integrity=judged.artifact.integrity),
        store=StoreRef(str(stored.path), stored.digest),
        launch=Launch(
            transport=entry.launch.transport if entry.launch else "stdio",
            command=stored.command,
            args=(*stored.args, *server_args),
        ),
        profile=summarise_profile(judged.profile, judged.assessment),
        egress_allow=tuple(sorted({*entry.egress_allow, *derived})),
    )

    def change(current: LockFile) -> LockFile:
        if current.server(name) != entry:
            raise LockError(target, f"server {name!r} changed in the lock while updating; run update again")
        return current.with_server(new_entry)

    modify_lock(change, target)
    return UpdateResult(name, UPDATE_UPDATED, locked.version, candidate, diff, new_entry)
