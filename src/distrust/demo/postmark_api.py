"""A local stand-in for the Postmark Email API that records every message it accepts.

The postmark-mcp demo (and the gateway's end-to-end tests) run the real, unmodified server
against this instead of api.postmarkapp.com: the egress proxy routes the Postmark host here. It
follows Postmark's documented behaviour closely enough that the real ``postmark`` npm client
cannot tell the difference on the paths it uses:

* ``X-Postmark-Server-Token`` is required (name and value case-insensitive); missing or wrong
  → 401 with ErrorCode 10. ``POSTMARK_API_TEST`` validates but delivers nothing, as documented.
* ``POST /email``: ``From``, ``To`` and a ``TextBody`` or ``HtmlBody`` are required, at most 50
  recipients over To, Cc and Bcc; invalid input → 422 ErrorCode 300. Success answers
  ``{"To", "SubmittedAt", "MessageID", "ErrorCode": 0, "Message": "OK"}``.
* ``POST /email/batch``: a JSON array of up to 500 messages; the answer is an array with one
  result per message (errors inline, as Postmark does); more → 422 ErrorCode 410.
* Request bodies must be JSON (``Content-Type: application/json``; an ``Accept`` header, when
  sent, must allow JSON) → otherwise 415 with ErrorCode 409 "JSON required"; unparsable JSON →
  422 ErrorCode 402, JSON of the wrong shape → 422 ErrorCode 403.
* Optional sender signatures (422 ErrorCode 400) and inactive recipients (422 ErrorCode 406 when
  every recipient is inactive; inactive ones are dropped otherwise).
* ``GET /messages/outbound?count=&offset=`` (count ≤ 500, count + offset ≤ 10,000, else 422)
  and ``GET /messages/outbound/{id}/details``, so ``distrust hunt`` can search what was sent.

Accepted messages are kept in memory (:attr:`PostmarkStandIn.messages`) and, when a path is
given, appended to a JSONL file. Stdlib only: the demo is a runtime feature and must not pull in
a web framework.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import getaddresses
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TEST_TOKEN = "POSTMARK_API_TEST"  # documented: validates the request, delivers nothing
MAX_RECIPIENTS = 50
MAX_BATCH = 500
MAX_SEARCH_COUNT = 500
MAX_SEARCH_WINDOW = 10_000
MAX_BODY_BYTES = 50 * 1024 * 1024  # Postmark's documented batch size limit

# Postmark's API error codes used here (https://postmarkapp.com/developer/api/overview#error-codes)
ERR_BAD_TOKEN = 10
ERR_INVALID_REQUEST = 300
ERR_SENDER_NOT_FOUND = 400
ERR_INVALID_JSON = 402
ERR_INCOMPATIBLE_JSON = 403
ERR_INACTIVE_RECIPIENT = 406
ERR_JSON_REQUIRED = 409
ERR_TOO_MANY_BATCH = 410
ERR_MESSAGE_NOT_FOUND = 701

# Postmark's own mailbox and domain checks (its support article on ErrorCode 300).
_MAILBOX = re.compile(r"^[a-z0-9.!#$%&'`*+\-/=^_{}|~]+$", re.IGNORECASE)
_DOMAIN = re.compile(r"^((\.)?[a-zA-Z0-9\-])+$")
_STRING_FIELDS = (
    "From",
    "To",
    "Cc",
    "Bcc",
    "ReplyTo",
    "Subject",
    "TextBody",
    "HtmlBody",
    "Tag",
    "MessageStream",
)


@dataclass(frozen=True)
class RecordedMessage:
    """One message the stand-in accepted: what Postmark would have delivered, and to whom."""

    message_id: str
    submitted_at: str
    sender: str
    to: tuple[str, ...]  # bare lower-cased addresses
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    reply_to: str | None
    subject: str
    text_body: str | None
    html_body: str | None
    tag: str | None
    message_stream: str
    raw_to: str = ""  # the To field as sent, which the API echoes back

    @property
    def recipients(self) -> tuple[str, ...]:
        return (*self.to, *self.cc, *self.bcc)


class ApiError(Exception):
    """A documented Postmark error: HTTP status, ErrorCode and message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"ErrorCode": self.code, "Message": self.message}


class PostmarkStandIn:
    """A Postmark API on 127.0.0.1 that records accepted mail. Use ``start()``/``stop()`` or ``with``."""

    def __init__(
        self,
        token: str,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        record_path: Path | None = None,
        senders: Iterable[str] | None = None,
        inactive_recipients: Iterable[str] = (),
    ) -> None:
        if not token:
            raise ValueError("PostmarkStandIn needs a non-empty server token")
        self._token = token
        self._host = host
        self._port = port
        self.record_path = record_path
        self.senders = None if senders is None else frozenset(s.lower() for s in senders)
        self.inactive = frozenset(a.lower() for a in inactive_recipients)
        self._messages: list[RecordedMessage] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> PostmarkStandIn:
        if self._server is not None:
            return self
        server = ThreadingHTTPServer((self._host, self._port), _Handler)
        server.daemon_threads = True
        server.standin = self  # type: ignore[attr-defined]
        self._server = server
        # a short poll interval keeps stop() fast (it waits for the loop to notice)
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="postmark-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> PostmarkStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the Postmark stand-in is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def messages(self) -> tuple[RecordedMessage, ...]:
        with self._lock:
            return tuple(self._messages)

    # --- the API ---------------------------------------------------------------------------

    def check_token(self, supplied: str | None) -> bool:
        """True for the real token. The documented test token is handled by the caller."""
        if supplied is None or not supplied.strip():
            raise ApiError(
                401,
                ERR_BAD_TOKEN,
                "No Account or Server API tokens were supplied in the HTTP headers. "
                "Please add a header for either X-Postmark-Server-Token or X-Postmark-Account-Token.",
            )
        value = supplied.strip().lower()
        if value == TEST_TOKEN.lower():
            return False
        if value != self._token.lower():
            raise ApiError(401, ERR_BAD_TOKEN, "Request does not contain a valid Server token.")
        return True

    def send(self, message: Any, *, deliver: bool) -> dict[str, Any]:
        """Validate one message and record it; the success body, or :class:`ApiError`."""
        fields = _message_fields(message)
        sender = fields.get("from", "")
        sender_addresses = _addresses("From", sender)
        if len(sender_addresses) != 1:
            raise ApiError(422, ERR_INVALID_REQUEST, f"Invalid 'From' address: '{sender}'.")
        to = _addresses("To", fields.get("to", ""))
        cc = _addresses("Cc", fields.get("cc", ""))
        bcc = _addresses("Bcc", fields.get("bcc", ""))
        if not to:
            raise ApiError(422, ERR_INVALID_REQUEST, "Zero recipients specified")
        if len(to) + len(cc) + len(bcc) > MAX_RECIPIENTS:
            raise ApiError(
                422, ERR_INVALID_REQUEST, f"Maximum of {MAX_RECIPIENTS} recipients allowed per email message"
            )
        if not fields.get("textbody") and not fields.get("htmlbody"):
            raise ApiError(422, ERR_INVALID_REQUEST, "Provide either email TextBody or HtmlBody or both.")
        reply_to = fields.get("replyto") or None
        if reply_to is not None:
            _addresses("ReplyTo", reply_to)
        if self.senders is not None:
            address = sender_addresses[0]
            if address not in self.senders and "@" + address.rpartition("@")[2] not in self.senders:
                raise ApiError(
                    422,
                    ERR_SENDER_NOT_FOUND,
                    f"The 'From' address you supplied ({address}) is not a Sender Signature on your "
                    "account. Please add and confirm this address in order to be able to use it in the "
                    "'From' field of your messages.",
                )
        active = [tuple(a for a in group if a not in self.inactive) for group in (to, cc, bcc)]
        if not any(active):
            raise ApiError(
                422,
                ERR_INACTIVE_RECIPIENT,
                "You tried to send to recipient(s) that have been marked as inactive. "
                "Found inactive addresses: " + ", ".join((*to, *cc, *bcc)) + ".",
            )
        submitted = datetime.now(UTC).isoformat()
        message_id = str(uuid.uuid4()) if deliver else "00000000-0000-0000-0000-000000000000"
        if deliver:
            self._record(
                RecordedMessage(
                    message_id=message_id,
                    submitted_at=submitted,
                    sender=sender,
                    to=active[0],
                    cc=active[1],
                    bcc=active[2],
                    reply_to=reply_to,
                    subject=fields.get("subject", ""),
                    text_body=fields.get("textbody") or None,
                    html_body=fields.get("htmlbody") or None,
                    tag=fields.get("tag") or None,
                    message_stream=fields.get("messagestream") or "outbound",
                    raw_to=fields.get("to", ""),
                )
            )
        return {
            "To": fields.get("to", ""),
            "SubmittedAt": submitted,
            "MessageID": message_id,
            "ErrorCode": 0,
            "Message": "OK",
        }

    def send_batch(self, messages: Any, *, deliver: bool) -> list[dict[str, Any]]:
        if not isinstance(messages, list):
            raise ApiError(422, ERR_INCOMPATIBLE_JSON, "The batch endpoint expects a JSON array of messages.")
        if len(messages) > MAX_BATCH:
            raise ApiError(
                422, ERR_TOO_MANY_BATCH, f"Batch request size exceeds the maximum of {MAX_BATCH} messages."
            )
        results: list[dict[str, Any]] = []
        for message in messages:
            try:
                results.append(self.send(message, deliver=deliver))
            except ApiError as exc:
                results.append(exc.body())
        return results

    def search(self, query: dict[str, list[str]]) -> dict[str, Any]:
        """``GET /messages/outbound``: newest first, filtered like Postmark's documented parameters."""
        count = _int_param(query, "count")
        offset = _int_param(query, "offset")
        if count < 1 or count > MAX_SEARCH_COUNT:
            raise ApiError(
                422, ERR_INVALID_REQUEST, f"The 'count' parameter must be 1 to {MAX_SEARCH_COUNT}."
            )
        if offset < 0 or count + offset > MAX_SEARCH_WINDOW:
            raise ApiError(
                422, ERR_INVALID_REQUEST, f"'count' + 'offset' must not exceed {MAX_SEARCH_WINDOW}."
            )
        found = [m for m in reversed(self.messages) if _search_matches(m, query)]
        return {"TotalCount": len(found), "Messages": [_summary(m) for m in found[offset : offset + count]]}

    def details(self, message_id: str) -> dict[str, Any]:
        for message in self.messages:
            if message.message_id == message_id.lower():
                return {
                    **_summary(message),
                    "TextBody": message.text_body or "",
                    "HtmlBody": message.html_body or "",
                    "MessageEvents": [],
                }
        raise ApiError(422, ERR_MESSAGE_NOT_FOUND, f"No message found with ID '{message_id}'.")

    def _record(self, message: RecordedMessage) -> None:
        with self._lock:
            self._messages.append(message)
            if self.record_path is not None:
                self.record_path.parent.mkdir(parents=True, exist_ok=True)
                with self.record_path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(asdict(message), sort_keys=True) + "\n")


def _message_fields(message: Any) -> dict[str, str]:
    """The message's string fields keyed by lower-cased name (Postmark binds JSON case-insensitively)."""
    if not isinstance(message, dict):
        raise ApiError(422, ERR_INCOMPATIBLE_JSON, "A message must be a JSON object.")
    fields: dict[str, str] = {}
    wanted = {name.lower(): name for name in _STRING_FIELDS}
    for key, value in message.items():
        name = wanted.get(str(key).lower())
        if name is None or value is None:
            continue
        if not isinstance(value, str):
            raise ApiError(422, ERR_INCOMPATIBLE_JSON, f"The '{name}' field must be a string.")
        fields[name.lower()] = value
    return fields


def _addresses(field_name: str, text: str) -> tuple[str, ...]:
    """Parse a comma-separated address list the way Postmark validates it (raise 300 otherwise)."""
    if not text.strip():
        return ()
    found: list[str] = []
    for part in _split_addresses(text):
        pairs = getaddresses([part])
        address = pairs[0][1].strip() if len(pairs) == 1 else ""
        mailbox, at, domain = address.rpartition("@")
        if not at or not _MAILBOX.match(mailbox) or not _DOMAIN.match(domain) or "." not in domain:
            raise ApiError(
                422,
                ERR_INVALID_REQUEST,
                f"Error parsing '{field_name}': Illegal email address '{part.strip()}'.",
            )
        found.append(address.lower())
    return tuple(found)


def _split_addresses(text: str) -> list[str]:
    """Split on commas outside quotes and angle brackets ("Doe, Jane" <j@x.com> is one address)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = angle = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == "<" and not quoted:
            angle = True
        elif char == ">" and not quoted:
            angle = False
        if char == "," and not quoted and not angle:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _int_param(query: dict[str, list[str]], name: str) -> int:
    values = query.get(name) or query.get(name.lower())
    if not values:
        raise ApiError(422, ERR_INVALID_REQUEST, f"The '{name}' query parameter is required.")
    try:
        return int(values[-1])
    except ValueError:
        raise ApiError(422, ERR_INVALID_REQUEST, f"The '{name}' query parameter must be a number.") from None


def _search_matches(message: RecordedMessage, query: dict[str, list[str]]) -> bool:
    def param(name: str) -> str | None:
        values = query.get(name)
        return values[-1].strip().lower() if values and values[-1].strip() else None

    recipient = param("recipient")
    if recipient and recipient not in message.recipients:
        return False
    sender = param("fromemail")
    if sender and sender not in [a.lower() for _, a in getaddresses([message.sender])]:
        return False
    subject = param("subject")
    if subject and subject not in message.subject.lower():
        return False
    tag = param("tag")
    if tag and tag != (message.tag or "").lower():
        return False
    stream = param("messagestream")
    return not (stream and stream != message.message_stream.lower())


def _summary(message: RecordedMessage) -> dict[str, Any]:
    def people(addresses: Sequence[str]) -> list[dict[str, str]]:
        return [{"Email": a, "Name": ""} for a in addresses]

    return {
        "Tag": message.tag or "",
        "MessageID": message.message_id,
        "MessageStream": message.message_stream,
        "To": people(message.to),
        "Cc": people(message.cc),
        "Bcc": people(message.bcc),
        "Recipients": list(message.recipients),
        "ReceivedAt": message.submitted_at,
        "From": message.sender,
        "Subject": message.subject,
        "Attachments": [],
        "Status": "Sent",
        "TrackOpens": False,
        "TrackLinks": "None",
        "Metadata": {},
        "Sandboxed": False,
    }


class _Handler(BaseHTTPRequestHandler):
    server_version = "distrust-postmark-standin"
    protocol_version = "HTTP/1.1"

    @property
    def standin(self) -> PostmarkStandIn:
        standin: PostmarkStandIn = self.server.standin  # type: ignore[attr-defined]
        return standin

    def log_message(self, format: str, *args: Any) -> None:  # the demo prints its own story
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        try:
            body = self._read_body()
            status, payload = self._route(method, body)
        except ApiError as exc:
            status, payload = exc.status, exc.body()
        self._reply(status, payload)

    def _read_body(self) -> bytes:
        length_text = self.headers.get("Content-Length")
        if not length_text:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            raise ApiError(400, ERR_INVALID_REQUEST, "Invalid Content-Length header.") from None
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            raise ApiError(413, ERR_INVALID_REQUEST, "Request too large.")
        return self.rfile.read(length)

    def _route(self, method: str, body: bytes) -> tuple[int, Any]:
        split = urlsplit(self.path)
        path = unquote(split.path).lower().rstrip("/") or "/"
        deliver = self.standin.check_token(self.headers.get("X-Postmark-Server-Token"))
        if method == "POST" and path in ("/email", "/email/batch"):
            message = self._json(body)
            if path == "/email":
                return 200, self.standin.send(message, deliver=deliver)
            return 200, self.standin.send_batch(message, deliver=deliver)
        if method == "GET" and path == "/messages/outbound":
            self._require_json_accept()
            return 200, self.standin.search(parse_qs(split.query))
        match = re.fullmatch(r"/messages/outbound/([0-9a-f-]+)/details", path)
        if method == "GET" and match:
            self._require_json_accept()
            return 200, self.standin.details(match.group(1))
        return 404, {"ErrorCode": 404, "Message": f"The stand-in does not implement {method} {split.path}."}

    def _require_json_accept(self) -> None:
        accept = (self.headers.get("Accept") or "").lower()
        if accept and not any(t in accept for t in ("application/json", "*/*", "application/*")):
            raise ApiError(
                415,
                ERR_JSON_REQUIRED,
                "JSON required: set the Accept and Content-Type headers to application/json.",
            )

    def _json(self, body: bytes) -> Any:
        content_type = (self.headers.get("Content-Type") or "").lower()
        if not content_type.startswith("application/json"):
            raise ApiError(
                415,
                ERR_JSON_REQUIRED,
                "JSON required: set the Accept and Content-Type headers to application/json.",
            )
        self._require_json_accept()
        try:
            return json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise ApiError(422, ERR_INVALID_JSON, "The request body is not valid JSON.") from None

    def _reply(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the stand-in in the foreground: ``python -m distrust.demo.postmark_api --port 8025``.

    The token is read from an environment variable (never from the command line, where other
    users could read it in the process list) and never printed.
    """
    parser = argparse.ArgumentParser(description="A local Postmark API stand-in that records mail.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token-env", default="POSTMARK_SERVER_TOKEN", help="env var holding the token")
    parser.add_argument("--record", type=Path, default=None, help="append accepted messages to this JSONL")
    args = parser.parse_args(argv)
    token = os.environ.get(args.token_env, "")
    if not token:
        print(f"error: set {args.token_env} to the server token the stand-in should accept", file=sys.stderr)
        return 2
    standin = PostmarkStandIn(token, args.port, record_path=args.record).start()
    print(f"Postmark stand-in listening on {standin.url} (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
