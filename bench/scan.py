"""Benchmark: how long `distrust scan` takes on a home with 500 configured MCP servers.

Builds a synthetic home in a temp dir with servers spread over every supported client
(Claude Desktop, Claude Code, Cursor, VS Code, Windsurf, Cline, Continue, Zed, Gemini CLI,
Codex CLI, Goose), an npx cache of 300 packages and a project with a lockfile, then times
(a) the scan pipeline in-process and (b) the whole `distrust scan --format json` command,
start-up included. Target: under 1 s for the command on this machine.

    .venv/bin/python bench/scan.py [--servers 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLIENT_FILES = {
    "claude-desktop": ".config/Claude/claude_desktop_config.json",
    "claude-code": ".claude.json",
    "cursor": ".cursor/mcp.json",
    "vscode": ".config/Code/User/mcp.json",
    "windsurf": ".codeium/windsurf/mcp_config.json",
    "cline": ".config/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json",
    "continue": ".continue/config.yaml",
    "zed": ".config/zed/settings.json",
    "gemini": ".gemini/settings.json",
    "codex": ".codex/config.toml",
    "goose": ".config/goose/config.yaml",
}


def _server(i: int) -> dict[str, object]:
    """A mix like real configs: pinned and floating npx, uvx, docker, remote, some secrets."""
    kind = i % 6
    if kind == 0:
        return {"command": "npx", "args": ["-y", f"mcp-bench-server-{i}"], "env": {"API_TOKEN": "x" * 32}}
    if kind == 1:
        return {"command": "npx", "args": ["-y", f"@bench/server-{i}@1.{i % 7}.0"]}
    if kind == 2:
        return {"command": "uvx", "args": [f"mcp-bench-py-{i}"]}
    if kind == 3:
        return {"command": "docker", "args": ["run", "-i", "--rm", f"ghcr.io/bench/server-{i}:latest"]}
    if kind == 4:
        return {"url": f"https://mcp{i}.example.com/mcp"}
    return {"command": "node", "args": [f"/opt/mcp/server-{i}/dist/index.js"]}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _yaml_list(servers: dict[str, dict[str, object]]) -> str:
    out = ["mcpServers:"]
    for name, s in servers.items():
        out.append(f"  - name: {name}")
        if "url" in s:
            out += ["    type: streamable-http", f"    url: {s['url']}"]
        else:
            out.append(f"    command: {s['command']}")
            out.append("    args: " + json.dumps(s["args"]))
    return "\n".join(out) + "\n"


def _goose(servers: dict[str, dict[str, object]]) -> str:
    out = ["extensions:"]
    for name, s in servers.items():
        out.append(f"  {name}:")
        out += ["    enabled: true", f"    name: {name}"]
        if "url" in s:
            out += ["    type: streamable_http", f"    uri: {s['url']}"]
        else:
            out += ["    type: stdio", f"    cmd: {s['command']}", "    args: " + json.dumps(s["args"])]
    return "\n".join(out) + "\n"


def _codex(servers: dict[str, dict[str, object]]) -> str:
    out = []
    for name, s in servers.items():
        out.append(f"[mcp_servers.{name}]")
        if "url" in s:
            out.append(f'url = "{s["url"]}"')
        else:
            out.append(f'command = "{s["command"]}"')
            out.append("args = " + json.dumps(s["args"]))
        out.append("")
    return "\n".join(out)


def build_home(root: Path, count: int) -> Path:
    home = root / "home"
    clients = list(CLIENT_FILES)
    per: dict[str, dict[str, dict[str, object]]] = {c: {} for c in clients}
    for i in range(count):
        per[clients[i % len(clients)]][f"server-{i}"] = _server(i)
    for client, servers in per.items():
        path = home / CLIENT_FILES[client]
        if client == "continue":
            _write(path, _yaml_list(servers))
        elif client == "goose":
            _write(path, _goose(servers))
        elif client == "codex":
            _write(path, _codex(servers))
        elif client == "vscode":
            _write(path, json.dumps({"servers": servers}, indent=2))
        elif client == "zed":
            _write(path, json.dumps({"context_servers": servers}, indent=2))
        else:
            _write(path, json.dumps({"mcpServers": servers}, indent=2))
    for i in range(0, count, 6):  # an npx cache holding many of the floating packages
        pkg = home / f".npm/_npx/{i:016x}/node_modules/mcp-bench-server-{i}/package.json"
        _write(pkg, json.dumps({"name": f"mcp-bench-server-{i}", "version": f"1.0.{i % 17}"}))
    return home


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--servers", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    from distrust.pipeline.scan import ScanOptions, run_scan

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        home = build_home(root, args.servers)
        project = root / "project"
        project.mkdir()
        opts = ScanOptions(home=home, projects=(project,))
        in_process = []
        result = None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            result = run_scan(opts)
            in_process.append(time.perf_counter() - t0)
        assert result is not None
        exe = Path(sys.executable).with_name("distrust")
        env = dict(os.environ, DISTRUST_DATA_DIR=str(root / "data"), DISTRUST_CACHE_DIR=str(root / "cache"))
        command = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            proc = subprocess.run(
                [str(exe), "scan", "--home", str(home), "--project", str(project), "--format", "json"],
                capture_output=True,
                env=env,
                check=False,
            )
            command.append(time.perf_counter() - t0)
            if proc.returncode not in (0, 1):
                sys.exit(f"scan failed: {proc.stderr.decode()[-2000:]}")
        print(
            f"servers configured: {args.servers}, found: {len(result.servers)}, "
            f"findings: {len(result.findings)}"
        )
        print(f"scan pipeline in-process: median {statistics.median(in_process) * 1000:.0f} ms")
        print(f"`distrust scan --format json` command: median {statistics.median(command) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
