"""What every hunt report format shares: the summary facts, time format and remediation checklist.

The four formats (table, JSON, Markdown, HTML) must tell a victim the same story in the same
words: the same first/last exposure, the same counts, and the same recovery steps filled in
with the same facts. Computing those here once means a format cannot drift, e.g. by counting
categories per recipient instead of per message.

All text from mail (subjects, senders, ids) is attacker-influenced: formats pass it through
:func:`safe_text` (controls and bidi overrides spelled out, then their own escaping).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from distrust.hunt import HuntResult
from distrust.hunt.exposure import CATEGORY_RULES, category_counts, hidden_recipient_counts
from distrust.report.common import printable

# Where npx keeps packages it downloaded: ``$(npm config get cache)/_npx``. Removing the
# package from a config is not enough; ``npx -y`` would run the cached copy again.
NPX_CACHE_PATHS: tuple[str, ...] = (
    "~/.npm/_npx/ (Linux, macOS)",
    "%LocalAppData%\\npm-cache\\_npx\\ (Windows)",
)

# How long the GDPR gives a controller to notify its supervisory authority of a personal-data
# breach, counted from becoming aware of it (Art. 33(1)).
GDPR_NOTICE_HOURS = 72

CATEGORY_TITLES: dict[str, str] = {rule.id: rule.title for rule in CATEGORY_RULES}
CATEGORY_RATIONALES: dict[str, str] = {rule.id: rule.rationale for rule in CATEGORY_RULES}


def safe_text(text: str) -> str:
    """Mail text made printable: controls and invisible characters spelled out (``<U+202E>``)."""
    return printable(text).replace("\n", " ")


def fmt_time(when: datetime | None) -> str:
    """``2025-09-17 14:03:00 UTC``; naive times are the source's UTC; ``unknown`` when missing."""
    if when is None:
        return "unknown"
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def iso_time(when: datetime | None) -> str | None:
    """RFC 3339 in UTC (``2025-09-17T14:03:00Z``) for machine formats, None when unknown."""
    if when is None:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


@dataclass(frozen=True)
class HuntFacts:
    """The numbers every format's summary shows."""

    scanned: int
    exposed: int
    first: str
    last: str
    hidden: tuple[tuple[str, int], ...]
    categories: tuple[tuple[str, int], ...]


def hunt_facts(result: HuntResult) -> HuntFacts:
    """The summary of ``result``: counts, first/last exposure, recipients and categories."""
    return HuntFacts(
        scanned=result.scanned,
        exposed=len(result.exposures),
        first=fmt_time(result.first),
        last=fmt_time(result.last),
        hidden=tuple(hidden_recipient_counts(result)),
        categories=tuple(category_counts(result).items()),
    )


def summary_sentence(result: HuntResult) -> str:
    """One sentence the formats open with: how many messages went where they should not."""
    facts = hunt_facts(result)
    if not facts.exposed:
        return f"{facts.scanned} message(s) scanned; none went to a hidden recipient."
    who = ", ".join(f"{safe_text(r)} ({n})" for r, n in facts.hidden)
    return (
        f"{facts.exposed} of {facts.scanned} message(s) scanned were copied to hidden recipients "
        f"({who}), from {facts.first} to {facts.last}."
    )


@dataclass(frozen=True)
class ChecklistItem:
    """One recovery step: what to do, and the facts from this hunt that make it concrete."""

    id: str
    title: str
    details: tuple[str, ...]


def remediation_checklist(result: HuntResult, package: str | None = None) -> tuple[ChecklistItem, ...]:
    """The recovery steps, in the order a victim should take them, filled with this hunt's facts."""
    facts = hunt_facts(result)
    name = safe_text(package) if package else "the compromised MCP server package"
    used = [f"{CATEGORY_TITLES.get(c, c)}: {n}" for c, n in facts.categories if n]
    rotate = [safe_text(c) for c in result.credentials_to_rotate]
    return (
        ChecklistItem(
            "remove",
            f"Remove {name} and its cached copies",
            (
                "Delete the server entry from every MCP client config (run `distrust scan` to find them).",
                *(f"Delete the npx cache, which `npx -y` would run again: {p}" for p in NPX_CACHE_PATHS),
                "Clear other package caches that may hold it (`npm cache clean --force`).",
            ),
        ),
        ChecklistItem(
            "rotate",
            "Rotate every credential listed below",
            tuple(f"Rotate {c}" for c in rotate)
            or ("No credential was found; rotate the mail API token the server used anyway.",),
        ),
        ChecklistItem(
            "review",
            f"Review the {facts.exposed} exposed message(s)",
            (
                f"Exposure window: {facts.first} to {facts.last}.",
                *(used or ["No sensitive category was recognised; read the messages to be sure."]),
                "Reset passwords and revoke sessions for accounts whose reset links or codes were copied.",
            ),
        ),
        ChecklistItem(
            "notify",
            "Notify whom the law requires",
            (
                f"GDPR Art. 33: notify your supervisory authority within {GDPR_NOTICE_HOURS} hours of "
                "becoming aware of a personal-data breach, unless it is unlikely to be a risk.",
                f"Facts for the notice: {facts.exposed} message(s) of {facts.scanned} scanned, "
                f"first {facts.first}, last {facts.last}, recipients "
                + (", ".join(safe_text(r) for r, _ in facts.hidden) or "none")
                + ", categories "
                + (", ".join(c for c, n in facts.categories if n) or "none")
                + ".",
                "Art. 34: tell the affected people when the breach is likely a high risk to them.",
                "Check sector and local rules (e.g. US state breach laws, contracts with customers).",
            ),
        ),
    )
