"""The relay between real MCP peers: the official SDK servers and clients, and MCP Inspector's CLI.

Every comparison is "through the relay" against "direct to the same server": the relay must
be invisible to a client except where a pin says otherwise.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, MCPError, StdioServerParameters
from relay_support import ECHO_SERVER, INSPECTOR_CLI, PY_SERVER, needs_node_sdk, relay_argv

from distrust.gateway import audit
from distrust.gateway.pins import BLOCKED_TOOL_CODE, FileSurfaceStore

TIMEOUT = 30


def params(argv: list[str], env: dict[str, str] | None = None) -> StdioServerParameters:
    return StdioServerParameters(command=argv[0], args=argv[1:], env=env)


def relayed(tmp: Path, name: str, command: list[str], *extra: str) -> StdioServerParameters:
    return params(relay_argv(name, tmp / "pins.json", tmp / "audit.sqlite3", command, *extra))


async def session_dump(
    server: StdioServerParameters, calls: list[tuple[str, dict[str, Any]]]
) -> dict[str, Any]:
    """Everything a client sees: instructions, tools and the results of ``calls`` (as JSON)."""
    async with Client(server, read_timeout_seconds=TIMEOUT) as client:
        tools = await client.list_tools()
        results = [(await client.call_tool(name, args)).model_dump(mode="json") for name, args in calls]
        return {
            "instructions": client.instructions,
            "tools": tools.model_dump(mode="json")["tools"],
            "results": results,
        }


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT))


ECHO_CALLS = [
    ("echo", {"text": "héllo ✓"}),
    ("add", {"a": 2, "b": 40}),
    ("big", {"n": 200_000}),
    ("fail", {}),
]


@needs_node_sdk
def test_typescript_server_through_the_relay_matches_direct(tmp_path: Path) -> None:
    direct = run(session_dump(params(["node", str(ECHO_SERVER)]), ECHO_CALLS))
    through = run(session_dump(relayed(tmp_path, "echo", ["node", str(ECHO_SERVER)]), ECHO_CALLS))
    assert through == direct
    assert through["results"][3]["is_error"] is True
    rows = audit.query(path=tmp_path / "audit.sqlite3")
    assert sorted(r.tool for r in rows) == sorted(name for name, _ in ECHO_CALLS)
    assert {r.tool: r.is_error for r in rows}["fail"] is True
    assert FileSurfaceStore(tmp_path / "pins.json").pinned("echo") is not None


def test_python_sdk_server_through_the_relay_matches_direct(tmp_path: Path) -> None:
    calls = [("echo", {"text": "py"}), ("add", {"a": 1, "b": 2})]
    command = [sys.executable, str(PY_SERVER)]
    direct = run(session_dump(params(command), calls))
    through = run(session_dump(relayed(tmp_path, "py", command), calls))
    assert through == direct
    assert [r.decision for r in audit.query(path=tmp_path / "audit.sqlite3")] == ["allowed", "allowed"]


@needs_node_sdk
def test_server_sees_only_declared_environment(tmp_path: Path) -> None:
    os.environ["DISTRUST_TEST_SECRET_TOKEN"] = "s3cr3t-value-of-the-parent"
    try:
        server = params(
            relay_argv(
                "echo",
                tmp_path / "pins.json",
                tmp_path / "audit.sqlite3",
                ["node", str(ECHO_SERVER)],
                "--env",
                "POSTMARK_SERVER_TOKEN=declared",
            ),
            env=dict(os.environ),
        )
        dump = run(session_dump(server, [("env_keys", {})]))
    finally:
        del os.environ["DISTRUST_TEST_SECRET_TOKEN"]
    keys = json.loads(dump["results"][0]["content"][0]["text"])
    assert "DISTRUST_TEST_SECRET_TOKEN" not in keys and "POSTMARK_SERVER_TOKEN" in keys
    assert set(keys) <= {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "USER", "LOGNAME"} | {
        "POSTMARK_SERVER_TOKEN"
    }


@needs_node_sdk
def test_rug_pull_is_blocked_until_approved(tmp_path: Path) -> None:
    command = ["node", str(ECHO_SERVER)]
    first = run(session_dump(relayed(tmp_path, "echo", command), [("echo", {"text": "1"})]))
    assert "echo" in [t["name"] for t in first["tools"]]

    rugpull = relayed(tmp_path, "echo", command, "--env", "FIXTURE_VARIANT=rugpull")

    async def second_launch() -> tuple[dict[str, Any], MCPError]:
        async with Client(rugpull, read_timeout_seconds=TIMEOUT) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            with pytest.raises(MCPError) as blocked:
                await client.call_tool("echo", {"text": "2"})
            add = (await client.call_tool("add", {"a": 1, "b": 1})).model_dump(mode="json")
            return {"names": names, "instructions": client.instructions, "add": add}, blocked.value

    seen, error = run(second_launch())
    assert "echo" not in seen["names"] and "send_email" not in seen["names"]
    assert "add" in seen["names"] and seen["add"]["content"][0]["text"] == "2"
    assert seen["instructions"] == first["instructions"]  # the approved text, not the new one
    assert error.code == BLOCKED_TOOL_CODE and "distrust approve echo" in error.message

    store = FileSurfaceStore(tmp_path / "pins.json")
    proposal = store.proposed("echo")
    assert proposal is not None and proposal.tool("send_email") is not None
    store.pin("echo", proposal)  # what `distrust approve echo` does after the user reviewed it
    third = run(session_dump(rugpull, [("echo", {"text": "3"})]))
    assert {"echo", "send_email"} <= {t["name"] for t in third["tools"]}
    assert third["results"][0]["content"][0]["text"] == "3"
    decisions = [(r.tool, r.decision) for r in audit.query(path=tmp_path / "audit.sqlite3")]
    assert ("echo", "blocked-pin") in decisions


@needs_node_sdk
def test_progress_notifications_reach_the_client(tmp_path: Path) -> None:
    async def go() -> list[float]:
        seen: list[float] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append(progress)

        async with Client(relayed(tmp_path, "echo", ["node", str(ECHO_SERVER)])) as client:
            await client.list_tools()
            result = await client.call_tool("progress", {"steps": 5}, progress_callback=on_progress)
            assert result.content[0].text == "done 5"  # type: ignore[union-attr]
        return seen

    assert run(go()) == [1, 2, 3, 4, 5]


@needs_node_sdk
def test_killing_the_server_mid_call_errors_instead_of_hanging(tmp_path: Path) -> None:
    db = tmp_path / "audit.sqlite3"

    async def go() -> MCPError:
        async with Client(relayed(tmp_path, "echo", ["node", str(ECHO_SERVER)])) as client:
            await client.list_tools()
            call = asyncio.create_task(client.call_tool("slow", {"ms": 60_000}))
            await asyncio.sleep(0.5)
            pid = json.loads(audit.events(kind="server-start", path=db)[0].detail)["pid"]
            os.kill(pid, signal.SIGKILL)
            with pytest.raises(MCPError) as failure:
                await call
            return failure.value

    started = time.monotonic()
    error = run(go())
    assert time.monotonic() - started < 15
    assert error.code == -32603 and "signal 9" in error.message
    (row,) = audit.query(path=db, tool="slow")
    assert row.decision == "server-died"


@needs_node_sdk
def test_mcp_inspector_cli_through_the_relay_matches_direct(tmp_path: Path) -> None:
    def inspector(target: list[str], *method: str) -> Any:
        done = subprocess.run(
            ["node", str(INSPECTOR_CLI), "--cli", *target, *method],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    direct = ["node", str(ECHO_SERVER)]
    through = relay_argv("echo", tmp_path / "pins.json", tmp_path / "audit.sqlite3", direct)
    for method in (
        ("--method", "tools/list"),
        ("--method", "tools/call", "--tool-name", "echo", "--tool-arg", "text=inspected"),
        ("--method", "tools/call", "--tool-name", "add", "--tool-arg", "a=3", "--tool-arg", "b=4"),
    ):
        assert inspector(through, *method) == inspector(direct, *method)
    assert len(audit.query(path=tmp_path / "audit.sqlite3")) == 2
