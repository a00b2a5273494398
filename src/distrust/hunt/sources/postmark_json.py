"""Postmark message objects, from the API or from a JSON export on disk.

Postmark's outbound search returns ``{"TotalCount": N, "Messages": [...]}``; people save that,
or a bare array of messages, or one message per line (JSONL, which is also what the demo
stand-in records). All three are read here with a streaming decoder, one message object at a
time, so a multi-gigabyte export needs no more memory than its largest message.

Postmark spells recipients three ways: ``To``/``Cc``/``Bcc`` as lists of ``{"Email", "Name"}``,
as comma-separated strings (the send API), and ``Recipients`` as a flat list of every address
Postmark delivered to. ``Recipients`` goes to the record's ``envelope``, so a hidden copy is
seen even when an export dropped the ``Bcc`` column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from distrust.hunt import MailRecord
from distrust.hunt.sources._common import BODY_CAP, parse_addresses, parse_iso_date
from distrust.model import Notice

# record field -> Postmark keys (compared lower-cased), first present wins
FIELD_KEYS: dict[str, tuple[str, ...]] = {
    "message_id": ("messageid", "message_id", "id"),
    "sent": ("receivedat", "submittedat", "submitted_at", "sentat", "date"),
    "sender": ("from", "sender"),
    "subject": ("subject",),
    "to": ("to",),
    "cc": ("cc",),
    "bcc": ("bcc",),
    "envelope": ("recipients",),
    "body": ("textbody", "text_body", "htmlbody", "html_body"),
}

_CHUNK = 64 * 1024
MAX_OBJECT_CHARS = 64 * 1024 * 1024
"""A single JSON value larger than this is refused (with a notice) instead of buffered."""


def _pick(fields: dict[str, Any], name: str) -> Any:
    for key in FIELD_KEYS[name]:
        if key in fields and fields[key] not in (None, ""):
            return fields[key]
    return None


def _address_texts(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = [value]
    texts: list[str] = []
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                texts.append(item)
            elif isinstance(item, dict):
                lowered = {str(k).lower(): v for k, v in item.items()}
                mail = lowered.get("email")
                if isinstance(mail, str):
                    texts.append(mail)
    return texts


def has_copy_fields(obj: dict[str, Any]) -> bool:
    """True when a Postmark message object states its Cc and Bcc (even as empty lists)."""
    keys = {str(k).lower() for k in obj}
    return "cc" in keys and "bcc" in keys


def record_from_postmark(obj: Any, *, source: str) -> tuple[MailRecord | None, list[str]]:
    """A record from one Postmark message object, or None and the reasons it could not be read."""
    if not isinstance(obj, dict):
        return None, [f"expected a message object, found {type(obj).__name__}"]
    fields = {str(k).lower(): v for k, v in obj.items()}
    problems: list[str] = []
    groups: dict[str, tuple[str, ...]] = {}
    for name in ("to", "cc", "bcc", "envelope"):
        groups[name], rejected = parse_addresses(_address_texts(_pick(fields, name)))
        problems.extend(f"{name}: not an address: {junk[:80]!r}" for junk in rejected)
    if not any(groups.values()):
        return None, [*problems, "message has no readable recipient"]
    sent_value = _pick(fields, "sent")
    sent = parse_iso_date(str(sent_value)) if sent_value is not None else None
    if sent_value is not None and sent is None:
        problems.append(f"unreadable date {str(sent_value)[:40]!r}")
    senders, _ = parse_addresses(_address_texts(_pick(fields, "sender")))
    body = _pick(fields, "body")
    body_text = body if isinstance(body, str) else ""
    if body_text and body is fields.get("htmlbody", fields.get("html_body")):
        body_text = re.sub(r"<[^>]+>", " ", body_text)
    subject = _pick(fields, "subject")
    return (
        MailRecord(
            message_id=str(_pick(fields, "message_id") or ""),
            sent=sent,
            sender=senders[0] if senders else "",
            subject=subject if isinstance(subject, str) else "",
            to=groups["to"],
            cc=groups["cc"],
            bcc=groups["bcc"],
            envelope=groups["envelope"],
            body=body_text[:BODY_CAP],
            source=source,
        ),
        problems,
    )


def iter_postmark_json(path: Path) -> Iterator[MailRecord | Notice]:
    """Messages from a Postmark JSON export: an array, ``{"Messages": [...]}``, or JSONL."""
    try:
        handle = path.open(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        yield Notice(f"cannot open JSON export: {exc.strerror or exc}", path)
        return
    with handle:
        for item in iter_json_messages(handle, path):
            if isinstance(item, Notice):
                yield item
                continue
            obj, line = item
            record, problems = record_from_postmark(obj, source=f"{path}:{line}")
            yield from (Notice(p, path, line) for p in problems)
            if record is not None:
                yield record


_MESSAGES_KEY = re.compile(r'"Messages"\s*:\s*\[', re.IGNORECASE)


def iter_json_messages(handle: TextIO, path: Path) -> Iterator[tuple[Any, int] | Notice]:
    """(value, line) for each message in the file, decoded one at a time.

    The decoder keeps a window of text, ``raw_decode``s the next value and drops what it has
    consumed; a value cut by the window is retried with more text. Inside an array, commas and
    the closing bracket are separators; at the top level, values follow each other (JSONL).
    """
    decoder = json.JSONDecoder()
    buffer = handle.read(_CHUNK)
    line = 1
    stripped = buffer.lstrip()
    in_array = False
    if stripped.startswith("{"):
        found = _MESSAGES_KEY.search(buffer)
        if found is not None:
            line += buffer.count("\n", 0, found.end())
            buffer = buffer[found.end() :]
            in_array = True
    elif stripped.startswith("["):
        start = buffer.index("[") + 1
        line += buffer.count("\n", 0, start)
        buffer = buffer[start:]
        in_array = True
    elif stripped:
        yield Notice("not a JSON export: expected '[', '{' or one object per line", path, 1)
        return
    if not in_array:
        yield from _iter_json_lines(buffer, handle, path)
        return
    eof = False
    while True:
        # skip separators, counting lines
        position = 0
        while position < len(buffer) and (buffer[position].isspace() or buffer[position] == ","):
            if buffer[position] == "\n":
                line += 1
            position += 1
        buffer = buffer[position:]
        if not buffer:
            if eof:
                return
            more = handle.read(_CHUNK)
            eof = not more
            buffer += more
            continue
        if in_array and buffer[0] == "]":
            return  # the rest of a {"Messages": [...]} wrapper (TotalCount) is not needed
        try:
            value, end = decoder.raw_decode(buffer)
        except json.JSONDecodeError as exc:
            if not eof and len(buffer) < MAX_OBJECT_CHARS:
                more = handle.read(_CHUNK)
                eof = not more
                buffer += more
                continue
            where = line + buffer.count("\n", 0, exc.pos)
            reason = "value too large" if len(buffer) >= MAX_OBJECT_CHARS else exc.msg
            yield Notice(f"invalid JSON, rest of file skipped: {reason}", path, where)
            return
        except RecursionError:
            yield Notice("invalid JSON, rest of file skipped: nested too deep", path, line)
            return
        if end == len(buffer) and not eof and not isinstance(value, (dict, list)):
            # a number or literal cut at the window edge could continue; read on first
            more = handle.read(_CHUNK)
            eof = not more
            if more:
                buffer += more
                continue
        yield value, line
        line += buffer.count("\n", 0, end)
        buffer = buffer[end:]


def _iter_json_lines(head: str, handle: TextIO, path: Path) -> Iterator[tuple[Any, int] | Notice]:
    """One JSON value per line (JSONL); a bad line is reported and skipped, not fatal."""
    pending = head
    number = 0
    while True:
        newline = pending.find("\n")
        if newline < 0:
            more = handle.read(_CHUNK)
            if more and len(pending) < MAX_OBJECT_CHARS:
                pending += more
                continue
            text, pending = pending, ""
            if more:  # an endless line: report it and drop the rest of it
                yield Notice("JSON line too long, skipped", path, number + 1)
                while more and "\n" not in more:
                    more = handle.read(_CHUNK)
                pending = more[more.find("\n") + 1 :] if more else ""
                number += 1
                continue
        else:
            text, pending = pending[:newline], pending[newline + 1 :]
        number += 1
        if text.strip():
            try:
                yield json.loads(text), number
            except (json.JSONDecodeError, RecursionError) as exc:
                yield Notice(f"invalid JSON line skipped: {getattr(exc, 'msg', exc)}", path, number)
        if newline < 0 and not pending:
            return
