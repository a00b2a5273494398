"""Sendmail logs: ``from=`` and ``to=`` lines joined by queue id::

    Sep 17 10:00:01 mx sendmail[812]: 38HE01a4000812: from=<app@x.com>, size=912, …, msgid=<a1@x.com>, …
    Sep 17 10:00:02 mx sendmail[813]: 38HE01a4000812: to=<bob@y.net>,<carol@y.net>, delay=…, stat=Sent (OK)

Sendmail has no "message finished" line, so each ``stat=Sent`` line becomes a record of its own
(a message delivered to two hosts gives two records sharing the message id). The ``from=`` line
is remembered in a bounded table so a long log cannot exhaust memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from distrust.hunt import MailRecord
from distrust.hunt.sources._common import clean_address
from distrust.hunt.sources._syslog import BoundedTable, SyslogClock, iter_log_lines
from distrust.model import Notice

SENDER_LIMIT = 50_000

LINE = re.compile(r"\bsendmail\[\d+\]: (?P<qid>[0-9A-Za-z]{8,20}): (?P<rest>.*)$")
FROM = re.compile(r"^from=<?(?P<from>[^>,\s]*)>?")
TO = re.compile(r"^to=(?P<to>.*?), (?:ctladdr|delay)=.*\bstat=(?P<stat>\w+)")


@dataclass
class _Arrival:
    sender: str
    message_id: str


def iter_sendmail(path: Path, year: int | None = None) -> Iterator[MailRecord | Notice]:
    """One record per ``stat=Sent`` line, with the sender and message id of its queue id."""
    clock = SyslogClock(path, year)
    arrivals: BoundedTable[str, _Arrival] = BoundedTable(SENDER_LIMIT)
    for item in iter_log_lines(path):
        if isinstance(item, Notice):
            yield item
            continue
        number, text = item
        found = LINE.search(text)
        if not found:
            continue
        qid, rest = found["qid"], found["rest"]
        if rest.startswith("from="):
            m = FROM.match(rest)
            mid = re.search(r"\bmsgid=<?([^>,\s]*)>?", rest)
            sender = clean_address(m["from"]) if m else None
            arrivals.put(qid, _Arrival(sender or "", mid.group(1) if mid else ""))
            continue
        m = TO.match(rest)
        if not m or m["stat"] != "Sent":
            continue
        recipients: dict[str, None] = {}
        for value in m["to"].split(","):
            address = clean_address(value)
            if address:
                recipients[address] = None
            elif value.strip():
                yield Notice(f"not an address in to=: {value.strip()[:80]!r}", path, number)
        if not recipients:
            continue
        arrival = arrivals.get(qid) or _Arrival("", "")
        yield MailRecord(
            message_id=arrival.message_id or f"sendmail:{qid}",
            sent=clock.parse(text),
            sender=arrival.sender,
            subject="",
            envelope=tuple(recipients),
            source=f"{path}:{number}",
        )
