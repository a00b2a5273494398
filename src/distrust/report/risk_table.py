"""Risk Engine reports (inspect, diff, history) for a terminal.

A person running ``distrust diff postmark-mcp@1.0.15 1.0.16`` wants three answers: how bad is
it (the header: score and level in the level's colour), why (each finding with its rule, its
explanation and the offending source lines read back from the package, with line numbers), and
what to do (the remediation). Everything else (the full list of changes, every capability) is
there to check the verdict and is kept short unless ``verbose``.

Everything that came from a package (values, snippets, source lines, paths) is rendered as a
rich ``Text`` after :func:`~distrust.report.common.printable`, never as markup: a string like
``[bold]`` or a bidi override in hostile code must print as itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from io import StringIO

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

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
    capability_sort_key,
    change_sort_key,
    clip,
    display_path,
    first_line,
    history_risk,
    history_verdict,
    notice_sort_key,
    printable,
    redact_source,
    severity_style,
    sorted_findings,
)

# Values longer than this are cut in table cells; the JSON report keeps them whole.
MAX_CELL_CHARS = 120
# Distinct values listed per capability highlight before "+N more".
MAX_HIGHLIGHT_VALUES = 12
# Marker in front of the offending line of a source excerpt (and of flagged history rows).
MARK = "❯"
INDENT = 2


def render_risk_table(
    result: RiskResult,
    console: Console,
    *,
    verbose: bool = False,
    rules: RuleCatalog | None = None,
) -> None:
    """Print ``result`` to ``console``: header, findings with source lines, then the details.

    ``verbose`` lists every change (not only the first :data:`MAX_CHANGE_ROWS`), every
    capability, every highlight value, and, with ``rules``, why each rule matters.
    """
    if isinstance(result, InspectResult):
        parts = _inspect(result, verbose=verbose, rules=rules)
    elif isinstance(result, DiffResult):
        parts = _diff(result, verbose=verbose, rules=rules)
    elif isinstance(result, HistoryResult):
        parts = _history(result, verbose=verbose, rules=rules)
    else:
        raise TypeError(f"cannot render {type(result).__name__} as a risk report")
    for part in parts:
        console.print(part)


def risk_table_text(
    result: RiskResult,
    *,
    width: int = 100,
    verbose: bool = False,
    rules: RuleCatalog | None = None,
) -> str:
    """The terminal report as plain text (no colour), for files, logs and tests."""
    console = Console(file=StringIO(), width=width, color_system=None, force_terminal=False, record=True)
    render_risk_table(result, console, verbose=verbose, rules=rules)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


# --- the three reports ----------------------------------------------------------------------


def _inspect(result: InspectResult, *, verbose: bool, rules: RuleCatalog | None) -> list[RenderableType]:
    profile = result.profile
    art = profile.artifact
    head = Text()
    head.append(_safe(str(art.ref)), style="bold").append(f"  ({art.ref.ecosystem})", style="dim")
    head.append("\nintegrity ").append(art.integrity, style="dim")
    head.append("\nrisk ").append_text(_risk_text(result.assessment))
    n_caps, n_files = len(profile.capabilities), len(art.files)
    head.append(
        f"\n{_plural(n_caps, 'capability', 'capabilities')} in {_plural(n_files, 'file')}", style="dim"
    )
    parts: list[RenderableType] = [_panel("distrust inspect", head, result.assessment.level)]
    parts += _findings_section(
        result.assessment.findings, SourceReader(art.root), verbose=verbose, rules=rules
    )
    parts += _capabilities_section(profile, verbose=verbose)
    parts += _unanalysed_section(profile)
    parts += _notices_section(result.notices)
    return parts


def _diff(result: DiffResult, *, verbose: bool, rules: RuleCatalog | None) -> list[RenderableType]:
    old, new = result.old.artifact, result.new.artifact
    head = Text()
    same_name = old.ref.name == new.ref.name
    if same_name:
        head.append(_safe(new.ref.name), style="bold").append(f" {old.ref.version} → {new.ref.version}")
    else:
        head.append(_safe(str(old.ref)), style="bold").append(" → ").append(_safe(str(new.ref)), style="bold")
    head.append(f"  ({new.ref.ecosystem})", style="dim")
    head.append(f"\nintegrity {old.ref.version}: ").append(old.integrity, style="dim")
    head.append(f"\nintegrity {new.ref.version}: ").append(new.integrity, style="dim")
    head.append("\nupgrade risk ").append_text(_risk_text(result.assessment))
    head.append(f"\n{new.ref.version} on its own ").append_text(_risk_text(result.new_version))
    changes = result.assessment.changes
    added = sum(1 for c in changes if c.change.kind == "added")
    head.append(
        f"\n{_plural(len(changes), 'capability change')} ({added} added, {len(changes) - added} removed)",
        style="dim",
    )
    parts: list[RenderableType] = [_panel("distrust diff", head, result.assessment.level)]
    reader = SourceReader(new.root)  # an upgrade's findings are about code in NEW
    parts += _findings_section(result.assessment.findings, reader, verbose=verbose, rules=rules)
    parts += _changes_section(changes, verbose=verbose)
    if verbose:
        own = sorted_findings(result.new_version.findings)
        if own:
            parts.append(Text(f"\n{new.ref.version} judged on its own ({len(own)})", style="bold"))
            parts += _finding_blocks(own, reader, verbose=verbose, rules=rules)
    parts += _unanalysed_section(result.new)
    parts += _notices_section(result.notices)
    return parts


def _history(result: HistoryResult, *, verbose: bool, rules: RuleCatalog | None) -> list[RenderableType]:
    score, level = history_risk(result)
    versions = _history_versions(result)
    head = Text()
    head.append(_safe(result.name), style="bold").append(f"  ({result.ecosystem})", style="dim")
    if versions:
        head.append(f"\n{_plural(len(versions), 'version')} analysed, {versions[0]} → {versions[-1]}")
    head.append("\nworst release ").append_text(_risk_text(Assessment(score, level, ()), count=False))
    flagged = behaviour_changes(result)
    head.append(f"\n{_plural(len(flagged), 'release')} changed behaviour", style="dim")
    parts: list[RenderableType] = [_panel("distrust history", head, level)]
    first = result.first
    if first is not None and (first.assessment.findings or verbose):
        ref = first.profile.artifact.ref
        parts.append(
            Text(f"\nfirst analysed version {ref.version} on its own: ", style="bold").append_text(
                _risk_text(first.assessment)
            )
        )
        reader = SourceReader(first.profile.artifact.root)
        parts += _finding_blocks(
            sorted_findings(first.assessment.findings), reader, verbose=verbose, rules=rules
        )
    if result.steps:
        parts.append(_steps_table(result.steps))
    for step in flagged:
        parts.append(
            Text(f"\n{step.old.version} → {step.new.version}", style="bold").append(
                f"  {step.assessment.level.label.upper()}", style=severity_style(step.assessment.level)
            )
        )
        # A history holds no extracted files: evidence shows the analyser's snippet only.
        parts += _finding_blocks(
            sorted_findings(step.assessment.findings), SourceReader(None), verbose=verbose, rules=rules
        )
    parts += _unanalysed_section(first.profile if first is not None else None)
    parts += _notices_section(result.notices)
    # The verdict closes the report: it is the line a person reads last and remembers.
    parts.append(Text(""))
    parts.append(Text(history_verdict(result), style=severity_style(level) if flagged else "green"))
    return parts


def _history_versions(result: HistoryResult) -> list[str]:
    versions: list[str] = []
    if result.first is not None and result.first.profile.artifact.ref.version:
        versions.append(result.first.profile.artifact.ref.version)
    for step in result.steps:
        for ref in (step.old, step.new):
            if ref.version and ref.version not in versions:
                versions.append(ref.version)
    return versions


# --- pieces ---------------------------------------------------------------------------------


def _panel(title: str, body: Text, level: Severity) -> Panel:
    border = severity_style(level) if level > Severity.NONE else "green"
    return Panel(body, title=Text(title, style="bold"), title_align="left", border_style=border, expand=True)


def _risk_text(assessment: Assessment, *, count: bool = True) -> Text:
    style = severity_style(assessment.level) if assessment.level > Severity.NONE else "green"
    text = Text(f"{assessment.score}/100 ", style=style)
    text.append(assessment.level.label.upper(), style=f"{style} bold")
    if count:
        text.append(f"  ({_plural(len(assessment.findings), 'finding')})", style="dim")
    return text


def _findings_section(
    findings: Sequence[Finding], reader: SourceReader, *, verbose: bool, rules: RuleCatalog | None
) -> list[RenderableType]:
    ordered = sorted_findings(findings)
    if not ordered:
        return [Text("\nno findings: no rule fired", style="green")]
    return [
        Text(f"\nFindings ({len(ordered)}), most severe first", style="bold"),
        *_finding_blocks(ordered, reader, verbose=verbose, rules=rules),
    ]


def _finding_blocks(
    findings: Sequence[Finding], reader: SourceReader, *, verbose: bool, rules: RuleCatalog | None
) -> list[RenderableType]:
    blocks: list[RenderableType] = []
    # Two findings often point at one line (the version rule and the change rule on a Bcc):
    # its source is printed once, later findings refer back to it.
    shown: set[tuple[str, int | None]] = set()
    for finding in findings:
        style = severity_style(finding.severity)
        head = Text()
        head.append(f"{finding.severity.label.upper():<8}", style=style).append(" ")
        head.append(finding.rule_id, style="dim").append("  ")
        head.append(_safe(finding.title), style=style)
        body: list[RenderableType] = []
        if finding.detail:
            body.append(Text(_safe(finding.detail)))
        rule = rules.get(finding.rule_id) if rules else None
        if verbose and rule is not None and rule.rationale:
            body.append(Text("why it matters: ", style="bold").append(" ".join(rule.rationale.split())))
        remediation = first_line(finding.remediation)
        if remediation:
            body.append(Text(f"→ {_safe(remediation)}", style="green"))
        for ev in finding.evidence:
            key = (ev.file, ev.line)
            if key in shown:
                where = Text(printable(ev.file) + (f":{ev.line}" if ev.line else ""), style="bold")
                body.append(where.append("  (source shown above)", style="dim"))
                continue
            shown.add(key)
            body.append(_evidence(reader.excerpt(ev.file, ev.line, ev.snippet), ev.snippet))
        blocks.append(Text(""))
        blocks.append(head)
        blocks.append(Padding(Group(*body), (0, 0, 0, INDENT)))
    return blocks


def _evidence(excerpt: SourceExcerpt, snippet: str | None) -> RenderableType:
    """The evidence location, then its numbered source lines with the offending one marked.

    A grid keeps wrapped code in its own column, so a long line never pushes text under the
    line numbers.
    """
    where = Text(printable(excerpt.file) + (f":{excerpt.line}" if excerpt.line else ""), style="bold")
    if not excerpt.lines:
        if excerpt.problem:
            where.append(f"  (source not shown: {printable(excerpt.problem)})", style="dim")
        if snippet:
            where.append("\n").append(f"{MARK} ", style="bold red").append(_safe(snippet.strip()))
        return where
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, justify="right")
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for line in excerpt.lines:
        if line.offending:
            grid.add_row(
                Text(f"{MARK} {line.number}", style="bold red"),
                Text("│", style="dim"),
                Text(line.text, style="bold"),
            )
        else:
            grid.add_row(Text(str(line.number), style="dim"), Text("│", style="dim"), Text(line.text))
    return Group(where, grid)


def _changes_section(changes: Sequence[RatedChange], *, verbose: bool) -> list[RenderableType]:
    if not changes:
        return [Text("\nno capability was added or removed", style="dim")]
    ordered = sorted(changes, key=change_sort_key)
    shown = ordered if verbose else ordered[:MAX_CHANGE_ROWS]
    table = Table(
        title=Text(f"Changes ({len(ordered)})", style="bold"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        expand=True,
    )
    table.add_column("", no_wrap=True, width=1)
    table.add_column("Kind", no_wrap=True)
    table.add_column("Value", overflow="fold", ratio=3)
    table.add_column("Where", overflow="fold", ratio=2)
    table.add_column("New line", no_wrap=True)
    table.add_column("Severity", no_wrap=True, min_width=len("CRITICAL"))
    table.add_column("Rule", no_wrap=True)
    for rated in shown:
        cap = rated.change.capability
        sign, sign_style = ("+", "green") if rated.change.kind == "added" else ("-", "red")
        table.add_row(
            Text(sign, style=sign_style),
            Text(cap.kind),
            Text(clip(_safe(cap.value), MAX_CELL_CHARS)),
            Text(f"{printable(cap.file)}:{cap.line}"),
            Text(
                "yes" if rated.change.in_changed_lines else "no",
                style="" if rated.change.in_changed_lines else "dim",
            ),
            Text(rated.severity.label.upper(), style=severity_style(rated.severity)),
            Text(rated.rule_id or "—", style="dim" if rated.rule_id is None else ""),
        )
    parts: list[RenderableType] = [Text(""), table]
    hidden = len(ordered) - len(shown)
    if hidden:
        parts.append(Text(f"… and {hidden} more changes (--verbose lists all)", style="dim"))
    return parts


def _steps_table(steps: Sequence[HistoryStep]) -> Table:
    table = Table(
        title=Text("Releases", style="bold"), title_justify="left", box=box.SIMPLE_HEAD, expand=True
    )
    table.add_column("", no_wrap=True, width=1)
    table.add_column("Release", overflow="fold", ratio=2)
    table.add_column("Published", no_wrap=True)
    table.add_column("Publisher", no_wrap=True, overflow="ellipsis", max_width=24)
    table.add_column("Level", no_wrap=True, min_width=len("CRITICAL"))
    table.add_column("Score", justify="right", no_wrap=True)
    table.add_column("Top finding", overflow="fold", ratio=4)
    for step in steps:
        a = step.assessment
        flagged = a.level > Severity.NONE
        style = severity_style(a.level) if flagged else "dim"
        top = sorted_findings(a.findings)
        table.add_row(
            Text(MARK if flagged else "", style=style),
            Text(f"{step.old.version} → {step.new.version}", style="bold" if flagged else ""),
            Text((step.published or "")[:10] or "—"),
            Text(_safe(step.publisher) if step.publisher else "—"),
            Text(a.level.label.upper(), style=style),
            Text(str(a.score), style=style),
            Text(_safe(top[0].title) if top else "", style=style if flagged else ""),
        )
    return table


def _capabilities_section(profile: Profile, *, verbose: bool) -> list[RenderableType]:
    caps = profile.capabilities
    if not caps:
        return [Text("\nno capabilities found", style="dim")]
    grid = Table(
        title=Text("What the code can do", style="bold"), title_justify="left", box=None, show_header=False
    )
    grid.add_column("", style="bold", no_wrap=True)
    grid.add_column("", overflow="fold")
    for row, values in capability_highlights(caps):
        shown = values if verbose else values[:MAX_HIGHLIGHT_VALUES]
        cell = Text(", ".join(clip(v, MAX_CELL_CHARS) for v in shown))
        if len(values) > len(shown):
            cell.append(f" (+{len(values) - len(shown)} more)", style="dim")
        grid.add_row(Text(row.label), cell)
    counts = ", ".join(f"{kind} {n}" for kind, n in capability_counts(caps))
    grid.add_row(Text("by kind", style="dim"), Text(counts, style="dim"))
    parts: list[RenderableType] = [Text(""), grid]
    if verbose:
        parts.append(Text(""))
        table = Table(
            title=Text(f"Capabilities ({len(caps)})", style="bold"), title_justify="left", box=box.SIMPLE
        )
        table.add_column("Kind", no_wrap=True)
        table.add_column("Value", overflow="fold", ratio=3)
        table.add_column("Where", overflow="fold", ratio=1)
        for cap in sorted(caps, key=capability_sort_key):
            where = f"{printable(cap.file)}:{cap.line}"
            table.add_row(Text(cap.kind), Text(clip(_safe(cap.value), MAX_CELL_CHARS)), Text(where))
        parts.append(table)
    return parts


def _unanalysed_section(profile: Profile | None) -> list[RenderableType]:
    if profile is None or not profile.unanalysed:
        return []
    out = Text("\nNot analysed (judge these files yourself):", style="bold yellow")
    for file, reason in sorted(profile.unanalysed):
        out.append(f"\n  {printable(file)}: ", style="bold").append(printable(reason))
    return [out]


def _notices_section(notices: Sequence[Notice]) -> list[RenderableType]:
    if not notices:
        return []
    out = Text("\nNotices (could not read or judge):", style="bold")
    for notice in sorted(notices, key=notice_sort_key):
        out.append("\n  ")
        if notice.file is not None:
            where = display_path(notice.file) + (f":{notice.line}" if notice.line else "")
            out.append(where, style="bold").append(": ")
        out.append(printable(notice.message))
    return [out]


def _safe(text: str) -> str:
    """Package-derived free text made printable, with token-shaped secrets masked."""
    return printable(redact_source(text))


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"
