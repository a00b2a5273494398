"""CSV exports of sent mail (Postmark activity, Google Workspace email log search, Microsoft 365
message trace, SendGrid/Mailgun activity, hand-made spreadsheets).

Every vendor names its columns differently, so columns are mapped by a table of aliases on a
normalised header (case, spaces and punctuation ignored). Rows are read one at a time; a bad row
is a notice naming its line, never the end of the file.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from distrust.hunt import MailRecord
from distrust.hunt.sources._common import BODY_CAP, parse_addresses, parse_mail_date
from distrust.model import Notice

# record field -> normalised header names (lower-case, letters and digits only)
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "to": ("to", "toaddress", "toaddresses", "toemail", "torecipients"),
    "cc": ("cc", "ccaddress", "ccaddresses", "ccrecipients"),
    "bcc": ("bcc", "bccaddress", "bccaddresses", "bccrecipients"),
    "envelope": ("recipient", "recipients", "recipientaddress", "rcptto", "envelopeto", "email"),
    "sender": ("from", "sender", "fromaddress", "fromemail", "senderaddress"),
    "subject": ("subject", "messagesubject"),
    "sent": (
        "date",
        "sent",
        "sentat",
        "senttime",
        "datetime",
        "timestamp",
        "time",
        "receivedat",
        "submittedat",
        "received",
        "datetimeutc",
        "eventtime",
    ),
    "message_id": ("messageid", "internetmessageid", "msgid", "id"),
    "body": ("body", "textbody", "text"),
}
RECIPIENT_FIELDS = ("to", "cc", "bcc", "envelope")

csv.field_size_limit(1024 * 1024)


def _normalise(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def map_columns(header: list[str]) -> dict[str, int]:
    """Record field -> column index, from a header row; first alias match wins."""
    normalised = [_normalise(h) for h in header]
    mapping: dict[str, int] = {}
    for field, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in normalised:
                mapping[field] = normalised.index(alias)
                break
    return mapping


def sniff_dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    """Comma, semicolon (European Excel) or tab, whichever the header line uses."""
    try:
        return csv.Sniffer().sniff(sample.split("\n", 1)[0] + "\n", delimiters=",;\t")
    except csv.Error:
        return csv.excel


def iter_csv(path: Path) -> Iterator[MailRecord | Notice]:
    """Every row of a mail CSV as a record; rows without a readable recipient become notices."""
    try:
        handle = path.open(encoding="utf-8-sig", errors="replace", newline="")
    except OSError as exc:
        yield Notice(f"cannot open CSV: {exc.strerror or exc}", path)
        return
    with handle:
        sample = handle.read(4096)
        handle.seek(0)
        reader = csv.reader(handle, sniff_dialect(sample))
        try:
            header = next(reader)
        except (StopIteration, csv.Error):
            yield Notice("empty or unreadable CSV", path, 1)
            return
        columns = map_columns(header)
        if not any(f in columns for f in RECIPIENT_FIELDS):
            yield Notice(
                "CSV has no recipient column (looked for To, Cc, Bcc, Recipient…): "
                + ", ".join(h[:30] for h in header[:12]),
                path,
                1,
            )
            return
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Notice(f"bad CSV row skipped: {exc}", path, reader.line_num)
                continue
            if not any(cell.strip() for cell in row):
                continue
            yield from _row_record(row, columns, path, reader.line_num)


def _row_record(
    row: list[str], columns: dict[str, int], path: Path, line: int
) -> Iterator[MailRecord | Notice]:
    def cell(field: str) -> str:
        index = columns.get(field)
        return row[index] if index is not None and index < len(row) else ""

    if any("\ufffd" in value for value in row):
        yield Notice("row has bytes that are not UTF-8 (shown as U+FFFD)", path, line)
    groups: dict[str, tuple[str, ...]] = {}
    for field in RECIPIENT_FIELDS:
        # exports separate several addresses with commas or semicolons
        groups[field], rejected = parse_addresses([cell(field).replace(";", ",")])
        for junk in rejected:
            yield Notice(f"{field} column: not an address: {junk[:80]!r}", path, line)
    if not any(groups.values()):
        yield Notice("row skipped: no readable recipient", path, line)
        return
    date_text = cell("sent")
    sent = parse_mail_date(date_text)
    if date_text.strip() and sent is None:
        yield Notice(f"unreadable date {date_text[:40]!r}", path, line)
    senders, _ = parse_addresses([cell("sender")])
    yield MailRecord(
        message_id=cell("message_id").strip(),
        sent=sent,
        sender=senders[0] if senders else "",
        subject=cell("subject").strip(),
        to=groups["to"],
        cc=groups["cc"],
        bcc=groups["bcc"],
        envelope=groups["envelope"],
        body=cell("body")[:BODY_CAP],
        source=f"{path}:{line}",
    )
