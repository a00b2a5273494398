"""Exim main logs (``/var/log/exim4/mainlog``): arrivals and deliveries joined by message id::

    2025-09-17 10:00:01 1qhABC-000123-AB <= app@example.com P=esmtp S=912 id=a1@example.com
    2025-09-17 10:00:02 1qhABC-000123-AB => bob@example.net R=dnslookup T=remote_smtp H=mx.example.net
    2025-09-17 10:00:02 1qhABC-000123-AB -> carol@example.net R=dnslookup T=remote_smtp H=mx.example.net
    2025-09-17 10:00:02 1qhABC-000123-AB Completed

``=>`` is the first delivery of a message, ``->`` each further address delivered in the same
SMTP transaction; both are real deliveries (``*>`` is a suppressed, fake one and is skipped).
With ``log_selector = +sender_on_delivery`` the sender is also on delivery lines as ``F=<…>``.
A delivery line may carry the original address in angle brackets (``=> bob@x <Bob@X>``); both
count. One record per message id is emitted at ``Completed``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from distrust.hunt import MailRecord
from distrust.hunt.sources._common import clean_address
from distrust.hunt.sources._syslog import BoundedTable, iter_log_lines
from distrust.model import Notice

PENDING_LIMIT = 50_000

LINE = re.compile(
    r"^(?P<date>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)(?: (?P<tz>[+-]\d{4}))?(?: \[\d+\])? "
    r"(?P<id>[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}) (?P<rest>.*)$"
)
ARRIVAL = re.compile(r"^<= (?P<from>\S+)")
DELIVERY = re.compile(r"^(?P<flag>=>|->) (?P<to>\S+)(?: <(?P<orig>[^>]+)>)?")
SENDER_FIELD = re.compile(r"\bF=<(?P<from>[^>]*)>")
MESSAGE_ID = re.compile(r"\bid=(?P<mid>\S+)")


@dataclass
class _Pending:
    line: int
    sent: datetime | None = None
    sender: str = ""
    message_id: str = ""
    recipients: dict[str, None] = field(default_factory=dict)


def _when(date: str, tz: str | None) -> datetime | None:
    try:
        when = datetime.fromisoformat(date.replace(" ", "T") + (tz or ""))
    except ValueError:
        return None
    return when if when.tzinfo else when.astimezone()


def iter_exim(path: Path, year: int | None = None) -> Iterator[MailRecord | Notice]:
    """One record per delivered message in an Exim main log (``year`` is unused: Exim logs it)."""
    del year
    table: BoundedTable[str, _Pending] = BoundedTable(PENDING_LIMIT)
    for item in iter_log_lines(path):
        if isinstance(item, Notice):
            yield item
            continue
        number, text = item
        found = LINE.match(text)
        if not found:
            continue
        mid, rest = found["id"], found["rest"]
        state = table.get(mid)
        if state is None:
            state = _Pending(line=number, sent=_when(found["date"], found["tz"]))
            for old_id, old in table.put(mid, state):
                yield Notice(f"message {old_id} still open after {PENDING_LIMIT} others", path, old.line)
                yield from _finish(old_id, old, path)
        if rest.startswith("Completed"):
            table.pop(mid)
            yield from _finish(mid, state, path)
            continue
        if m := ARRIVAL.match(rest):
            state.sender = clean_address(m["from"]) or state.sender
            if id_match := MESSAGE_ID.search(rest):
                state.message_id = id_match["mid"]
        elif m := DELIVERY.match(rest):
            for value in (m["to"], m["orig"]):
                address = clean_address(value or "")
                if address:
                    state.recipients[address] = None
            if (sender := SENDER_FIELD.search(rest)) and not state.sender:
                state.sender = clean_address(sender["from"]) or ""
    for mid, state in table.drain():
        yield from _finish(mid, state, path)


def _finish(mid: str, state: _Pending, path: Path) -> Iterator[MailRecord]:
    if state.recipients:
        yield MailRecord(
            message_id=state.message_id or f"exim:{mid}",
            sent=state.sent,
            sender=state.sender,
            subject="",
            envelope=tuple(state.recipients),
            source=f"{path}:{state.line}",
        )
