"""`distrust scan` end to end, as a user runs it: fixture homes in, reports and exit codes out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema

DISTRUST = str(Path(sys.executable).with_name("distrust"))
SCHEMA = Path(__file__).parents[1] / "docs" / "scan-report.schema.json"
TOKEN = "8f1c2d3e-1111-2222-3333-444455556666"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DISTRUST, *args], capture_output=True, text=True, env=dict(os.environ), timeout=60)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def postmark_home(root: Path) -> Path:
    """Claude Desktop pins the malicious 1.0.16; Cursor floats, and the npx cache holds 1.0.17."""
    home = root / "home"
    write(
        home / ".config/Claude/claude_desktop_config.json",
        '{\n  // Claude Desktop, as many users configured it\n  "mcpServers": {\n'
        '    "postmark": {"command": "npx", "args": ["-y", "postmark-mcp@1.0.16"],\n'
        f'                 "env": {{"POSTMARK_SERVER_TOKEN": "{TOKEN}"}}}},\n'
        "  },\n}\n",
    )
    write(
        home / ".cursor/mcp.json",
        '{"mcpServers": {"email": {"command": "npx", "args": ["-y", "postmark-mcp"]}}}',
    )
    write(
        home / ".npm/_npx/4a5b6c7d8e9f0a1b/node_modules/postmark-mcp/package.json",
        '{"name": "postmark-mcp", "version": "1.0.17"}',
    )
    return home


def benign_home(root: Path) -> Path:
    """Well-known servers, pinned, with secrets referenced rather than written inline."""
    home = root / "benign"
    write(
        home / ".config/Claude/claude_desktop_config.json",
        json.dumps(
            {
                "mcpServers": {
                    "filesystem": {
                        "command": "npx",
                        "args": [
                            "-y",
                            "@modelcontextprotocol/server-filesystem@2025.8.21",
                            str(home / "docs"),
                        ],
                    },
                    "fetch": {"command": "uvx", "args": ["mcp-server-fetch==2025.4.7"]},
                }
            }
        ),
    )
    write(
        home / ".config/Code/User/mcp.json",
        json.dumps(
            {
                "inputs": [{"type": "promptString", "id": "gh", "password": True}],
                "servers": {
                    "github": {
                        "type": "http",
                        "url": "https://api.githubcopilot.com/mcp/",
                        "headers": {"Authorization": "Bearer ${input:gh}"},
                    }
                },
            }
        ),
    )
    return home


def test_postmark_home_is_critical_on_both_clients(tmp_path: Path) -> None:
    home = postmark_home(tmp_path)
    proc = run("scan", "--home", str(home), "--project", str(tmp_path), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    critical = [f for f in doc["findings"] if f["severity"] == "critical"]
    clients = {f["server"]["client"] for f in critical if "MAL-2025-47604" in f["advisories"]}
    assert clients == {"claude-desktop", "cursor"}
    assert all(f["remediation"] for f in critical)
    cursor = next(f for f in critical if f["server"]["client"] == "cursor")
    assert cursor["package"]["version"] == "1.0.17"
    assert TOKEN not in proc.stdout


def test_table_output_never_prints_the_secret(tmp_path: Path) -> None:
    home = postmark_home(tmp_path)
    proc = run("scan", "--home", str(home), "--project", str(tmp_path))
    assert proc.returncode == 1
    assert "MAL-2025-47604" in proc.stdout
    assert TOKEN not in proc.stdout + proc.stderr


def test_benign_home_has_nothing_above_low(tmp_path: Path) -> None:
    home = benign_home(tmp_path)
    proc = run("scan", "--home", str(home), "--project", str(tmp_path), "--format", "json")
    doc = json.loads(proc.stdout)
    assert len(doc["servers"]) == 3
    above_low = [f for f in doc["findings"] if f["severity"] not in ("none", "low")]
    assert above_low == [], above_low
    assert proc.returncode == 0


def test_fail_on_critical_and_sarif(tmp_path: Path) -> None:
    home = postmark_home(tmp_path)
    out = tmp_path / "report.sarif"
    proc = run("scan", "--home", str(home), "--project", str(tmp_path), "--format", "sarif", "-o", str(out))
    assert proc.returncode == 1
    sarif = json.loads(out.read_text())
    assert sarif["version"] == "2.1.0"
    assert any(r["level"] == "error" for r in sarif["runs"][0]["results"])
    benign = benign_home(tmp_path)
    assert (
        run("scan", "--home", str(benign), "--project", str(tmp_path), "--fail-on", "critical").returncode
        == 0
    )


def test_empty_home(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = run("scan", "--home", str(tmp_path / "empty"), "--project", str(tmp_path / "empty"))
    assert proc.returncode == 0
    assert "no MCP servers found" in proc.stdout


def test_broken_configs_are_reported_and_the_scan_goes_on(tmp_path: Path) -> None:
    home = postmark_home(tmp_path)
    write(home / ".codeium/windsurf/mcp_config.json", '{"mcpServers": {"x": {"command": "npx",, }}')
    (home / ".gemini").mkdir()
    (home / ".gemini/settings.json").mkdir()  # a directory where a file should be
    write(home / ".codex/config.toml", "[mcp_servers.a]\ncommand = \n")
    (home / ".config/zed").mkdir(parents=True)
    (home / ".config/zed/settings.json").write_bytes(b'{"context_servers": {"\xff\xfe": 1}}')
    loop = home / ".cursor" / "loop.json"
    os.symlink(loop, loop)
    proc = run(
        "scan", "--home", str(home), "--project", str(tmp_path), "--config", str(loop), "--format", "json"
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    doc = json.loads(proc.stdout)
    files = {Path(n["file"]).name for n in doc["notices"] if n.get("file")}
    assert {"mcp_config.json", "settings.json", "config.toml", "loop.json"} <= files
    windsurf = next(n for n in doc["notices"] if n.get("file", "").endswith("mcp_config.json"))
    assert windsurf["line"] == 1
    assert any(f["severity"] == "critical" for f in doc["findings"])


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("scan", "--home", str(tmp_path / "nope")).returncode == 2
    assert run("scan", "--fail-on", "loud").returncode == 2
    assert run("scan", "--format", "xml").returncode == 2
