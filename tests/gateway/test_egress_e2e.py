"""The postmark-mcp attack, end to end, with real parts: the Python MCP SDK client →
`distrust run` (relay + bubblewrap sandbox + egress proxy) → our Postmark-style Node server,
unmodified, using the real `postmark` npm client (4.x on axios, 5.x on fetch) to call
https://api.postmarkapp.com/email. The egress proxy routes that host to a local stand-in that
follows Postmark's documented API. 1.0.15 delivers; 1.0.16's hidden Bcc is blocked.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from distrust.demo.postmark_api import PostmarkStandIn
from distrust.gateway import audit
from distrust.gateway.sandbox import probe

ROOT = Path(__file__).parents[1]
FIXTURE = ROOT / "fixtures" / "packages" / "postmark-mcp"
TOOLS = ROOT / "tools"
DISTRUST = str(Path(sys.executable).with_name("distrust"))
TOKEN = "3f1a9e2c-7b4d-4e8a-9c1d-2a5b6c7d8e9f"

pytestmark = pytest.mark.skipif(not probe().ok, reason=f"sandbox unavailable: {probe().reason}")


def server_dir(tmp: Path, version: str, major: int) -> Path:
    modules = TOOLS / f"postmark{major}" / "node_modules"
    if not (modules / "postmark").is_dir():
        pytest.skip(f"tests/tools/postmark{major} is not installed (run scripts/test.sh)")
    target = tmp / f"server-{version}-{major}"
    target.mkdir()
    for name in ("index.js", "package.json"):
        (target / name).write_bytes((FIXTURE / version / name).read_bytes())
    (target / "node_modules").symlink_to(modules)
    return target


async def send_through_distrust(folder: Path, name: str, standin_url: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "POSTMARK_SERVER_TOKEN": TOKEN,
        "DEFAULT_SENDER_EMAIL": "assistant@example.org",
        "DISTRUST_EGRESS_OVERRIDES": f"api.postmarkapp.com={standin_url}",
    }
    args = ["run", "--name", name, "--env", "POSTMARK_SERVER_TOKEN", "--env", "DEFAULT_SENDER_EMAIL"]
    args += ["--allow-host", "api.postmarkapp.com", "--", "node", str(folder / "index.js")]
    params = StdioServerParameters(command=DISTRUST, args=args, env=env)
    async with Client(params, read_timeout_seconds=60) as client:
        tools = await client.list_tools()
        assert [t.name for t in tools.tools] == ["sendEmail", "listTemplates"]
        result = await client.call_tool(
            "sendEmail",
            {"to": "alice@example.com", "subject": "Reset", "textBody": "Your link: https://x/r/1"},
        )
        return result.model_dump(mode="json")


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 90))


@pytest.mark.parametrize("major", [4, 5])
def test_clean_version_delivers_exactly_the_requested_recipient(tmp_path: Path, major: int) -> None:
    with PostmarkStandIn(TOKEN).start() as standin:
        result = run(
            send_through_distrust(server_dir(tmp_path, "1.0.15", major), f"pm{major}-clean", standin.url)
        )
        messages = standin.messages
    assert result["is_error"] is False, result
    assert "MessageID" in json.dumps(result)
    assert len(messages) == 1
    assert list(messages[0].to) == ["alice@example.com"]
    assert list(messages[0].bcc) == [] and list(messages[0].cc) == []


@pytest.mark.parametrize("major", [4, 5])
def test_hidden_bcc_is_blocked_and_explained(tmp_path: Path, major: int) -> None:
    name = f"pm{major}-bcc"
    with PostmarkStandIn(TOKEN).start() as standin:
        result = run(send_through_distrust(server_dir(tmp_path, "1.0.16", major), name, standin.url))
        messages = standin.messages
    assert messages == ()  # Postmark never saw the request
    assert result["is_error"] is True, result
    text = json.dumps(result)
    assert "phan@giftshop.club" in text and "distrust blocked" in text
    rows = [r for r in audit.query(server=name) if r.tool == "sendEmail"]
    assert rows and rows[0].decision == "blocked-egress"
    assert "phan@giftshop.club" in (rows[0].detail or "")
    events = audit.events(server=name)
    assert any(e.kind == "egress" for e in events)


PY_SERVER = ROOT / "fixtures" / "servers" / "py_mail_server.py"


async def send_with_python_server(
    name: str, client: str, hidden_bcc: bool, standin_url: str
) -> dict[str, Any]:
    env = {
        **os.environ,
        "POSTMARK_SERVER_TOKEN": TOKEN,
        "DEFAULT_SENDER_EMAIL": "assistant@example.org",
        "DISTRUST_EGRESS_OVERRIDES": f"api.postmarkapp.com={standin_url}",
    }
    flag = f"--hidden-bcc={hidden_bcc}" if isinstance(hidden_bcc, str) else "--hidden-bcc"
    command = [sys.executable, str(PY_SERVER), client, *([flag] if hidden_bcc else [])]
    args = ["run", "--name", name, "--env", "POSTMARK_SERVER_TOKEN", "--env", "DEFAULT_SENDER_EMAIL"]
    args += ["--allow-host", "api.postmarkapp.com", "--", *command]
    params = StdioServerParameters(command=DISTRUST, args=args, env=env)
    async with Client(params, read_timeout_seconds=60) as session:
        await session.list_tools()  # the first listing pins the tools; unlisted tools are refused
        result = await session.call_tool(
            "send_email", {"to": "bob@example.com", "subject": "Invoice", "text_body": "Attached."}
        )
        return result.model_dump(mode="json")


@pytest.mark.parametrize("client", ["httpx", "requests"])
def test_python_server_clean_and_hidden_bcc(client: str) -> None:
    with PostmarkStandIn(TOKEN).start() as standin:
        clean = run(send_with_python_server(f"py-{client}-clean", client, False, standin.url))
        delivered = standin.messages
        bad = run(send_with_python_server(f"py-{client}-bcc", client, True, standin.url))
        after = standin.messages
    assert clean["is_error"] is False, clean
    assert len(delivered) == 1 and list(delivered[0].to) == ["bob@example.com"]
    assert bad["is_error"] is True and "phan@giftshop.club" in json.dumps(bad)
    assert after == delivered  # the Bcc'd request never reached "Postmark"


def test_unknown_hidden_recipient_is_blocked_by_intent_alone() -> None:
    """No advisory, no IOC: the Bcc is blocked only because no tool call asked for it."""
    with PostmarkStandIn(TOKEN).start() as standin:
        bad = run(send_with_python_server("py-intent", "httpx", "archive@collector.example", standin.url))
        received = standin.messages
    assert received == ()
    text = json.dumps(bad)
    assert bad["is_error"] is True and "archive@collector.example" in text
    assert "no tool call named" in text
