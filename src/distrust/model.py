"""The data every stage shares: small, frozen, and free of behaviour.

Stages talk to each other only through these records, so a stage can be replaced (a new
client family in ``discover``, a new advisory feed in ``intel``, a new output format in
``report``) without the others noticing. Everything a report prints comes from a
:class:`Finding`; every output format renders the same list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from pathlib import Path


class Severity(IntEnum):
    """How bad a finding is. Ordered, so ``>=`` answers "at or above the fail-on level"."""

    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a level name as users type it (any case); raise ValueError naming the choices."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (choose one of: {choices})") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class Ecosystem:
    """Names of the package worlds a server can come from (strings, as OSV spells them)."""

    NPM = "npm"
    PYPI = "PyPI"
    DOCKER = "docker"
    URL = "url"  # a remote MCP server: nothing to install, only an endpoint
    LOCAL = "local"  # a script or binary on disk that no registry knows


@dataclass(frozen=True)
class PackageRef:
    """What a server runs, as precisely as we can tell.

    ``version`` is the exact version when known (pinned in the config, or read from disk);
    ``spec`` keeps what the config literally asked for (``^1.0``, ``latest``, a digest), because
    a floating spec is itself a risk: it is how postmark-mcp 1.0.16 reached its victims.
    """

    ecosystem: str
    name: str
    version: str | None = None
    pinned: bool = False
    spec: str | None = None

    def __str__(self) -> str:
        sep = "==" if self.ecosystem == Ecosystem.PYPI else "@"
        return f"{self.name}{sep}{self.version}" if self.version else self.name


@dataclass(frozen=True)
class ServerSpec:
    """One MCP server as a client config declares it.

    ``env`` and ``headers`` hold the configured values because the config checks must look at
    them (an inline API key is a finding), but they are excluded from ``repr`` and no report
    may print them: reports show ``env_keys`` and redacted values only.
    """

    client: str
    config_path: Path
    name: str
    transport: str  # "stdio" | "http" | "sse"
    command: str | None = None
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    url: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    scope: str = "user"  # "user" | "project" | "workspace"
    line: int | None = None  # line of the server's entry in the config, when known
    cwd: str | None = None
    disabled: bool = False

    @property
    def env_keys(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.env)


@dataclass(frozen=True)
class Installation:
    """Evidence that a version of a package is, or once was, on this machine.

    ``source`` says where the evidence came from (``npx-cache``, ``npm-global``,
    ``node_modules``, ``uv-tool``, ``pipx``, ``lockfile``, ``npm-log``, …); ``when`` is the
    date the evidence carries, if any (an npm log line has one, a lockfile does not).
    """

    ref: PackageRef
    source: str
    path: Path
    when: datetime | None = None
    line: int | None = None


@dataclass(frozen=True)
class ResolvedServer:
    """A server together with what actually runs: the declared package and installed copies."""

    spec: ServerSpec
    package: PackageRef | None
    installed: tuple[Installation, ...] = ()
    notes: tuple[str, ...] = ()  # why resolution is partial, e.g. "docker image: tag, no digest"

    @property
    def versions(self) -> tuple[str, ...]:
        """Every exact version known to run or to have run, declared one first, no repeats."""
        seen: list[str] = []
        if self.package and self.package.version:
            seen.append(self.package.version)
        for inst in self.installed:
            if inst.ref.version and inst.ref.version not in seen:
                seen.append(inst.ref.version)
        return tuple(seen)


@dataclass(frozen=True)
class Advisory:
    """One OSV record, reduced to what matching and reporting need."""

    id: str
    summary: str
    aliases: tuple[str, ...] = ()
    modified: str = ""
    source: str = ""  # where the record came from: a URL or "bundled snapshot"
    malicious: bool = False  # MAL-* records and records whose summary says so
    severity: str | None = None  # the advisory's own rating, when it has one


@dataclass(frozen=True)
class Evidence:
    """Where a finding comes from: a file and line, and the text there (secrets redacted)."""

    file: str
    line: int | None = None
    snippet: str | None = None


@dataclass(frozen=True)
class Finding:
    """One thing a person should know, with enough context to act on it."""

    rule_id: str
    severity: Severity
    title: str
    detail: str
    remediation: str = ""
    server: ServerSpec | None = None
    package: PackageRef | None = None
    advisories: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Notice:
    """Something distrust could not read or judge; shown to the user, never swallowed."""

    message: str
    file: Path | None = None
    line: int | None = None


@dataclass(frozen=True)
class ScanResult:
    """Everything one ``distrust scan`` learned; the input of every scan report format."""

    servers: tuple[ResolvedServer, ...]
    findings: tuple[Finding, ...]
    notices: tuple[Notice, ...] = ()
    configs_read: tuple[Path, ...] = ()


# --- Risk Engine records (analyze/) --------------------------------------------------------


@dataclass(frozen=True)
class Artifact:
    """A verified, extracted, read-only view of one package version.

    ``root`` is the directory holding the package files; ``files`` lists their paths relative
    to it. ``integrity`` is the registry's hash that was checked (``sha512-…`` or ``sha256:…``),
    or a digest computed here for local input.
    """

    ref: PackageRef
    root: Path
    files: tuple[str, ...]
    integrity: str
    source: str  # where it came from: a registry URL, a local path


@dataclass(frozen=True)
class Capability:
    """One thing the code can do, e.g. ``email.recipient = phan@giftshop.club @ index.js:231``."""

    kind: str
    value: str
    file: str
    line: int
    snippet: str = ""


@dataclass(frozen=True)
class Profile:
    """What a package version can do, plus files that could not be analysed and why."""

    artifact: Artifact
    capabilities: tuple[Capability, ...]
    metadata: tuple[tuple[str, str], ...] = ()
    unanalysed: tuple[tuple[str, str], ...] = ()  # (file, reason)


@dataclass(frozen=True)
class Change:
    """A capability that appeared or disappeared between two versions."""

    kind: str  # "added" | "removed"
    capability: Capability
    in_changed_lines: bool
