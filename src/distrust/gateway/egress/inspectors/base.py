"""What every email API inspector shares: body decoding, address parsing, the judging step.

Each API module only declares *where* recipients live (hosts, paths, field names: data tables)
and how to pull them out of that API's body shape. Decoding JSON, forms, multipart and raw MIME,
and the decision itself (:func:`distrust.gateway.egress.intent.judge_recipients`) happen here
once, so a parsing weakness is fixed in one place for every provider.

Parsing errs towards finding *more* addresses: a value is read both with
``email.utils.getaddresses`` and with a plain address pattern, because the provider's parser may
accept input that Python's rejects (a parser differential is an easy way to hide a Bcc).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email import policy as email_policy
from email.parser import BytesParser
from email.utils import getaddresses
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

from distrust.gateway.egress import InspectionContext, OutboundRequest, Recipient, Verdict
from distrust.gateway.egress.intent import ADDRESS_IN_TEXT, judge_recipients

MAX_JSON_DEPTH = 64


class BodyError(Exception):
    """The request body could not be read as the API's documented format; the message says why."""


@dataclass(frozen=True)
class Endpoint:
    """One sending endpoint of an API: a path pattern and the body shape it takes."""

    path: re.Pattern[str]  # matched against the lower-cased, percent-decoded path, no query
    shape: str  # the name an inspector dispatches on in ``extract``
    doc: str = ""


@dataclass
class Extraction:
    """Addresses found in one request: who receives it, and who else it names (IOC check only)."""

    recipients: list[Recipient] = field(default_factory=list)
    also_seen: list[Recipient] = field(default_factory=list)

    def add(self, field_name: str, value: Any, *, delivers: bool = True) -> None:
        target = self.recipients if delivers else self.also_seen
        for address in addresses_from(value):
            item = Recipient(field=field_name, address=address)
            if item not in target:
                target.append(item)


def parse_address_list(text: str) -> list[str]:
    """Bare, lower-cased addresses in a header-style list ("A <a@x>, b@y; c@z")."""
    found: list[str] = []
    for _, addr in getaddresses([text.replace(";", ",")]):
        addr = addr.strip().lower()
        if addr and addr not in found:
            found.append(addr)
    for match in ADDRESS_IN_TEXT.finditer(text):
        addr = match.group(0).lower().strip(".")
        if addr not in found:
            found.append(addr)
    return found


def addresses_from(value: Any) -> list[str]:
    """Addresses in an API field value: a string, a list of strings, or ``{"email": …}`` objects."""
    if isinstance(value, str):
        return parse_address_list(value)
    if isinstance(value, dict):
        found: list[str] = []
        for key in ("email", "address"):
            for item in values_ci(value, key):
                found.extend(a for a in addresses_from(item) if a not in found)
        return found
    if isinstance(value, list | tuple):
        result: list[str] = []
        for item in value:
            result.extend(a for a in addresses_from(item) if a not in result)
        return result
    return []


def values_ci(obj: Any, key: str) -> list[Any]:
    """Every value of ``obj`` whose key equals ``key`` ignoring case.

    Providers such as Postmark bind JSON case-insensitively, so ``bcc`` delivers like ``Bcc``;
    reading only the documented spelling would let a server hide a copy behind a lower-case key.
    """
    if not isinstance(obj, dict):
        return []
    wanted = key.lower()
    return [v for k, v in obj.items() if isinstance(k, str) and k.lower() == wanted]


def items_ci(obj: Any, key: str) -> list[tuple[str, Any]]:
    """Like :func:`values_ci`, with each key as the request spelled it (``bcc`` vs ``Bcc``)."""
    if not isinstance(obj, dict):
        return []
    wanted = key.lower()
    return [(k, v) for k, v in obj.items() if isinstance(k, str) and k.lower() == wanted]


def normalised_path(request: OutboundRequest) -> str:
    """The path without query, percent-decoded, lower-cased, without duplicate or trailing slashes."""
    path = unquote(urlsplit(request.path).path or "/").lower()
    path = re.sub(r"/{2,}", "/", path)
    return path.rstrip("/") or "/"


def normalised_host(request: OutboundRequest) -> str:
    return request.host.lower().rstrip(".")


def query_fields(request: OutboundRequest) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(request.path).query, keep_blank_values=True)


def json_body(request: OutboundRequest) -> Any:
    """The body as JSON, or :class:`BodyError` naming the problem."""
    try:
        text = request.body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BodyError(f"body is not UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise BodyError(f"body is not valid JSON ({where}: {exc.msg})") from None
    except RecursionError:
        raise BodyError("body JSON is nested too deeply") from None


def form_fields(request: OutboundRequest) -> list[tuple[str, bytes]]:
    """Fields of a form body, urlencoded or multipart, plus the query string's, in order.

    Multipart file parts are included too (their content as bytes): Mailgun's ``messages.mime``
    sends the whole message as a file part named ``message``.
    """
    content_type = (request.header("content-type") or "application/x-www-form-urlencoded").strip()
    fields: list[tuple[str, bytes]] = [(k, v.encode()) for k, v in query_fields(request)]
    if content_type.lower().startswith("multipart/"):
        fields.extend(_multipart_fields(content_type, request.body))
        return fields
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(f"form body is not UTF-8 (byte {exc.start})") from None
    fields.extend((k, v.encode()) for k, v in parse_qsl(text, keep_blank_values=True))
    return fields


def _multipart_fields(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    if "boundary=" not in content_type.lower():
        raise BodyError("multipart body without a boundary parameter")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("utf-8", "replace")
    message = BytesParser(policy=email_policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise BodyError("multipart body could not be split into parts")
    fields: list[tuple[str, bytes]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        fields.append((name, _part_bytes(part)))
    return fields


def _part_bytes(part: Any) -> bytes:
    """A form part's content; a ``message/rfc822`` part is re-serialised, as it arrives parsed."""
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload
    inner = part.get_payload()
    if isinstance(inner, list):
        return b"".join(bytes(item.as_bytes()) for item in inner)
    return str(inner or "").encode("utf-8", "replace")


def field_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


# Headers of a raw MIME message that deliver (the provider derives the envelope from them) and
# that only name someone (checked against IOCs).
MIME_DELIVERY_HEADERS = ("To", "Cc", "Bcc")
MIME_NAMING_HEADERS = ("Reply-To", "From", "Sender")


def add_mime_headers(extraction: Extraction, raw: bytes, *, prefix: str) -> None:
    """Add the To/Cc/Bcc (and, for IOC checks, Reply-To/From) of a raw RFC 5322 message."""
    message = BytesParser(policy=email_policy.compat32).parsebytes(raw, headersonly=True)
    for header in MIME_DELIVERY_HEADERS:
        for value in message.get_all(header) or []:
            extraction.add(f"{prefix}.{header}", str(value))
    for header in MIME_NAMING_HEADERS:
        for value in message.get_all(header) or []:
            extraction.add(f"{prefix}.{header}", str(value), delivers=False)


def b64decode_field(value: Any, *, where: str) -> bytes:
    if not isinstance(value, str):
        raise BodyError(f"{where} is not a base64 string")
    try:
        return base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError):
        raise BodyError(f"{where} is not valid base64") from None


class EmailApiInspector:
    """Base of the per-provider inspectors: match a sending endpoint, extract, judge.

    Subclasses fill the data tables (``hosts`` or ``host_pattern``, ``endpoints``) and implement
    :meth:`extract`. A body that cannot be read on a sending endpoint is blocked: an email we
    cannot read is an email we cannot vouch for.
    """

    name: str = ""
    hosts: ClassVar[frozenset[str]] = frozenset()
    host_pattern: ClassVar[re.Pattern[str] | None] = None
    methods: ClassVar[frozenset[str]] = frozenset({"POST"})
    endpoints: ClassVar[tuple[Endpoint, ...]] = ()

    def endpoint(self, request: OutboundRequest) -> Endpoint | None:
        host = normalised_host(request)
        host_ok = host in self.hosts or bool(self.host_pattern and self.host_pattern.fullmatch(host))
        if not host_ok or request.method.upper() not in self.methods:
            return None
        path = normalised_path(request)
        return next((e for e in self.endpoints if e.path.fullmatch(path)), None)

    def matches(self, request: OutboundRequest) -> bool:
        return self.endpoint(request) is not None

    def inspect(self, request: OutboundRequest, context: InspectionContext) -> Verdict | None:
        endpoint = self.endpoint(request)
        if endpoint is None:
            return None
        if request.body_truncated:
            why = "the body was larger than the proxy reads, so its recipients are unknown"
            return self._unreadable(request, why)
        try:
            extraction = self.extract(endpoint.shape, request)
        except BodyError as exc:
            return self._unreadable(request, str(exc))
        return judge_recipients(
            extraction.recipients, context, inspector=self.name, also_seen=extraction.also_seen
        )

    def extract(self, shape: str, request: OutboundRequest) -> Extraction:
        raise NotImplementedError

    def _unreadable(self, request: OutboundRequest, why: str) -> Verdict:
        return Verdict(
            allow=False,
            reason=(
                f"{self.name}: cannot read the email sent to {request.host}{normalised_path(request)}: {why}"
            ),
            inspector=self.name,
        )


def require_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BodyError(f"{where} is not a JSON object")
    return value


def require_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise BodyError(f"{where} is not a JSON array")
    return value


def add_fields(
    extraction: Extraction,
    obj: dict[str, Any],
    names: Iterable[str],
    *,
    prefix: str = "",
    delivers: bool = True,
) -> None:
    """Add every case-insensitive occurrence of ``names`` in ``obj``, named as the request spells it."""
    for name in names:
        for key, value in items_ci(obj, name):
            extraction.add(f"{prefix}{key}", value, delivers=delivers)


def first_ci(fields: Sequence[tuple[str, bytes]], name: str) -> list[bytes]:
    wanted = name.lower()
    return [v for k, v in fields if k.lower() == wanted]
