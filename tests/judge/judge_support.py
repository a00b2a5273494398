"""Builders and an in-memory advisory store for the judge tests.

``MemoryAdvisories`` is a test double of the small ``AdvisoryLookup`` protocol (the real OSV
store lives in ``intel/``); it matches exact version sets, which is all these tests need.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from distrust.judge import HostContext, check_servers
from distrust.judge.checks import SHARED_TEMP_DIRS
from distrust.model import Advisory, Finding, Installation, PackageRef, ResolvedServer, ServerSpec, Severity

HOME = Path("/home/alice")
CLAUDE = HOME / ".config/Claude/claude_desktop_config.json"
CURSOR = HOME / ".cursor/mcp.json"
VSCODE = HOME / ".config/Code/User/mcp.json"

POSTMARK_MAL = Advisory(
    id="MAL-2025-47604",
    summary="Malicious code in postmark-mcp (npm)",
    malicious=True,
    source="bundled snapshot",
)


@dataclass(frozen=True)
class Ioc:
    value: str
    kind: str
    advisory_id: str


@dataclass(frozen=True)
class Record:
    advisory: Advisory
    ecosystem: str
    name: str
    versions: frozenset[str] | None  # None: every version
    fixed: tuple[str, ...] = ()


@dataclass
class MemoryAdvisories:
    records: list[Record] = field(default_factory=list)
    indicators: list[Ioc] = field(default_factory=list)

    def match(self, ecosystem: str, name: str, version: str) -> tuple[Advisory, ...]:
        return tuple(
            r.advisory
            for r in self.records
            if (r.ecosystem, r.name) == (ecosystem, name) and (r.versions is None or version in r.versions)
        )

    def advisories_for(self, ecosystem: str, name: str) -> tuple[Advisory, ...]:
        return tuple(r.advisory for r in self.records if (r.ecosystem, r.name) == (ecosystem, name))

    def iocs(self) -> tuple[Ioc, ...]:
        return tuple(self.indicators)

    def fixed_versions(self, ecosystem: str, name: str, advisory_id: str) -> tuple[str, ...]:
        for r in self.records:
            if (r.ecosystem, r.name, r.advisory.id) == (ecosystem, name, advisory_id):
                return r.fixed
        return ()

    def affects_all_versions(self, ecosystem: str, name: str, advisory_id: str) -> bool:
        return any(
            (r.ecosystem, r.name, r.advisory.id) == (ecosystem, name, advisory_id) and r.versions is None
            for r in self.records
        )


def postmark_intel() -> MemoryAdvisories:
    """postmark-mcp: 1.0.16 onwards malicious (1.0.0-1.0.15 clean), with the campaign's IOCs."""
    return MemoryAdvisories(
        records=[Record(POSTMARK_MAL, "npm", "postmark-mcp", frozenset({"1.0.16", "1.0.17", "1.0.18"}))],
        indicators=[
            Ioc("phan@giftshop.club", "email", "MAL-2025-47604"),
            Ioc("giftshop.club", "domain", "MAL-2025-47604"),
            Ioc("phanpak", "account", "MAL-2025-47604"),
        ],
    )


def host(*, shared_temp: bool = True) -> HostContext:
    return HostContext(SHARED_TEMP_DIRS if shared_temp else (), os.getuid(), HOME)


def stdio(
    name: str,
    command: str,
    *args: str,
    env: dict[str, str] | None = None,
    config: Path = CLAUDE,
    client: str = "claude-desktop",
    line: int | None = 3,
    cwd: str | None = None,
) -> ServerSpec:
    return ServerSpec(
        client=client,
        config_path=config,
        name=name,
        transport="stdio",
        command=command,
        args=tuple(args),
        env=tuple((env or {}).items()),
        line=line,
        cwd=cwd,
    )


def remote(
    name: str, url: str, *, headers: dict[str, str] | None = None, config: Path = VSCODE
) -> ServerSpec:
    return ServerSpec(
        client="vscode",
        config_path=config,
        name=name,
        transport="http",
        url=url,
        headers=tuple((headers or {}).items()),
        line=7,
    )


def npm(
    name: str, version: str | None = None, *, pinned: bool | None = None, spec: str | None = None
) -> PackageRef:
    return PackageRef("npm", name, version, pinned=bool(version) if pinned is None else pinned, spec=spec)


def pypi(name: str, version: str | None = None) -> PackageRef:
    return PackageRef("PyPI", name, version, pinned=version is not None)


def installed(
    ref: PackageRef, source: str, path: Path, *, when: datetime | None = None, line: int | None = None
) -> Installation:
    return Installation(ref=ref, source=source, path=path, when=when, line=line)


def resolved(
    spec: ServerSpec, package: PackageRef | None, *installs: Installation, notes: tuple[str, ...] = ()
) -> ResolvedServer:
    return ResolvedServer(spec=spec, package=package, installed=tuple(installs), notes=notes)


def judge(
    *servers: ResolvedServer, intel: MemoryAdvisories | None = None, shared_temp: bool = True
) -> tuple[Finding, ...]:
    return check_servers(servers, intel or MemoryAdvisories(), host=host(shared_temp=shared_temp))


def by_rule(findings: tuple[Finding, ...], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule_id == rule_id]


def only(findings: tuple[Finding, ...], rule_id: str) -> Finding:
    hits = by_rule(findings, rule_id)
    assert len(hits) == 1, f"expected one {rule_id} finding, got {[(f.rule_id, f.detail) for f in findings]}"
    return hits[0]


def rule_ids(findings: tuple[Finding, ...]) -> set[str]:
    return {f.rule_id for f in findings}


def above(findings: tuple[Finding, ...], level: Severity) -> list[Finding]:
    return [f for f in findings if f.severity > level]


def all_text(obj: Any) -> str:
    """Every string reachable from a Finding, including fields hidden from repr (env, headers)."""
    out: list[str] = []

    def walk(value: Any) -> None:
        if is_dataclass(value) and not isinstance(value, type):
            for f in fields(value):
                walk(getattr(value, f.name))
        elif isinstance(value, (tuple, list)):
            for item in value:
                walk(item)
        elif value is not None:
            out.append(str(value))

    walk(obj)
    return "\n".join(out)
