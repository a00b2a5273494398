"""The egress proxy: every HTTP(S) request a sandboxed server makes passes through here.

The sandbox's only network exit is this proxy (a unix socket bridged into the sandbox). It
accepts plain ``GET http://host/path`` proxy requests and ``CONNECT host:443`` tunnels; inside a
tunnel it terminates TLS with a leaf from :class:`~distrust.gateway.egress.tls.CertificateAuthority`
and reads the HTTP/1.1 requests with h11. Each request is decoded (body collected up to a cap,
``Content-Encoding`` removed) and shown to the inspectors; a blocking verdict is answered with a
403 and the upstream is never contacted. Everything fails closed: an unknown encoding, a body
over the cap, an inspector that raises, a host that is not allowed — all are refused.

The proxy core knows nothing of email: that is the inspectors' business.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import h11
import httpx

from distrust.gateway.egress import (
    InflightCall,
    InspectionContext,
    Inspector,
    IntentSource,
    OutboundRequest,
    Verdict,
)
from distrust.gateway.egress.policy import EgressPolicy, HostDecision, normalise_host
from distrust.gateway.egress.tls import CertificateAuthority

log = logging.getLogger(__name__)

READ_CHUNK = 65536
# A client that opens a connection and then says nothing must not hold it forever.
IDLE_TIMEOUT = 120.0
TLS_HANDSHAKE_TIMEOUT = 15.0
CLOSE_TIMEOUT = 5.0
UPSTREAM_TIMEOUT = httpx.Timeout(60.0, connect=15.0)

# Headers that describe one connection, not the message; never forwarded in either direction.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
    }
)

EventSink = Callable[[dict[str, Any]], None]
ContextSource = Callable[[], InspectionContext]


def _brotli_decompressor() -> Callable[[bytes, int], bytes] | None:
    """A capped brotli decoder: stops once the output passes ``limit`` (a br bomb stays small)."""
    try:
        import brotli
    except ImportError:
        return None

    def decompress(data: bytes, limit: int) -> bytes:
        decoder = brotli.Decompressor()
        out = bytearray(decoder.process(data, output_buffer_limit=limit + 1))
        while len(out) <= limit and not decoder.is_finished() and not decoder.can_accept_more_data():
            out += decoder.process(b"", output_buffer_limit=limit + 1 - len(out))
        return bytes(out)

    return decompress


_BROTLI = _brotli_decompressor()


class RequestRefused(Exception):
    """A request the proxy answers itself, with ``status`` and a reason, instead of forwarding."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def decode_body(body: bytes, encoding: str | None, limit: int) -> bytes:
    """Remove ``Content-Encoding`` layers (last applied first) so inspectors read plain bytes.

    The decoded size is capped too: a 10 kB gzip bomb must not become 10 GB in memory. An
    encoding the proxy cannot undo is refused, because an uninspectable body must not leave.
    """
    if not encoding:
        return body
    layers = [part.strip().lower() for part in encoding.split(",") if part.strip()]
    for layer in reversed(layers):
        if layer == "identity":
            continue
        if layer in ("gzip", "x-gzip", "deflate"):
            body = _inflate(body, layer, limit)
        elif layer == "br" and _BROTLI is not None:
            try:
                body = _BROTLI(body, limit)
            except Exception as exc:  # brotli raises its own error type
                raise RequestRefused(400, f"request body is not valid br data ({exc})") from None
        else:
            raise RequestRefused(
                415, f"request Content-Encoding {layer!r} cannot be inspected, so it is not sent"
            )
        if len(body) > limit:
            raise RequestRefused(413, f"decoded request body exceeds the {limit}-byte inspection limit")
    return body


def _inflate(body: bytes, layer: str, limit: int) -> bytes:
    # gzip framing (wbits 16+), zlib-wrapped deflate (15) and, as many clients send, raw deflate (-15).
    attempts = (16 + zlib.MAX_WBITS,) if layer != "deflate" else (zlib.MAX_WBITS, -zlib.MAX_WBITS)
    for wbits in attempts:
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, limit + 1)
        except zlib.error:
            continue
        if len(out) > limit or inflater.unconsumed_tail:
            raise RequestRefused(413, f"decoded request body exceeds the {limit}-byte inspection limit")
        if not inflater.eof:
            raise RequestRefused(400, f"request body is truncated {layer} data")
        return out
    raise RequestRefused(400, f"request body is not valid {layer} data")


@dataclass(frozen=True)
class _Target:
    """Where a request is headed, as the server asked for it (not where an override sends it)."""

    scheme: str
    host: str
    port: int


class _Stream:
    """One client connection: asyncio streams plus the h11 state machine reading them."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.conn = h11.Connection(h11.SERVER)

    async def next_event(self) -> h11.Event | type[h11.PAUSED]:
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                data = await asyncio.wait_for(self.reader.read(READ_CHUNK), IDLE_TIMEOUT)
                self.conn.receive_data(data)
                continue
            return event  # type: ignore[return-value]

    async def send(self, *events: h11.Event) -> None:
        for event in events:
            data = self.conn.send(event)
            if data:
                self.writer.write(data)
        await self.writer.drain()

    def can_respond(self) -> bool:
        return self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE)

    async def respond_json(self, status: int, payload: Mapping[str, Any], *, close: bool = False) -> None:
        body = json.dumps(payload).encode()
        headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
        if close:
            headers.append(("connection", "close"))
        await self.send(
            h11.Response(status_code=status, headers=headers), h11.Data(data=body), h11.EndOfMessage()
        )


class EgressProxy:
    """The proxy for one MCP server's sandbox; ``server`` is its lock name, used in every record.

    ``context`` returns the inspection context template (allowed recipients, IOCs, secrets);
    the proxy fills in the calls in flight at the moment each request arrives. ``on_event``
    receives one dict per decision, for the audit log. ``upstream_ssl`` replaces the system
    trust store for upstream connections (tests with a private upstream CA).
    """

    def __init__(
        self,
        server: str,
        policy: EgressPolicy,
        inspectors: Sequence[Inspector],
        intent: IntentSource,
        ca: CertificateAuthority,
        *,
        context: ContextSource | None = None,
        on_event: EventSink | None = None,
        upstream_ssl: ssl.SSLContext | None = None,
    ) -> None:
        self.server = server
        self.policy = policy
        self.inspectors = tuple(inspectors)
        self.intent = intent
        self.ca = ca
        self._context = context
        self._on_event = on_event
        self._upstream_ssl = upstream_ssl if upstream_ssl is not None else ssl.create_default_context()
        self._servers: list[asyncio.base_events.Server] = []
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._connections: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.address: str | tuple[str, int] | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    async def start_unix(self, path: Path) -> None:
        """Listen on a unix socket (what the sandbox's socat bridge connects to), mode 0600."""
        path.unlink(missing_ok=True)
        server = await asyncio.start_unix_server(self._handle, path=str(path), limit=READ_CHUNK * 4)
        path.chmod(0o600)
        self._servers.append(server)
        self.address = str(path)

    async def start_tcp(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Listen on TCP (tests and benchmarks); returns the bound address (port 0 picks one)."""
        server = await asyncio.start_server(self._handle, host=host, port=port, limit=READ_CHUNK * 4)
        self._servers.append(server)
        sockname = server.sockets[0].getsockname()
        self.address = (str(sockname[0]), int(sockname[1]))
        return self.address

    async def close(self) -> None:
        """Stop listening, drop open client connections and upstream pools."""
        for server in self._servers:
            server.close()
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=CLOSE_TIMEOUT)
        for server in self._servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()
        self._servers.clear()
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()

    # --- connection handling -------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._connections.add(writer)
        if task is not None:
            self._tasks.add(task)
        try:
            await self._handle_connection(_Stream(reader, writer))
        except asyncio.CancelledError:
            # Only close() cancels a connection task; this task is the outermost frame, and
            # asyncio's stream callback would log a cancelled handler as an error.
            writer.transport.abort()
        finally:
            self._connections.discard(writer)
            if task is not None:
                self._tasks.discard(task)

    async def _handle_connection(self, stream: _Stream) -> None:
        writer = stream.writer
        try:
            await self._serve(stream, tunnel=None)
        except (TimeoutError, ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass  # the client went away or stalled; nothing to answer
        except Exception:
            # One connection's bug must never take the proxy down for the others.
            log.exception("egress proxy: connection failed")
            if stream.can_respond():
                with contextlib.suppress(Exception):
                    await stream.respond_json(502, {"error": "distrust proxy internal error"}, close=True)
        writer.close()
        try:
            # A TLS peer that never answers our close_notify must not keep the task alive.
            await asyncio.wait_for(writer.wait_closed(), CLOSE_TIMEOUT)
        except Exception:
            writer.transport.abort()

    async def _serve(self, stream: _Stream, tunnel: _Target | None) -> None:
        """Answer requests on one connection until either side ends it (HTTP keep-alive)."""
        while True:
            try:
                event = await stream.next_event()
            except h11.RemoteProtocolError as exc:
                if stream.can_respond():
                    await stream.respond_json(400, {"error": f"malformed HTTP request: {exc}"}, close=True)
                return
            if isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return
            if not isinstance(event, h11.Request):
                return
            if event.method == b"CONNECT" and tunnel is None:
                await self._connect(stream, event)
                return
            keep_going = await self._request(stream, event, tunnel)
            if (
                not keep_going
                or stream.conn.our_state is not h11.DONE
                or stream.conn.their_state is not h11.DONE
            ):
                return
            stream.conn.start_next_cycle()

    async def _connect(self, stream: _Stream, request: h11.Request) -> None:
        started = time.perf_counter()
        authority = request.target.decode("ascii", "replace")
        try:
            host, port = _split_authority(authority, default_port=443)
        except ValueError as exc:
            await stream.respond_json(400, {"error": f"malformed CONNECT target: {exc}"}, close=True)
            return
        decision = await self._decide(host, port)
        if decision.reason is not None:
            self._emit(
                "deny",
                "CONNECT",
                _Target("https", host, port),
                "",
                started,
                reason=decision.reason,
                status=403,
            )
            await stream.respond_json(
                403, {"error": f"distrust blocked this connection: {decision.reason}"}, close=True
            )
            return
        # Mint (or fetch) the leaf first and stop reading before the 200 goes out: the client's
        # TLS hello follows the 200 at once, and bytes read into the plain stream would be lost
        # to the TLS layer, stalling the handshake.
        context = self.ca.cached_context(host)
        if context is None:
            context = await asyncio.to_thread(self.ca.leaf_context, host)
        if stream.conn.trailing_data[0]:
            # The client sent bytes before our 200: not a client we can serve safely.
            reason = "data sent before the tunnel was established"
            await stream.respond_json(400, {"error": reason}, close=True)
            return
        transport = stream.writer.transport
        if isinstance(transport, asyncio.ReadTransport):
            transport.pause_reading()
        self._emit("tunnel", "CONNECT", _Target("https", host, port), "", started, status=200)
        await stream.send(h11.Response(status_code=200, headers=[], reason=b"Connection established"))
        await stream.writer.start_tls(context, ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT)
        inner = _Stream(stream.reader, stream.writer)
        await self._serve(inner, tunnel=_Target("https", host, port))

    async def _decide(self, host: str, port: int) -> HostDecision:
        quick = self.policy.decide_without_dns(host, port)
        if quick is not None:
            return quick
        return await asyncio.to_thread(self.policy.decide, host, port)

    async def _request(self, stream: _Stream, request: h11.Request, tunnel: _Target | None) -> bool:
        """Handle one request; return False when the connection must close afterwards."""
        started = time.perf_counter()
        method = request.method.decode("ascii", "replace")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw_items()]
        try:
            target, path = self._target(request, tunnel, headers)
        except RequestRefused as refused:
            unknown = tunnel or _Target("http", "", 0)
            self._emit("refuse", method, unknown, "", started, reason=refused.reason, status=refused.status)
            await stream.respond_json(refused.status, {"error": refused.reason}, close=True)
            return False
        if stream.conn.they_are_waiting_for_100_continue:
            await stream.send(h11.InformationalResponse(status_code=100, headers=[]))
        try:
            raw_body = await self._read_body(stream)
        except h11.RemoteProtocolError as exc:
            if stream.can_respond():
                await stream.respond_json(400, {"error": f"malformed HTTP request body: {exc}"}, close=True)
            return False
        except RequestRefused as refused:
            self._emit("refuse", method, target, path, started, reason=refused.reason, status=refused.status)
            await stream.respond_json(refused.status, {"error": refused.reason}, close=True)
            return False

        decision = await self._decide(target.host, target.port)
        if decision.reason is not None:
            self._emit("deny", method, target, path, started, reason=decision.reason, status=403)
            await stream.respond_json(403, {"error": f"distrust blocked this request: {decision.reason}"})
            return True
        try:
            content_encoding = next((v for k, v in headers if k.lower() == "content-encoding"), None)
            body = decode_body(raw_body, content_encoding, self.policy.max_body)
        except RequestRefused as refused:
            self._emit("refuse", method, target, path, started, reason=refused.reason, status=refused.status)
            await stream.respond_json(refused.status, {"error": refused.reason})
            return True

        outbound = OutboundRequest(
            server=self.server,
            method=method,
            scheme=target.scheme,
            host=target.host,
            port=target.port,
            path=path,
            headers=tuple(headers),
            body=body,
        )
        verdict = self._inspect(outbound)
        if verdict is not None and not verdict.allow:
            if verdict.call_id:
                try:
                    self.intent.flag(self.server, verdict.call_id, verdict.reason)
                except Exception:
                    log.exception("egress proxy: reporting a block to the relay failed")
            self._emit(
                "block",
                method,
                target,
                path,
                started,
                reason=verdict.reason,
                status=403,
                verdict=verdict,
                bytes_out=len(raw_body),
            )
            await stream.respond_json(
                403,
                {
                    "error": f"distrust blocked this request: {verdict.reason}",
                    "inspector": verdict.inspector,
                    "field": verdict.field,
                    "value": verdict.value,
                    "call_id": verdict.call_id,
                },
            )
            return True
        return await self._forward(stream, outbound, raw_body, decision, started, verdict)

    def _target(
        self, request: h11.Request, tunnel: _Target | None, headers: list[tuple[str, str]]
    ) -> tuple[_Target, str]:
        raw = request.target.decode("ascii", "replace")
        host_header = next((v for k, v in headers if k.lower() == "host"), "")
        if tunnel is not None:
            if not raw.startswith("/"):
                raise RequestRefused(400, "requests inside a tunnel must use a path (origin-form) target")
            # Domain fronting: a Host other than the tunnel's would reach a host nobody checked.
            if host_header:
                try:
                    named, _ = _split_authority(host_header, default_port=tunnel.port)
                except ValueError as exc:
                    raise RequestRefused(400, f"malformed Host header: {exc}") from None
                if named != tunnel.host:
                    raise RequestRefused(
                        403, f"Host header {named} does not match the tunnel to {tunnel.host}"
                    )
            return tunnel, raw
        parts = urlsplit(raw)
        if parts.scheme != "http" or not parts.netloc:
            raise RequestRefused(
                400, "plain proxy requests must use an absolute http:// URL; use CONNECT for https"
            )
        try:
            host, port = _split_authority(parts.netloc, default_port=80)
        except ValueError as exc:
            raise RequestRefused(400, f"malformed request target: {exc}") from None
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        return _Target("http", host, port), path

    async def _read_body(self, stream: _Stream) -> bytes:
        chunks: list[bytes] = []
        size = 0
        limit = self.policy.max_body
        while True:
            event = await stream.next_event()
            if isinstance(event, h11.Data):
                size += len(event.data)
                if size > limit:
                    # The rest cannot be inspected, so none of it may leave.
                    raise RequestRefused(413, f"request body exceeds the {limit}-byte inspection limit")
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return b"".join(chunks)
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionResetError("client closed the connection mid-request")

    def _inspect(self, request: OutboundRequest) -> Verdict | None:
        """Run every inspector that claims the request; the first block wins, errors block."""
        calls: tuple[InflightCall, ...] = tuple(self.intent.inflight(self.server))
        template = self._context() if self._context is not None else InspectionContext(calls=())
        context = replace(template, calls=calls)
        first_allow: Verdict | None = None
        for inspector in self.inspectors:
            name = getattr(inspector, "name", type(inspector).__name__)
            try:
                if not inspector.matches(request):
                    continue
                verdict = inspector.inspect(request, context)
            except Exception as exc:
                log.exception("egress inspector %s failed", name)
                return Verdict(
                    allow=False, reason=f"inspector {name} failed ({type(exc).__name__})", inspector=name
                )
            if verdict is None:
                continue
            if not verdict.allow:
                return verdict
            first_allow = first_allow or verdict
        return first_allow

    # --- upstream --------------------------------------------------------------------------------

    def _client(self, key: str) -> httpx.AsyncClient:
        # One pool per host: connections are pinned to a checked IP with that host's SNI, so two
        # hosts behind one IP must never share a connection verified for the other.
        client = self._clients.get(key)
        if client is None:
            client = httpx.AsyncClient(
                verify=self._upstream_ssl,
                trust_env=False,  # never route through an inherited proxy, least of all ourselves
                follow_redirects=False,
                timeout=UPSTREAM_TIMEOUT,
            )
            self._clients[key] = client
        return client

    async def _forward(
        self,
        stream: _Stream,
        outbound: OutboundRequest,
        raw_body: bytes,
        decision: HostDecision,
        started: float,
        verdict: Verdict | None,
    ) -> bool:
        target = _Target(outbound.scheme, outbound.host, outbound.port)
        # Host always names the checked target: a plain request for http://allowed/ carrying
        # "Host: elsewhere" must not reach a virtual host nobody checked.
        headers = [
            (k, v)
            for k, v in outbound.headers
            if k.lower() not in HOP_BY_HOP and k.lower() not in ("content-length", "host")
        ]
        headers.insert(0, ("host", _authority(target)))
        extensions: dict[str, Any] = {}
        if decision.override is not None:
            url = decision.override + outbound.path
            client = self._client("override:" + decision.override)
        else:
            assert decision.address is not None
            ip = f"[{decision.address}]" if ":" in decision.address else decision.address
            url = f"{outbound.scheme}://{ip}:{outbound.port}{outbound.path}"
            if outbound.scheme == "https":
                extensions["sni_hostname"] = outbound.host  # verify the certificate for the name
            client = self._client(f"{outbound.scheme}://{outbound.host}:{outbound.port}")
        upstream_request = client.build_request(
            outbound.method, url, headers=headers, content=raw_body, extensions=extensions
        )
        try:
            response = await client.send(upstream_request, stream=True)
        except httpx.HTTPError as exc:
            reason = f"upstream {outbound.host} failed: {type(exc).__name__}"
            self._emit(
                "error",
                outbound.method,
                target,
                outbound.path,
                started,
                reason=reason,
                status=502,
                bytes_out=len(raw_body),
            )
            await stream.respond_json(502, {"error": reason})
            return True
        received = 0
        try:
            response_headers = [
                (k.decode("latin-1"), v.decode("latin-1"))
                for k, v in response.headers.raw
                if k.decode("latin-1").lower() not in HOP_BY_HOP
            ]
            await stream.send(
                h11.Response(
                    status_code=response.status_code,
                    headers=response_headers,
                    reason=response.reason_phrase.encode("latin-1", "replace"),
                )
            )
            async for chunk in response.aiter_raw():
                received += len(chunk)
                await stream.send(h11.Data(data=chunk))
            await stream.send(h11.EndOfMessage())
        except (httpx.HTTPError, h11.LocalProtocolError) as exc:
            # Headers are out already; all we can do is cut the connection so the client sees a failure.
            self._emit(
                "error",
                outbound.method,
                target,
                outbound.path,
                started,
                reason=f"upstream response failed: {type(exc).__name__}",
                status=response.status_code,
                bytes_out=len(raw_body),
                bytes_in=received,
            )
            return False
        finally:
            await response.aclose()
        self._emit(
            "allow",
            outbound.method,
            target,
            outbound.path,
            started,
            status=response.status_code,
            verdict=verdict,
            bytes_out=len(raw_body),
            bytes_in=received,
            upstream=decision.override,
        )
        return True

    # --- audit -----------------------------------------------------------------------------------

    def _emit(
        self,
        decision: str,
        method: str,
        target: _Target,
        path: str,
        started: float,
        *,
        reason: str = "",
        status: int | None = None,
        verdict: Verdict | None = None,
        bytes_out: int = 0,
        bytes_in: int = 0,
        upstream: str | None = None,
    ) -> None:
        if self._on_event is None:
            return
        event: dict[str, Any] = {
            "kind": "egress",
            "server": self.server,
            "decision": decision,  # tunnel | allow | block (inspector) | deny (policy) | refuse | error
            "method": method,
            "scheme": target.scheme,
            "host": target.host,
            "port": target.port,
            # The query string is dropped: APIs put tokens there, and the audit log keeps no secrets.
            "path": path.split("?", 1)[0],
            "status": status,
            "reason": reason,
            "bytes_out": bytes_out,
            "bytes_in": bytes_in,
            "ms": round((time.perf_counter() - started) * 1000, 3),
        }
        if verdict is not None:
            event.update(
                inspector=verdict.inspector, field=verdict.field, value=verdict.value, call_id=verdict.call_id
            )
        if upstream is not None:
            event["upstream"] = upstream
        try:
            self._on_event(event)
        except Exception:
            log.exception("egress proxy: audit callback failed")


def _split_authority(authority: str, *, default_port: int) -> tuple[str, int]:
    """``host[:port]`` or ``[v6]:port`` → (normalised host, port); ValueError says what is wrong."""
    authority = authority.strip()
    if not authority or any(c in authority for c in "/@ \t"):
        raise ValueError(f"{authority!r} is not host[:port]")
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise ValueError(f"{authority!r} has an unclosed IPv6 bracket")
        host, rest = authority[1:end], authority[end + 1 :]
        if rest and not rest.startswith(":"):
            raise ValueError(f"{authority!r} is not host[:port]")
        port_text = rest[1:] if rest else ""
    elif authority.count(":") > 1:
        raise ValueError(f"{authority!r}: IPv6 addresses must be in brackets")
    else:
        host, _, port_text = authority.partition(":")
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"{authority!r} has an invalid port")
        port = int(port_text)
    else:
        port = default_port
    host = normalise_host(host)
    if not host:
        raise ValueError(f"{authority!r} has no host")
    return host, port


def _authority(target: _Target) -> str:
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"


class EgressProxyThread:
    """Runs an :class:`EgressProxy` on its own event loop in a daemon thread.

    ``distrust run`` keeps the stdio relay on the main loop; the proxy must keep answering even
    while that loop is busy, so it gets a loop of its own. ``start()`` returns once the proxy is
    listening (or raises what stopped it); ``stop()`` closes it and joins the thread.
    """

    def __init__(
        self,
        proxy: EgressProxy,
        *,
        unix_path: Path | None = None,
        tcp: tuple[str, int] | None = None,
    ) -> None:
        if (unix_path is None) == (tcp is None):
            raise ValueError("EgressProxyThread needs exactly one of unix_path or tcp")
        self.proxy = proxy
        self._unix_path = unix_path
        self._tcp = tcp
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def address(self) -> str | tuple[str, int] | None:
        return self.proxy.address

    def start(self, timeout: float = 10.0) -> None:
        self._thread = threading.Thread(target=self._run, name=f"egress-{self.proxy.server}", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("egress proxy did not start in time")
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            if self._unix_path is not None:
                loop.run_until_complete(self.proxy.start_unix(self._unix_path))
            elif self._tcp is not None:
                loop.run_until_complete(self.proxy.start_tcp(*self._tcp))
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(self.proxy.close())
            loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self.proxy.close(), loop)
        with contextlib.suppress(Exception):
            future.result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)

    def __enter__(self) -> EgressProxyThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
