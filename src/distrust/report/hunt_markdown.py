"""``distrust hunt`` as Markdown: for an incident ticket, a pull request or a mail to counsel.

Mail text is attacker-influenced and Markdown renderers accept raw HTML, so every such string
goes through :func:`md_text`: HTML-escaped (no tags, no entities of its own), Markdown
punctuation backslash-escaped (no links, images or emphasis) and table pipes escaped, so a
subject like ``[click](https://evil)`` or ``<img src=x>`` renders as the literal text.
"""

from __future__ import annotations

import html
import re

from distrust.hunt import HuntResult
from distrust.report.hunt_common import (
    CATEGORY_RATIONALES,
    CATEGORY_TITLES,
    fmt_time,
    hunt_facts,
    remediation_checklist,
    safe_text,
    summary_sentence,
)

# Characters with a meaning in CommonMark/GFM inline syntax (and ``|`` in GFM tables).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def md_text(text: str) -> str:
    """Mail text safe inside Markdown prose and table cells: printable, HTML and Markdown escaped."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(safe_text(text), quote=False))


def md_code(text: str) -> str:
    """An env key or redacted secret as inline code, so it can be copied exactly as printed.

    Code spans show their content literally (no HTML, no emphasis); text containing a backtick
    or a newline could break out of one, so it falls back to :func:`md_text`.
    """
    clean = safe_text(text)
    return f"`{clean}`" if "`" not in clean and clean.strip() == clean and clean else md_text(text)


def render_hunt_markdown(result: HuntResult, *, package: str | None = None) -> str:
    """The hunt as a Markdown document, ending in a newline."""
    facts = hunt_facts(result)
    out: list[str] = ["# distrust hunt", "", md_text(summary_sentence(result)), "", "## Summary", ""]
    out += ["| | |", "|---|---|"]
    out += [
        f"| scanned | {facts.scanned} |",
        f"| exposed | **{facts.exposed}** |",
        f"| first exposure | {facts.first} |",
        f"| last exposure | {facts.last} |",
        "| hidden recipients | "
        + ("<br>".join(f"{md_text(r)} ({n})" for r, n in facts.hidden) or "none")
        + " |",
        "| sources | " + (", ".join(md_text(s) for s in result.sources) or "none") + " |",
        "",
    ]
    if result.per_day:
        out += ["## Exposed messages per day (UTC)", "", "| date | messages |", "|---|---:|"]
        out += [f"| {d.isoformat()} | {n} |" for d, n in result.per_day]
        out.append("")
    out += ["## Categories", "", "| category | messages | why it matters |", "|---|---:|---|"]
    out += [
        f"| {CATEGORY_TITLES.get(c, c)} | {n} | {md_text(CATEGORY_RATIONALES.get(c, ''))} |"
        for c, n in facts.categories
    ]
    out.append("")
    if result.exposures:
        out += [
            "## Exposed messages",
            "",
            "| message id | sent (UTC) | sender | subject | hidden recipient | categories |",
            "|---|---|---|---|---|---|",
        ]
        for e in result.exposures:
            r = e.record
            out.append(
                f"| {md_text(r.message_id)} | {fmt_time(r.sent).removesuffix(' UTC')} | {md_text(r.sender)} "
                f"| {md_text(r.subject)} | {', '.join(md_text(h) for h in e.hidden)} "
                f"| {', '.join(e.categories) or '-'} |"
            )
        out.append("")
    out += ["## Credentials to rotate", ""]
    out += [f"- {md_code(c)}" for c in result.credentials_to_rotate] or ["None found."]
    out += ["", "## Remediation checklist", ""]
    for item in remediation_checklist(result, package):
        out.append(f"- [ ] **{md_text(item.title)}**")
        out += [f"  - {md_text(d)}" for d in item.details]
    if result.notices:
        out += ["", "## Notices", ""]
        for n in result.notices:
            where = f" ({md_text(str(n.file))}{':' + str(n.line) if n.line else ''})" if n.file else ""
            out.append(f"- {md_text(n.message)}{where}")
    return "\n".join(out) + "\n"
