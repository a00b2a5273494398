"""The scan report as JSON, for scripts and dashboards: a stable, documented schema.

The schema is written down in ``docs/scan-report.schema.json`` and versioned by
``schema_version``. Within a version, fields are only ever added, never renamed, retyped or
removed, so a consumer written against version "1" keeps working. Output is deterministic
(sorted findings and servers, sorted keys inside free-form maps), so two scans of an unchanged
machine diff clean.

Secrets: server ``env`` and ``headers`` appear as key names only; arguments, URLs and free
text pass through :class:`~distrust.report.common.Scrubber`.
"""

from __future__ import annotations

import json
from typing import Any

import distrust
from distrust.model import Evidence, Finding, Installation, Notice, PackageRef, ResolvedServer, ScanResult
from distrust.report.common import (
    RuleCatalog,
    Scrubber,
    notice_sort_key,
    server_sort_key,
    severity_counts,
    sorted_findings,
)

SCHEMA_VERSION = "1"
TOOL_NAME = "distrust"

JsonObject = dict[str, Any]


def render_json(result: ScanResult, *, rules: RuleCatalog | None = None) -> str:
    """The scan as a JSON document (see ``docs/scan-report.schema.json``), ending in a newline.

    ``rules`` is accepted so every text format shares one signature; schema version 1 carries
    only ``rule_id``, which consumers join with their own rule list.
    """
    return json.dumps(scan_document(result), indent=2, ensure_ascii=False) + "\n"


def scan_document(result: ScanResult) -> JsonObject:
    """The report as plain JSON-ready data, for callers that embed it in a larger document."""
    scrub = Scrubber(result)
    findings = sorted_findings(result.findings)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": distrust.__version__},
        "servers": [_server(s, scrub) for s in sorted(result.servers, key=server_sort_key)],
        "findings": [_finding(f, scrub) for f in findings],
        "notices": [_notice(n, scrub) for n in sorted(result.notices, key=notice_sort_key)],
        "configs_read": [str(p) for p in result.configs_read],
        "summary": {
            "servers": len(result.servers),
            "findings_by_severity": severity_counts(findings),
        },
    }


def _server(server: ResolvedServer, scrub: Scrubber) -> JsonObject:
    spec = server.spec
    return {
        "client": spec.client,
        "name": spec.name,
        "config_path": str(spec.config_path),
        "line": _line(spec.line),
        "scope": spec.scope,
        "transport": spec.transport,
        "disabled": spec.disabled,
        "command": spec.command,
        "args": list(scrub.args(spec.args)),
        "env_keys": sorted(spec.env_keys),
        "header_keys": sorted(k for k, _ in spec.headers),
        "url": scrub.url(spec.url),
        "package": _package(server.package, scrub) if server.package else None,
        "installed": [_installation(i) for i in server.installed],
        "notes": [scrub(n) for n in server.notes],
    }


def _package(ref: PackageRef, scrub: Scrubber) -> JsonObject:
    return {
        "ecosystem": ref.ecosystem,
        "name": ref.name,
        "version": ref.version,
        "pinned": ref.pinned,
        # The literal spec can be a URL or a docker reference with credentials in it.
        "spec": scrub.url(ref.spec),
    }


def _installation(inst: Installation) -> JsonObject:
    return {
        "ecosystem": inst.ref.ecosystem,
        "name": inst.ref.name,
        "version": inst.ref.version,
        "source": inst.source,
        "path": str(inst.path),
        "when": inst.when.isoformat() if inst.when else None,
        "line": _line(inst.line),
    }


def _finding(finding: Finding, scrub: Scrubber) -> JsonObject:
    server = finding.server
    package = finding.package
    return {
        "rule_id": finding.rule_id,
        "severity": finding.severity.label,
        "title": scrub(finding.title),
        "detail": scrub(finding.detail),
        "server": (
            {"client": server.client, "name": server.name, "config_path": str(server.config_path)}
            if server
            else None
        ),
        "package": (
            {"ecosystem": package.ecosystem, "name": package.name, "version": package.version}
            if package
            else None
        ),
        "advisories": list(finding.advisories),
        "remediation": scrub(finding.remediation),
        "evidence": [_evidence(e, scrub) for e in finding.evidence],
    }


def _evidence(evidence: Evidence, scrub: Scrubber) -> JsonObject:
    snippet = scrub(evidence.snippet) if evidence.snippet is not None else None
    return {"file": evidence.file, "line": _line(evidence.line), "snippet": snippet}


def _notice(notice: Notice, scrub: Scrubber) -> JsonObject:
    return {
        "message": scrub(notice.message),
        "file": str(notice.file) if notice.file else None,
        "line": _line(notice.line),
    }


def _line(line: int | None) -> int | None:
    """Lines are 1-based; a 0 or negative line from a careless producer means "unknown"."""
    return line if line is not None and line >= 1 else None
