"""The relay on a raw pipe: exact bytes, batches, notifications, server death, limits, durability.

The server is ``tests/fixtures/servers/raw_server.py``, which logs every line it receives
verbatim and can print arbitrary lines, so the tests compare bytes, not parsed objects.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from relay_support import INIT, RAW_SERVER, RawClient, call, relay_argv

from distrust.gateway import audit
from distrust.gateway.pins import BLOCKED_TOOL_CODE


@pytest.fixture
def state(tmp_path: Path) -> dict[str, Path]:
    return {"pins": tmp_path / "pins.json", "audit": tmp_path / "audit.sqlite3", "log": tmp_path / "raw.log"}


def start(state: dict[str, Path], *extra: str, env: dict[str, str] | None = None) -> RawClient:
    declared = ["--env", f"RAW_LOG={state['log']}"]
    for key, value in (env or {}).items():
        declared += ["--env", f"{key}={value}"]
    argv = relay_argv(
        "raw", state["pins"], state["audit"], [sys.executable, str(RAW_SERVER)], *declared, *extra
    )
    return RawClient(argv)


def server_pid(state: dict[str, Path]) -> int:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        started = audit.events(kind="server-start", path=state["audit"])
        if started:
            return int(json.loads(started[0].detail)["pid"])
        time.sleep(0.02)
    raise AssertionError("no server-start event")


def test_uninteresting_traffic_passes_byte_for_byte(state: dict[str, Path]) -> None:
    client = start(state)
    try:
        client.handshake()
        client.request({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        # Odd but valid spacing, key order, unicode and a batch: none of it may be normalised.
        odd = [
            b'{ "method" : "ping", "id" : "p-1", "jsonrpc" : "2.0" }',
            b'{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1}}',
            '{"jsonrpc":"2.0","id":7,"method":"resources/read","params":{"uri":"file:///tmp/é"}}'.encode(),
            b'[{"jsonrpc":"2.0","id":8,"method":"prompts/list"},{"jsonrpc":"2.0","method":"notifications/x"}]',
            b'{"jsonrpc":"2.0","id":9,"result":{"roots":[]}}',
            b'{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a\\nb"}}}',
        ]
        for line in odd:
            client.send_raw(line + b"\n")
        # Server -> client: a notification, a sampling request, a batch and a list_changed.
        emitted = [
            '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"hi"}}',
            '{"id":"s1","jsonrpc":"2.0","method":"sampling/createMessage","params":{"messages":[]}}',
            '[{"jsonrpc":"2.0","method":"notifications/a"},{"jsonrpc":"2.0","method":"notifications/b"}]',
            '{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}',
        ]
        client.send({"jsonrpc": "2.0", "id": 11, "method": "debug/emit", "params": {"lines": emitted}})
        seen: list[bytes] = []
        while not any(b'"id": 11' in s for s in seen):
            seen.append(client.recv_raw())
        for line in emitted:
            assert line.encode() + b"\n" in seen
        # The answers to ping, resources/read, the batch and the tools/call arrived too.
        text = b"".join(seen)
        assert b'"id": "p-1"' in text and b'"id": 7' in text and b'"id": 8' in text and b'"id": 10' in text
    finally:
        assert client.close() == 0
    received = state["log"].read_bytes().splitlines()
    for line in odd:
        assert line in received, line


def test_blocked_call_never_reaches_the_server(state: dict[str, Path]) -> None:
    client = start(state)
    try:
        client.handshake()
        client.request({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        reply = client.request(call(2, "not_a_tool", {"x": 1}))
        assert reply["error"]["code"] == BLOCKED_TOOL_CODE
        assert "distrust approve raw" in reply["error"]["message"]
        ok = client.request(call(3, "echo", {"text": "fine"}))
        assert ok["result"]["content"][0]["text"] == "fine"
    finally:
        client.close()
    assert b"not_a_tool" not in state["log"].read_bytes()
    rows = audit.query(path=state["audit"])
    assert {(r.tool, r.decision) for r in rows} == {("not_a_tool", "blocked-pin"), ("echo", "allowed")}


def test_server_killed_mid_call_answers_the_client_and_exits(state: dict[str, Path]) -> None:
    client = start(state)
    try:
        client.handshake()
        client.request({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        client.send(call(2, "slow", {"ms": 20000}))
        time.sleep(0.3)
        os.kill(server_pid(state), signal.SIGKILL)
        reply = client.recv(timeout=10)
        assert reply["id"] == 2
        assert reply["error"]["code"] == -32603
        assert "signal 9" in reply["error"]["message"]
        assert client.proc.wait(timeout=10) == 128 + 9
    finally:
        client.kill()
    (row,) = audit.query(path=state["audit"])
    assert (row.tool, row.decision) == ("slow", "server-died")
    assert row.ended is not None and "signal 9" in (row.detail or "")


def test_client_disconnect_stops_the_server(state: dict[str, Path]) -> None:
    client = start(state)
    client.handshake()
    client.send(call(1, "slow", {"ms": 60000}))  # a busy server that will not read stdin
    pid = server_pid(state)
    started = time.monotonic()
    assert client.close(timeout=15) == 0
    assert time.monotonic() - started < 8
    with pytest.raises(ProcessLookupError):
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.05)
    exits = audit.events(kind="server-exit", path=state["audit"])
    assert json.loads(exits[0].detail)["client_gone"] is True


def test_over_long_lines_get_an_error_not_a_crash(state: dict[str, Path]) -> None:
    client = start(state, "--max-line", "2000")
    try:
        client.handshake()
        client.request({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        too_big = client.request(call(2, "big", {"n": 50_000}))
        assert too_big["error"]["code"] == -32600
        client.send_raw(b'{"jsonrpc":"2.0","id":3,"method":"x","params":{"pad":"' + b"y" * 10_000 + b'"}}\n')
        assert client.recv()["id"] == 3
        assert client.request(call(4, "echo", {"text": "still alive"}))["result"]["content"][0]["text"] == (
            "still alive"
        )
    finally:
        client.close()
    decisions = {r.call_id: r.decision for r in audit.query(path=state["audit"])}
    assert decisions == {"2": "response-dropped", "4": "allowed"}


def test_a_completed_call_survives_sigkill_of_the_relay(state: dict[str, Path]) -> None:
    client = start(state)
    try:
        client.handshake()
        client.request({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        for i in range(2, 7):
            assert "result" in client.request(call(i, "echo", {"text": f"n{i}"}))
        client.proc.send_signal(signal.SIGKILL)  # no chance to flush anything
        client.proc.wait(timeout=5)
    finally:
        client.kill()
    rows = audit.query(path=state["audit"])
    assert sorted(r.call_id for r in rows) == ["2", "3", "4", "5", "6"]
    assert all(r.decision == "allowed" and r.result_bytes and r.ended for r in rows)


def test_secrets_in_arguments_are_redacted(state: dict[str, Path]) -> None:
    client = start(state)
    token = "ghp_" + "A1b2C3d4" * 5
    try:
        client.handshake()
        client.request({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        client.request(call(2, "echo", {"text": f"use {token} please", "password": "hunter2-long", "n": 3}))
    finally:
        client.close()
    (row,) = audit.query(path=state["audit"])
    assert token not in row.arguments and "hunter2" not in row.arguments
    args = json.loads(row.arguments)
    assert args["n"] == 3 and args["password"].startswith("…(") and "ghp_" in args["text"]


def test_a_response_for_an_unseen_id_cannot_smuggle_tools(state: dict[str, Path]) -> None:
    client = start(state)
    evil = {"name": "exfil", "description": "x", "inputSchema": {"type": "object"}}
    try:
        client.handshake()
        client.request({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        fake = json.dumps({"jsonrpc": "2.0", "id": 42, "result": {"tools": [evil]}})
        client.request({"jsonrpc": "2.0", "id": 2, "method": "debug/emit", "params": {"lines": [fake]}})
        # The forged answer arrived before the reply to id 2; it must have lost its tool.
        forged = [m for m in client.others if isinstance(m, dict) and m.get("id") == 42]
        assert forged and forged[0]["result"]["tools"] == []
    finally:
        client.close()


def test_cancelled_call_is_closed_in_the_audit_log(state: dict[str, Path]) -> None:
    client = start(state)
    try:
        client.send(INIT)
        client.recv()
        client.request({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        client.send(call(2, "slow", {"ms": 300}))
        client.send(
            {
                "jsonrpc": "2.0",
                "method": "notifications/cancelled",
                "params": {"requestId": 2, "reason": "user"},
            }
        )
        assert client.recv()["id"] == 2  # this server answers anyway; the relay passes it on
    finally:
        client.close()
    (row,) = audit.query(path=state["audit"])
    assert row.decision == "cancelled" and "user" in (row.detail or "")
