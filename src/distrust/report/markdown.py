"""The scan report as GitHub-flavoured Markdown, for pull-request comments, tickets and wikis.

Markdown renders whatever it is given, so every string that came from a config or a package
(server names, snippets, details) is escaped: a ``|`` must not split a table cell, a backtick
must not open a code span, and ``<img src=…>`` in a package's text must not become markup in
someone's browser. Snippets go into fenced blocks whose fence is longer than any backtick run
inside them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from distrust.model import Finding, ResolvedServer, ScanResult
from distrust.report.common import (
    RuleCatalog,
    Scrubber,
    display_path,
    first_line,
    notice_sort_key,
    server_identity,
    server_sort_key,
    sorted_findings,
    summary_line,
)

TITLE = "# distrust scan report"

# Characters with Markdown meaning inside inline text. Backslash first, so escapes added for
# the others are not escaped again.
_INLINE_SPECIALS = re.compile(r"([\\`*_\[\]|#])")


def escape_inline(text: str) -> str:
    """Text safe to put in a Markdown paragraph or table cell, rendering as itself.

    Markdown specials are backslash-escaped, ``<``/``>``/``&`` become entities (no raw HTML),
    and newlines become ``<br>`` so a multi-line value stays in one cell.
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _INLINE_SPECIALS.sub(r"\\\1", text)
    return "<br>".join(part.strip() for part in text.splitlines()) if "\n" in text else text


def code_block(text: str, info: str = "") -> str:
    """A fenced block that the text cannot close early: the fence outgrows any backtick run in it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip()}\n{fence}"


def render_markdown(result: ScanResult, *, rules: RuleCatalog | None = None) -> str:
    """The scan as Markdown: summary, a server table per client, findings, notices.

    With a rule catalogue, each finding also says why its rule matters (the rule's rationale).
    """
    scrub = Scrubber(result)
    lines: list[str] = [TITLE, "", escape_inline(summary_line(result)), ""]
    if not result.servers and not result.findings:
        lines += ["no MCP servers found", ""]
    findings = sorted_findings(result.findings)
    servers_by_client: dict[str, list[ResolvedServer]] = {}
    for server in sorted(result.servers, key=server_sort_key):
        servers_by_client.setdefault(server.spec.client, []).append(server)
    finding_clients = {f.server.client for f in findings if f.server}
    for client in sorted(set(servers_by_client) | finding_clients):
        lines += [f"## {escape_inline(client)}", ""]
        servers = servers_by_client.get(client, [])
        client_findings = [f for f in findings if f.server and f.server.client == client]
        if servers:
            lines += _server_table(servers, client_findings, scrub)
        if client_findings:
            lines += ["### Findings", ""]
            for finding in client_findings:
                lines += _finding_block(finding, scrub, rules)
    unattached = [f for f in findings if f.server is None]
    if unattached:
        lines += ["## Findings not tied to a configured server", ""]
        for finding in unattached:
            lines += _finding_block(finding, scrub, rules)
    if result.notices:
        lines += ["## Notices", "", "Things distrust could not read or judge:", ""]
        for notice in sorted(result.notices, key=notice_sort_key):
            where = ""
            if notice.file is not None:
                where = display_path(notice.file) + (f":{notice.line}" if notice.line else "")
                where = f"`{_code_span_text(where)}`: "
            lines.append(f"- {where}{escape_inline(scrub(notice.message))}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _server_table(servers: Iterable[ResolvedServer], findings: list[Finding], scrub: Scrubber) -> list[str]:
    rows = [
        "| Server | Config | Package | Installed | Findings |",
        "| --- | --- | --- | --- | --- |",
    ]
    for server in servers:
        spec = server.spec
        mine = [f for f in findings if f.server and server_identity(f.server) == server_identity(spec)]
        config = display_path(spec.config_path) + (f":{spec.line}" if spec.line else "")
        if server.package is not None:
            package = str(server.package)
            pin = "pinned" if server.package.pinned else "not pinned"
            asked = f"{scrub.url(server.package.spec)}, " if server.package.spec else ""
            package_text = f"{package} ({asked}{pin})"
        elif spec.url:
            package_text = f"remote: {scrub.url(spec.url)}"
        else:
            package_text = spec.command or "unknown"
        installed = "\n".join(f"{i.ref.version or 'unknown version'} ({i.source})" for i in server.installed)
        if mine:
            worst = mine[0].severity.label  # findings arrive sorted, most severe first
            finding_text = f"{len(mine)} (worst: {worst})"
        else:
            finding_text = "none"
        cells = [spec.name, config, package_text, installed or "—", finding_text]
        rows.append("| " + " | ".join(escape_inline(c) for c in cells) + " |")
    return [*rows, ""]


def _finding_block(finding: Finding, scrub: Scrubber, rules: RuleCatalog | None) -> list[str]:
    badge = finding.severity.label.upper()
    out = [f"#### {badge}: {escape_inline(scrub(finding.title))}", ""]
    facts = [f"- Rule: `{_code_span_text(finding.rule_id)}`"]
    if finding.server is not None:
        facts.append(f"- Server: {escape_inline(finding.server.name)}")
    if finding.package is not None:
        facts.append(f"- Package: `{_code_span_text(str(finding.package))}`")
    if finding.advisories:
        facts.append("- Advisories: " + ", ".join(escape_inline(a) for a in finding.advisories))
    out += [*facts, ""]
    if finding.detail:
        out += [escape_inline(scrub(finding.detail)), ""]
    rule = rules.get(finding.rule_id) if rules else None
    if rule is not None and rule.rationale:
        out += [f"Why it matters: {escape_inline(rule.rationale)}", ""]
    remediation = first_line(scrub(finding.remediation))
    if remediation:
        out += [f"**Remediation:** {escape_inline(remediation)}", ""]
    for ev in finding.evidence:
        where = ev.file + (f":{ev.line}" if ev.line else "")
        out.append(f"Evidence: `{_code_span_text(where)}`")
        out.append("")
        if ev.snippet:
            out += [code_block(scrub(ev.snippet)), ""]
    return out


def _code_span_text(text: str) -> str:
    """Text for a single-backtick code span: backticks and newlines cannot appear inside one."""
    return text.replace("`", "'").replace("\n", " ")
