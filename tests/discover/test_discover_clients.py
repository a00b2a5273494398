"""One fixture home per client format: the right client, names, commands, transports and lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from discover_fixtures import POSTMARK_STDIO, by_name, line_of, write, write_json

from distrust.discover import Discovery, discover


def _only(result: Discovery) -> Discovery:
    assert result.notices == (), result.notices
    return result


@pytest.mark.parametrize(
    "relative",
    [
        "Library/Application Support/Claude/claude_desktop_config.json",
        "AppData/Roaming/Claude/claude_desktop_config.json",
        ".config/Claude/claude_desktop_config.json",
        "AppData/Local/Packages/Claude_pzs8sxrjxfjjc/LocalCache/Roaming/Claude/claude_desktop_config.json",
    ],
)
def test_claude_desktop_on_every_os(tmp_path: Path, relative: str) -> None:
    path = write_json(tmp_path, relative, {"globalShortcut": "", "mcpServers": {"postmark": POSTMARK_STDIO}})
    result = _only(discover(tmp_path))
    (spec,) = result.servers
    assert spec.client == "claude-desktop"
    assert spec.config_path == path
    assert spec.name == "postmark"
    assert spec.transport == "stdio"
    assert spec.command == "npx"
    assert spec.args == ("-y", "postmark-mcp")
    assert spec.env_keys == ("POSTMARK_SERVER_TOKEN", "DEFAULT_SENDER_EMAIL")
    assert spec.scope == "user"
    assert spec.line == line_of(path, '"postmark"')
    assert result.configs_read == (path,)


def test_claude_code_user_local_and_project_scopes(tmp_path: Path) -> None:
    project = tmp_path / "work" / "app"
    user_file = write_json(
        tmp_path,
        ".claude.json",
        {
            "numStartups": 3,
            "mcpServers": {"postmark": POSTMARK_STDIO},
            "projects": {
                str(project): {
                    "allowedTools": [],
                    "mcpServers": {
                        "notion": {
                            "type": "http",
                            "url": "https://mcp.notion.com/mcp",
                            "headers": {"Authorization": "Bearer x"},
                        }
                    },
                },
                "/elsewhere": {"mcpServers": {}},
            },
        },
    )
    project_file = write_json(
        project, ".mcp.json", {"mcpServers": {"shared": {"type": "sse", "url": "https://example.com/sse"}}}
    )
    result = _only(discover(tmp_path, projects=[project]))
    servers = by_name(result.servers)
    assert servers["postmark"].scope == "user"
    assert servers["postmark"].client == "claude-code"
    notion = servers["notion"]
    assert (notion.scope, notion.transport, notion.url) == ("project", "http", "https://mcp.notion.com/mcp")
    assert notion.headers == (("Authorization", "Bearer x"),)
    assert notion.line == line_of(user_file, '"notion"')
    shared = servers["shared"]
    assert (shared.client, shared.scope, shared.transport) == ("claude-code", "project", "sse")
    assert shared.config_path == project_file
    assert result.configs_read == (user_file, project_file)


def test_cursor_global_and_project(tmp_path: Path) -> None:
    project = tmp_path / "repo"
    write_json(
        tmp_path, ".cursor/mcp.json", {"mcpServers": {"global-one": {"url": "https://mcp.example/mcp"}}}
    )
    write_json(
        project, ".cursor/mcp.json", {"mcpServers": {"local-one": {"command": "uvx", "args": ["x-mcp"]}}}
    )
    servers = by_name(_only(discover(tmp_path, projects=[project])).servers)
    assert servers["global-one"].transport == "http"
    assert (servers["global-one"].client, servers["global-one"].scope) == ("cursor", "user")
    assert (servers["local-one"].client, servers["local-one"].scope) == ("cursor", "project")
    assert servers["local-one"].command == "uvx"


def test_vscode_user_settings_mcp_json_profiles_and_workspace(tmp_path: Path) -> None:
    settings = write(
        tmp_path,
        ".config/Code/User/settings.json",
        """{
  "editor.fontSize": 14, // comments are normal in VS Code settings
  "mcp": {
    "servers": {
      "nested": {"type": "stdio", "command": "node", "args": ["server.js"],},
    },
  },
}""",
    )
    write(
        tmp_path,
        "Library/Application Support/Code - Insiders/User/settings.json",
        '{"mcp.servers": {"flat": {"command": "python", "args": ["-m", "srv"]}}}',
    )
    user_mcp = write(
        tmp_path,
        "AppData/Roaming/Code/User/mcp.json",
        """{
  "inputs": [{"type": "promptString", "id": "token", "description": "API token", "password": true}],
  "servers": {
    "github": {
      "type": "http",
      "url": "https://api.githubcopilot.com/mcp/",
      "headers": {"Authorization": "Bearer ${input:token}"}
    }
  }
}""",
    )
    write_json(
        tmp_path,
        ".config/VSCodium/User/profiles/5a1b2c/mcp.json",
        {"servers": {"profiled": {"command": "npx", "args": ["-y", "pkg"], "env": {"A": "${env:A}"}}}},
    )
    project = tmp_path / "ws"
    write_json(
        project,
        ".vscode/mcp.json",
        {"servers": {"ws-server": {"type": "sse", "url": "http://127.0.0.1:9/sse"}}},
    )
    servers = by_name(_only(discover(tmp_path, projects=[project])).servers)
    assert {s.client for s in servers.values()} == {"vscode"}
    assert servers["nested"].line == line_of(settings, '"nested"')
    assert servers["nested"].args == ("server.js",)
    assert servers["flat"].command == "python"
    assert servers["github"].headers == (("Authorization", "Bearer ${input:token}"),)
    assert servers["github"].line == line_of(user_mcp, '"github"')
    assert servers["profiled"].env == (("A", "${env:A}"),)
    assert (servers["ws-server"].scope, servers["ws-server"].transport) == ("workspace", "sse")


def test_windsurf_server_url_is_http(tmp_path: Path) -> None:
    write_json(
        tmp_path,
        ".codeium/windsurf/mcp_config.json",
        {
            "mcpServers": {
                "remote": {"serverUrl": "https://api.example.com/mcp", "headers": {"X-Key": "k"}},
                "local": {"command": "docker", "args": ["run", "-i", "img"], "disabled": True},
            }
        },
    )
    servers = by_name(_only(discover(tmp_path)).servers)
    assert (servers["remote"].client, servers["remote"].transport) == ("windsurf", "http")
    assert servers["remote"].url == "https://api.example.com/mcp"
    assert servers["local"].disabled is True
    assert servers["remote"].disabled is False


def test_cline_bare_url_is_sse_and_streamable_http_is_http(tmp_path: Path) -> None:
    relative = ".config/Cursor/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json"
    write_json(
        tmp_path,
        relative,
        {
            "mcpServers": {
                "legacy": {"url": "https://x.example/sse", "disabled": False, "autoApprove": []},
                "modern": {"type": "streamableHttp", "url": "https://x.example/mcp"},
                "old-field": {"transportType": "stdio", "command": "node", "args": ["a.js"]},
            }
        },
    )
    write_json(
        tmp_path, ".cline/data/settings/cline_mcp_settings.json", {"mcpServers": {"cli": POSTMARK_STDIO}}
    )
    servers = by_name(_only(discover(tmp_path)).servers)
    assert {s.client for s in servers.values()} == {"cline"}
    assert servers["legacy"].transport == "sse"
    assert servers["modern"].transport == "http"
    assert servers["old-field"].transport == "stdio"
    assert servers["cli"].args == ("-y", "postmark-mcp")


def test_continue_yaml_json_and_block_folders(tmp_path: Path) -> None:
    config_yaml = write(
        tmp_path,
        ".continue/config.yaml",
        """name: My Config
version: 0.0.1
schema: v1
mcpServers:
  - name: SQLite
    command: npx
    args:
      - "-y"
      - "mcp-sqlite"
      - "/tmp/db.sqlite"
    env:
      DEBUG: 1
  - name: Remote
    type: streamable-http
    url: https://mcp.example.com/mcp
""",
    )
    write_json(
        tmp_path,
        ".continue/config.json",
        {
            "experimental": {
                "modelContextProtocolServers": [
                    {"transport": {"type": "stdio", "command": "uvx", "args": ["mcp-server-git"]}}
                ]
            }
        },
    )
    block = write(
        tmp_path,
        ".continue/mcpServers/playwright.yaml",
        "name: Playwright\nversion: 0.0.1\nschema: v1\nmcpServers:\n"
        '  - name: Browser\n    command: npx\n    args: ["@playwright/mcp@latest"]\n',
    )
    write_json(tmp_path, ".continue/mcpServers/from-claude.json", {"mcpServers": {"copied": POSTMARK_STDIO}})
    write(tmp_path, ".continue/mcpServers/README.md", "not a config")
    project = tmp_path / "proj"
    write(
        project,
        ".continue/mcpServers/team.yml",
        "mcpServers:\n  - name: Team\n    type: sse\n    url: https://t.example/sse\n",
    )
    servers = by_name(_only(discover(tmp_path, projects=[project])).servers)
    assert {s.client for s in servers.values()} == {"continue"}
    sqlite = servers["SQLite"]
    assert sqlite.args == ("-y", "mcp-sqlite", "/tmp/db.sqlite")
    assert sqlite.env == (("DEBUG", "1"),)
    assert sqlite.line == line_of(config_yaml, "- name: SQLite")
    assert servers["Remote"].transport == "http"
    git = servers["experimental.modelContextProtocolServers[0]"]
    assert (git.command, git.args, git.transport) == ("uvx", ("mcp-server-git",), "stdio")
    assert servers["Browser"].line == line_of(block, "- name: Browser")
    assert servers["copied"].command == "npx"
    assert (servers["Team"].scope, servers["Team"].transport) == ("project", "sse")


def test_zed_old_and_flat_command_forms_url_and_extension(tmp_path: Path) -> None:
    settings = write(
        tmp_path,
        ".config/zed/settings.json",
        """// Zed settings
{
  "theme": "One Dark",
  "context_servers": {
    "old-form": {
      "command": {"path": "/usr/bin/node", "args": ["srv.js"], "env": {"TOKEN": "t"}},
      "settings": {}
    },
    "flat-form": {"source": "custom", "command": "uvx", "args": ["mcp-x"], "env": {}, "enabled": false},
    "remote": {"url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer t"}},
    "from-extension": {"source": "extension", "enabled": true, "settings": {"key": "v"}},
  },
}""",
    )
    result = discover(tmp_path)
    servers = by_name(result.servers)
    assert set(servers) == {"old-form", "flat-form", "remote"}
    old = servers["old-form"]
    assert (old.client, old.command, old.args, old.env_keys) == (
        "zed",
        "/usr/bin/node",
        ("srv.js",),
        ("TOKEN",),
    )
    assert old.line == line_of(settings, '"old-form"')
    assert servers["flat-form"].disabled is True
    assert servers["remote"].transport == "http"
    (notice,) = result.notices
    assert "from-extension" in notice.message and "extension" in notice.message
    assert notice.file == settings and notice.line == line_of(settings, '"from-extension"')


def test_gemini_http_url_and_sse_url(tmp_path: Path) -> None:
    write_json(
        tmp_path,
        ".gemini/settings.json",
        {
            "theme": "Dracula",
            "mcpServers": {
                "streaming": {"httpUrl": "https://api.example.com/mcp", "headers": {"Authorization": "t"}},
                "events": {"url": "http://localhost:8080/sse"},
                "local": {"command": "python", "args": ["-m", "srv"], "cwd": "./srv", "trust": False},
            },
        },
    )
    project = tmp_path / "p"
    write_json(
        project, ".gemini/settings.json", {"mcpServers": {"proj": {"command": "node", "args": ["x.js"]}}}
    )
    servers = by_name(_only(discover(tmp_path, projects=[project])).servers)
    assert (servers["streaming"].transport, servers["streaming"].url) == (
        "http",
        "https://api.example.com/mcp",
    )
    assert servers["events"].transport == "sse"
    assert (servers["local"].transport, servers["local"].cwd) == ("stdio", "./srv")
    assert (servers["proj"].client, servers["proj"].scope) == ("gemini", "project")


def test_codex_toml_with_env_table_url_and_lines(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        ".codex/config.toml",
        """model = "o3"

[mcp_servers.postmark]
command = "npx"
args = ["-y", "postmark-mcp@1.0.15"]

[mcp_servers.postmark.env]
POSTMARK_SERVER_TOKEN = "t"

[mcp_servers."remote-docs"]
url = "https://docs.example.com/mcp"
http_headers = { "X-Team" = "a" }
enabled = false

[mcp_servers]
inline = { command = "uvx", args = ["mcp-inline"] }
""",
    )
    servers = by_name(_only(discover(tmp_path)).servers)
    postmark = servers["postmark"]
    assert (postmark.client, postmark.args, postmark.env_keys) == (
        "codex",
        ("-y", "postmark-mcp@1.0.15"),
        ("POSTMARK_SERVER_TOKEN",),
    )
    assert postmark.line == line_of(config, "[mcp_servers.postmark]")
    docs = servers["remote-docs"]
    assert (docs.transport, docs.disabled, docs.headers) == ("http", True, (("X-Team", "a"),))
    assert docs.line == line_of(config, '[mcp_servers."remote-docs"]')
    assert servers["inline"].line == line_of(config, "inline = ")


def test_goose_extensions(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        ".config/goose/config.yaml",
        """GOOSE_PROVIDER: anthropic
extensions:
  developer:
    enabled: true
    name: developer
    type: builtin
  github:
    args: ["-y", "@modelcontextprotocol/server-github"]
    cmd: npx
    enabled: true
    envs:
      GITHUB_PERSONAL_ACCESS_TOKEN: "x"
    name: github
    timeout: 300
    type: stdio
  remote:
    enabled: false
    type: streamable_http
    uri: https://mcp.example.com/mcp
  events:
    enabled: true
    type: sse
    uri: http://localhost:8000/sse
""",
    )
    write(
        tmp_path,
        "AppData/Roaming/Block/goose/config/config.yaml",
        "extensions:\n  win:\n    type: stdio\n    cmd: uvx\n    args: [w]\n",
    )
    servers = by_name(_only(discover(tmp_path)).servers)
    assert set(servers) == {"github", "remote", "events", "win"}
    github = servers["github"]
    assert (github.client, github.command, github.env_keys) == (
        "goose",
        "npx",
        ("GITHUB_PERSONAL_ACCESS_TOKEN",),
    )
    assert github.line == line_of(config, "  github:")
    assert (servers["remote"].transport, servers["remote"].disabled) == ("http", True)
    assert servers["events"].transport == "sse"


def test_env_overrides_add_locations(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    elsewhere = tmp_path / "elsewhere"
    write_json(elsewhere / "claude", ".claude.json", {"mcpServers": {"cc": POSTMARK_STDIO}})
    write(elsewhere / "codex", "config.toml", '[mcp_servers.cx]\ncommand = "x"\n')
    write_json(elsewhere / "xdg", "Code/User/mcp.json", {"servers": {"vs": {"command": "y"}}})
    write_json(
        elsewhere / "roaming", "Claude/claude_desktop_config.json", {"mcpServers": {"cd": {"command": "z"}}}
    )
    env = {
        "CLAUDE_CONFIG_DIR": str(elsewhere / "claude"),
        "CODEX_HOME": str(elsewhere / "codex"),
        "XDG_CONFIG_HOME": str(elsewhere / "xdg"),
        "APPDATA": str(elsewhere / "roaming"),
    }
    assert discover(home).servers == ()
    servers = by_name(_only(discover(home, env=env)).servers)
    assert {name: s.client for name, s in servers.items()} == {
        "cc": "claude-code",
        "cx": "codex",
        "vs": "vscode",
        "cd": "claude-desktop",
    }


def test_explicit_transport_wins_over_fields(tmp_path: Path) -> None:
    write_json(
        tmp_path,
        ".cursor/mcp.json",
        {
            "mcpServers": {
                "local-http": {
                    "type": "http",
                    "command": "node",
                    "args": ["srv.js"],
                    "url": "http://127.0.0.1:3000/mcp",
                },
                "dash": {"type": "streamable-http", "url": "https://a.example/mcp"},
                "camel": {"transport": "streamableHttp", "url": "https://b.example/mcp"},
                "both-no-type": {"command": "npx", "url": "https://c.example/mcp"},
            }
        },
    )
    servers = by_name(_only(discover(tmp_path)).servers)
    assert servers["local-http"].transport == "http"
    assert servers["dash"].transport == "http"
    assert servers["camel"].transport == "http"
    assert servers["both-no-type"].transport == "stdio"


def test_servers_keep_secret_values_out_of_repr(tmp_path: Path) -> None:
    write_json(tmp_path, ".cursor/mcp.json", {"mcpServers": {"pm": POSTMARK_STDIO}})
    (spec,) = discover(tmp_path).servers
    assert "secret-token-value" not in repr(spec)
    assert dict(spec.env)["POSTMARK_SERVER_TOKEN"] == "secret-token-value"
