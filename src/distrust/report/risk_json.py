"""Risk Engine reports (inspect, diff, history) as JSON: a stable schema for scripts and CI.

The schema is written down in ``docs/risk-report.schema.json`` and versioned by
``schema_version``; within a version fields are only added, never renamed, retyped or
removed. All three commands share one top level (``command`` says which one produced it) so a
consumer reads ``risk.level`` and ``findings`` the same way whatever was run; the parts only
one command has (``changes`` for diff, ``capabilities`` for inspect, ``steps`` for history)
are present only in that command's report.

Output is deterministic: findings, changes and capabilities are sorted, free-form maps have
sorted keys, so two reports of the same input are byte-identical. Text taken from package
code (values, snippets) has token-shaped strings masked as the analysers mask snippets.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import distrust
from distrust.analyze.results import DiffResult, HistoryResult, HistoryStep, InspectResult
from distrust.analyze.score import Assessment, RatedChange
from distrust.model import Capability, Evidence, Finding, Notice, PackageRef, Profile, Severity
from distrust.report.common import (
    RiskResult,
    RuleCatalog,
    capability_sort_key,
    change_sort_key,
    history_risk,
    notice_sort_key,
    redact_source,
    sorted_findings,
)

SCHEMA_VERSION = "1"
TOOL_NAME = "distrust"

JsonObject = dict[str, Any]


def render_risk_json(result: RiskResult, *, rules: RuleCatalog | None = None) -> str:
    """The result as a JSON document (see ``docs/risk-report.schema.json``), ending in a newline.

    ``rules`` is accepted so every risk format shares one signature; schema version 1 carries
    only ``rule_id``, which consumers join with ``distrust rules`` output.
    """
    return json.dumps(risk_document(result), indent=2, ensure_ascii=False) + "\n"


def risk_document(result: RiskResult) -> JsonObject:
    """The report as plain JSON-ready data, for callers that embed it in a larger document."""
    if isinstance(result, InspectResult):
        return _inspect(result)
    if isinstance(result, DiffResult):
        return _diff(result)
    if isinstance(result, HistoryResult):
        return _history(result)
    raise TypeError(f"cannot render {type(result).__name__} as a risk report")


def _head(command: str) -> JsonObject:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": distrust.__version__},
        "command": command,
    }


def _inspect(result: InspectResult) -> JsonObject:
    profile = result.profile
    doc = _head("inspect")
    doc |= {
        "package": package_json(profile.artifact.ref),
        "integrity": profile.artifact.integrity,
        "risk": risk_json(result.assessment),
        "findings": findings_json(result.assessment.findings),
        "capabilities": [_capability(c) for c in sorted(profile.capabilities, key=capability_sort_key)],
        "unanalysed": _unanalysed(profile),
        "metadata": _metadata(profile),
        "notices": _notices(result.notices),
    }
    return doc


def _diff(result: DiffResult) -> JsonObject:
    new = result.new.artifact
    doc = _head("diff")
    doc |= {
        "package": package_json(new.ref),
        "old": _side(result.old),
        "new": _side(result.new),
        "integrity": new.integrity,
        "risk": risk_json(result.assessment),
        "findings": findings_json(result.assessment.findings),
        "changes": changes_json(result.assessment.changes),
        # NEW judged on its own: what it can do regardless of what the upgrade added.
        "new_version": {
            "risk": risk_json(result.new_version),
            "findings": findings_json(result.new_version.findings),
        },
        "unanalysed": _unanalysed(result.new),
        "metadata": _metadata(result.new),
        "notices": _notices(result.notices),
    }
    return doc


def _history(result: HistoryResult) -> JsonObject:
    newest: PackageRef | None = None
    if result.steps:
        newest = result.steps[-1].new
    elif result.first is not None:
        newest = result.first.profile.artifact.ref
    score, level = history_risk(result)
    all_findings = [f for s in result.steps for f in s.assessment.findings]
    first = result.first
    if first is not None:
        all_findings += first.assessment.findings
    doc = _head("history")
    doc |= {
        "package": {
            "ecosystem": result.ecosystem,
            "name": result.name,
            "version": newest.version if newest else None,
        },
        "integrity": None,
        "risk": {"score": score, "level": level.label},
        "findings": findings_json(all_findings),
        "first": (
            {
                "package": package_json(first.profile.artifact.ref),
                "integrity": first.profile.artifact.integrity,
                "risk": risk_json(first.assessment),
                "findings": findings_json(first.assessment.findings),
            }
            if first is not None
            else None
        ),
        "steps": [_step(s) for s in result.steps],
        "unanalysed": _unanalysed(first.profile) if first is not None else [],
        "metadata": {},
        "notices": _notices(result.notices),
    }
    return doc


def _step(step: HistoryStep) -> JsonObject:
    return {
        "old": step.old.version,
        "new": step.new.version,
        "published": step.published,
        "publisher": step.publisher,
        "behaviour_changed": step.assessment.level > Severity.NONE,
        "risk": risk_json(step.assessment),
        "findings": findings_json(step.assessment.findings),
        "changes": changes_json(step.assessment.changes),
    }


def _side(profile: Profile) -> JsonObject:
    return {**package_json(profile.artifact.ref), "integrity": profile.artifact.integrity}


def package_json(ref: PackageRef) -> JsonObject:
    """A package as ``{ecosystem, name, version}``."""
    return {"ecosystem": ref.ecosystem, "name": ref.name, "version": ref.version}


def risk_json(assessment: Assessment) -> JsonObject:
    """An assessment's verdict as ``{score, level}``."""
    return {"score": assessment.score, "level": assessment.level.label}


def findings_json(findings: Iterable[Finding]) -> list[JsonObject]:
    """Findings most severe first, each with its evidence."""
    return [_finding(f) for f in sorted_findings(findings)]


def _finding(finding: Finding) -> JsonObject:
    return {
        "rule_id": finding.rule_id,
        "severity": finding.severity.label,
        "title": finding.title,
        "detail": finding.detail,
        "remediation": finding.remediation,
        "version": finding.package.version if finding.package else None,
        "evidence": [_evidence(e) for e in finding.evidence],
    }


def _evidence(evidence: Evidence) -> JsonObject:
    snippet = redact_source(evidence.snippet) if evidence.snippet is not None else None
    return {"file": evidence.file, "line": _line(evidence.line), "snippet": snippet}


def changes_json(changes: tuple[RatedChange, ...]) -> list[JsonObject]:
    """Capability changes, most severe first, with exactly the fields the schema names."""
    return [_change(c) for c in sorted(changes, key=change_sort_key)]


def _change(rated: RatedChange) -> JsonObject:
    cap = rated.change.capability
    return {
        "change": rated.change.kind,
        "kind": cap.kind,
        "value": redact_source(cap.value),
        "file": cap.file,
        "line": _line(cap.line),
        "in_changed_lines": rated.change.in_changed_lines,
        "severity": rated.severity.label,
        "rule_id": rated.rule_id,
        "explanation": rated.explanation,
    }


def _capability(cap: Capability) -> JsonObject:
    return {"kind": cap.kind, "value": redact_source(cap.value), "file": cap.file, "line": _line(cap.line)}


def _unanalysed(profile: Profile) -> list[JsonObject]:
    return [{"file": f, "reason": r} for f, r in sorted(profile.unanalysed)]


def _metadata(profile: Profile) -> JsonObject:
    """Registry and manifest facts; on a repeated key the first value wins, keys sorted."""
    out: dict[str, str] = {}
    for key, value in profile.metadata:
        out.setdefault(key, value)
    return dict(sorted(out.items()))


def _notices(notices: tuple[Notice, ...]) -> list[JsonObject]:
    return [
        {"message": n.message, "file": str(n.file) if n.file else None, "line": _line(n.line)}
        for n in sorted(notices, key=notice_sort_key)
    ]


def _line(line: int | None) -> int | None:
    """Lines are 1-based; a 0 or negative line from a careless producer means "unknown"."""
    return line if line is not None and line >= 1 else None
