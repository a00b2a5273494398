"""Risk Engine reports (inspect, diff, history) as GitHub-flavoured Markdown.

Meant for the pull request that bumps a dependency, or the ticket that asks "is this upgrade
safe?": a summary line with the verdict, each finding with the offending source lines in a
code block (numbered, the offending line marked with ``>``), then the changes or the release
history as tables.

Package text is hostile: every string from a package is escaped for inline use (a ``|`` must
not split a cell, ``<img>`` must not become markup) and source lines go in fenced blocks whose
fence outgrows any backtick run inside them. Invisible characters are spelled out, so a bidi
override cannot reorder the code a reviewer reads.
"""

from __future__ import annotations

from collections.abc import Sequence

from distrust.analyze.results import DiffResult, HistoryResult, HistoryStep, InspectResult
from distrust.analyze.score import Assessment, RatedChange
from distrust.model import Finding, Notice, Profile, Severity
from distrust.report.common import (
    MAX_CHANGE_ROWS,
    RiskResult,
    RuleCatalog,
    SourceExcerpt,
    SourceReader,
    behaviour_changes,
    capability_counts,
    capability_highlights,
    change_sort_key,
    clip,
    default_risk_rules,
    display_path,
    first_line,
    history_risk,
    history_verdict,
    notice_sort_key,
    printable,
    redact_source,
    sorted_findings,
)
from distrust.report.markdown import code_block, escape_inline

MAX_CELL_CHARS = 120


def render_risk_markdown(
    result: RiskResult, *, rules: RuleCatalog | None = None, max_changes: int = MAX_CHANGE_ROWS
) -> str:
    """The result as Markdown, ending in a newline.

    Each finding says why its rule matters (the rule's rationale, from ``rules`` or the shipped
    rule table). At most ``max_changes`` changes are listed: a comment has a size limit, and
    the JSON report holds them all.
    """
    catalog = default_risk_rules() if rules is None else rules
    if isinstance(result, InspectResult):
        lines = _inspect(result, catalog)
    elif isinstance(result, DiffResult):
        lines = _diff(result, catalog, max_changes)
    elif isinstance(result, HistoryResult):
        lines = _history(result, catalog)
    else:
        raise TypeError(f"cannot render {type(result).__name__} as a risk report")
    return "\n".join(lines).rstrip("\n") + "\n"


def _inspect(result: InspectResult, rules: RuleCatalog) -> list[str]:
    profile = result.profile
    art = profile.artifact
    lines = [
        f"# distrust inspect: {_code(str(art.ref))}",
        "",
        f"**Risk: {_verdict(result.assessment)}** · {art.ref.ecosystem} · integrity {_code(art.integrity)}",
        "",
    ]
    lines += _findings(result.assessment.findings, SourceReader(art.root), rules)
    lines += _capabilities(profile)
    lines += _unanalysed(profile)
    lines += _notices(result.notices)
    return lines


def _diff(result: DiffResult, rules: RuleCatalog, max_changes: int) -> list[str]:
    old, new = result.old.artifact, result.new.artifact
    changes = result.assessment.changes
    added = sum(1 for c in changes if c.change.kind == "added")
    lines = [
        f"# distrust diff: {_code(str(old.ref))} → {_code(str(new.ref))}",
        "",
        f"**Upgrade risk: {_verdict(result.assessment)}** · "
        f"{escape_inline(new.ref.version or '?')} on its own: {_verdict(result.new_version)}",
        "",
        f"- {escape_inline(old.ref.version or '?')}: integrity {_code(old.integrity)}",
        f"- {escape_inline(new.ref.version or '?')}: integrity {_code(new.integrity)}",
        f"- {len(changes)} capability change{'s' if len(changes) != 1 else ''}: "
        f"{added} added, {len(changes) - added} removed",
        "",
    ]
    lines += _findings(result.assessment.findings, SourceReader(new.root), rules)
    lines += _changes(changes, max_changes)
    lines += _unanalysed(result.new)
    lines += _notices(result.notices)
    return lines


def _history(result: HistoryResult, rules: RuleCatalog) -> list[str]:
    score, level = history_risk(result)
    flagged = behaviour_changes(result)
    worst = _verdict(Assessment(score, level, ()), count=False)
    n = len(result.steps)
    lines = [
        f"# distrust history: {_code(result.name)}",
        "",
        f"**Worst release: {worst}** · {escape_inline(result.ecosystem)} · "
        f"{n} upgrade{'s' if n != 1 else ''} compared",
        "",
        f"**{escape_inline(history_verdict(result))}**",
        "",
    ]
    first = result.first
    if first is not None:
        ref = first.profile.artifact.ref
        lines += [
            f"First analysed version {_code(ref.version or '?')} on its own: {_verdict(first.assessment)}",
            "",
        ]
    if result.steps:
        lines += ["## Releases", "", *_steps_table(result.steps), ""]
    if first is not None and first.assessment.findings:
        ref = first.profile.artifact.ref
        lines += [f"## {escape_inline(ref.version or '?')} (first analysed version)", ""]
        lines += _finding_blocks(
            first.assessment.findings, SourceReader(first.profile.artifact.root), rules, 3
        )
    for step in flagged:
        lines += [
            f"## {escape_inline(step.old.version or '?')} → {escape_inline(step.new.version or '?')} "
            f"({step.assessment.level.label})",
            "",
        ]
        lines += _finding_blocks(step.assessment.findings, SourceReader(None), rules, 3)
    lines += _unanalysed(first.profile if first is not None else None)
    lines += _notices(result.notices)
    return lines


def _verdict(assessment: Assessment, *, count: bool = True) -> str:
    text = f"{assessment.score}/100 ({assessment.level.label})"
    if count:
        n = len(assessment.findings)
        text += f", {n} finding{'s' if n != 1 else ''}"
    return text


def _findings(findings: Sequence[Finding], reader: SourceReader, rules: RuleCatalog) -> list[str]:
    if not findings:
        return ["No findings: no rule fired.", ""]
    return ["## Findings", "", *_finding_blocks(findings, reader, rules, 3)]


def _finding_blocks(
    findings: Sequence[Finding], reader: SourceReader, rules: RuleCatalog, depth: int
) -> list[str]:
    out: list[str] = []
    shown: set[tuple[str, int | None]] = set()
    for finding in sorted_findings(findings):
        out += [f"{'#' * depth} {finding.severity.label.upper()}: {_inline(finding.title)}", ""]
        out += [f"- Rule: {_code(finding.rule_id)}", ""]
        if finding.detail:
            out += [_inline(finding.detail), ""]
        rule = rules.get(finding.rule_id)
        if rule is not None and rule.rationale:
            out += [f"Why it matters: {escape_inline(' '.join(rule.rationale.split()))}", ""]
        remediation = first_line(finding.remediation)
        if remediation:
            out += [f"**Remediation:** {_inline(remediation)}", ""]
        for ev in finding.evidence:
            where = ev.file + (f":{ev.line}" if ev.line else "")
            if (ev.file, ev.line) in shown:
                out += [f"Evidence: {_code(where)} (source shown above)", ""]
                continue
            shown.add((ev.file, ev.line))
            out += [f"Evidence: {_code(where)}", ""]
            out += _excerpt(reader.excerpt(ev.file, ev.line, ev.snippet), ev.snippet)
    return out


def _excerpt(excerpt: SourceExcerpt, snippet: str | None) -> list[str]:
    if excerpt.lines:
        width = len(str(excerpt.lines[-1].number))
        body = "\n".join(
            f"{'>' if line.offending else ' '} {line.number:>{width}} | {line.text}" for line in excerpt.lines
        )
        return [code_block(body), ""]
    out: list[str] = []
    if excerpt.problem:
        out += [f"_(source not shown: {escape_inline(excerpt.problem)})_", ""]
    if snippet:
        out += [code_block(printable(redact_source(snippet.strip()))), ""]
    return out


def _changes(changes: Sequence[RatedChange], max_changes: int) -> list[str]:
    if not changes:
        return ["No capability was added or removed.", ""]
    ordered = sorted(changes, key=change_sort_key)
    shown = ordered[:max_changes]
    rows = [
        "## Changes",
        "",
        "| Change | Kind | Value | Where | New line | Severity | Rule |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for rated in shown:
        cap = rated.change.capability
        cells = [
            rated.change.kind,
            escape_inline(cap.kind),
            _inline(clip(cap.value, MAX_CELL_CHARS)),
            escape_inline(f"{printable(cap.file)}:{cap.line}"),
            "yes" if rated.change.in_changed_lines else "no",
            _severity_cell(rated.severity),
            escape_inline(rated.rule_id) if rated.rule_id else "—",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    rows.append("")
    if len(ordered) > len(shown):
        rows += [f"_… and {len(ordered) - len(shown)} more changes; the JSON report lists all._", ""]
    return rows


def _steps_table(steps: Sequence[HistoryStep]) -> list[str]:
    rows = [
        "| Release | Published | Publisher | Level | Score | Top finding |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for step in steps:
        a = step.assessment
        top = sorted_findings(a.findings)
        release = f"{step.old.version} → {step.new.version}"
        cells = [
            f"**{escape_inline(release)}**" if a.level > Severity.NONE else escape_inline(release),
            escape_inline((step.published or "")[:10] or "—"),
            _inline(step.publisher) if step.publisher else "—",
            _severity_cell(a.level),
            str(a.score),
            _inline(top[0].title) if top else "",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _capabilities(profile: Profile) -> list[str]:
    caps = profile.capabilities
    if not caps:
        return ["## What the code can do", "", "No capabilities found.", ""]
    out = ["## What the code can do", ""]
    for row, values in capability_highlights(caps):
        out.append(
            f"- **{escape_inline(row.label)}**: " + ", ".join(_code(clip(v, MAX_CELL_CHARS)) for v in values)
        )
    counts = ", ".join(f"{escape_inline(kind)} {n}" for kind, n in capability_counts(caps))
    out += [f"- By kind: {counts}", ""]
    return out


def _unanalysed(profile: Profile | None) -> list[str]:
    if profile is None or not profile.unanalysed:
        return []
    out = ["## Not analysed", "", "Judge these files yourself:", ""]
    out += [f"- {_code(file)}: {_inline(reason)}" for file, reason in sorted(profile.unanalysed)]
    return [*out, ""]


def _notices(notices: Sequence[Notice]) -> list[str]:
    if not notices:
        return []
    out = ["## Notices", "", "Things distrust could not read or judge:", ""]
    for notice in sorted(notices, key=notice_sort_key):
        where = ""
        if notice.file is not None:
            where = _code(display_path(notice.file) + (f":{notice.line}" if notice.line else "")) + ": "
        out.append(f"- {where}{_inline(notice.message)}")
    return [*out, ""]


def _severity_cell(severity: Severity) -> str:
    label = severity.label.upper()
    return f"**{label}**" if severity >= Severity.HIGH else label


def _inline(text: str) -> str:
    """Package-derived text for a paragraph or cell: secrets masked, invisibles spelled, escaped."""
    return escape_inline(printable(redact_source(text)))


def _code(text: str) -> str:
    """A one-line code span that its text cannot close (backticks and newlines replaced)."""
    return "`" + printable(text).replace("`", "'").replace("\n", " ") + "`"
