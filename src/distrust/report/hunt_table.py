"""``distrust hunt`` for a terminal: the summary first, then the messages, then what to rotate.

Every mail-derived string (subject, sender, message id, recipient) is attacker-influenced: it
is rendered as a rich ``Text`` after :func:`~distrust.report.hunt_common.safe_text`, never as
markup, so a subject like ``[bold]`` or an escape sequence prints as itself.
"""

from __future__ import annotations

from io import StringIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from distrust.hunt import HuntResult
from distrust.report.common import clip
from distrust.report.hunt_common import CATEGORY_TITLES, fmt_time, hunt_facts, safe_text

# Cells longer than this are cut; the JSON report keeps the whole text.
MAX_CELL_CHARS = 80


def render_hunt_table(result: HuntResult, console: Console) -> None:
    """Print the hunt to ``console``: summary, categories, messages, credentials, notices."""
    facts = hunt_facts(result)
    summary = Table(box=box.SIMPLE, show_header=False, title="distrust hunt", title_justify="left")
    summary.add_column("what", style="bold")
    summary.add_column("value")
    summary.add_row("scanned", str(facts.scanned))
    summary.add_row("exposed", Text(str(facts.exposed), style="bold red" if facts.exposed else "green"))
    summary.add_row("first exposure", facts.first)
    summary.add_row("last exposure", facts.last)
    hidden = Text("\n".join(f"{safe_text(r)} ({n})" for r, n in facts.hidden) or "none")
    summary.add_row("hidden recipients", hidden)
    summary.add_row("sources", Text(", ".join(safe_text(s) for s in result.sources) or "none"))
    console.print(summary)

    cats = Table(box=box.SIMPLE, title="exposed messages by category", title_justify="left")
    cats.add_column("category")
    cats.add_column("messages", justify="right")
    for category, n in facts.categories:
        cats.add_row(CATEGORY_TITLES.get(category, category), str(n), style=None if n else "dim")
    console.print(cats)

    if result.exposures:
        msgs = Table(box=box.SIMPLE_HEAD, title="exposed messages", title_justify="left")
        for col in ("message id", "sent (UTC)", "sender", "subject", "hidden recipient", "categories"):
            msgs.add_column(col, overflow="fold")
        for e in result.exposures:
            r = e.record
            msgs.add_row(
                Text(clip(safe_text(r.message_id), MAX_CELL_CHARS)),
                fmt_time(r.sent).removesuffix(" UTC"),
                Text(clip(safe_text(r.sender), MAX_CELL_CHARS)),
                Text(clip(safe_text(r.subject), MAX_CELL_CHARS)),
                Text(", ".join(safe_text(h) for h in e.hidden), style="red"),
                Text(", ".join(e.categories) or "-"),
            )
        console.print(msgs)

    console.print(Text("credentials to rotate", style="bold"))
    if result.credentials_to_rotate:
        for cred in result.credentials_to_rotate:
            console.print(Text(f"  - {safe_text(cred)}"))
    else:
        console.print(Text("  none found", style="dim"))

    if result.notices:
        console.print(Text("notices", style="bold yellow"))
        for notice in result.notices:
            where = f"{notice.file}:{notice.line}" if notice.file and notice.line else str(notice.file or "")
            console.print(Text(f"  - {safe_text(notice.message)}" + (f" ({where})" if where else "")))


def hunt_table_text(result: HuntResult, *, width: int = 140) -> str:
    """The terminal report as plain text (no colour), for files, logs and tests."""
    console = Console(file=StringIO(), width=width, color_system=None, force_terminal=False, record=True)
    render_hunt_table(result, console)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"
