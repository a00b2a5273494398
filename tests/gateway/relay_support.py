"""Shared pieces of the relay tests: paths to the fixture servers and a raw JSON-lines client.

The relay is started the way a client would start ``distrust run``: as a separate process
(``python -m distrust.gateway.relay``) speaking JSON-RPC on its stdin/stdout, so the tests see
exactly the bytes a real client sees, and can SIGKILL it.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVERS = REPO / "tests" / "fixtures" / "servers"
ECHO_SERVER = SERVERS / "echo-server.mjs"
PY_SERVER = SERVERS / "py_server.py"
RAW_SERVER = SERVERS / "raw_server.py"
MCP_TOOLS = REPO / "tests" / "tools" / "mcp"
INSPECTOR_CLI = (
    MCP_TOOLS / "node_modules" / "@modelcontextprotocol" / "inspector" / "cli" / "build" / "cli.js"
)

needs_node_sdk = pytest.mark.skipif(
    shutil.which("node") is None
    or not (MCP_TOOLS / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir(),
    reason="node or tests/tools/mcp not installed (run scripts/test.sh)",
)


def relay_argv(name: str, pins: Path, audit: Path, command: list[str], *extra: str) -> list[str]:
    """argv that runs ``command`` behind the relay."""
    return [
        sys.executable,
        "-m",
        "distrust.gateway.relay",
        "--name",
        name,
        "--pins",
        str(pins),
        "--audit",
        str(audit),
        "--grace",
        "1",
        *extra,
        "--",
        *command,
    ]


INIT = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"},
    },
}


class RawClient:
    """Talks newline-delimited JSON-RPC to a process, with timeouts on every read."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.stderr = b""
        self.others: list[Any] = []  # messages that arrived while waiting for a response
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read()

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: Any) -> None:
        self.send_raw(json.dumps(message).encode() + b"\n")

    def recv_raw(self, timeout: float = 10.0) -> bytes:
        line = self.lines.get(timeout=timeout)
        if line is None:
            raise EOFError(f"relay closed its stdout; stderr: {self.stderr.decode(errors='replace')}")
        return line

    def recv(self, timeout: float = 10.0) -> Any:
        return json.loads(self.recv_raw(timeout))

    def request(self, message: dict[str, Any], timeout: float = 10.0) -> Any:
        """Send a request and return the response with the same id (other messages are kept)."""
        self.send(message)
        deadline = time.monotonic() + timeout
        while True:
            reply = self.recv(max(0.01, deadline - time.monotonic()))
            if isinstance(reply, dict) and reply.get("id") == message["id"] and "method" not in reply:
                return reply
            self.others.append(reply)

    def handshake(self) -> Any:
        reply = self.request(INIT)
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return reply

    def close(self, timeout: float = 10.0) -> int:
        assert self.proc.stdin is not None
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def call(request_id: Any, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }


def child_env(**extra: str) -> dict[str, str]:
    """The test process environment (data dirs are already isolated by conftest) plus ``extra``."""
    env = dict(os.environ)
    env.update(extra)
    return env
