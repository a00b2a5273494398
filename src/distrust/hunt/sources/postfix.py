"""Postfix mail logs: what the MTA actually delivered, whatever the message headers claimed.

Postfix logs one message across several processes, joined by the queue id::

    Sep 17 10:00:01 mx postfix/cleanup[12]: 4F3A21C2: message-id=<a1@example.com>
    Sep 17 10:00:01 mx postfix/qmgr[13]: 4F3A21C2: from=<app@example.com>, size=912, nrcpt=2 (queue active)
    Sep 17 10:00:02 mx postfix/smtp[14]: 4F3A21C2: to=<bob@example.net>, relay=mx…, status=sent (250 OK)
    Sep 17 10:00:02 mx postfix/qmgr[13]: 4F3A21C2: removed

A Bcc never appears in headers that reach the recipient, but it is a ``to=`` line here. One
record per queue id is emitted at ``removed`` (or when evicted, or at the end of the file) with
every ``status=sent`` recipient as ``envelope``. Deferred and bounced attempts are not deliveries
and are left out. ``orig_to=`` (the address before alias expansion) is kept too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from distrust.hunt import MailRecord
from distrust.hunt.sources._common import clean_address
from distrust.hunt.sources._syslog import BoundedTable, SyslogClock, iter_log_lines
from distrust.model import Notice

PENDING_LIMIT = 50_000
"""Queue ids kept open at once; older ones are emitted early (a crashed MTA never logs 'removed')."""

# short queue ids are hex; long ones (enable_long_queue_ids) use digits and consonants
LINE = re.compile(
    r"postfix(?:-[\w-]+)?/(?P<proc>[\w/-]+)\[\d+\]: "
    r"(?P<qid>[0-9A-F]{6,12}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,20}): (?P<rest>.*)$"
)
TO = re.compile(r"\bto=<(?P<to>[^>]*)>(?:, orig_to=<(?P<orig>[^>]*)>)?.*\bstatus=(?P<status>\w+)")
FROM = re.compile(r"^from=<(?P<from>[^>]*)>")
MESSAGE_ID = re.compile(r"^message-id=<?(?P<mid>[^>\s]*)>?")


@dataclass
class _Pending:
    line: int
    sent: datetime | None = None
    sender: str = ""
    message_id: str = ""
    recipients: dict[str, None] = field(default_factory=dict)


def iter_postfix(path: Path, year: int | None = None) -> Iterator[MailRecord | Notice]:
    """One record per delivered message in a Postfix log, in order of completion."""
    clock = SyslogClock(path, year)
    table: BoundedTable[str, _Pending] = BoundedTable(PENDING_LIMIT)
    for item in iter_log_lines(path):
        if isinstance(item, Notice):
            yield item
            continue
        number, text = item
        found = LINE.search(text)
        if not found:
            continue
        qid, rest = found["qid"], found["rest"]
        state = table.get(qid)
        if state is None:
            state = _Pending(line=number)
            for old_qid, old in table.put(qid, state):
                yield from _finish(old_qid, old, path, evicted=True)
        if state.sent is None:
            state.sent = clock.parse(text)
        if rest == "removed":
            table.pop(qid)
            yield from _finish(qid, state, path)
            continue
        if m := MESSAGE_ID.match(rest):
            state.message_id = m["mid"]
        elif m := FROM.match(rest):
            state.sender = clean_address(m["from"]) or ""
        elif (m := TO.search(rest)) and m["status"] == "sent":
            for value in (m["to"], m["orig"]):
                address = clean_address(value or "")
                if address:
                    state.recipients[address] = None
                elif value:
                    yield Notice(f"not an address in to=: {value[:80]!r}", path, number)
    for qid, state in table.drain():
        yield from _finish(qid, state, path)


def _finish(qid: str, state: _Pending, path: Path, *, evicted: bool = False) -> Iterator[MailRecord | Notice]:
    if evicted:
        yield Notice(
            f"queue id {qid} still open after {PENDING_LIMIT} others, reported early", path, state.line
        )
    if not state.recipients:
        return
    yield MailRecord(
        message_id=state.message_id or f"postfix:{qid}",
        sent=state.sent,
        sender=state.sender,
        subject="",
        envelope=tuple(state.recipients),
        source=f"{path}:{state.line}",
    )
