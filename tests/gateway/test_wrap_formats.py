"""wrap on the corners of each syntax: what is edited exactly, what is skipped, and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distrust.discover import discover
from distrust.gateway import configedit, wrap
from distrust.gateway.configedit import Edit, EditError, apply_edits, read_tree
from distrust.gateway.wrap import FileOutcome, unwrap_configs, wrap_configs

DISTRUST = "/opt/distrust/bin/distrust"
CODEX = ".codex/config.toml"
CONTINUE = ".continue/config.yaml"
GOOSE = ".config/goose/config.yaml"
CURSOR = ".cursor/mcp.json"


def write(home: Path, relative: str, text: str) -> Path:
    path = home / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(home: Path) -> FileOutcome:
    (only,) = wrap_configs(home, distrust_command=DISTRUST, state_dir=home / "state").files
    return only


def actions(outcome: FileOutcome) -> dict[str, tuple[str, str]]:
    return {s.name: (s.action, s.reason) for s in outcome.servers}


def launched(home: Path) -> dict[str, tuple[str | None, tuple[str, ...]]]:
    found = discover(home)
    assert found.notices == (), found.notices
    return {s.name: (s.command, s.args) for s in found.servers}


def test_toml_inline_table_entry(tmp_path: Path) -> None:
    text = '[mcp_servers]\npm = { command = "npx", args = ["-y", "postmark-mcp"], env = { T = "x" } }\n'
    config = write(tmp_path, CODEX, text)
    assert run(tmp_path).status == "changed"
    assert config.read_text() == (
        f'[mcp_servers]\npm = {{ command = "{DISTRUST}", '
        'args = ["run", "--server", "pm"], env = { T = "x" } }\n'
    )


def test_toml_command_without_args_and_quoted_names(tmp_path: Path) -> None:
    text = '[mcp_servers."my server"]\n  command = "/usr/bin/tool"  # local\n  env = { A = "1" }\n'
    config = write(tmp_path, CODEX, text)
    assert run(tmp_path).status == "changed"
    assert config.read_text() == (
        f'[mcp_servers."my server"]\n  command = "{DISTRUST}"\n'
        '  args = ["run", "--server", "my server"]  # local\n  env = { A = "1" }\n'
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('[mcp_servers]\npm.command = "npx"\npm.args = []\n', "TOML dotted keys"),
        ('[mcp_servers.pm]\ncommand = """npx"""\n', "multi-line TOML string"),
        ('[mcp_servers.pm]\ncommand = "npx"\n', None),  # control: the same file without the construct
    ],
)
def test_toml_constructs_too_exotic_to_edit_are_skipped(
    tmp_path: Path, text: str, reason: str | None
) -> None:
    config = write(tmp_path, CODEX, text)
    outcome = run(tmp_path)
    if reason is None:
        assert outcome.status == "changed"
        return
    assert outcome.status == "unchanged"
    ((action, why),) = actions(outcome).values()
    assert action == "skipped" and reason in why
    assert config.read_text() == text


def test_toml_remote_with_bearer_token_is_left_alone(tmp_path: Path) -> None:
    text = '[mcp_servers.api]\nurl = "https://api.example.com/mcp"\nbearer_token_env_var = "API_TOKEN"\n'
    config = write(tmp_path, CODEX, text)
    outcome = run(tmp_path)
    assert actions(outcome)["api"][0] == "skipped"
    assert "bearer_token_env_var" in actions(outcome)["api"][1]
    assert config.read_text() == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "defaults: &d\n  command: npx\nmcpServers:\n  - name: a\n    <<: *d\n    args: [x]\n",
            "YAML merge key",
        ),
        ("mcpServers:\n  - name: a\n    command: &c npx\n    args: [x]\n", "YAML anchor"),
        ("mcpServers:\n  - name: a\n    command: !!str npx\n", "YAML tag"),
        ("mcpServers:\n  - name: a\n    command: |\n      npx\n", "block scalar"),
    ],
)
def test_yaml_constructs_too_exotic_to_edit_are_skipped(tmp_path: Path, text: str, reason: str) -> None:
    config = write(tmp_path, CONTINUE, text)
    outcome = run(tmp_path)
    assert outcome.status == "unchanged"
    (action, why) = actions(outcome)["a"]
    assert action == "skipped" and reason in why, why
    assert config.read_text() == text


def test_yaml_exotic_entry_does_not_stop_its_neighbours(tmp_path: Path) -> None:
    text = (
        "mcpServers:\n"
        "  - name: odd\n    command: &c npx\n"
        "  - name: plain\n    command: uvx   # trailing\n    args:\n    - one\n    - two\n\n"
        "  # a comment between entries\n"
        "  - name: last\n    command: npx\n"
    )
    config = write(tmp_path, CONTINUE, text)
    outcome = run(tmp_path)
    assert {k: v[0] for k, v in actions(outcome).items()} == {
        "odd": "skipped",
        "plain": "wrapped",
        "last": "wrapped",
    }
    assert config.read_text() == (
        "mcpServers:\n"
        "  - name: odd\n    command: &c npx\n"
        f'  - name: plain\n    command: "{DISTRUST}"   # trailing\n    args: ["run", "--server", "plain"]\n\n'
        "  # a comment between entries\n"
        f'  - name: last\n    command: "{DISTRUST}"\n    args: ["run", "--server", "last"]\n'
    )


def test_yaml_multi_document_file_is_skipped(tmp_path: Path) -> None:
    text = "mcpServers: []\n---\nother: 1\n"
    config = write(tmp_path, CONTINUE, text)
    (outcome,) = wrap_configs(tmp_path, distrust_command=DISTRUST, state_dir=tmp_path / "s").files
    assert outcome.status == "skipped" and str(config) in outcome.reason
    assert config.read_text() == text


def test_goose_remote_gets_goose_spelling(tmp_path: Path) -> None:
    text = (
        "extensions:\n  web:\n    type: streamable_http\n    uri: https://w.example/mcp\n    timeout: 300\n"
    )
    config = write(tmp_path, GOOSE, text)
    assert run(tmp_path).status == "changed"
    assert config.read_text() == (
        'extensions:\n  web:\n    type: "stdio"\n'
        f'    cmd: "{DISTRUST}"\n    args: ["run", "--server", "web"]\n    timeout: 300\n'
    )


def test_json_repeated_key_edits_the_one_that_counts(tmp_path: Path) -> None:
    text = '{"mcpServers": {"a": {"command": "old", "command": "npx", "args": ["x"]}}}'
    config = write(tmp_path, CURSOR, text)
    assert run(tmp_path).status == "changed"
    assert config.read_text() == (
        f'{{"mcpServers": {{"a": {{"command": "old", "command": "{DISTRUST}", '
        '"args": ["run", "--server", "a"]}}}'
    )


def test_json_unicode_and_escapes_in_names(tmp_path: Path) -> None:
    text = '{"mcpServers": {"m\\u00e4il \\"x\\"": {"command": "n\\/px"}}}\n'
    write(tmp_path, CURSOR, text)
    assert run(tmp_path).status == "changed"
    assert launched(tmp_path) == {'mäil "x"': (DISTRUST, ("run", "--server", 'mäil "x"'))}


def test_entry_without_command_or_url_is_reported(tmp_path: Path) -> None:
    write(tmp_path, CURSOR, '{"mcpServers": {"broken": {"env": {}}, "ok": {"command": "npx"}}}')
    outcome = run(tmp_path)
    assert actions(outcome)["broken"] == (
        "skipped",
        "Cursor server 'broken': has neither a command nor a url; skipped",
    )
    assert actions(outcome)["ok"][0] == "wrapped"


def test_a_bad_edit_is_caught_before_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The proof is the safety net: an edit that strays outside the entry is never written."""
    text = '{"keep": 1, "mcpServers": {"a": {"command": "npx"}}}'
    config = write(tmp_path, CURSOR, text)
    real_plan = wrap._plan

    def straying_plan(*args: object, **kw: object) -> list[Edit]:
        return [*real_plan(*args, **kw), Edit(9, 10, "2")]  # type: ignore[arg-type]

    monkeypatch.setattr(wrap, "_plan", straying_plan)
    outcome = run(tmp_path)
    assert actions(outcome)["a"] == ("skipped", "the edit would change something outside the entry")
    assert config.read_text() == text


def test_unwrap_without_records_does_nothing(tmp_path: Path) -> None:
    assert unwrap_configs(tmp_path, state_dir=tmp_path / "none").files == ()


def test_apply_edits_refuses_overlaps() -> None:
    assert apply_edits("abcdef", [Edit(4, 5, "E"), Edit(1, 2, "B"), Edit(3, 3, "+")]) == "aBc+dEf"
    with pytest.raises(EditError):
        apply_edits("abcdef", [Edit(1, 3, "x"), Edit(2, 4, "y")])


# --- the position readers agree with the real parsers -----------------------------------------

_scalars = st.one_of(
    st.text(max_size=12),
    st.integers(-1000, 1000),
    st.booleans(),
    st.none(),
)
_json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


def _check_spans(node: configedit.Node, value: object, text: str) -> None:
    assert json.loads(text[node.start : node.end]) == value
    if isinstance(value, dict):
        assert [m.key for m in node.members] == list(value)
        for member in node.members:
            assert json.loads(text[member.key_start : member.value.start].rstrip().rstrip(":")) == member.key
            _check_spans(member.value, value[member.key], text)
    elif isinstance(value, list):
        assert len(node.items) == len(value)
        for item, expected in zip(node.items, value, strict=True):
            _check_spans(item, expected, text)


@settings(max_examples=150, deadline=None)
@given(value=_json_values, indent=st.sampled_from([None, 2, "\t"]), ascii_only=st.booleans())
def test_json_spans_match_json_loads(value: object, indent: int | str | None, ascii_only: bool) -> None:
    text = "// lead comment\n" + json.dumps(value, indent=indent, ensure_ascii=ascii_only) + "\n/* end */\n"
    _check_spans(read_tree(text, "jsonc"), value, text)
