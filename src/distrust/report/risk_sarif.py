"""Risk Engine reports as SARIF 2.1.0, so a package review shows up in code-scanning dashboards.

Locations point into the package's own files: each ``artifactLocation`` is a path relative to
the package root with ``uriBaseId`` naming that root, and ``originalUriBaseIds`` says where
the root is (the verified, extracted artifact). A history holds no extracted files, so each
version gets its own base id described in words; a consumer still sees which version and
file a finding is about.

The rule table is the Risk Engine's own (``risk.toml``): every shipped rule is described, not
only the ones that fired, so the SARIF file documents what was checked. Rule titles in the
table are templates ("{field} recipient {address}"); the descriptor uses the rule's name and
rationale, and each result carries the filled-in title.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import distrust
from distrust.analyze.results import DiffResult, HistoryResult, InspectResult
from distrust.model import Finding, Notice, PackageRef, Profile, Severity
from distrust.report.common import (
    RiskResult,
    RuleCatalog,
    RuleInfo,
    SourceReader,
    default_risk_rules,
    first_line,
    history_risk,
    notice_sort_key,
    path_uri,
    redact_source,
    sarif_level,
    security_severity,
    severity_counts,
)
from distrust.report.sarif import SARIF_SCHEMA_URI, SARIF_VERSION, TOOL_NAME

# Base id of the package root for a single version (inspect, and NEW of a diff).
PACKAGE_ROOT_ID = "PKGROOT"
# Bump when the fingerprint inputs change, so consumers see new keys instead of silent mismatches.
FINGERPRINT_KEY = "distrustRisk/v1"

JsonObject = dict[str, Any]


def render_risk_sarif(result: RiskResult, *, rules: RuleCatalog | None = None) -> str:
    """The result as a SARIF 2.1.0 log with one run, ending in a newline.

    ``rules`` replaces the shipped rule table (tests, custom rule files); by default every
    rule in ``risk.toml`` is described.
    """
    return json.dumps(risk_sarif_document(result, rules=rules), indent=2, ensure_ascii=False) + "\n"


def risk_sarif_document(result: RiskResult, *, rules: RuleCatalog | None = None) -> JsonObject:
    """The SARIF log as plain JSON-ready data."""
    catalog = default_risk_rules() if rules is None else rules
    sources = _sources(result)
    found = [(finding, base_id) for base_id, (_, findings) in sources.items() for finding in findings]
    found.sort(key=lambda pair: _result_order(pair[0], pair[1]))
    rule_ids = sorted(set(catalog) | {f.rule_id for f, _ in found})
    rule_index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    worst_by_rule: dict[str, Finding] = {}
    for finding, _ in found:
        worst_by_rule.setdefault(finding.rule_id, finding)  # found is sorted, worst first
    driver: JsonObject = {
        "name": TOOL_NAME,
        "version": distrust.__version__,
        "rules": [_rule(rid, catalog.get(rid), worst_by_rule.get(rid)) for rid in rule_ids],
    }
    readers = {key: SourceReader(prof.artifact.root if prof else None) for key, (prof, _) in sources.items()}
    run: JsonObject = {
        "tool": {"driver": driver},
        "originalUriBaseIds": {key: _base(key, result, profile) for key, (profile, _) in sources.items()},
        "results": [_result(f, base_id, rule_index[f.rule_id], readers[base_id]) for f, base_id in found],
        "properties": _run_properties(result, [f for f, _ in found]),
    }
    notifications = _notifications(result)
    if notifications:
        # Files the engine could not analyse and things it could not read: the run was
        # incomplete, which SARIF says with tool notifications rather than results.
        run["invocations"] = [{"executionSuccessful": True, "toolExecutionNotifications": notifications}]
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def _sources(result: RiskResult) -> dict[str, tuple[Profile | None, tuple[Finding, ...]]]:
    """Findings grouped by the package root their evidence paths are relative to."""
    if isinstance(result, InspectResult):
        return {PACKAGE_ROOT_ID: (result.profile, result.assessment.findings)}
    if isinstance(result, DiffResult):
        # An upgrade's findings are about code in NEW: that is where the evidence lines are.
        return {PACKAGE_ROOT_ID: (result.new, result.assessment.findings)}
    out: dict[str, tuple[Profile | None, tuple[Finding, ...]]] = {}
    if result.first is not None:
        ref = result.first.profile.artifact.ref
        out[_version_root_id(ref)] = (result.first.profile, result.first.assessment.findings)
    for step in result.steps:
        if step.assessment.findings:
            key = _version_root_id(step.new)
            previous = out.get(key, (None, ()))
            out[key] = (previous[0], previous[1] + step.assessment.findings)
    return out


def _version_root_id(ref: PackageRef) -> str:
    return f"{PACKAGE_ROOT_ID}@{ref.version or 'unknown'}"


def _base(base_id: str, result: RiskResult, profile: Profile | None) -> JsonObject:
    if profile is not None:
        what = f"files of {profile.artifact.ref} as verified ({profile.artifact.integrity})"
        root = profile.artifact.root
        if root.is_absolute():
            # SARIF requires a base URI to be absolute and to end with a slash.
            return {"uri": root.as_uri().rstrip("/") + "/", "description": {"text": what}}
        return {"description": {"text": what}}
    name = result.name if isinstance(result, HistoryResult) else ""
    version = base_id.partition("@")[2]
    return {"description": {"text": f"files of {name} {version} as published (not extracted in this run)"}}


def _result_order(finding: Finding, base_id: str) -> tuple[object, ...]:
    evidence = tuple((e.file, e.line or 0) for e in finding.evidence)
    return (-int(finding.severity), finding.rule_id, base_id, finding.title, evidence)


def _rule(rule_id: str, info: RuleInfo | None, example: Finding | None) -> JsonObject:
    if info is not None:
        severity = info.severity
        name = getattr(info, "name", "") or rule_id
        rationale = " ".join(info.rationale.split())
        short = _describe(name) if "{" in info.title else info.title
        remediation = "" if "{" in info.remediation else info.remediation.strip()
    elif example is not None:  # a rule missing from the table (custom rules): describe it by example
        severity, name = example.severity, rule_id
        short = example.title
        rationale = example.detail or example.title
        remediation = first_line(example.remediation)
    else:
        severity, name, short, rationale, remediation = Severity.NONE, rule_id, rule_id, "", ""
    full = rationale or short
    help_text = full if not remediation else f"{full}\n\nRemediation: {remediation}"
    return {
        "id": rule_id,
        "name": "".join(part[:1].upper() + part[1:] for part in name.replace("_", "-").split("-") if part),
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": sarif_level(severity)},
        "properties": {
            "security-severity": security_severity(severity),
            "severity": severity.label,
            "tags": ["security", "supply-chain"],
        },
    }


def _describe(name: str) -> str:
    """``hidden-mail-recipient`` → ``Hidden mail recipient``: a readable stand-in for a template."""
    words = name.replace("_", "-").split("-")
    text = " ".join(w for w in words if w)
    return text[:1].upper() + text[1:]


def _result(finding: Finding, base_id: str, rule_index: int, reader: SourceReader) -> JsonObject:
    message = finding.title
    if finding.detail:
        message += f": {finding.detail}"
    if finding.remediation:
        message += f" Remediation: {first_line(finding.remediation)}"
    locations = [_location(e.file, e.line, e.snippet, base_id, reader) for e in finding.evidence]
    result: JsonObject = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": sarif_level(finding.severity),
        "message": {"text": redact_source(message)},
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding)},
        "properties": {"severity": finding.severity.label},
    }
    if locations:
        result["locations"] = locations
    if finding.package is not None:
        result["properties"]["package"] = {
            "ecosystem": finding.package.ecosystem,
            "name": finding.package.name,
            "version": finding.package.version,
        }
    return result


def _location(
    file: str, line: int | None, snippet: str | None, base_id: str, reader: SourceReader
) -> JsonObject:
    physical: JsonObject = {"artifactLocation": {"uri": path_uri(file), "uriBaseId": base_id}}
    if line is not None and line >= 1:
        region: JsonObject = {"startLine": line}
        if snippet:
            region["snippet"] = {"text": redact_source(snippet)}
        physical["region"] = region
        excerpt = reader.excerpt(file, line, snippet)
        if excerpt.lines:
            physical["contextRegion"] = {
                "startLine": excerpt.lines[0].number,
                "endLine": excerpt.lines[-1].number,
                "snippet": {"text": "\n".join(s.text for s in excerpt.lines) + "\n"},
            }
    return {"physicalLocation": physical}


def fingerprint(finding: Finding) -> str:
    """A stable identity for dedup across runs: rule, package name and evidence text.

    Versions and line numbers are left out on purpose: the same hard-coded Bcc in 1.0.16 and
    1.0.17 is one problem, and an alert must not re-open because code above it moved.
    """
    package = finding.package
    parts = [
        finding.rule_id,
        package.ecosystem if package else "",
        package.name if package else "",
        *sorted(f"{e.file}\x1f{e.snippet or ''}" for e in finding.evidence),
    ]
    return hashlib.sha256("\x1e".join(parts).encode("utf-8")).hexdigest()


def _run_properties(result: RiskResult, findings: list[Finding]) -> JsonObject:
    props: JsonObject = {"findingsBySeverity": severity_counts(findings)}
    if isinstance(result, InspectResult):
        props |= {
            "command": "inspect",
            "package": _package(result.profile.artifact.ref),
            "integrity": result.profile.artifact.integrity,
            "risk": {"score": result.assessment.score, "level": result.assessment.level.label},
        }
    elif isinstance(result, DiffResult):
        props |= {
            "command": "diff",
            "old": _package(result.old.artifact.ref),
            "new": _package(result.new.artifact.ref),
            "integrity": result.new.artifact.integrity,
            "risk": {"score": result.assessment.score, "level": result.assessment.level.label},
            "changes": len(result.assessment.changes),
        }
    else:
        score, level = history_risk(result)
        props |= {
            "command": "history",
            "package": {"ecosystem": result.ecosystem, "name": result.name},
            "risk": {"score": score, "level": level.label},
            "behaviourChangedAt": [
                s.new.version for s in result.steps if s.assessment.level > Severity.NONE and s.new.version
            ],
        }
    return props


def _package(ref: PackageRef) -> JsonObject:
    return {"ecosystem": ref.ecosystem, "name": ref.name, "version": ref.version}


def _notifications(result: RiskResult) -> list[JsonObject]:
    notes: list[JsonObject] = []
    profile: Profile | None = None
    if isinstance(result, InspectResult):
        profile = result.profile
    elif isinstance(result, DiffResult):
        profile = result.new
    elif result.first is not None:
        profile = result.first.profile
    if profile is not None:
        for file, reason in sorted(profile.unanalysed):
            where = {"uri": path_uri(file), "uriBaseId": _root_of(result, profile)}
            notes.append(
                {
                    "message": {"text": f"not analysed: {reason}"},
                    "level": "warning",
                    "locations": [{"physicalLocation": {"artifactLocation": where}}],
                }
            )
    for notice in sorted(result.notices, key=notice_sort_key):
        notes.append(_notice(notice))
    return notes


def _root_of(result: RiskResult, profile: Profile) -> str:
    return _version_root_id(profile.artifact.ref) if isinstance(result, HistoryResult) else PACKAGE_ROOT_ID


def _notice(notice: Notice) -> JsonObject:
    note: JsonObject = {"message": {"text": notice.message}, "level": "warning"}
    if notice.file is not None:
        physical: JsonObject = {"artifactLocation": {"uri": path_uri(notice.file)}}
        if notice.line is not None and notice.line >= 1:
            physical["region"] = {"startLine": notice.line}
        note["locations"] = [{"physicalLocation": physical}]
    return note
