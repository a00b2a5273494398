"""The scan report for a terminal: one table per client, its servers, and their findings.

People read this report to decide what to do next, so each finding carries a one-line
remediation, each server shows what actually runs (the declared package and the installed
copies, with where each was found), and anything distrust could not read is listed after the
tables instead of being silently skipped.

Every string that came from a config or a package is rendered as a rich ``Text``, never as
markup: a server named ``[bold]x`` or a snippet containing ``[/]`` must print literally.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from distrust.model import Finding, ResolvedServer, ScanResult, ServerSpec
from distrust.report.common import (
    Scrubber,
    display_path,
    first_line,
    notice_sort_key,
    server_identity,
    server_sort_key,
    severity_style,
    sorted_findings,
    summary_line,
)

NO_SERVERS = "no MCP servers found"
# Placeholder in the severity column of a server with nothing to report; deliberately not
# "none", which is a severity level of its own.
NO_FINDING_MARK = "ok"
FINDING_COLUMN_MIN = 24


@dataclass
class _ServerGroup:
    """One server row block: the server (if it was in the scan) and the findings about it."""

    spec: ServerSpec
    resolved: ResolvedServer | None
    findings: list[Finding] = field(default_factory=list)


def render_table(result: ScanResult, console: Console, *, verbose: bool = False) -> None:
    """Print the scan to ``console``: tables by client, findings without a server, notices, summary.

    ``verbose`` adds each finding's detail and evidence, and each server's command line,
    environment keys and installed paths.
    """
    scrub = Scrubber(result)
    by_client, unattached = _group(result)
    if not result.servers and not result.findings:
        console.print(Text(NO_SERVERS))
    else:
        for client, groups in by_client.items():
            console.print(_client_table(client, groups, scrub, verbose=verbose))
        if unattached:
            console.print(_unattached_table(unattached, scrub, verbose=verbose))
    if result.notices:
        console.print(Text("Notices (could not read or judge):", style="bold"))
        for notice in sorted(result.notices, key=notice_sort_key):
            where = ""
            if notice.file is not None:
                where = display_path(notice.file) + (f":{notice.line}" if notice.line else "")
            line = Text("  ")
            if where:
                line.append(where, style="bold").append(": ")
            line.append(scrub(notice.message))
            console.print(line)
    if result.servers or result.findings:
        console.print(Text(summary_line(result)))


def _group(result: ScanResult) -> tuple[dict[str, list[_ServerGroup]], list[Finding]]:
    """Servers by client (sorted), each with its findings; findings about no server set apart.

    A finding naming a server that is not in the server list (a judge looking at more than was
    resolved) still gets a row under its client rather than being dropped.
    """
    groups: dict[tuple[str, str, str], _ServerGroup] = {}
    for resolved in sorted(result.servers, key=server_sort_key):
        groups.setdefault(server_identity(resolved.spec), _ServerGroup(resolved.spec, resolved))
    unattached: list[Finding] = []
    for finding in sorted_findings(result.findings):
        if finding.server is None:
            unattached.append(finding)
            continue
        key = server_identity(finding.server)
        groups.setdefault(key, _ServerGroup(finding.server, None)).findings.append(finding)
    by_client: dict[str, list[_ServerGroup]] = {}
    for key in sorted(groups, key=lambda k: (k[0], k[2], k[1])):
        group = groups[key]
        by_client.setdefault(group.spec.client, []).append(group)
    return by_client, unattached


def _new_table(title: str) -> Table:
    table = Table(title=Text(title, style="bold"), title_justify="left", box=box.SIMPLE_HEAD, expand=True)
    # Columns share the width by ratio so the table fits any terminal; the finding column gets
    # the largest share because its title and remediation are what the reader acts on. Long
    # paths in the first two columns fold rather than push the finding off screen.
    table.add_column("Server", overflow="fold", ratio=2)
    table.add_column("Package", overflow="fold", ratio=2)
    table.add_column("Severity", no_wrap=True, min_width=len("CRITICAL"))
    table.add_column("Finding", overflow="fold", ratio=3, min_width=FINDING_COLUMN_MIN)
    return table


def _client_table(client: str, groups: list[_ServerGroup], scrub: Scrubber, *, verbose: bool) -> Table:
    table = _new_table(client)
    for group in groups:
        server_cell = _server_cell(group.spec, scrub, verbose=verbose)
        package_cell = _package_cell(group, scrub, verbose=verbose)
        if not group.findings:
            table.add_row(
                server_cell,
                package_cell,
                Text(NO_FINDING_MARK, style="dim green"),
                Text("no findings", style="dim"),
                end_section=True,
            )
            continue
        for i, finding in enumerate(group.findings):
            last = i == len(group.findings) - 1
            table.add_row(
                server_cell if i == 0 else Text(""),
                package_cell if i == 0 else Text(""),
                _severity_cell(finding),
                _finding_cell(finding, scrub, verbose=verbose),
                end_section=last,
            )
    return table


def _unattached_table(findings: Iterable[Finding], scrub: Scrubber, *, verbose: bool) -> Table:
    table = _new_table("not tied to a configured server")
    for finding in findings:
        package = Text(str(finding.package)) if finding.package else Text("")
        table.add_row(
            Text("—", style="dim"),
            package,
            _severity_cell(finding),
            _finding_cell(finding, scrub, verbose=verbose),
            end_section=True,
        )
    return table


def _server_cell(spec: ServerSpec, scrub: Scrubber, *, verbose: bool) -> Text:
    cell = Text(spec.name, style="bold")
    if spec.disabled:
        cell.append(" (disabled)", style="dim")
    where = display_path(spec.config_path) + (f":{spec.line}" if spec.line else "")
    cell.append(f"\n{where}", style="dim")
    if spec.scope != "user":
        cell.append(f"\n{spec.scope} scope", style="dim")
    if verbose:
        cell.append(f"\ntransport: {spec.transport}", style="dim")
        if spec.command:
            command = " ".join((spec.command, *scrub.args(spec.args)))
            cell.append(f"\ncommand: {command}", style="dim")
        if spec.url:
            cell.append(f"\nurl: {scrub.url(spec.url)}", style="dim")
        if spec.env:
            # Keys only: values are exactly what this report must never show.
            cell.append(f"\nenv: {', '.join(sorted(spec.env_keys))}", style="dim")
        if spec.headers:
            cell.append(f"\nheaders: {', '.join(sorted(k for k, _ in spec.headers))}", style="dim")
    return cell


def _package_cell(group: _ServerGroup, scrub: Scrubber, *, verbose: bool) -> Text:
    """What runs: the declared package (and how loosely), then each installed copy and its source."""
    resolved = group.resolved
    spec = group.spec
    if resolved is None:
        return Text("not resolved", style="dim")
    cell = Text()
    package = resolved.package
    if package is not None:
        cell.append(str(package))
        how = "pinned" if package.pinned else "not pinned"
        asked = f"{scrub.url(package.spec)}, " if package.spec else ""
        cell.append(f"\ndeclared: {asked}{how}", style="dim" if package.pinned else "yellow")
    elif spec.url:
        cell.append(f"remote: {scrub.url(spec.url)}")
    elif spec.command:
        cell.append(f"command: {spec.command}", style="dim")
    else:
        cell.append("unknown", style="dim")
    for inst in resolved.installed:
        version = inst.ref.version or "unknown version"
        label = version if package and inst.ref.name == package.name else f"{inst.ref.name} {version}"
        cell.append(f"\ninstalled: {label} ({inst.source})")
        if verbose:
            where = display_path(inst.path) + (f":{inst.line}" if inst.line else "")
            when = f", {inst.when.date().isoformat()}" if inst.when else ""
            cell.append(f"\n  {where}{when}", style="dim")
    for note in resolved.notes:
        cell.append(f"\nnote: {scrub(note)}", style="dim")
    return cell


def _severity_cell(finding: Finding) -> Text:
    return Text(finding.severity.label.upper(), style=severity_style(finding.severity))


def _finding_cell(finding: Finding, scrub: Scrubber, *, verbose: bool) -> Text:
    cell = Text()
    cell.append(scrub(finding.title), style=severity_style(finding.severity))
    if finding.advisories:
        cell.append(f" [{', '.join(finding.advisories)}]")
    cell.append(f"\n{finding.rule_id}", style="dim")
    if finding.package is not None:
        cell.append(f" · {finding.package}", style="dim")
    if verbose and finding.detail:
        cell.append(f"\n{scrub(finding.detail)}")
    if verbose:
        for ev in finding.evidence:
            where = ev.file + (f":{ev.line}" if ev.line else "")
            cell.append(f"\n  {where}", style="bold")
            if ev.snippet:
                cell.append(f"\n    {scrub(ev.snippet).strip()}", style="dim")
    remediation = first_line(scrub(finding.remediation))
    if remediation:
        cell.append(f"\n→ {remediation}", style="green")
    return cell
