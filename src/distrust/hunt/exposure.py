"""What an exposed message gave away: categories, secrets, and the hunt's summary.

A victim of postmark-mcp 1.0.16 needs to know more than "37 messages were copied": a copied
password-reset link or one-time code lets the attacker take over an account *now*, a copied
API key must be rotated, an invoice or a home address may trigger a legal duty to notify.
Each category is a row of :data:`CATEGORY_RULES` (id, patterns, rationale) so the list of what
we look for is documentation, not a chain of ``if``s; patterns are deliberately conservative
(a false "personal data" alarm costs a victim hours of needless notifications).

Secrets found in mail are never kept: :func:`secrets_in` returns only the redacted form
(``ghp_…(40 chars)``) produced by the judge stage's :func:`~distrust.judge.secrets.redact`,
enough to know which credential to rotate and nothing to reuse.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date

from distrust.hunt import Exposure, HuntResult, MailRecord
from distrust.judge.secrets import TOKEN_SHAPES, TokenShape, redact
from distrust.model import Notice

# The judge's token shapes, minus the two that need a config's context: in prose, "Basic
# information" and "Bearer authentication" would look like credentials.
_PROSE_UNSAFE_SHAPES = frozenset({"bearer", "basic-auth"})
MAIL_TOKEN_SHAPES: tuple[TokenShape, ...] = tuple(s for s in TOKEN_SHAPES if s.id not in _PROSE_UNSAFE_SHAPES)

# Longest stretch of body text classified. Sources already cap excerpts; this bound keeps a
# hostile multi-megabyte body from making the regexes below the slow part of a hunt.
MAX_CLASSIFIED_CHARS = 64 * 1024


@dataclass(frozen=True)
class CategoryRule:
    """One kind of exposure: the patterns that reveal it and why it matters to the victim."""

    id: str
    title: str
    patterns: tuple[re.Pattern[str], ...]
    rationale: str


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# A code of 4–8 digits within ~40 characters of a word that says it is a code. Bare numbers
# (order numbers, years, amounts) are everywhere in mail; only the neighbouring word makes
# them a credential.
_CODE_WORDS = r"(?:code|verification|verify|2fa|two[- ]factor|otp|one[- ]time|passcode|pin)"
_CODE = r"(?<![\d.,-])\d{4,8}(?![\d.,-]*\d)"

# "password: hunter22" in a welcome mail: no shape, the label makes it a secret.
_LABELLED_SECRET_RX = re.compile(r"(?i)\b(?:password|passwd|api[ _-]?key|secret)\s*[:=]\s*([^\s\"'<>*]{4,})")

CATEGORY_RULES: tuple[CategoryRule, ...] = (
    CategoryRule(
        "password-reset",
        "password reset / account recovery",
        (
            _rx(r"\b(?:reset|recover|change|set)\s+(?:your\s+|the\s+)?password\b"),
            _rx(r"\bpassword\s+(?:reset|recovery)\b"),
            _rx(r"\b(?:account\s+recovery|forgot\s+(?:your\s+)?password)\b"),
            _rx(r"https?://\S*(?:reset|recover|forgot)\S*(?:token|code|key)=\S+"),
        ),
        "A copied reset or recovery link lets the attacker take over the account before the "
        "victim clicks it: treat every such account as compromised.",
    ),
    CategoryRule(
        "otp",
        "one-time / verification code",
        (
            _rx(_CODE_WORDS + r"\W{1,5}(?:\w+\W{1,3}){0,4}?" + _CODE),
            _rx(_CODE + r"\W{1,5}(?:\w+\W{1,3}){0,3}?(?:is\s+your\s+)?" + _CODE_WORDS),
        ),
        "A copied one-time or 2FA code defeats the second factor while it is valid; the "
        "accounts it protects need their sessions and factors reviewed.",
    ),
    CategoryRule(
        "invoice",
        "invoice / payment",
        (
            _rx(r"\b(?:invoice|receipt|payment|billing\s+statement|remittance)\b"),
            _rx(r"\bIBAN\b|\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}\b"),
            _rx(r"\b(?:card|visa|mastercard|amex)\b[^\n]{0,30}?(?:ending|last\s*4)[^\n]{0,10}?\d{4}\b"),
            _rx(r"(?:\*{2,}|x{4}[\s-]?)\d{4}\b"),
        ),
        "Copied invoices and payment details enable convincing invoice fraud (a fake 'new bank "
        "details' mail to the victim's customers) and may be financial data under the law.",
    ),
    CategoryRule(
        "credential",
        "credential / API key",
        (
            *(shape.pattern for shape in MAIL_TOKEN_SHAPES),
            _rx(r"\bpostmark\b[^\n]{0,40}?\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
            _LABELLED_SECRET_RX,
        ),
        "A credential in a copied mail is in the attacker's hands: rotate it, whatever it is.",
    ),
    CategoryRule(
        "personal-data",
        "personal data",
        (
            _rx(r"\b(?:date\s+of\s+birth|d\.?o\.?b\.?|birth\s*date|born\s+on)\b\W{0,3}\d"),
            _rx(r"\b(?:social\s+security|SSN|passport\s+(?:no|number)|national\s+id|tax\s+id)\b"),
            re.compile(r"\b\d{3}-\d{2}-\d{4}\b"),  # US SSN shape
            _rx(r"(?:\bphone|\btel|\bmobile)\b\W{0,3}\+?\d[\d\s().-]{7,}\d"),
            re.compile(r"(?<![\w+])\+\d{1,3}[\s.-]?\(?\d{2,4}\)?(?:[\s.-]?\d{2,4}){2,4}\b"),
            _rx(r"\b\d{1,5}\s+\w+(?:\s+\w+)?\s+(?:street|st|avenue|ave|road|rd|lane|ln|boulevard|blvd)\b"),
            _rx(r"\b(?:home|postal|shipping|billing)\s+address\b"),
        ),
        "Addresses, phone numbers, birth dates and national ids are personal data: their leak "
        "can oblige the sender to notify a supervisory authority (GDPR Art. 33) and the people.",
    ),
)

CATEGORY_IDS: tuple[str, ...] = tuple(rule.id for rule in CATEGORY_RULES)

# A Postmark server token is a bare UUID; it is only a secret next to the word "Postmark" (as in
# the judge's KEYED_SHAPES), since UUIDs are ordinary ids everywhere else in mail.
_POSTMARK_TOKEN = re.compile(
    r"(?i)\b(?:postmark|x-postmark-server-token)\b[^\n]{0,40}?"
    r"\b([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"
)


def _text(record: MailRecord) -> str:
    return f"{record.subject}\n{record.body[:MAX_CLASSIFIED_CHARS]}"


def classify(record: MailRecord) -> tuple[str, ...]:
    """The :data:`CATEGORY_RULES` ids whose patterns match the subject or body, in table order."""
    text = _text(record)
    return tuple(rule.id for rule in CATEGORY_RULES if any(p.search(text) for p in rule.patterns))


def secrets_in(record: MailRecord) -> tuple[str, ...]:
    """Redacted credentials in the subject or body (``ghp_…(40 chars)``), distinct, in text order.

    Spans are claimed by the first shape that matches them (the judge's order: specific
    prefixes first), so an ``sk-ant-`` key is not reported a second time as an ``sk-`` key.
    """
    text = _text(record)
    found: list[tuple[int, str]] = []
    claimed: list[tuple[int, int]] = []

    def take(start: int, end: int, value: str, shown_prefix: int) -> None:
        if any(start < c_end and c_start < end for c_start, c_end in claimed):
            return
        claimed.append((start, end))
        found.append((start, redact(value, shown_prefix)))

    for shape in MAIL_TOKEN_SHAPES:
        for m in shape.pattern.finditer(text):
            take(*m.span(shape.group), m.group(shape.group), shape.shown_prefix)
    for pattern in (_POSTMARK_TOKEN, _LABELLED_SECRET_RX):
        for m in pattern.finditer(text):
            take(*m.span(1), m.group(1), 0)
    ordered = [label for _, label in sorted(found)]
    return tuple(dict.fromkeys(ordered))


def enrich(exposure: Exposure) -> Exposure:
    """The exposure with :attr:`~Exposure.categories` and :attr:`~Exposure.secrets` filled in."""
    return dataclasses.replace(
        exposure, categories=classify(exposure.record), secrets=secrets_in(exposure.record)
    )


def _as_utc(exposure: Exposure) -> Exposure:
    """A naive send time taken as UTC, so every time in the result can be compared.

    Sources should give aware times, but one naive time among aware ones would make
    :attr:`HuntResult.first` raise ``TypeError``; logs without a zone are UTC in practice.
    """
    sent = exposure.record.sent
    if sent is None or sent.tzinfo is not None:
        return exposure
    record = dataclasses.replace(exposure.record, sent=sent.replace(tzinfo=UTC))
    return dataclasses.replace(exposure, record=record)


def _utc_day(exposure: Exposure) -> date | None:
    sent = exposure.record.sent
    return None if sent is None else sent.astimezone(UTC).date()


def summarise(
    exposures: Iterable[Exposure],
    scanned: int,
    sources: Iterable[str],
    notices: Iterable[Notice],
    env_keys: Iterable[str] = (),
) -> HuntResult:
    """A :class:`HuntResult` with every exposure enriched, per-day counts and what to rotate.

    Exposures are ordered by send time (undated last) so every report lists them the same way.
    ``credentials_to_rotate`` is the compromised server's env keys (it read them, so the
    attacker may have them) followed by every redacted secret seen in exposed mail.
    """
    enriched = [_as_utc(e if e.categories or e.secrets else enrich(e)) for e in exposures]
    enriched.sort(key=_exposure_order)
    days = Counter(d for e in enriched if (d := _utc_day(e)) is not None)
    rotate = [*sorted(set(env_keys)), *(s for e in enriched for s in e.secrets)]
    return HuntResult(
        exposures=tuple(enriched),
        scanned=scanned,
        sources=tuple(sources),
        notices=tuple(notices),
        per_day=tuple(sorted(days.items())),
        credentials_to_rotate=tuple(dict.fromkeys(rotate)),
    )


def _exposure_order(exposure: Exposure) -> tuple[object, ...]:
    sent = exposure.record.sent
    stamp = "" if sent is None else sent.astimezone(UTC).isoformat()
    return (sent is None, stamp, exposure.record.message_id, exposure.record.source)


def category_counts(result: HuntResult) -> dict[str, int]:
    """Exposed messages per category, every category present (zeros included), in table order."""
    counts = dict.fromkeys(CATEGORY_IDS, 0)
    for exposure in result.exposures:
        for category in exposure.categories:
            counts[category] = counts.get(category, 0) + 1
    return counts


def hidden_recipient_counts(result: HuntResult) -> list[tuple[str, int]]:
    """Each hidden recipient and how many exposed messages reached it, most first."""
    counts = Counter(r for e in result.exposures for r in dict.fromkeys(e.hidden))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
