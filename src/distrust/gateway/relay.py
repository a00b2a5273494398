"""The MCP relay: sits on the stdio pipe between a client and a server it does not trust.

The client (Claude Desktop, Cursor, an SDK) starts ``distrust run -- CMD`` instead of ``CMD``;
the relay starts ``CMD`` with a minimal environment and copies newline-delimited JSON-RPC
between the two. It parses only what the pinning policy and the audit log need:

================================  =========================================================
message                           what the relay does
================================  =========================================================
``initialize``/``server/discover``  response: ``instructions`` checked against the pin
``tools/list``                    response: tools not approved are removed (``pins.PinGuard``)
``tools/call``                    request: refused if the tool is not approved, else tracked
                                  and audited; response: audited, durable before forwarding
``notifications/cancelled``       a tracked call is closed in the audit log (then forwarded)
``notifications/tools/list_changed``  recorded (the next ``tools/list`` is checked again)
everything else                   forwarded byte for byte, in order, never parsed
================================  =========================================================

A cheap byte search decides whether a line can be one of these before any JSON parsing (a
method name can only hide from it behind a backslash escape, and lines with backslashes are
parsed), so the pass-through traffic costs a ``bytes.find`` and a copy.

If the server dies, every tracked request still waiting gets a JSON-RPC error and an audit
row, and the relay exits; when the client goes away, the server is stopped (stdin closed,
then SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from distrust.gateway.audit import AuditLog, redact_value
from distrust.gateway.launch import (
    STREAM_LIMIT,
    LaunchError,
    ServerLaunch,
    describe_exit,
    minimal_env,
    spawn,
    terminate,
)
from distrust.gateway.pins import BLOCKED_TOOL_CODE, FileSurfaceStore, PinGuard
from distrust.gateway.surface import SurfaceStore

# --- JSON-RPC errors the relay itself sends -------------------------------------------------


@dataclass(frozen=True)
class RelayErrorCode:
    """A JSON-RPC error the gateway answers with, and when."""

    code: int
    name: str
    meaning: str


RELAY_ERRORS: tuple[RelayErrorCode, ...] = (
    RelayErrorCode(BLOCKED_TOOL_CODE, "tool-blocked", "tools/call to a tool that is not approved"),
    RelayErrorCode(-32603, "server-exited", "the server exited while the request was in flight"),
    RelayErrorCode(-32600, "message-too-large", "a message longer than the line limit was dropped"),
)
SERVER_EXITED_CODE = -32603
TOO_LARGE_CODE = -32600

CHUNK = 256 * 1024

# Byte strings whose absence proves a client line is of no interest to the relay. Any method
# name the relay handles contains one of them, unless written with JSON escapes, which need a
# backslash: lines with a backslash are therefore parsed too.
_CLIENT_INTEREST = (b"tools/", b"initialize", b"server/discover", b"cancelled", b"\\")


_JS_NUMBER = re.compile(
    r"\s*(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+)\s*"
)


def _id_key(value: Any) -> str | None:
    """A dictionary key for a JSON-RPC id, as loose as the loosest client compares them.

    The TypeScript SDK looks responses up by ``Number(response.id)``, so a server answering
    request ``3`` with id ``"3"``, ``3.0`` or ``"0x3"`` still reaches the waiting request. The
    relay must match those too, or a doctored ``tools/list`` answer would slip past the pins.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str) and _JS_NUMBER.fullmatch(value):
        text = value.strip()
        try:
            value = int(text, 0) if text[:2].lower() in ("0x", "0o", "0b") else float(text)
        except ValueError:
            return f"s:{value}"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return f"s:{value}"
        if value.is_integer():
            value = int(value)
    if isinstance(value, int | float):
        return f"n:{value}"
    if isinstance(value, str):
        return f"s:{value}"
    return None


def _encode(message: Any) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def error_response(request_id: Any, code: int, message: str, data: Any = None) -> bytes:
    """One JSON-RPC error response line (without the newline)."""
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return _encode({"jsonrpc": "2.0", "id": request_id, "error": error})


@dataclass(frozen=True)
class InflightCall:
    """A ``tools/call`` forwarded to the server and not answered yet."""

    call_id: Any  # the JSON-RPC id exactly as the client sent it
    tool: str
    arguments: Any
    started: float  # time.time()
    entry_id: str  # the audit row


@dataclass
class _Pending:
    method: str
    request_id: Any
    first_page: bool = True
    call: InflightCall | None = None


@dataclass
class Routed:
    """What processing some input produced: lines for each side, and whether to wait for the audit."""

    to_server: list[bytes] = field(default_factory=list)
    to_client: list[bytes] = field(default_factory=list)
    durable: bool = False


_DROP = object()


class Gateway:
    """The message policy of one server session, independent of the transport (stdio or HTTP).

    Feed it complete JSON-RPC messages with :meth:`from_client` and :meth:`from_server`; it
    appends what to send where to a :class:`Routed`. It is not thread-safe: one event loop
    drives it.
    """

    def __init__(
        self,
        server: str,
        surfaces: SurfaceStore,
        audit: AuditLog,
        *,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.server = server
        self.audit = audit
        self.notify = notify or _stderr_notify
        self.guard = PinGuard(server, surfaces, notify=self.notify, record=self._record)
        self._pending: dict[str, list[_Pending]] = {}  # id key -> requests (oldest first)
        self._flags: dict[str, tuple[str, str]] = {}  # entry id -> (decision, detail) set by egress

    # --- public API --------------------------------------------------------------------------

    def inflight(self) -> list[InflightCall]:
        """Calls forwarded and not yet answered, oldest first."""
        calls = [p.call for group in self._pending.values() for p in group if p.call is not None]
        return sorted(calls, key=lambda c: c.started)

    def flag_call(self, call_id: Any, decision: str, detail: str) -> bool:
        """Mark an in-flight call (e.g. ``blocked-egress``); its audit row gets this decision."""
        for group in self._pending.values():
            for pending in group:
                if pending.call is not None and pending.request_id == call_id:
                    self._flags[pending.call.entry_id] = (decision, detail)
                    return True
        return False

    def from_client(self, line: bytes, out: Routed) -> None:
        """Route one line the client sent."""
        if not any(marker in line for marker in _CLIENT_INTEREST):
            out.to_server.append(line)
            return
        message = _parse(line)
        if message is None:
            out.to_server.append(line)
            return
        if isinstance(message, list):
            kept = [m for m in message if self._client_message(m, out) is not _DROP]
            if len(kept) == len(message):
                out.to_server.append(line)
            elif kept:
                out.to_server.append(_encode(kept))
            return
        if self._client_message(message, out) is not _DROP:
            out.to_server.append(line)

    def from_server(self, line: bytes, out: Routed) -> None:
        """Route one line the server sent."""
        if not self._pending and not any(marker in line for marker in _SERVER_INTEREST):
            out.to_client.append(line)
            return
        message = _parse(line)
        if message is None:
            out.to_client.append(line)
            return
        if isinstance(message, list):
            results = [self._server_message(m, out, len(line)) for m in message]
            if all(r is None for r in results):
                out.to_client.append(line)
            else:
                out.to_client.append(
                    _encode([m if r is None else r for m, r in zip(message, results, strict=True)])
                )
            return
        replaced = self._server_message(message, out, len(line))
        out.to_client.append(line if replaced is None else _encode(replaced))

    def overflow(self, from_server: bool, head: bytes, tail: bytes, size: int, out: Routed) -> None:
        """A message longer than the line limit was dropped; answer whoever waits for it."""
        candidates = [m.group(1) for m in _ID_RE.finditer(tail)][::-1] + [
            m.group(1) for m in _ID_RE.finditer(head)
        ]
        message = f"message of {size} bytes exceeds distrust's line limit and was dropped"
        self._record("message-too-large", {"from": "server" if from_server else "client", "bytes": size})
        self.notify(f"distrust: {self.server}: {message} ({'server' if from_server else 'client'} side)")
        for raw in candidates:
            try:
                request_id = json.loads(raw)
            except ValueError:
                continue
            if from_server:
                pending = self._take(request_id)
                if pending is None:
                    continue
                if pending.call is not None:
                    self._finish(pending.call, out, decision="response-dropped", detail=message, size=size)
                out.to_client.append(error_response(pending.request_id, TOO_LARGE_CODE, message))
                return
            out.to_client.append(error_response(request_id, TOO_LARGE_CODE, message))
            return
        if not from_server:
            out.to_client.append(error_response(None, TOO_LARGE_CODE, message))

    def server_gone(self, how: str, *, client_gone: bool, out: Routed) -> None:
        """The server exited: answer and audit every tracked request still waiting."""
        message = f"server exited ({how}) while this request was in flight"
        decision = "abandoned" if client_gone else "server-died"
        for pending in [p for group in self._pending.values() for p in group]:
            if pending.call is not None:
                self._finish(pending.call, out, decision=decision, detail=message, size=None)
            out.to_client.append(
                error_response(pending.request_id, SERVER_EXITED_CODE, message, {"distrust": "server-exited"})
            )
        self._pending.clear()

    # --- client side ---------------------------------------------------------------------------

    def _client_message(self, message: Any, out: Routed) -> object | None:
        if not isinstance(message, dict):
            return None
        method = message.get("method")
        if not isinstance(method, str):
            return None
        params = message.get("params")
        params = params if isinstance(params, dict) else {}
        if method == "notifications/cancelled":
            self._cancelled(params.get("requestId"), params.get("reason"), out)
            return None
        if "id" not in message:
            return None
        request_id = message["id"]
        key = _id_key(request_id)
        if key is None:
            return None
        if method in ("initialize", "server/discover"):
            self._track(key, _Pending(method, request_id))
        elif method == "tools/list":
            self._track(key, _Pending(method, request_id, first_page=not params.get("cursor")))
        elif method == "tools/call":
            return self._call(key, request_id, params, out)
        return None

    def _track(self, key: str, pending: _Pending) -> None:
        self._pending.setdefault(key, []).append(pending)

    def _take(self, response_id: Any, *, calls_only: bool = False) -> _Pending | None:
        """Remove and return the request a response answers: same id exactly, else same loose key."""
        key = _id_key(response_id)
        group = self._pending.get(key) if key else None
        if not group:
            return None
        candidates = [p for p in group if p.call is not None] if calls_only else group
        if not candidates:
            return None
        exact = [
            p for p in candidates if type(p.request_id) is type(response_id) and p.request_id == response_id
        ]
        chosen = (exact or candidates)[0]
        group.remove(chosen)
        if not group:
            del self._pending[key]  # type: ignore[arg-type]
        return chosen

    def _call(self, key: str, request_id: Any, params: dict[str, Any], out: Routed) -> object | None:
        raw_name = params.get("name")
        tool = raw_name if isinstance(raw_name, str) else ""
        arguments = params.get("arguments")
        refusal = self.guard.refusal(tool)
        if refusal is not None:
            self.audit.call_blocked(
                self.server, tool, _id_text(request_id), arguments, decision="blocked-pin", detail=refusal
            )
            out.to_client.append(
                error_response(
                    request_id, BLOCKED_TOOL_CODE, refusal, {"distrust": "tool-blocked", "tool": tool}
                )
            )
            out.durable = True
            return _DROP
        started = time.time()
        entry_id = self.audit.call_started(self.server, tool, _id_text(request_id), arguments, ts=started)
        call = InflightCall(request_id, tool, arguments, started, entry_id)
        self._track(key, _Pending("tools/call", request_id, call=call))
        return None

    def _cancelled(self, request_id: Any, reason: Any, out: Routed) -> None:
        pending = self._take(request_id, calls_only=True) if request_id is not None else None
        if pending is None or pending.call is None:
            return
        detail = (
            f"cancelled by the client: {reason}" if isinstance(reason, str) else "cancelled by the client"
        )
        self._finish(pending.call, out, decision="cancelled", detail=detail, size=None)

    # --- server side -----------------------------------------------------------------------------

    def _server_message(self, message: Any, out: Routed, size: int) -> Any | None:
        """None to forward unchanged, or the replacement message."""
        if not isinstance(message, dict):
            return None
        method = message.get("method")
        if isinstance(method, str):
            if method == "notifications/tools/list_changed":
                self._record("tools-list-changed", {})
            return None
        result = message.get("result")
        pending = self._take(message.get("id")) if "id" in message else None
        if pending is None:
            return self._untracked(message, result)
        if pending.method == "tools/call" and pending.call is not None:
            is_error = bool(result.get("isError")) if isinstance(result, dict) else None
            flagged = self._flags.get(pending.call.entry_id)
            self._finish(
                pending.call,
                out,
                decision="allowed",
                detail=None,
                size=size,
                is_error=is_error,
                error=message.get("error"),
            )
            if flagged is not None and flagged[0] == "blocked-egress":
                return egress_blocked_response(message, flagged[1])
            return None
        if not isinstance(result, dict):
            return None
        if pending.method == "tools/list":
            return self._tools_list(message, result, pending)
        return self._instructions(message, result)

    def _untracked(self, message: dict[str, Any], result: Any) -> Any | None:
        """A response to nothing the relay tracked: still never let unapproved tools through.

        A server can guess the client's next request id and answer before the relay has seen
        the request; a client that already sent it would take the answer. So any response
        shaped like a tool list or carrying instructions is filtered against what is approved.
        """
        if not isinstance(result, dict):
            return None
        replaced: Any | None = None
        tools = result.get("tools")
        if isinstance(tools, list):
            kept = [t for t in tools if self.guard.visible(t)]
            if len(kept) != len(tools):
                self._record(
                    "unsolicited-tools-filtered", {"id": message.get("id"), "hidden": len(tools) - len(kept)}
                )
                replaced = {**message, "result": {**result, "tools": kept}}
        if "instructions" in result:
            raw = result.get("instructions")
            shown = self.guard.approved_instructions(raw if isinstance(raw, str) else None)
            if shown != raw:
                base = replaced or message
                new_result = {k: v for k, v in base["result"].items() if k != "instructions"}
                if shown is not None:
                    new_result["instructions"] = shown
                replaced = {**base, "result": new_result}
        return replaced

    def _instructions(self, message: dict[str, Any], result: dict[str, Any]) -> Any | None:
        raw = result.get("instructions")
        text = raw if isinstance(raw, str) else None
        shown = self.guard.instructions(text)
        if shown == text:
            return None
        new_result = dict(result)
        if shown is None:
            new_result.pop("instructions", None)
        else:
            new_result["instructions"] = shown
        return {**message, "result": new_result}

    def _tools_list(self, message: dict[str, Any], result: dict[str, Any], pending: _Pending) -> Any | None:
        tools = result.get("tools")
        if not isinstance(tools, list):
            return None
        if pending.first_page:
            self.guard.begin_listing()
        kept, _verdicts = self.guard.check_page(tools)
        if not result.get("nextCursor"):
            self.guard.finish_listing()
        if len(kept) == len(tools):
            return None
        return {**message, "result": {**result, "tools": kept}}

    # --- bookkeeping -----------------------------------------------------------------------------

    def _finish(
        self,
        call: InflightCall,
        out: Routed,
        *,
        decision: str,
        detail: str | None,
        size: int | None,
        is_error: bool | None = None,
        error: Any = None,
    ) -> None:
        flagged = self._flags.pop(call.entry_id, None)
        if flagged is not None:
            decision, detail = flagged
        fields = {
            "decision": decision,
            "result_bytes": size,
            "is_error": is_error,
            "error": error,
            "detail": detail,
        }
        if self.audit.finish_inline(call.entry_id, **fields):
            return  # committed already: the response may go out at once
        self.audit.call_finished(call.entry_id, **fields)
        out.durable = True

    def _record(self, kind: str, detail: dict[str, Any]) -> None:
        self.audit.event(self.server, kind, detail)


# When nothing is pending, a server line matters only if it could carry a tool list or instructions
# (see Gateway._untracked) or announces a list change; same backslash rule as the client side.
_SERVER_INTEREST = (b'"tools"', b"instructions", b"list_changed", b"\\")

_ID_RE = re.compile(rb'"id"\s*:\s*(-?\d+(?:\.\d+)?|"(?:[^"\\]|\\.){0,200}")')


def egress_blocked_response(message: dict[str, Any], detail: str) -> dict[str, Any]:
    """The tool result the client sees when distrust blocked a request the call made.

    The server only saw a 403 from the egress proxy and may report it vaguely; the user must
    learn what was blocked and why, so the reason leads and the server's own text follows.
    """
    text = f"distrust blocked an outbound request made by this tool call: {detail}"
    result = message.get("result")
    original = result.get("content") if isinstance(result, dict) else None
    content = [{"type": "text", "text": text}]
    if isinstance(original, list):
        content.extend(c for c in original if isinstance(c, dict))
    elif "error" in message:
        content.append({"type": "text", "text": f"server error: {json.dumps(message['error'])[:500]}"})
    base = {k: v for k, v in result.items() if k != "structuredContent"} if isinstance(result, dict) else {}
    blocked = {**base, "content": content, "isError": True}
    return {"jsonrpc": "2.0", "id": message.get("id"), "result": blocked}


def _id_text(request_id: Any) -> str:
    return json.dumps(request_id, ensure_ascii=False)


def _parse(line: bytes) -> Any | None:
    try:
        return json.loads(line.decode("utf-8", "replace"))
    except ValueError:
        return None
    except RecursionError:
        return None


def _stderr_notify(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- process-wide registry, for the egress inspector -------------------------------------------

_SESSIONS: dict[str, Gateway] = {}
_SESSIONS_LOCK = threading.Lock()


def inflight(server: str) -> list[InflightCall]:
    """Calls to ``server`` that are forwarded and not answered yet (empty if it is not running here).

    The egress inspector asks this to attribute an outgoing request to the tool call that
    caused it ("send_email is in flight, and api.postmarkapp.com is being contacted").
    """
    with _SESSIONS_LOCK:
        gateway = _SESSIONS.get(server)
    return gateway.inflight() if gateway else []


def session(server: str) -> Gateway | None:
    """The running gateway of ``server`` in this process, if any (for :meth:`Gateway.flag_call`)."""
    with _SESSIONS_LOCK:
        return _SESSIONS.get(server)


def _register(gateway: Gateway) -> None:
    with _SESSIONS_LOCK:
        _SESSIONS[gateway.server] = gateway


def _unregister(gateway: Gateway) -> None:
    with _SESSIONS_LOCK:
        if _SESSIONS.get(gateway.server) is gateway:
            del _SESSIONS[gateway.server]


# --- line framing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overflow:
    """A line longer than the limit: its first and last bytes (to find an id) and its size."""

    head: bytes
    tail: bytes
    size: int


_KEEP = 64 * 1024


class LineSplitter:
    """Splits a byte stream into lines (without the newline), refusing lines over ``max_line``.

    An over-long line is not buffered: its first and last 64 KB are kept so that the id of the
    dropped message can still be found, and the rest is discarded as it arrives.
    """

    def __init__(self, max_line: int = STREAM_LIMIT) -> None:
        self.max_line = max_line
        self._buf = bytearray()
        self._discarding: tuple[bytes, int] | None = None  # (head, bytes so far)

    def feed(self, chunk: bytes) -> list[bytes | Overflow]:
        out: list[bytes | Overflow] = []
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                self._keep(chunk[start:])
                return out
            piece = chunk[start:end]
            start = end + 1
            if self._discarding is not None:
                head, size = self._discarding
                self._buf += piece
                out.append(Overflow(head, bytes(self._buf[-_KEEP:]), size + len(piece)))
                self._discarding = None
                self._buf.clear()
            elif self._buf:
                self._buf += piece
                line = bytes(self._buf)
                self._buf.clear()
                if len(line) > self.max_line:
                    out.append(Overflow(line[:_KEEP], line[-_KEEP:], len(line)))
                elif line.strip():
                    out.append(line)
            elif len(piece) > self.max_line:
                out.append(Overflow(piece[:_KEEP], piece[-_KEEP:], len(piece)))
            elif piece.strip():
                out.append(piece)

    def _keep(self, rest: bytes) -> None:
        if not rest:
            return
        if self._discarding is not None:
            head, size = self._discarding
            self._buf += rest
            del self._buf[:-_KEEP]
            self._discarding = (head, size + len(rest))
            return
        self._buf += rest
        if len(self._buf) > self.max_line:
            self._discarding = (bytes(self._buf[:_KEEP]), len(self._buf))
            del self._buf[:-_KEEP]

    def flush(self) -> list[bytes | Overflow]:
        """What remains at end of stream (a last line without newline)."""
        return self.feed(b"\n") if (self._buf.strip() or self._discarding) else []


# --- the stdio relay ------------------------------------------------------------------------------


class _Sink:
    """Writes to the client's stdout: an asyncio pipe when possible, a thread otherwise (files)."""

    def __init__(self, writer: asyncio.StreamWriter | None, fd: int | None) -> None:
        self._writer = writer
        self._fd = fd
        self.broken = False

    @classmethod
    async def open(cls, target: IO[bytes]) -> _Sink:
        loop = asyncio.get_running_loop()
        fd = os.dup(target.fileno())
        try:
            pipe = os.fdopen(fd, "wb", buffering=0)
            transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, pipe)
            return cls(asyncio.StreamWriter(transport, protocol, None, loop), None)
        except (ValueError, OSError):
            return cls(None, os.dup(target.fileno()))

    async def write(self, data: bytes) -> None:
        if self.broken or not data:
            return
        try:
            if self._writer is not None:
                self._writer.write(data)
                await self._writer.drain()
            elif self._fd is not None:
                await asyncio.get_running_loop().run_in_executor(None, _write_all, self._fd, data)
        except (ConnectionError, OSError):
            self.broken = True

    def close(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


async def _open_source(source: IO[bytes]) -> asyncio.StreamReader:
    """A StreamReader over the client's stdin: an asyncio pipe, or a reading thread for files."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=STREAM_LIMIT)
    fd = os.dup(source.fileno())
    try:
        pipe = os.fdopen(fd, "rb", buffering=0)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
        return reader
    except (ValueError, OSError):
        fd = os.dup(source.fileno())  # the failed pipe object closes its own copy

    def pump() -> None:
        try:
            while True:
                data = os.read(fd, CHUNK)
                if not data:
                    break
                loop.call_soon_threadsafe(reader.feed_data, data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(reader.feed_eof)

    threading.Thread(target=pump, name="distrust-stdin", daemon=True).start()
    return reader


class StdioRelay:
    """One ``distrust run`` session over stdio: spawn, relay both ways, stop cleanly."""

    def __init__(
        self,
        launch: ServerLaunch,
        gateway: Gateway,
        *,
        stdin: IO[bytes],
        stdout: IO[bytes],
        stderr: IO[bytes] | int | None = None,
        grace: float = 3.0,
        max_line: int = STREAM_LIMIT,
    ) -> None:
        self.launch = launch
        self.gateway = gateway
        self._stdin = stdin
        self._stdout = stdout
        self._stderr = stderr
        self.grace = grace
        self.max_line = max_line
        self.client_gone = False
        self._stopping: asyncio.Task[int] | None = None

    async def run(self) -> int:
        proc = await spawn(self.launch, stderr=self._stderr)
        self.proc = proc
        audit = self.gateway.audit
        audit.event(
            self.gateway.server,
            "server-start",
            {"pid": proc.pid, "command": list(self.launch.command), "env_keys": sorted(self.launch.env)},
        )
        sink = await _Sink.open(self._stdout)
        source = await _open_source(self._stdin)
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._stop)
                installed.append(sig)
        upstream = asyncio.create_task(self._client_to_server(source, sink))
        downstream = asyncio.create_task(self._server_to_client(sink))
        exited = asyncio.create_task(proc.wait())
        try:
            await asyncio.wait({downstream, exited}, return_when=asyncio.FIRST_COMPLETED)
            if not downstream.done():
                # The server process is gone but something (a grandchild) still holds its stdout.
                await asyncio.wait({downstream}, timeout=min(self.grace, 1.0))
            if not downstream.done():
                downstream.cancel()
            if not exited.done():
                await asyncio.wait({exited}, timeout=self.grace)
            if not exited.done():
                await terminate(proc, self.grace)
            returncode = proc.returncode if proc.returncode is not None else await proc.wait()
            with contextlib.suppress(asyncio.CancelledError):
                await downstream
            how = describe_exit(returncode)
            out = Routed()
            self.gateway.server_gone(how, client_gone=self.client_gone, out=out)
            await asyncio.wrap_future(audit.durable())
            if out.to_client:
                await sink.write(b"".join(line + b"\n" for line in out.to_client))
            audit.event(self.gateway.server, "server-exit", {"how": how, "client_gone": self.client_gone})
            await asyncio.wrap_future(audit.durable())
        finally:
            upstream.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await upstream
            for sig in installed:
                loop.remove_signal_handler(sig)
            if proc.returncode is None:
                await terminate(proc, self.grace)
            sink.close()
        if self.client_gone:
            return 0
        return 128 - returncode if returncode < 0 else (returncode or 1)

    def _stop(self) -> None:
        """Client went away or we were signalled: stop the server in order (once)."""
        self.client_gone = True
        if self._stopping is None:
            self._stopping = asyncio.get_running_loop().create_task(terminate(self.proc, self.grace))

    async def _client_to_server(self, source: asyncio.StreamReader, sink: _Sink) -> None:
        assert self.proc.stdin is not None
        server_in = self.proc.stdin
        splitter = LineSplitter(self.max_line)
        while True:
            chunk = await source.read(CHUNK)
            items = splitter.feed(chunk) if chunk else splitter.flush()
            if items:
                out = Routed()
                for item in items:
                    if isinstance(item, Overflow):
                        self.gateway.overflow(False, item.head, item.tail, item.size, out)
                    else:
                        self.gateway.from_client(item, out)
                if out.to_client:
                    if out.durable:
                        await asyncio.wrap_future(self.gateway.audit.durable())
                    await sink.write(b"".join(line + b"\n" for line in out.to_client))
                if out.to_server:
                    try:
                        server_in.write(b"".join(line + b"\n" for line in out.to_server))
                        await server_in.drain()
                    except (ConnectionError, OSError):
                        break  # the server is gone; the downstream task handles it
            if not chunk:
                break
        self._stop()

    async def _server_to_client(self, sink: _Sink) -> None:
        assert self.proc.stdout is not None
        server_out = self.proc.stdout
        splitter = LineSplitter(self.max_line)
        while True:
            chunk = await server_out.read(CHUNK)
            items = splitter.feed(chunk) if chunk else splitter.flush()
            if items:
                out = Routed()
                for item in items:
                    if isinstance(item, Overflow):
                        self.gateway.overflow(True, item.head, item.tail, item.size, out)
                    else:
                        self.gateway.from_server(item, out)
                if out.durable:
                    await asyncio.wrap_future(self.gateway.audit.durable())
                if out.to_client:
                    await sink.write(b"".join(line + b"\n" for line in out.to_client))
                    if sink.broken and not self.client_gone:
                        self._stop()
            if not chunk:
                return


def run_stdio(
    launch: ServerLaunch,
    *,
    server_name: str,
    surfaces: SurfaceStore,
    audit: AuditLog,
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
    stderr: IO[bytes] | int | None = None,
    grace: float = 3.0,
    max_line: int = STREAM_LIMIT,
    notify: Callable[[str], None] | None = None,
) -> int:
    """Run ``launch`` behind the relay until either side ends; returns the exit code for the CLI.

    0 when the client disconnected (normal shutdown); otherwise the server's exit code, or
    128+N when a signal N ended it, or 1 if it exited 0 on its own while the client was still
    connected. Raises :class:`~distrust.gateway.launch.LaunchError` if the server cannot start.
    """
    gateway = Gateway(server_name, surfaces, audit, notify=notify)
    relay = StdioRelay(
        launch,
        gateway,
        stdin=stdin or sys.stdin.buffer,
        stdout=stdout or sys.stdout.buffer,
        stderr=stderr,
        grace=grace,
        max_line=max_line,
    )
    _register(gateway)
    try:
        return asyncio.run(relay.run())
    finally:
        _unregister(gateway)
        for stream in (stdin or sys.stdin.buffer, stdout or sys.stdout.buffer):
            with contextlib.suppress(OSError, ValueError):
                os.set_blocking(stream.fileno(), True)


def main(argv: list[str] | None = None) -> int:
    """``python -m distrust.gateway.relay [options] -- CMD ARGS…``: the relay without the CLI.

    Until ``distrust run`` is wired, tests and users start the relay this way. The server gets
    only the base environment plus ``--env KEY=VALUE`` pairs.
    """
    parser = argparse.ArgumentParser(prog="python -m distrust.gateway.relay")
    parser.add_argument("--name", required=True, help="server name (key of its pins and audit rows)")
    parser.add_argument("--pins", type=Path, required=True, help="JSON file of pinned surfaces")
    parser.add_argument("--audit", type=Path, default=None, help="audit database (default: data dir)")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--grace", type=float, default=3.0, help="seconds before SIGTERM, then SIGKILL")
    parser.add_argument("--max-line", type=int, default=STREAM_LIMIT, help="longest accepted message")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no server command given (put it after --)")
    declared = {}
    for pair in args.env:
        key, sep, value = pair.partition("=")
        if not sep:
            parser.error(f"--env {pair!r}: expected KEY=VALUE")
        declared[key] = value
    try:
        launch = ServerLaunch(tuple(command), minimal_env(declared), None)
        with AuditLog(args.audit) as audit:
            return run_stdio(
                launch,
                server_name=args.name,
                surfaces=FileSurfaceStore(args.pins),
                audit=audit,
                grace=args.grace,
                max_line=args.max_line,
            )
    except (LaunchError, ValueError) as exc:
        print(f"distrust: {exc}", file=sys.stderr)
        return 2


__all__ = [
    "RELAY_ERRORS",
    "Gateway",
    "InflightCall",
    "LineSplitter",
    "Routed",
    "StdioRelay",
    "error_response",
    "inflight",
    "main",
    "redact_value",
    "run_stdio",
    "session",
]

if __name__ == "__main__":
    sys.exit(main())
