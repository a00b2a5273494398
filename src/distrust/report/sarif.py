"""The scan report as SARIF 2.1.0, for GitHub code scanning and other CI dashboards.

SARIF consumers deduplicate results across runs by ``partialFingerprints`` and grade them by
the rule's ``security-severity``; both are computed here from the finding alone, so the same
problem on the same server keeps its identity when line numbers or finding order change.

Rule metadata (rationale, remediation) comes from an optional catalogue the judge stage can
pass; without it a rule is described by the title of its first finding.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import distrust
from distrust.model import Finding, Notice, ScanResult
from distrust.report.common import (
    RuleCatalog,
    RuleInfo,
    Scrubber,
    first_line,
    notice_sort_key,
    path_uri,
    sarif_level,
    security_severity,
    severity_counts,
    sorted_findings,
)

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "distrust"
# Bump when the fingerprint inputs change, so consumers see a new key instead of a silent
# mismatch that would re-open every alert.
FINGERPRINT_KEY = "distrustFinding/v1"
# Project-URL labels, most preferred first, searched for the driver's ``informationUri``.
INFORMATION_URL_LABELS = ("homepage", "repository", "source", "documentation")

JsonObject = dict[str, Any]
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def render_sarif(result: ScanResult, *, rules: RuleCatalog | None = None) -> str:
    """The scan as a SARIF 2.1.0 log with one run, ending in a newline."""
    return json.dumps(sarif_document(result, rules=rules), indent=2, ensure_ascii=False) + "\n"


def sarif_document(result: ScanResult, *, rules: RuleCatalog | None = None) -> JsonObject:
    """The SARIF log as plain JSON-ready data."""
    scrub = Scrubber(result)
    findings = sorted_findings(result.findings)
    rule_ids = sorted({f.rule_id for f in findings})
    rule_index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    catalog = rules or {}
    driver: JsonObject = {"name": TOOL_NAME, "version": distrust.__version__}
    info_uri = _information_uri()
    if info_uri:
        driver["informationUri"] = info_uri
    driver["rules"] = [
        _rule_descriptor(rule_id, catalog.get(rule_id), [f for f in findings if f.rule_id == rule_id], scrub)
        for rule_id in rule_ids
    ]
    run: JsonObject = {
        "tool": {"driver": driver},
        "results": [_result(f, rule_index[f.rule_id], scrub) for f in findings],
        "properties": {
            "servers": len(result.servers),
            "findingsBySeverity": severity_counts(findings),
        },
    }
    notifications = [_notification(n, scrub) for n in sorted(result.notices, key=notice_sort_key)]
    if notifications:
        # Notices are things distrust could not read: in SARIF terms, tool notifications that
        # say the run was incomplete, not results about the user's code.
        run["invocations"] = [{"executionSuccessful": True, "toolExecutionNotifications": notifications}]
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def _rule_descriptor(
    rule_id: str, info: RuleInfo | None, findings: list[Finding], scrub: Scrubber
) -> JsonObject:
    # ``findings`` is sorted most severe first, so findings[0] is the worst of this rule.
    worst = findings[0]
    if info is not None:
        # Rule tables may keep titles and remediations as templates ("{name} {versions} is…");
        # a rule descriptor is shown without a finding to fill them, so the worst finding's
        # filled-in text stands in for any template.
        title = _untemplated(info.title) or scrub(worst.title)
        severity = info.severity
        rationale = " ".join(info.rationale.split()) or title
        remediation = _untemplated(info.remediation) or scrub(worst.remediation)
    else:
        title, severity = scrub(worst.title), worst.severity
        rationale = title
        remediation = scrub(worst.remediation)
    help_text = rationale if not remediation else f"{rationale}\n\nRemediation: {remediation}"
    return {
        "id": rule_id,
        "name": _rule_name(rule_id),
        "shortDescription": {"text": title},
        "fullDescription": {"text": rationale},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": sarif_level(severity)},
        "properties": {
            "security-severity": security_severity(severity),
            "severity": severity.label,
            "tags": ["security"],
        },
    }


def _untemplated(text: str) -> str:
    """``text`` if it is plain prose, "" if it still holds ``{placeholders}``."""
    return "" if _PLACEHOLDER.search(text) else text.strip()


def _rule_name(rule_id: str) -> str:
    """SARIF's ``name`` is an identifier-like form of the id (``inline-secret`` → InlineSecret)."""
    parts = [p for p in _split_id(rule_id) if p]
    return "".join(p[:1].upper() + p[1:] for p in parts) or rule_id


def _split_id(rule_id: str) -> list[str]:
    for sep in ".-_/:":
        rule_id = rule_id.replace(sep, " ")
    return rule_id.split()


def _result(finding: Finding, rule_index: int, scrub: Scrubber) -> JsonObject:
    message = scrub(finding.title)
    if finding.detail:
        message += f": {scrub(finding.detail)}"
    if finding.advisories:
        message += f" (advisories: {', '.join(finding.advisories)})"
    if finding.remediation:
        message += f" Remediation: {first_line(scrub(finding.remediation))}"
    result: JsonObject = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": sarif_level(finding.severity),
        "message": {"text": message},
        "locations": _locations(finding, scrub),
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding)},
        "properties": _result_properties(finding),
    }
    return result


def _locations(finding: Finding, scrub: Scrubber) -> list[JsonObject]:
    """Evidence locations first (they point at the offending code or line), then the config.

    The config file is always included when the finding names a server: it is where the user
    acts (pin, remove, move a secret), even when the evidence sits inside a package.
    """
    locations: list[JsonObject] = []
    for ev in finding.evidence:
        physical: JsonObject = {"artifactLocation": {"uri": path_uri(ev.file)}}
        region: JsonObject = {}
        if ev.line is not None and ev.line >= 1:
            region["startLine"] = ev.line
        if ev.snippet:
            region["snippet"] = {"text": scrub(ev.snippet)}
        if region and "startLine" in region:
            physical["region"] = region
        locations.append({"physicalLocation": physical})
    server = finding.server
    if server is not None:
        config_uri = path_uri(server.config_path)
        if not any(loc["physicalLocation"]["artifactLocation"]["uri"] == config_uri for loc in locations):
            physical = {"artifactLocation": {"uri": config_uri}}
            if server.line is not None and server.line >= 1:
                physical["region"] = {"startLine": server.line}
            locations.append(
                {
                    "physicalLocation": physical,
                    "message": {"text": f"server {server.name!r} ({server.client})"},
                }
            )
    return locations


def _result_properties(finding: Finding) -> JsonObject:
    props: JsonObject = {"severity": finding.severity.label}
    if finding.advisories:
        props["advisories"] = list(finding.advisories)
    if finding.package is not None:
        props["package"] = {
            "ecosystem": finding.package.ecosystem,
            "name": finding.package.name,
            "version": finding.package.version,
        }
    if finding.server is not None:
        props["server"] = {"client": finding.server.client, "name": finding.server.name}
    return props


def fingerprint(finding: Finding) -> str:
    """A stable identity for dedup: what and where, never line numbers or wording.

    Lines move when a config is edited and titles get reworded; the rule, the server (client,
    config file, name), the package and the evidence files and snippets do not, unless the
    problem itself changed. Snippets are already redacted, so no secret is hashed.
    """
    server = finding.server
    package = finding.package
    parts = [
        finding.rule_id,
        server.client if server else "",
        str(server.config_path) if server else "",
        server.name if server else "",
        package.ecosystem if package else "",
        package.name if package else "",
        (package.version or "") if package else "",
        ",".join(sorted(finding.advisories)),
        *sorted(f"{e.file}\x1f{e.snippet or ''}" for e in finding.evidence),
    ]
    return hashlib.sha256("\x1e".join(parts).encode("utf-8")).hexdigest()


def _notification(notice: Notice, scrub: Scrubber) -> JsonObject:
    note: JsonObject = {"message": {"text": scrub(notice.message)}, "level": "warning"}
    if notice.file is not None:
        physical: JsonObject = {"artifactLocation": {"uri": path_uri(notice.file)}}
        if notice.line is not None and notice.line >= 1:
            physical["region"] = {"startLine": notice.line}
        note["locations"] = [{"physicalLocation": physical}]
    return note


def _information_uri() -> str | None:
    """The project's home page from the installed package metadata, if it declares one.

    Read from metadata rather than hard-coded so the SARIF never advertises a URL the project
    has not published; SARIF makes ``informationUri`` optional.
    """
    from importlib import metadata  # ~20 ms to import; only SARIF output needs it

    try:
        urls = metadata.metadata("distrust").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    by_label: dict[str, str] = {}
    for entry in urls:
        label, _, url = entry.partition(",")
        by_label.setdefault(label.strip().lower(), url.strip())
    for label in INFORMATION_URL_LABELS:
        if by_label.get(label):
            return by_label[label]
    return None
