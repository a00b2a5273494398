"""Files given explicitly: the client is recognised from the file's shape, then its name."""

from __future__ import annotations

from pathlib import Path

from discover_fixtures import POSTMARK_STDIO, by_name, write, write_json

from distrust.discover import discover


def test_known_names_and_shapes(tmp_path: Path) -> None:
    files = [
        write_json(tmp_path, "a/claude_desktop_config.json", {"mcpServers": {"desk": POSTMARK_STDIO}}),
        write_json(tmp_path, "b/.mcp.json", {"mcpServers": {"proj": POSTMARK_STDIO}}),
        write_json(
            tmp_path, "c/mcp_config.json", {"mcpServers": {"surf": {"serverUrl": "https://s.example"}}}
        ),
        write_json(tmp_path, "d/servers.json", {"mcpServers": {"unknown": POSTMARK_STDIO}}),
        write_json(tmp_path, "e/mcp.json", {"servers": {"vs": {"command": "x"}}}),
        write_json(tmp_path, "f/settings.json", {"context_servers": {"zed": {"command": "x"}}}),
        write(tmp_path, "g/codex.toml", '[mcp_servers.cdx]\ncommand = "x"\n'),
        write(
            tmp_path,
            "h/goose.yaml",
            "extensions:\n  gs:\n    type: stdio\n    cmd: x\n  dev:\n    type: builtin\n",
        ),
        write_json(tmp_path, "i/settings.json", {"mcpServers": {"gem": {"url": "https://g.example/sse"}}}),
        write_json(
            tmp_path, "j/cline_mcp_settings.json", {"mcpServers": {"cl": {"url": "https://c.example/sse"}}}
        ),
        write_json(
            tmp_path, "k/.claude.json", {"projects": {"/p": {"mcpServers": {"local": POSTMARK_STDIO}}}}
        ),
    ]
    result = discover(tmp_path / "empty-home", extra_configs=files)
    assert result.notices == ()
    clients = {name: spec.client for name, spec in by_name(result.servers).items()}
    assert clients == {
        "desk": "claude-desktop",
        "proj": "claude-code",
        "surf": "windsurf",
        "unknown": "custom",
        "vs": "vscode",
        "zed": "zed",
        "cdx": "codex",
        "gs": "goose",
        "gem": "gemini",
        "cl": "cline",
        "local": "claude-code",
    }
    servers = by_name(result.servers)
    assert servers["gem"].transport == "sse"  # the client's own rule for a bare url
    assert servers["cl"].transport == "sse"
    assert servers["surf"].transport == "http"
    assert servers["local"].scope == "project"
    assert result.configs_read == tuple(files)


def test_missing_unrecognised_and_odd_extension(tmp_path: Path) -> None:
    not_mcp = write_json(tmp_path, "package.json", {"name": "x", "version": "1.0.0"})
    odd = write(tmp_path, "config.mcp", '{"mcpServers": {"odd": {"command": "x"}}}')
    missing = tmp_path / "missing.json"
    result = discover(tmp_path / "home", extra_configs=[not_mcp, odd, missing])
    assert [s.name for s in result.servers] == ["odd"]
    notices = {n.file: n.message for n in result.notices}
    assert set(notices) == {not_mcp, missing}
    assert "no MCP server list" in notices[not_mcp]
    assert "no such file" in notices[missing]


def test_explicit_directory_is_a_notice(tmp_path: Path) -> None:
    result = discover(tmp_path / "home", extra_configs=[tmp_path])
    (notice,) = result.notices
    assert notice.file == tmp_path and "directory" in notice.message
