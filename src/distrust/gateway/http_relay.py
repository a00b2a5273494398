"""The MCP relay for remote servers: stdio to the client, Streamable HTTP to the server.

Client configs start ``distrust run --server NAME`` as a stdio process, so the client side is
the same newline-delimited JSON-RPC as :mod:`distrust.gateway.relay`. The server side is the
MCP 2025-06-18 Streamable HTTP transport: every client message is POSTed to one endpoint, and
the server answers ``202 Accepted`` (notifications, responses), ``application/json`` (one
message) or ``text/event-stream`` (a stream of messages, read event by event as it arrives).

The policy (tool pinning, instruction checks, audit rows) is the transport-independent
:class:`~distrust.gateway.relay.Gateway`; this module only moves messages and turns transport
failures into JSON-RPC errors, so a client never hangs on a request the server cannot answer:

=======================================  ===================================================
remote outcome                           what the client gets
=======================================  ===================================================
202 / 204                                nothing (the message was accepted)
JSON or SSE body                         every message, through the gateway policy
4xx / 5xx, 3xx, unknown content type     an error response for each request in the POST
connection refused, DNS, TLS, timeout    an error response for each request in the POST
SSE stream ends before a response        an error response for each unanswered request
404 after a session was established      an error saying the session expired
=======================================  ===================================================

Plain ``http://`` is refused unless the host is loopback: an unencrypted hop to another
machine would expose every tool argument (mail bodies, tokens) on the network, so the relay
fails closed instead of warning. Redirects are not followed for the same reason.

Not implemented: the optional server→client GET stream (servers must also deliver what the
client needs on POST streams) and SSE resumption with ``Last-Event-ID``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import re
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final
from urllib.parse import urlsplit

import httpx

from distrust.gateway.audit import AuditLog
from distrust.gateway.launch import STREAM_LIMIT
from distrust.gateway.pins import FileSurfaceStore
from distrust.gateway.relay import (
    CHUNK,
    Gateway,
    LineSplitter,
    Overflow,
    Routed,
    _id_key,
    _open_source,
    _register,
    _Sink,
    _unregister,
    error_response,
)
from distrust.gateway.surface import SurfaceStore

# --- errors --------------------------------------------------------------------------------------


class RemoteUrlError(ValueError):
    """The remote server URL cannot be used safely (bad scheme, plain HTTP off this machine)."""


@dataclass(frozen=True)
class UpstreamErrorKind:
    """One way the HTTP hop can fail, and the ``data.distrust`` tag the client sees for it."""

    tag: str
    meaning: str


UPSTREAM_ERRORS: Final[tuple[UpstreamErrorKind, ...]] = (
    UpstreamErrorKind("http-status", "the server answered with an HTTP error (4xx/5xx) or a redirect"),
    UpstreamErrorKind("session-expired", "the server no longer knows the session (404 after initialize)"),
    UpstreamErrorKind("unreachable", "no connection (refused, DNS, TLS) or the server timed out"),
    UpstreamErrorKind("bad-response", "a 2xx answer that is not JSON-RPC in JSON or SSE"),
    UpstreamErrorKind("stream-ended", "the SSE stream closed before answering the request"),
)
UPSTREAM_ERROR_CODE: Final = -32603  # JSON-RPC "internal error": the request did not complete

LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.", "ip6-localhost"})

# How long the sender waits for a POST's response headers before reading the next client line.
# Waiting keeps messages arriving at the server in the client's order (``initialized`` before
# ``tools/list``); not waiting forever keeps one slow JSON-mode tool call from blocking others.
ORDER_WAIT: Final = 1.0

PROTOCOL_HEADER: Final = "MCP-Protocol-Version"
SESSION_HEADER: Final = "Mcp-Session-Id"


def check_remote_url(url: str) -> str:
    """Return ``url`` if the relay may use it; raise :class:`RemoteUrlError` saying why not."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError as exc:
        raise RemoteUrlError(f"remote server URL {_safe_url(url)!r} is malformed: {exc}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise RemoteUrlError(
            f"remote server URL {_safe_url(url)!r} must be https:// (or http:// to this machine)"
        )
    if parts.scheme == "http" and not _is_loopback(host):
        raise RemoteUrlError(
            f"refusing plain http:// to {host}: tool calls would cross the network unencrypted; "
            "use https:// (plain http is allowed only to localhost/127.0.0.1/::1)"
        )
    return url


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _safe_url(url: str) -> str:
    """The URL without credentials, query or fragment: API keys often ride in the query string."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<malformed URL>"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path}"


# --- Server-Sent Events framing --------------------------------------------------------------------

_LINE_END = re.compile(rb"\r\n|\r|\n")
_KEEP = 64 * 1024


@dataclass
class SseEvent:
    """One dispatched event: its type and data (data lines joined by newlines)."""

    event: str
    data: bytes


@dataclass
class SseParser:
    """Incremental ``text/event-stream`` parser with a size cap per event.

    Events are returned as soon as their blank line arrives, so a long tool call's progress
    notifications reach the client while the stream is still open. An event whose data grows
    past ``max_event`` is not buffered: it becomes an :class:`Overflow` (first and last bytes
    kept to find the request id), mirroring :class:`~distrust.gateway.relay.LineSplitter`.
    """

    max_event: int = STREAM_LIMIT
    _buf: bytearray = field(default_factory=bytearray)
    _data: list[bytes] = field(default_factory=list)
    _size: int = 0
    _event: str = ""
    _head: bytes | None = None  # set once the current event overflowed
    _tail: bytearray = field(default_factory=bytearray)

    def feed(self, chunk: bytes) -> list[SseEvent | Overflow]:
        self._buf += chunk
        out: list[SseEvent | Overflow] = []
        start = 0
        for match in _LINE_END.finditer(self._buf):
            if match.group() == b"\r" and match.end() == len(self._buf) and chunk:
                break  # a CR at the end may be the first half of CRLF: wait for more
            self._line(bytes(self._buf[start : match.start()]), out)
            start = match.end()
        del self._buf[:start]
        if len(self._buf) > self.max_event:  # one endless line: treat it as an overflowing event
            self._add_data(bytes(self._buf))
            self._buf.clear()
        return out

    def flush(self) -> list[SseEvent | Overflow]:
        """End of stream: an event not terminated by a blank line is discarded, per the SSE spec."""
        self.feed(b"")
        self._reset()
        return []

    def _line(self, line: bytes, out: list[SseEvent | Overflow]) -> None:
        if not line:
            self._dispatch(out)
            return
        if line.startswith(b":"):
            return  # comment / keep-alive
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            self._add_data(value)
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        # "id" and "retry" only matter for resumption, which the relay does not do.

    def _add_data(self, value: bytes) -> None:
        if self._head is None:
            self._data.append(value)
            self._size += len(value) + 1
            if self._size > self.max_event:
                joined = b"\n".join(self._data)
                self._head = joined[:_KEEP]
                self._tail = bytearray(joined[-_KEEP:])
                self._data.clear()
            return
        self._size += len(value) + 1
        self._tail += b"\n" + value
        del self._tail[:-_KEEP]

    def _dispatch(self, out: list[SseEvent | Overflow]) -> None:
        if self._head is not None:
            out.append(Overflow(self._head, bytes(self._tail), self._size))
        elif self._data:
            out.append(SseEvent(self._event or "message", b"\n".join(self._data)))
        self._reset()

    def _reset(self) -> None:
        self._data = []
        self._size = 0
        self._event = ""
        self._head = None
        self._tail = bytearray()


# --- the relay -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outgoing:
    """One line for the server, and what the relay must know to answer for it if HTTP fails."""

    body: bytes
    request_ids: tuple[Any, ...]  # ids of the requests in it (none for notifications/responses)
    initialize: bool


def _outgoing(line: bytes) -> _Outgoing:
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return _Outgoing(line, (), False)
    messages = message if isinstance(message, list) else [message]
    ids: list[Any] = []
    initialize = False
    for item in messages:
        if isinstance(item, dict) and isinstance(item.get("method"), str) and "id" in item:
            ids.append(item["id"])
            initialize = initialize or item["method"] == "initialize"
    return _Outgoing(line, tuple(ids), initialize)


def _one_line(payload: bytes) -> bytes | None:
    """``payload`` as a single JSON line (re-encoded if it spans lines); None if it is not JSON."""
    if b"\n" not in payload and b"\r" not in payload:
        return payload.strip() or None
    try:
        value = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _UpstreamFailure(Exception):
    def __init__(self, tag: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.tag = tag
        self.status = status


class HttpRelay:
    """One ``distrust run`` session against a remote Streamable HTTP server."""

    def __init__(
        self,
        url: str,
        gateway: Gateway,
        *,
        stdin: IO[bytes],
        stdout: IO[bytes],
        headers: Mapping[str, str] | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 300.0,
        grace: float = 3.0,
        max_line: int = STREAM_LIMIT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = check_remote_url(url)
        self.gateway = gateway
        self._stdin = stdin
        self._stdout = stdout
        self._headers = dict(headers or {})
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self.grace = grace
        self.max_line = max_line
        self._transport = transport
        self.session_id: str | None = None
        self.protocol_version: str | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._write_lock = asyncio.Lock()
        self._stop = asyncio.Event()

    async def run(self) -> int:
        audit = self.gateway.audit
        audit.event(self.gateway.server, "server-start", {"url": _safe_url(self.url), "transport": "http"})
        self._sink = await _Sink.open(self._stdout)
        source = await _open_source(self._stdin)
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._stop.set)
                installed.append(sig)
        client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False, transport=self._transport)
        try:
            await self._client_loop(source, client)
            if self._tasks:  # let answers already on their way reach the client
                await asyncio.wait(set(self._tasks), timeout=self.grace)
            for task in list(self._tasks):
                task.cancel()
            for task in list(self._tasks):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            out = Routed()
            self.gateway.server_gone("client disconnected", client_gone=True, out=out)
            await self._end_session(client)
            audit.event(
                self.gateway.server, "server-exit", {"how": "client disconnected", "client_gone": True}
            )
            await asyncio.wrap_future(audit.durable())
        finally:
            await client.aclose()
            for sig in installed:
                loop.remove_signal_handler(sig)
            self._sink.close()
        return 0

    # --- client → server ------------------------------------------------------------------------

    async def _client_loop(self, source: asyncio.StreamReader, client: httpx.AsyncClient) -> None:
        splitter = LineSplitter(self.max_line)
        stop = asyncio.create_task(self._stop.wait())
        try:
            while True:
                read = asyncio.create_task(source.read(CHUNK))
                await asyncio.wait({read, stop}, return_when=asyncio.FIRST_COMPLETED)
                if not read.done():
                    read.cancel()
                    return
                chunk = read.result()
                items = splitter.feed(chunk) if chunk else splitter.flush()
                for item in items:
                    out = Routed()
                    if isinstance(item, Overflow):
                        self.gateway.overflow(False, item.head, item.tail, item.size, out)
                    else:
                        self.gateway.from_client(item, out)
                    await self._to_client(out)
                    for line in out.to_server:
                        await self._send(client, _outgoing(line))
                if not chunk:
                    return
        finally:
            stop.cancel()

    async def _send(self, client: httpx.AsyncClient, message: _Outgoing) -> None:
        """Start one POST; wait for its headers (bounded, except initialize) to keep order."""
        headers_in = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(self._post(client, message, headers_in))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        # initialize must finish first: its answer carries the session id every later POST needs.
        waiting_for = task if message.initialize else headers_in
        await asyncio.wait({waiting_for}, timeout=None if message.initialize else ORDER_WAIT)

    def _request_headers(self) -> dict[str, str]:
        headers = dict(self._headers)
        headers["Accept"] = "application/json, text/event-stream"
        headers["Content-Type"] = "application/json"
        if self.session_id is not None:
            headers[SESSION_HEADER] = self.session_id
        if self.protocol_version is not None:
            headers[PROTOCOL_HEADER] = self.protocol_version
        return headers

    async def _post(
        self, client: httpx.AsyncClient, message: _Outgoing, headers_in: asyncio.Future[None]
    ) -> None:
        unanswered = {k: i for i in message.request_ids if (k := _id_key(i)) is not None}
        try:
            request = client.build_request(
                "POST", self.url, content=message.body, headers=self._request_headers()
            )
            response = await client.send(request, stream=True)
            try:
                if not headers_in.done():
                    headers_in.set_result(None)
                await self._receive(response, message, unanswered)
            finally:
                await response.aclose()
        except _UpstreamFailure as exc:
            await self._fail(unanswered, exc)
        except httpx.TimeoutException:
            await self._fail(unanswered, _UpstreamFailure("unreachable", "the remote MCP server timed out"))
        except httpx.HTTPError as exc:
            reason = type(exc).__name__
            await self._fail(
                unanswered, _UpstreamFailure("unreachable", f"cannot reach the remote MCP server ({reason})")
            )
        finally:
            if not headers_in.done():
                headers_in.set_result(None)

    async def _receive(
        self, response: httpx.Response, message: _Outgoing, unanswered: dict[str, Any]
    ) -> None:
        status = response.status_code
        if status in (202, 204):
            if unanswered:  # its answer could only come on the GET stream, which the relay does not open
                raise _UpstreamFailure(
                    "bad-response", "the remote MCP server accepted a request without answering it", status
                )
            return
        if status == 404 and self.session_id is not None:
            raise _UpstreamFailure(
                "session-expired", "the remote MCP server ended the session; reconnect the client", status
            )
        if not 200 <= status < 300:
            raise _UpstreamFailure(
                "http-status",
                f"the remote MCP server answered HTTP {status} {response.reason_phrase}",
                status,
            )
        if message.initialize:
            session = response.headers.get(SESSION_HEADER)
            if session:
                self.session_id = session
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "text/event-stream":
            await self._read_sse(response, message, unanswered)
        elif kind == "application/json":
            await self._read_json(response, message, unanswered)
        else:
            raise _UpstreamFailure(
                "bad-response", f"the remote MCP server answered with content type {kind or 'none'!r}", status
            )
        if unanswered:
            raise _UpstreamFailure(
                "stream-ended", "the remote MCP server closed the stream without answering"
            )

    async def _read_json(
        self, response: httpx.Response, message: _Outgoing, unanswered: dict[str, Any]
    ) -> None:
        body = bytearray()
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size <= self.max_line:
                body += chunk
        if size > self.max_line:
            await self._server_overflow(bytes(body[:_KEEP]), bytes(body[-_KEEP:]), size, unanswered)
            return
        line = _one_line(bytes(body))
        if line is None:
            raise _UpstreamFailure("bad-response", "the remote MCP server sent a body that is not JSON")
        await self._from_server(line, message, unanswered)

    async def _read_sse(
        self, response: httpx.Response, message: _Outgoing, unanswered: dict[str, Any]
    ) -> None:
        parser = SseParser(self.max_line)
        async for chunk in response.aiter_bytes():
            for item in parser.feed(chunk):
                if isinstance(item, Overflow):
                    await self._server_overflow(item.head, item.tail, item.size, unanswered)
                    continue
                if item.event != "message":
                    continue
                line = _one_line(item.data)
                if line is not None:
                    await self._from_server(line, message, unanswered)
        parser.flush()

    async def _from_server(self, line: bytes, message: _Outgoing, unanswered: dict[str, Any]) -> None:
        parsed: Any = None
        if unanswered or message.initialize:
            with contextlib.suppress(ValueError, RecursionError):
                parsed = json.loads(line)
        for item in parsed if isinstance(parsed, list) else [parsed]:
            if isinstance(item, dict) and "method" not in item and "id" in item:
                key = _id_key(item["id"])
                if key is not None:
                    unanswered.pop(key, None)
                result = item.get("result")
                if message.initialize and isinstance(result, dict):
                    version = result.get("protocolVersion")
                    if isinstance(version, str) and version.isprintable() and len(version) < 64:
                        self.protocol_version = version
        out = Routed()
        self.gateway.from_server(line, out)
        await self._to_client(out)

    async def _server_overflow(self, head: bytes, tail: bytes, size: int, unanswered: dict[str, Any]) -> None:
        out = Routed()
        self.gateway.overflow(True, head, tail, size, out)
        for reply in out.to_client:
            with contextlib.suppress(ValueError):
                answered = json.loads(reply).get("id")
                unanswered.pop(_id_key(answered) or "", None)
        await self._to_client(out)

    async def _fail(self, unanswered: dict[str, Any], failure: _UpstreamFailure) -> None:
        """Answer every request of a failed POST, through the gateway so its audit rows close."""
        if not unanswered:
            self.gateway.notify(f"distrust: {self.gateway.server}: {failure}")
            return
        data: dict[str, Any] = {"distrust": failure.tag}
        if failure.status is not None:
            data["status"] = failure.status
        for request_id in list(unanswered.values()):
            self.gateway.flag_call(request_id, "server-died", str(failure))
            out = Routed()
            self.gateway.from_server(error_response(request_id, UPSTREAM_ERROR_CODE, str(failure), data), out)
            await self._to_client(out)
        unanswered.clear()

    async def _to_client(self, out: Routed) -> None:
        if out.durable:
            await asyncio.wrap_future(self.gateway.audit.durable())
        if out.to_client:
            async with self._write_lock:
                await self._sink.write(b"".join(line + b"\n" for line in out.to_client))

    async def _end_session(self, client: httpx.AsyncClient) -> None:
        """Tell the server the session is over (it may refuse with 405; nothing to do then)."""
        if self.session_id is None:
            return
        with contextlib.suppress(httpx.HTTPError):
            await client.request(
                "DELETE", self.url, headers=self._request_headers(), timeout=min(self.grace, 5.0)
            )


def run_http_relay(
    url: str,
    *,
    server_name: str,
    surfaces: SurfaceStore,
    audit: AuditLog,
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
    headers: Mapping[str, str] | None = None,
    connect_timeout: float = 10.0,
    read_timeout: float = 300.0,
    grace: float = 3.0,
    notify: Callable[[str], None] | None = None,
) -> int:
    """Relay the client on stdin/stdout to the remote server at ``url`` until the client leaves.

    Returns 0 when the client disconnects (remote failures are answered as JSON-RPC errors,
    not exit codes: the client stays usable). Raises :class:`RemoteUrlError` before doing
    anything if ``url`` is not https:// or loopback http://.
    """
    check_remote_url(url)
    gateway = Gateway(server_name, surfaces, audit, notify=notify)
    relay = HttpRelay(
        url,
        gateway,
        stdin=stdin or sys.stdin.buffer,
        stdout=stdout or sys.stdout.buffer,
        headers=headers,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        grace=grace,
    )
    _register(gateway)
    try:
        return asyncio.run(relay.run())
    finally:
        _unregister(gateway)


def main(argv: list[str] | None = None) -> int:
    """``python -m distrust.gateway.http_relay --name N --pins P URL``: the relay without the CLI."""
    parser = argparse.ArgumentParser(prog="python -m distrust.gateway.http_relay")
    parser.add_argument("--name", required=True, help="server name (key of its pins and audit rows)")
    parser.add_argument("--pins", type=Path, required=True, help="JSON file of pinned surfaces")
    parser.add_argument("--audit", type=Path, default=None, help="audit database (default: data dir)")
    parser.add_argument("--connect-timeout", type=float, default=10.0)
    parser.add_argument("--read-timeout", type=float, default=300.0)
    parser.add_argument("--grace", type=float, default=3.0, help="seconds to wait for answers at exit")
    parser.add_argument("url")
    args = parser.parse_args(argv)
    try:
        with AuditLog(args.audit) as audit:
            return run_http_relay(
                args.url,
                server_name=args.name,
                surfaces=FileSurfaceStore(args.pins),
                audit=audit,
                connect_timeout=args.connect_timeout,
                read_timeout=args.read_timeout,
                grace=args.grace,
            )
    except ValueError as exc:  # RemoteUrlError, bad pins file
        print(f"distrust: {exc}", file=sys.stderr)
        return 2


__all__ = [
    "UPSTREAM_ERRORS",
    "HttpRelay",
    "RemoteUrlError",
    "SseEvent",
    "SseParser",
    "check_remote_url",
    "main",
    "run_http_relay",
]

if __name__ == "__main__":
    sys.exit(main())
