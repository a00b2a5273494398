"""Which sent messages went somewhere they should not have, and why we think so.

Three independent signals, each named in :attr:`Exposure.reasons` so a report can say why:

* ``ioc:<value>``: a recipient is a known indicator (an address such as
  ``phan@giftshop.club``, or a domain such as ``giftshop.club`` and any of its subdomains).
  Plus-addressing does not hide an address IOC (``phan+x@giftshop.club`` matches).
* ``outside-org``: with ``org_domains`` given, a Cc or Bcc recipient outside every one of them.
  Only copies count: To is what the user asked for, and hidden copies are how the postmark-mcp
  backdoor worked. Envelope recipients are not judged (a log cannot tell To from Bcc).
* ``not-requested``: with a ``requested`` callable (see :func:`audit_requested`), any recipient
  the assistant's tool call did not ask for.

A record without a date is kept by the time-window filter: an unknown date cannot prove the
message is out of range, and dropping it could hide an exposure.
"""

from __future__ import annotations

import json
import sqlite3
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from distrust.gateway import audit
from distrust.hunt import Exposure, MailRecord
from distrust.hunt.sources._common import HuntError, parse_addresses

FIELD_ORDER = ("to", "cc", "bcc", "envelope")


@dataclass(frozen=True)
class IocSet:
    """Indicators split into exact addresses and domains, normalised once."""

    addresses: frozenset[str]
    domains: tuple[str, ...]

    @classmethod
    def parse(cls, values: Sequence[str]) -> IocSet:
        addresses: set[str] = set()
        domains: list[str] = []
        for raw in values:
            value = raw.strip().lower().strip("<>")
            if not value:
                continue
            if "@" in value.strip("@"):
                addresses.add(_without_tag(value))
            else:
                domain = value.lstrip("@").removeprefix("*.").strip(".")
                if domain:
                    domains.append(domain)
        return cls(frozenset(addresses), tuple(dict.fromkeys(domains)))

    def reason(self, address: str) -> str | None:
        """``ioc:<indicator>`` when ``address`` matches one, else None."""
        bare = _without_tag(address)
        if bare in self.addresses:
            return f"ioc:{bare}"
        domain = address.rpartition("@")[2]
        for ioc in self.domains:
            if domain == ioc or domain.endswith("." + ioc):
                return f"ioc:{ioc}"
        return None


def _without_tag(address: str) -> str:
    local, at, domain = address.rpartition("@")
    return f"{local.split('+', 1)[0]}{at}{domain}" if at else address


def _inside(address: str, org_domains: Sequence[str]) -> bool:
    domain = address.rpartition("@")[2]
    return any(domain == org or domain.endswith("." + org) for org in org_domains)


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def match(
    records: Iterable[MailRecord],
    *,
    iocs: Sequence[str],
    org_domains: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    requested: Callable[[MailRecord], set[str] | None] | None = None,
) -> Iterator[Exposure]:
    """One :class:`Exposure` per record that reached a recipient it should not have.

    ``since``/``until`` are inclusive; naive datetimes are taken as UTC. Streaming: one record
    in memory at a time.
    """
    ioc_set = IocSet.parse(iocs)
    orgs = tuple(d.strip().lower().lstrip("@").strip(".") for d in org_domains if d.strip())
    start, end = _as_utc(since), _as_utc(until)
    for record in records:
        if record.sent is not None:
            sent = _as_utc(record.sent)
            assert sent is not None
            if (start is not None and sent < start) or (end is not None and sent > end):
                continue
        wanted = requested(record) if requested is not None else None
        wanted = {a.lower() for a in wanted} if wanted is not None else None
        hidden: dict[str, None] = {}
        fields: dict[str, None] = {}
        reasons: dict[str, None] = {}
        for field in FIELD_ORDER:
            for address in getattr(record, field):
                why: list[str] = []
                ioc = ioc_set.reason(address)
                if ioc:
                    why.append(ioc)
                if orgs and field in ("cc", "bcc") and not _inside(address, orgs):
                    why.append("outside-org")
                if wanted is not None and address not in wanted:
                    why.append("not-requested")
                if why:
                    hidden[address] = None
                    fields[field] = None
                    reasons.update(dict.fromkeys(why))
        if hidden:
            yield Exposure(record=record, hidden=tuple(hidden), fields=tuple(fields), reasons=tuple(reasons))


# --- the gateway audit log as "what the assistant asked for" --------------------------------

DEFAULT_SLACK = timedelta(minutes=5)
"""How far apart a tool call and the logged send may be (clock skew, queueing, retries)."""

RECIPIENT_KEYS = frozenset({"to", "cc", "bcc", "recipient", "recipients", "email", "emails", "address"})
"""Argument names (lower-cased, any nesting) whose values are recipients the caller asked for."""


AUDIT_ROW_LIMIT = 10_000_000
"""Calls read from the audit log at most; far beyond what one gateway logs in a retention period."""


@dataclass(frozen=True)
class _Call:
    when: datetime
    recipients: frozenset[str]


def _recipients_in(value: Any, key: str | None = None) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _recipients_in(v, str(k).lower().replace("_", ""))
    elif isinstance(value, list):
        for item in value:
            yield from _recipients_in(item, key)
    elif isinstance(value, str) and key in RECIPIENT_KEYS:
        found, _ = parse_addresses([value.replace(";", ",")])
        yield from found


def audit_requested(
    audit_db: Path, *, slack: timedelta = DEFAULT_SLACK
) -> Callable[[MailRecord], set[str] | None]:
    """A ``requested`` callable built from the gateway audit log (best effort).

    Every ``tools/call`` whose arguments name recipients (``to``, ``cc``, ``bcc``,
    ``recipients``… at any depth) is a request. A sent message is matched to the calls within
    ``slack`` of its date that share at least one To (or envelope) address; the union of their
    recipients is what was requested. When no call matches (mail sent outside the gateway, or a
    record without a date) the answer is None: unknown, so ``not-requested`` is not claimed.

    Calls are read once into memory as (time, recipients): a few bytes per call, far smaller
    than the mail being hunted. Rows come from :func:`distrust.gateway.audit.query`.
    """
    if not audit_db.is_file():
        raise HuntError(f"{audit_db}: audit log not found")
    try:
        entries = audit.query(path=audit_db, limit=AUDIT_ROW_LIMIT)
    except (sqlite3.Error, audit.AuditError) as exc:
        raise HuntError(f"{audit_db}: cannot read the audit log: {exc}") from None
    calls: list[_Call] = []
    for entry in entries:
        try:
            parsed = json.loads(entry.arguments) if entry.arguments else None
        except json.JSONDecodeError:
            continue
        recipients = frozenset(_recipients_in(parsed))
        if recipients:
            calls.append(_Call(entry.started, recipients))
    calls.sort(key=lambda c: c.when)
    times = [c.when for c in calls]

    def requested(record: MailRecord) -> set[str] | None:
        if record.sent is None:
            return None
        sent = _as_utc(record.sent)
        assert sent is not None
        low, high = bisect_left(times, sent - slack), bisect_right(times, sent + slack)
        anchors = set(record.to or record.envelope)
        union: set[str] = set()
        for call in calls[low:high]:
            if anchors & call.recipients:
                union |= call.recipients
        return union or None

    return requested
