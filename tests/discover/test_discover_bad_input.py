"""Bad user files become notices naming the file (and line), and discovery carries on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from discover_fixtures import POSTMARK_STDIO, by_name, line_of, write, write_json

from distrust.discover import discover
from distrust.model import Notice

GOOD = ".cursor/mcp.json"  # a healthy config next to each broken one


def _with_good(home: Path) -> Path:
    return write_json(home, GOOD, {"mcpServers": {"still-found": POSTMARK_STDIO}})


def _one_notice(home: Path, **kwargs: object) -> Notice:
    result = discover(home, **kwargs)  # type: ignore[arg-type]
    assert "still-found" in by_name(result.servers)
    assert len(result.notices) == 1, result.notices
    return result.notices[0]


def test_empty_home_finds_nothing_and_says_nothing(tmp_path: Path) -> None:
    result = discover(tmp_path)
    assert (result.servers, result.notices, result.configs_read) == ((), (), ())


def test_missing_home_is_not_an_error(tmp_path: Path) -> None:
    result = discover(tmp_path / "nope", projects=[tmp_path / "also-nope"])
    assert (result.servers, result.notices) == ((), ())


def test_malformed_json_names_file_line_and_column(tmp_path: Path) -> None:
    _with_good(tmp_path)
    bad = write(
        tmp_path,
        ".gemini/settings.json",
        '{\n  "mcpServers": {\n    "x": {"command": "a"}\n    "y": {}\n  }\n}\n',
    )
    notice = _one_notice(tmp_path)
    assert notice.file == bad
    assert notice.line == 4
    assert "column 5" in notice.message and "expected ',' or '}'" in notice.message
    assert str(bad) in notice.message


def test_unterminated_comment_and_truncated_file(tmp_path: Path) -> None:
    _with_good(tmp_path)
    write(tmp_path, ".gemini/settings.json", '{"mcpServers": {}\n/* never closed\n')
    write(tmp_path, ".codeium/windsurf/mcp_config.json", '{"mcpServers": {"a": {"command": "x"')
    result = discover(tmp_path)
    lines = sorted((n.file.name if n.file else "", n.line) for n in result.notices)
    assert lines == [("mcp_config.json", 1), ("settings.json", 2)]
    assert "still-found" in by_name(result.servers)


def test_malformed_toml_has_line(tmp_path: Path) -> None:
    _with_good(tmp_path)
    bad = write(tmp_path, ".codex/config.toml", '[mcp_servers.a]\ncommand = "x"\nargs = [\n')
    notice = _one_notice(tmp_path)
    assert (notice.file, notice.line) == (bad, 4)
    assert "TOML" in notice.message


def test_malformed_yaml_has_line(tmp_path: Path) -> None:
    _with_good(tmp_path)
    bad = write(
        tmp_path, ".continue/config.yaml", "mcpServers:\n  - name: a\n    command: x\n  bad: [unclosed\n"
    )
    notice = _one_notice(tmp_path)
    assert notice.file == bad and notice.line == 4
    assert "YAML" in notice.message


def test_yaml_cannot_construct_python_objects(tmp_path: Path) -> None:
    _with_good(tmp_path)
    write(tmp_path, ".continue/config.yaml", "mcpServers: !!python/object/apply:os.system ['true']\n")
    notice = _one_notice(tmp_path)
    assert notice.line == 1 and "python/object" in notice.message


def test_config_that_is_a_directory(tmp_path: Path) -> None:
    _with_good(tmp_path)
    (tmp_path / ".gemini/settings.json").mkdir(parents=True)
    notice = _one_notice(tmp_path)
    assert notice.file == tmp_path / ".gemini/settings.json"
    assert "directory" in notice.message


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    _with_good(tmp_path)
    (tmp_path / ".gemini").mkdir()
    os.mkfifo(tmp_path / ".gemini/settings.json")
    notice = _one_notice(tmp_path)
    assert "not a regular file" in notice.message


def test_huge_file_is_refused(tmp_path: Path) -> None:
    _with_good(tmp_path)
    big = write(tmp_path, ".gemini/settings.json", '{"mcpServers": {}, "pad": "' + "x" * 5000 + '"}')
    notice = _one_notice(tmp_path, max_bytes=4096)
    assert notice.file == big and "limit" in notice.message


def test_symlink_loop(tmp_path: Path) -> None:
    _with_good(tmp_path)
    (tmp_path / ".gemini").mkdir()
    loop_a = tmp_path / ".gemini/settings.json"
    loop_b = tmp_path / ".gemini/other.json"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    notice = _one_notice(tmp_path)
    assert notice.file == loop_a and "symbolic links" in notice.message


def test_non_utf8_file(tmp_path: Path) -> None:
    _with_good(tmp_path)
    bad = write(tmp_path, ".gemini/settings.json", b'{\n"mcpServers": {"x": {"command": "caf\xe9"}}}')
    notice = _one_notice(tmp_path)
    assert notice.file == bad and "UTF-8" in notice.message and "line 2" in notice.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    _with_good(tmp_path)
    bad = write_json(tmp_path, ".gemini/settings.json", {"mcpServers": {}})
    bad.chmod(0)
    try:
        notice = _one_notice(tmp_path)
    finally:
        bad.chmod(0o600)
    assert notice.file == bad and "permission" in notice.message


def test_wrong_types_in_entries_keep_the_server_and_the_others(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        ".cursor/mcp.json",
        """{
  "mcpServers": {
    "string-args": {"command": "npx", "args": "-y postmark-mcp"},
    "not-an-object": ["npx"],
    "bad-env": {"command": "node", "env": {"OK": "1", "NESTED": {"a": 1}}, "args": ["a", {"b": 1}]},
    "no-command": {"args": ["x"]},
    "stdio-no-command": {"type": "stdio"},
    "weird-type": {"type": "websocket", "url": "wss://x.example"},
    "fine": {"command": "uvx", "args": ["ok"]}
  }
}""",
    )
    result = discover(tmp_path)
    servers = by_name(result.servers)
    assert set(servers) == {"string-args", "bad-env", "weird-type", "fine"}
    assert servers["string-args"].args == ()
    assert servers["bad-env"].env == (("OK", "1"),)
    assert servers["bad-env"].args == ("a",)
    assert servers["weird-type"].transport == "http"
    by_problem = {n.message: n for n in result.notices}
    assert len(by_problem) == 7
    for name in ("string-args", "not-an-object", "no-command", "stdio-no-command", "weird-type"):
        (notice,) = [n for n in result.notices if f"'{name}'" in n.message]
        assert notice.file == path and notice.line == line_of(path, f'"{name}"')
    assert all("{'a': 1}" not in message for message in by_problem)  # env values never echoed


def test_servers_key_of_the_wrong_type(tmp_path: Path) -> None:
    _with_good(tmp_path)
    bad = write(
        tmp_path, ".gemini/settings.json", '{\n  "theme": "x",\n  "mcpServers": "npx postmark-mcp"\n}'
    )
    notice = _one_notice(tmp_path)
    assert (notice.file, notice.line) == (bad, 3)
    assert "mcpServers" in notice.message


def test_top_level_not_an_object(tmp_path: Path) -> None:
    _with_good(tmp_path)
    write(tmp_path, ".gemini/settings.json", "[1, 2]")
    notice = _one_notice(tmp_path)
    assert "top level" in notice.message


def test_empty_and_comment_only_files_are_fine(tmp_path: Path) -> None:
    write(tmp_path, ".gemini/settings.json", "")
    write(tmp_path, ".config/zed/settings.json", "// nothing yet\n")
    write(tmp_path, ".continue/config.yaml", "")
    result = discover(tmp_path)
    assert (result.servers, result.notices) == ((), ())
    assert len(result.configs_read) == 3


def test_same_file_reached_twice_is_read_once(tmp_path: Path) -> None:
    write_json(tmp_path, ".cursor/mcp.json", {"mcpServers": {"once": POSTMARK_STDIO}})
    write_json(tmp_path, ".gemini/settings.json", {"mcpServers": {"gem": POSTMARK_STDIO}})
    link = tmp_path / "link-to-home"
    link.symlink_to(tmp_path)
    result = discover(tmp_path, projects=[tmp_path, link], extra_configs=[tmp_path / ".cursor/mcp.json"])
    servers = by_name(result.servers)
    assert set(servers) == {"once", "gem"}
    assert servers["once"].scope == "user"  # the first location that named it
    assert len(result.configs_read) == 2


def test_one_broken_project_does_not_hide_another(tmp_path: Path) -> None:
    broken, healthy = tmp_path / "broken", tmp_path / "healthy"
    write(broken, ".mcp.json", "{oops")
    write_json(healthy, ".mcp.json", {"mcpServers": {"ok": POSTMARK_STDIO}})
    result = discover(tmp_path / "home", projects=[broken, healthy])
    assert [s.name for s in result.servers] == ["ok"]
    (notice,) = result.notices
    assert notice.file == broken / ".mcp.json" and notice.line == 1


def test_many_bad_items_make_one_short_notice(tmp_path: Path) -> None:
    write_json(
        tmp_path,
        ".cursor/mcp.json",
        {"mcpServers": {"noisy": {"command": "x", "args": [[i] for i in range(10)]}}},
    )
    result = discover(tmp_path)
    (notice,) = result.notices
    assert "args[0] is a list" in notice.message and "and 7 more" in notice.message
    assert result.servers[0].args == ()
