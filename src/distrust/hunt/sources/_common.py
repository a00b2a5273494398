"""Helpers every mail source shares: addresses, headers, dates, bodies, and the error type.

Each source reads a different container (an API, an mbox, a syslog file), but they must agree on
what a recipient *is* (a bare, lower-cased address) and must all survive hostile input: a
malformed header or an unknown charset in one message is reported as a :class:`Notice` and never
stops the hunt, because an attacker who can make us skip a message can hide a Bcc in it.
"""

from __future__ import annotations

import base64
import binascii
import email.errors
import email.header
import quopri
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from distrust.hunt import MailRecord
from distrust.model import Notice

BODY_CAP = 8192
"""Characters of body text kept per message: enough to classify (password reset, OTP, invoice)."""

MESSAGE_BYTES_CAP = 256 * 1024
"""Bytes of one message fed to the parser; the rest (attachments) is skipped, keeping memory flat."""


class HuntError(Exception):
    """A hunt cannot go on (bad token, unusable file); the message is meant for the user."""


_ADDRESS = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\".]+$")


_SURROGATES = re.compile("[\udc80-\udcff]")
# Header values needing RFC 5322's full grammar (quoted names, comments, groups, escapes).
_COMPLEX_ADDRESS = re.compile(r'["()\\;:]')


def _simple_addresses(texts: list[str]) -> list[tuple[str, str]] | None:
    """``getaddresses`` for the common plain case (``a@x, B <b@y>``), or None to use the stdlib."""
    pairs: list[tuple[str, str]] = []
    for text in texts:
        if not text.isascii() or _COMPLEX_ADDRESS.search(text):
            return None
        for piece in text.split(","):
            piece = piece.strip()
            if not piece:
                continue
            if "<" in piece:
                name, _, rest = piece.rpartition("<")
                pairs.append((name.strip(), rest.split(">", 1)[0].strip()))
            else:
                pairs.append(("", piece))
    return pairs


def clean_address(text: str) -> str | None:
    """A bare lower-cased address, or None when ``text`` is not one (``undisclosed-recipients:;``)."""
    value = text.strip().strip("<>").strip().lower()
    return value if _ADDRESS.match(value) else None


def parse_addresses(values: Iterable[str]) -> tuple[tuple[str, ...], list[str]]:
    """Addresses from header values (``"Doe, J" <j@x.com>, k@y.org``) and the parts that were not.

    ``getaddresses`` does the RFC 5322 work; the second list lets callers report junk instead of
    silently dropping it (a recipient we cannot read is one we cannot clear).
    """
    found: dict[str, None] = {}
    rejected: list[str] = []
    texts = [v for v in values if v and v.strip()]
    if not texts:
        return (), rejected
    pairs = _simple_addresses(texts)
    for name, addr in pairs if pairs is not None else getaddresses(texts):
        cleaned = clean_address(addr)
        if cleaned:
            found[cleaned] = None
        elif addr.strip() and not addr.strip().endswith(":;") and ":" not in addr:
            rejected.append(addr.strip() or name)
    return tuple(found), rejected


def decode_header_value(raw: object) -> tuple[str, str | None]:
    """Decode an RFC 2047 header to text; the second item says what went wrong, if anything.

    Unknown charsets and undecodable bytes are replaced (U+FFFD) rather than raised, so one bad
    subject line cannot hide the message's recipients.
    """
    if raw is None:
        return "", None
    problem: str | None = None
    if isinstance(raw, email.header.Header):
        # compat32 wraps raw 8-bit header bytes in a Header whose charset is "unknown-8bit";
        # UTF-8 there is legal (RFC 6532), anything else is a mailer bug worth reporting.
        pieces: list[str] = []
        for chunk, charset in email.header.decode_header(raw):
            if isinstance(chunk, str):
                pieces.append(chunk)
                continue
            try:
                pieces.append(chunk.decode("utf-8" if charset in (None, "unknown-8bit") else charset))
            except (LookupError, UnicodeDecodeError):
                pieces.append(chunk.decode("utf-8", "replace"))
                problem = "raw 8-bit bytes that are not UTF-8"
        return " ".join("".join(pieces).split()), problem
    text = str(raw)
    if not text.isascii() and _SURROGATES.search(text):
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        problem = "raw 8-bit bytes that are not UTF-8"
    if "=?" not in text:
        return " ".join(text.split()), problem
    try:
        parts = email.header.decode_header(text)
    except (ValueError, email.errors.HeaderParseError) as exc:
        return " ".join(text.split()), f"undecodable encoded word ({exc})"
    pieces = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            pieces.append(chunk)
            continue
        try:
            pieces.append(chunk.decode(charset or "ascii"))
        except LookupError:
            pieces.append(chunk.decode("utf-8", "replace"))
            problem = f"unknown charset {charset!r}"
        except UnicodeDecodeError:
            pieces.append(chunk.decode(charset or "ascii", "replace"))
            problem = f"bytes not valid in charset {charset!r}"
    # decode_header drops the whitespace between encoded words and plain text inconsistently;
    # joining with nothing and normalising spaces matches what mail clients show.
    return " ".join("".join(pieces).split()), problem


def parse_mail_date(text: str) -> datetime | None:
    """An aware datetime from an RFC 5322 or ISO 8601 date, or None when it cannot be read.

    ``-0000`` ("local time unknown") and zone-less ISO dates are taken as UTC: an hour of error is
    better than dropping the message from a time-window hunt.
    """
    text = text.strip()
    if not text:
        return None
    when: datetime | None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        when = parse_iso_date(text)
    if when is None:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_iso_date(text: str) -> datetime | None:
    """ISO 8601 (``Z`` suffix, 7-digit .NET fractions as Postmark writes them) or a Unix epoch."""
    text = text.strip()
    if re.fullmatch(r"\d{9,11}(\.\d+)?", text):
        return datetime.fromtimestamp(float(text), UTC)
    try:
        when = datetime.fromisoformat(_FRACTION.sub(r"\1", text))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def body_excerpt(message: Message) -> str:
    """The first text part, decoded and capped at :data:`BODY_CAP` characters."""
    fallback = ""
    for part in message.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if ctype not in ("text/plain", "text/html"):
            continue
        try:
            payload = part.get_payload(decode=True)
        except Exception:  # a broken transfer encoding must not stop the hunt
            continue
        if not isinstance(payload, bytes):
            continue
        charset = part.get_content_charset() or "utf-8"
        try:
            text = payload[: BODY_CAP * 4].decode(charset, "replace")
        except LookupError:
            text = payload[: BODY_CAP * 4].decode("utf-8", "replace")
        if ctype == "text/plain":
            return text[:BODY_CAP]
        fallback = fallback or re.sub(r"<[^>]+>", " ", text)[:BODY_CAP]
    return fallback


def message_to_fields(message: Message) -> tuple[dict[str, object], list[str]]:
    """The MailRecord fields of a parsed RFC 5322 message, plus problems to report.

    ``Bcc`` counts: a sent copy (a "Sent" mbox or maildir folder) keeps the Bcc header that the
    delivered copies lose, and that is exactly where a hidden copy shows up.
    """
    problems: list[str] = []
    for defect in message.defects:
        problems.append(f"malformed message: {type(defect).__name__}")
    headers: dict[str, list[str]] = {}
    for name in ("to", "cc", "bcc", "from", "subject", "date", "message-id", "x-gmail-labels"):
        values: list[str] = []
        for raw in message.get_all(name, []) or []:
            text, problem = decode_header_value(raw)
            if problem:
                problems.append(f"{name.title()} header: {problem}")
            values.append(text)
        headers[name] = values
    groups: dict[str, tuple[str, ...]] = {}
    for name in ("to", "cc", "bcc"):
        groups[name], rejected = parse_addresses(headers[name])
        for junk in rejected:
            problems.append(f"{name.title()} header: not an address: {junk[:80]!r}")
    senders, _ = parse_addresses(headers["from"])
    date_text = headers["date"][0] if headers["date"] else ""
    sent = parse_mail_date(date_text)
    if date_text and sent is None:
        problems.append(f"Date header unreadable: {date_text[:60]!r}")
    fields: dict[str, object] = {
        "message_id": (headers["message-id"][0].strip() if headers["message-id"] else ""),
        "sent": sent,
        "sender": senders[0] if senders else "",
        "subject": headers["subject"][0] if headers["subject"] else "",
        "to": groups["to"],
        "cc": groups["cc"],
        "bcc": groups["bcc"],
        "labels": ",".join(headers["x-gmail-labels"]),
    }
    return fields, problems


_PARSER = BytesParser(policy=compat32)
_HEAD_END = re.compile(rb"\r?\n\r?\n")


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    """The header block and the raw body: most messages need no full MIME parse (it is slow)."""
    end = _HEAD_END.search(data)
    if end is None:
        return data, b""
    return data[: end.end()], data[end.end() :]


def _multipart_text(message: Message, raw: bytes, depth: int) -> str | None:
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        return None
    html: str | None = None
    for part in raw.split(b"--" + boundary.encode("ascii", "surrogateescape"))[1:]:
        if part.startswith(b"--"):
            break  # the closing delimiter
        head, body = _split_head(part.lstrip(b"\r\n"))
        headers = _fast_headers(head)
        ctype = (headers.get("Content-Type") or "text/plain").lower()
        if ctype.startswith("multipart/") or ctype.startswith(("text/plain", "text/html")):
            text = _simple_body(headers, body, depth + 1)
            if text is None:
                return None
            if ctype.startswith("text/html"):
                html = html or text
                continue
            return text
    return html if html is not None else ""


# Only these headers matter to the hunt; reading just them is several times faster than the
# stdlib feed parser, which builds every header of every message.
_WANTED = frozenset(
    {
        "to", "cc", "bcc", "from", "subject", "date", "message-id", "x-gmail-labels",
        "content-type", "content-transfer-encoding",
    }
)  # fmt: skip


def _fast_headers(head: bytes) -> Message:
    """A compat32 ``Message`` holding the wanted headers of ``head`` (unfolded, as the parser would).

    Bytes are decoded as ASCII with surrogate escapes, exactly as ``BytesParser(compat32)``
    does, so RFC 2047 and 8-bit headers reach ``decode_header_value`` unchanged.
    """
    message = Message()
    name: str | None = None
    value: list[str] = []
    for raw in head.split(b"\n"):
        line = raw.rstrip(b"\r").decode("ascii", "surrogateescape")
        if not line:
            break
        if line[0] in " \t":
            if name is not None:
                value.append(line)
            continue
        if name is not None:
            message[name] = "\n".join(value)
        key, sep, rest = line.partition(":")
        if sep and key.strip().lower() in _WANTED:
            name, value = key.strip(), [rest.lstrip()]
        else:
            name, value = None, []
    if name is not None:
        message[name] = "\n".join(value)
    return message


def _simple_body(message: Message, raw: bytes, depth: int = 0) -> str | None:
    """The first text part's body, decoded cheaply; None when the full MIME parse is needed.

    Single-part text and plain multipart structures (boundary-separated parts, one level of
    nesting) are handled here; anything unusual falls back to the stdlib parser.
    """
    ctype = (message.get("Content-Type") or "text/plain").lower()
    if ctype.startswith("multipart/") and depth < 2:
        return _multipart_text(message, raw, depth)
    if not ctype.startswith(("text/plain", "text/html")):
        return None
    encoding = (message.get("Content-Transfer-Encoding") or "7bit").strip().lower()
    chunk = raw[: BODY_CAP * 4]
    if encoding == "quoted-printable":
        chunk = quopri.decodestring(chunk)
    elif encoding == "base64":
        try:
            chunk = base64.b64decode(b"".join(raw[: BODY_CAP * 6].split())[: BODY_CAP * 4 // 4 * 4])
        except (ValueError, binascii.Error):
            return None
    elif encoding not in ("7bit", "8bit", "binary"):
        return None
    charset = message.get_content_charset() or "utf-8"
    try:
        text = chunk.decode(charset, "replace")
    except LookupError:
        text = chunk.decode("utf-8", "replace")
    if ctype.startswith("text/html"):
        text = re.sub(r"<[^>]+>", " ", text)
    return text[:BODY_CAP]


def record_from_bytes(
    data: bytes, *, path: Path, line: int | None, source: str
) -> tuple[MailRecord | None, list[Notice]]:
    """Parse one RFC 5322 message; a record (None when it names no recipient) and its notices.

    A message with problems still yields a record when any recipient could be read: skipping it
    would let a malformed header hide the very Bcc the hunt looks for.
    """
    notices: list[Notice] = []
    try:
        data = data[:MESSAGE_BYTES_CAP]
        head, raw_body = _split_head(data)
        message = _fast_headers(head)
        fields, problems = message_to_fields(message)
        body = _simple_body(message, raw_body)
        if body is None:  # multipart or unusual encoding: the full MIME parse, only for these
            body = body_excerpt(_PARSER.parsebytes(data))
    except Exception as exc:  # the stdlib parser raises a zoo of types on hostile input
        return None, [Notice(f"unreadable message skipped: {type(exc).__name__}: {exc}", path, line)]
    notices.extend(Notice(p, path, line) for p in problems)
    to, cc, bcc = fields["to"], fields["cc"], fields["bcc"]
    assert isinstance(to, tuple) and isinstance(cc, tuple) and isinstance(bcc, tuple)
    if not (to or cc or bcc):
        notices.append(Notice("message skipped: no To, Cc or Bcc recipient could be read", path, line))
        return None, notices
    labels = str(fields["labels"])
    sent = fields["sent"]
    return (
        MailRecord(
            message_id=str(fields["message_id"]),
            sent=sent if isinstance(sent, datetime) else None,
            sender=str(fields["sender"]),
            subject=str(fields["subject"]),
            to=to,
            cc=cc,
            bcc=bcc,
            body=body,
            source=f"{source} [{labels}]" if labels else source,
        ),
        notices,
    )
