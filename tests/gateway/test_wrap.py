"""wrap/unwrap on a fixture home holding every client format: edits are local, proved and reversible.

The fixture home (``tests/fixtures/wrap``) is our own config text, written the way people
write it: comments, trailing commas, unrelated settings, Windows-style quirks. Each test
copies it to a temporary directory, so nothing here touches the real home.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import shutil
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from distrust.discover import discover
from distrust.gateway.wrap import (
    FileOutcome,
    WrapError,
    WrapReport,
    load_wrapped,
    run_args,
    unwrap_configs,
    wrap_configs,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "wrap"
DISTRUST = "/opt/distrust/bin/distrust"

# Every server in the fixture home and what wrap must do with it (None: left alone).
EXPECTED_LOCK_NAMES = {
    "postmark": "postmark",  # Claude Desktop and Codex run the same thing: one lock name
    "notion": None,  # Claude Desktop ignores url entries in its file
    "fs": "fs",
    "sqlite": "sqlite",
    "github": None,  # two different "github" servers: checked per client below
    "search": "search",
    "private": None,  # headers carry credentials
    "tool": "tool",
    "remote-docs": "remote-docs",
    "time": "time",
    "fetch": "fetch",
    "browser": "browser",
    "memory": "memory",
    "experimental.modelContextProtocolServers[0]": "experimental.modelContextProtocolServers[0]",
    "git": "git",
    "nested": "nested",
    "flat": "flat",
    "local": "local",
    "stream": "stream",
    "dash-name": "dash-name",
    "figma": "figma",
    "weather": "weather",
    "project-tool": "project-tool",
    "pw": "pw",
}
LEFT_ALONE = {"notion", "private"}

# A changed line must be one that launches the server: a launch key, or a line of an args list.
_LAUNCH_LINE = re.compile(
    r"""("|'|\b)(command|cmd|args|path|url|serverUrl|httpUrl|uri|type)\1\s*[:=]"""
    r"""|^\s*-\s|^\s*"[^"]*",?\s*$|^\s*\],?\s*$"""
)
_COMMENT = re.compile(r"(?<=\s)(//\s.*|#\s.*|/\*.*?\*/)$")


@pytest.fixture()
def world(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(home, project, state dir): a private copy of the fixture home."""
    shutil.copytree(FIXTURES, tmp_path / "w")
    return tmp_path / "w" / "home", tmp_path / "w" / "project", tmp_path / "state"


def snapshot(*roots: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for root in roots for p in sorted(root.rglob("*")) if p.is_file()}


def wrap(home: Path, project: Path, state: Path, **kw: object) -> WrapReport:
    return wrap_configs(home, projects=[project], distrust_command=DISTRUST, state_dir=state, **kw)  # type: ignore[arg-type]


def unwrap(home: Path, project: Path, state: Path, **kw: object) -> WrapReport:
    return unwrap_configs(home, projects=[project], state_dir=state, **kw)  # type: ignore[arg-type]


def outcome(report: WrapReport, path: Path) -> FileOutcome:
    (found,) = [f for f in report.files if f.path == path]
    return found


def assert_local_edit(before: bytes, after: bytes, where: Path) -> None:
    """Every line that changed launches a server, and comments on those lines survive."""
    old = before.decode("utf-8-sig").splitlines(keepends=True)
    new = after.decode("utf-8-sig").splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag == "equal":
            continue
        for line in old[i1:i2]:
            assert _LAUNCH_LINE.search(line), f"{where}: unexpected change to line {line!r}"
            comment = _COMMENT.search(line.rstrip("\r\n"))
            if comment:
                assert comment.group() in after.decode("utf-8-sig"), (
                    f"{where}: lost comment {comment.group()!r}"
                )


def test_wrap_routes_every_server_through_distrust(world: tuple[Path, Path, Path]) -> None:
    home, project, state = world
    before_files = snapshot(home, project)
    before = discover(home, projects=[project])
    assert before.notices == ()

    report = wrap(home, project, state)

    assert report.refused == ()
    assert {f.status for f in report.files} == {"changed"}
    after = discover(home, projects=[project])
    assert after.notices == (), after.notices
    assert len(after.servers) == len(before.servers)
    lock_names = set()
    for old, new in zip(before.servers, after.servers, strict=True):
        assert (old.name, old.config_path, old.env) == (new.name, new.config_path, new.env)
        if old.name in LEFT_ALONE:
            assert replace(new, line=old.line) == old  # lines above may have moved
            continue
        assert new.transport == "stdio"
        assert new.command == DISTRUST, new
        assert new.args[:2] == ("run", "--server")
        assert new.cwd == old.cwd and new.disabled == old.disabled
        lock_names.add((old.client, old.name, new.args[2]))
    for client, name, lock in lock_names:
        expected = EXPECTED_LOCK_NAMES[name] or f"{client}/{name}"
        assert lock == expected
    for path, data in snapshot(home, project).items():
        assert_local_edit(before_files[path], data, path)


def test_only_launch_fields_change_and_comments_survive(world: tuple[Path, Path, Path]) -> None:
    home, project, state = world
    settings = home / ".config/Code/User/settings.json"
    wrap(home, project, state)
    text = settings.read_text()
    for kept in (
        "// VS Code user settings",
        '"editor.fontSize": 14, /* big */',
        '"workbench.colorTheme": "Default Dark+",',
        f'"command": "{DISTRUST}", // runs in a container',
        '"private": {"type": "http", "url": "https://private.example.com/mcp", "headers"',
    ):
        assert kept in text
    codex = (home / ".codex/config.toml").read_text()
    assert codex.startswith('# Codex CLI configuration\nmodel = "o4-mini"  # fast\n')
    assert f'command = "{DISTRUST}" # floating version\n' in codex
    assert 'POSTMARK_SERVER_TOKEN = "fixture-token-not-real"' in codex  # env stays in the client config
    assert "[profiles.fast]" in codex
    goose = (home / ".config/goose/config.yaml").read_text()
    assert goose.startswith("GOOSE_PROVIDER: openai\n") and goose.endswith("GOOSE_MODEL: gpt-4o\n")
    assert "    type: builtin\n" in goose
    cont = (home / ".continue/config.yaml").read_text()
    assert "    # keep this comment\n" in cont and "name: My assistant  # the name shown in the IDE" in cont


def test_unwrap_restores_every_file_byte_for_byte(world: tuple[Path, Path, Path]) -> None:
    home, project, state = world
    original = snapshot(home, project)
    wrapped = wrap(home, project, state)
    assert snapshot(home, project) != original
    report = unwrap(home, project, state)
    assert {f.status for f in report.files} == {"restored"}
    assert len(report.files) == len(wrapped.files)
    assert snapshot(home, project) == original
    assert list((state / "files").glob("*.json")) == []
    # the backups stay: they are the user's safety net, in a directory only they can read
    assert len(list((state / "backups").iterdir())) == len(wrapped.files)
    assert stat.S_IMODE((state / "backups").stat().st_mode) == 0o700


def test_wrap_twice_is_idempotent(world: tuple[Path, Path, Path]) -> None:
    home, project, state = world
    wrap(home, project, state)
    once = snapshot(home, project)
    report = wrap(home, project, state)
    assert {f.status for f in report.files} == {"unchanged"}
    assert all(s.action in ("already-wrapped", "skipped") for f in report.files for s in f.servers)
    assert snapshot(home, project) == once
    assert len(list((state / "backups").iterdir())) == len(report.files)  # no new backups


def test_state_records_hashes_and_originals_without_env_values(world: tuple[Path, Path, Path]) -> None:
    home, project, state = world
    config = home / ".codex/config.toml"
    original = config.read_bytes()
    report = wrap(home, project, state)
    records = [json.loads(p.read_text()) for p in (state / "files").glob("*.json")]
    (record,) = [r for r in records if r["config_path"] == str(config)]
    assert record["original_sha256"] == hashlib.sha256(original).hexdigest()
    assert record["written_sha256"] == hashlib.sha256(config.read_bytes()).hexdigest()
    assert Path(record["backup"]).read_bytes() == original
    assert outcome(report, config).backup == Path(record["backup"])
    state_text = "".join(p.read_text() for p in (state / "files").glob("*.json"))
    assert "fixture-token-not-real" not in state_text  # env values never leave the client config
    servers = load_wrapped(state)
    assert servers["postmark"].command == "npx"
    assert servers["postmark"].args == ("-y", "postmark-mcp")
    assert servers["postmark"].env_keys in (
        ("POSTMARK_SERVER_TOKEN",),
        ("POSTMARK_SERVER_TOKEN", "DEFAULT_SENDER_EMAIL"),
    )
    assert servers["figma"].url == "https://figma.example.com/mcp"
    assert servers["figma"].transport == "http"
    assert servers["goose/github"].command == "npx"
    assert servers["vscode/github"].command == "docker"


def test_unwrap_refuses_a_file_edited_after_wrap(world: tuple[Path, Path, Path]) -> None:
    home, project, state = world
    config = home / ".gemini/settings.json"
    original = config.read_bytes()
    wrap(home, project, state)
    edited = config.read_text().replace('"theme": "GitHub"', '"theme": "Dracula"').encode()
    config.write_bytes(edited)

    report = unwrap(home, project, state)
    refused = outcome(report, config)
    assert refused.status == "refused"
    assert str(config) in refused.reason and "changed since distrust wrapped it" in refused.reason
    assert config.read_bytes() == edited  # untouched
    assert {f.status for f in report.files if f.path != config} == {"restored"}

    forced = outcome(unwrap(home, project, state, force=True), config)
    assert forced.status == "restored"
    assert config.read_bytes() == original
    assert forced.backup is not None and forced.backup.read_bytes() == edited  # the edits are kept


def test_wrap_refuses_an_edited_wrapped_file_unless_forced(world: tuple[Path, Path, Path]) -> None:
    home, project, state = world
    config = project / ".mcp.json"
    original = config.read_bytes()
    wrap(home, project, state)
    data = json.loads(config.read_text())
    data["mcpServers"]["added"] = {"command": "npx", "args": ["-y", "added-mcp"]}
    edited = json.dumps(data, indent=2).encode()
    config.write_bytes(edited)

    refused = outcome(wrap(home, project, state), config)
    assert refused.status == "refused" and str(config) in refused.reason
    assert config.read_bytes() == edited

    forced = outcome(wrap(home, project, state, force=True), config)
    assert forced.status == "changed"
    assert {s.name: s.action for s in forced.servers} == {
        "project-tool": "already-wrapped",
        "added": "wrapped",
    }
    assert forced.backup is not None and forced.backup.read_bytes() == edited
    assert json.loads(config.read_text())["mcpServers"]["added"]["args"] == run_args("added")

    # The recorded original is still the pre-distrust file; the edited copy is reported.
    restored = outcome(unwrap(home, project, state), config)
    assert restored.status == "restored"
    assert config.read_bytes() == original
    assert forced.backup in restored.other_backups


def test_malformed_config_is_skipped_untouched(world: tuple[Path, Path, Path]) -> None:
    home, project, state = world
    broken = home / ".cursor/mcp.json"
    broken.parent.mkdir()
    text = b'{\n  "mcpServers": {\n    "x": {"command": "npx",, "args": []}\n  }\n}\n'
    broken.write_bytes(text)
    report = wrap(home, project, state)
    skipped = outcome(report, broken)
    assert skipped.status == "skipped"
    assert str(broken) in skipped.reason and "line 3" in skipped.reason
    assert broken.read_bytes() == text
    assert skipped.backup is None


def test_permissions_are_preserved(world: tuple[Path, Path, Path]) -> None:
    home, project, state = world
    config = home / ".claude.json"
    os.chmod(config, 0o600)
    wrap(home, project, state)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    unwrap(home, project, state)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def test_symlinked_config_edits_the_target_and_keeps_the_link(world: tuple[Path, Path, Path]) -> None:
    home, project, state = world
    link = home / ".gemini/settings.json"
    dotfiles = home.parent / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "gemini-settings.json"
    shutil.move(link, target)
    link.symlink_to(target)
    original = target.read_bytes()

    report = wrap(home, project, state)
    assert outcome(report, link).status == "changed"
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert DISTRUST in target.read_text()

    assert outcome(unwrap(home, project, state), link).status == "restored"
    assert link.is_symlink()
    assert target.read_bytes() == original


def test_windows_line_endings_and_bom_survive(world: tuple[Path, Path, Path]) -> None:
    home, project, state = world
    config = home / ".cursor/mcp.json"
    config.parent.mkdir()
    lines = [
        "{",
        '  "mcpServers": {',
        '    "cursor-only": {',
        '      "command": "npx" // note',
        "    }",
        "  }",
        "}",
        "",
    ]
    original = b"\xef\xbb\xbf" + "\r\n".join(lines).encode()
    config.write_bytes(original)
    wrap(home, project, state)
    data = config.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\n" not in data.replace(b"\r\n", b"")  # every line ending is still CRLF
    expected_args = json.dumps(run_args("cursor-only")).encode()
    assert f'"command": "{DISTRUST}",\r\n      "args": '.encode() + expected_args + b" // note\r\n" in data
    unwrap(home, project, state)
    assert config.read_bytes() == original


def test_clients_filter_limits_the_files(world: tuple[Path, Path, Path]) -> None:
    home, project, state = world
    before = snapshot(home, project)
    report = wrap(home, project, state, clients={"codex"})
    assert [f.path for f in report.files] == [home / ".codex/config.toml"]
    changed = {p for p, data in snapshot(home, project).items() if before[p] != data}
    assert changed == {home / ".codex/config.toml"}
    assert [f.path for f in unwrap(home, project, state, clients={"zed"}).files] == []


def test_unwrap_only_touches_files_under_the_given_home(
    world: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    home, project, state = world
    wrap(home, project, state)
    other_home = tmp_path / "someone-else"
    other_home.mkdir()
    assert unwrap_configs(other_home, state_dir=state).files == ()
    assert len(unwrap(home, project, state).files) > 0


def test_hand_wrapped_entry_is_left_alone(tmp_path: Path) -> None:
    config = tmp_path / ".cursor/mcp.json"
    config.parent.mkdir()
    text = '{"mcpServers": {"mine": {"command": "/usr/bin/distrust", "args": ["run", "--server", "mine"]}}}'
    config.write_text(text)
    report = wrap_configs(tmp_path, distrust_command=DISTRUST, state_dir=tmp_path / "s")
    (file,) = report.files
    assert file.status == "unchanged"
    assert [s.action for s in file.servers] == ["already-wrapped"]
    assert config.read_text() == text


def test_name_clash_with_an_earlier_run_gets_a_qualified_name(tmp_path: Path) -> None:
    state = tmp_path / "s"
    first = tmp_path / ".cursor/mcp.json"
    first.parent.mkdir()
    first.write_text('{"mcpServers": {"mail": {"command": "npx", "args": ["-y", "postmark-mcp"]}}}')
    wrap_configs(tmp_path, distrust_command=DISTRUST, state_dir=state)
    second = tmp_path / ".gemini/settings.json"
    second.parent.mkdir()
    second.write_text('{"mcpServers": {"mail": {"command": "npx", "args": ["-y", "other-mail-mcp"]}}}')
    report = wrap_configs(tmp_path, distrust_command=DISTRUST, state_dir=state)
    (server,) = outcome(report, second).servers
    assert server.lock_name == "gemini/mail"
    assert load_wrapped(state)["mail"].args == ("-y", "postmark-mcp")
    assert load_wrapped(state)["gemini/mail"].args == ("-y", "other-mail-mcp")


def test_name_for_imposes_lock_names(world: tuple[Path, Path, Path]) -> None:
    home, project, state = world
    report = wrap(
        home, project, state, name_for=lambda spec: f"locked-{spec.name}" if spec.name == "pw" else None
    )
    (pw,) = [s for _, s in report.servers("wrapped") if s.name == "pw"]
    assert pw.lock_name == "locked-pw"


def test_empty_distrust_command_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WrapError, match="distrust_command is empty"):
        wrap_configs(tmp_path, distrust_command=" ", state_dir=tmp_path / "s")


def test_corrupt_state_record_refuses_that_file(world: tuple[Path, Path, Path]) -> None:
    home, project, state = world
    wrap(home, project, state, clients={"zed"})
    (record,) = list((state / "files").glob("*.json"))
    record.write_text("{not json")
    config = home / ".config/zed/settings.json"
    before = config.read_bytes()
    report = wrap(home, project, state, clients={"zed"})
    refused = outcome(report, config)
    assert refused.status == "refused" and str(record) in refused.reason
    assert config.read_bytes() == before
    unwrapped = unwrap(home, project, state)
    assert unwrapped.files == () and any(str(record) in n.message for n in unwrapped.notices)


def test_entry_left_alone_does_not_claim_its_name(tmp_path: Path) -> None:
    remote = tmp_path / ".cursor/mcp.json"
    remote.parent.mkdir()
    remote.write_text('{"mcpServers": {"api": {"url": "https://a.example/mcp", "headers": {"X-Key": "k"}}}}')
    local = tmp_path / ".gemini/settings.json"
    local.parent.mkdir()
    local.write_text('{"mcpServers": {"api": {"command": "uvx", "args": ["api-mcp"]}}}')
    report = wrap_configs(tmp_path, distrust_command=DISTRUST, state_dir=tmp_path / "s")
    assert [s.lock_name for s in outcome(report, local).servers] == ["api"]
    assert [s.action for s in outcome(report, remote).servers] == ["skipped"]
