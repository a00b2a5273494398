"""Egress: the sandboxed server's only way out, and the place where what leaves is read.

The proxy (``proxy.py``) terminates the server's HTTP(S) requests, decodes them and hands each
one, as an :class:`OutboundRequest`, to a list of :class:`Inspector` objects (one per email API,
mitmproxy-addon style: the proxy core knows nothing of email). An inspector that recognises the
request returns a :class:`Verdict`; a block is answered with a 403 and reported to the relay
through :class:`IntentSource`, so the tool call that caused it fails with a clear reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class OutboundRequest:
    """One request a sandboxed server tried to send, after TLS interception and decoding."""

    server: str  # the MCP server (lock name) whose sandbox sent it
    method: str
    scheme: str  # "https" | "http"
    host: str
    port: int
    path: str  # path and query
    headers: tuple[tuple[str, str], ...]
    body: bytes  # content-encoding removed; at most the proxy's body cap
    body_truncated: bool = False

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)


@dataclass(frozen=True)
class Recipient:
    """An address an email API request would deliver to, and the field that names it."""

    field: str  # as the API spells it: "To", "Bcc", "personalizations[0].bcc", "h:Bcc", …
    address: str  # lower-cased bare address


@dataclass(frozen=True)
class InflightCall:
    """A ``tools/call`` the relay has forwarded and not yet answered."""

    call_id: str
    tool: str
    arguments: Any


@dataclass(frozen=True)
class Verdict:
    """An inspector's decision; ``allow=False`` blocks the request with ``reason``."""

    allow: bool
    reason: str = ""
    inspector: str = ""
    field: str | None = None  # the offending field, e.g. "Bcc"
    value: str | None = None  # the offending value, e.g. "phan@giftshop.club"
    call_id: str | None = None  # the tool call the request belongs to, when known
    recipients: tuple[Recipient, ...] = ()


class IntentSource(Protocol):
    """What the user asked for: the relay's in-flight tool calls, and where to report blocks."""

    def inflight(self, server: str) -> list[InflightCall]: ...

    def flag(self, server: str, call_id: str, detail: str) -> None: ...


@dataclass(frozen=True)
class InspectionContext:
    """Everything an inspector may consult besides the request itself."""

    calls: tuple[InflightCall, ...]  # in flight for this server when the request arrived
    allowed_recipients: tuple[str, ...] = ()  # the lock's per-server allowlist (addresses or @domains)
    iocs: tuple[str, ...] = ()  # known-bad addresses and domains (intel)
    server_secrets: tuple[tuple[str, str], ...] = ()  # (env key, value) the server was given
    policy_without_call: str = "deny-email"  # what to do with mail sent when no call is in flight


class Inspector(Protocol):
    """One API's reader: does this request concern me, and is it what the user asked for?"""

    name: str

    def matches(self, request: OutboundRequest) -> bool: ...

    def inspect(self, request: OutboundRequest, context: InspectionContext) -> Verdict | None: ...
