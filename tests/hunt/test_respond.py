"""``distrust respond`` on a fixture home where two clients run postmark-mcp next to a benign server.

Everything runs the real scan (discover, resolve, judge against the bundled advisory snapshot)
on files written here; nothing from the package under suspicion is ever executed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from distrust.discover import discover
from distrust.hunt import Exposure, HuntResult, MailRecord
from distrust.hunt.respond import (
    ResponsePlan,
    check_removals,
    disable_servers,
    incident_report,
    plan_response,
    remove_installed,
    undo_disable,
)
from distrust.model import Severity
from distrust.pipeline.scan import ScanOptions, run_scan

PM_TOKEN_1 = "pm-live-4f1c2d3e-aaaa-bbbb-cccc-000000000001"
PM_TOKEN_2 = "pm-live-4f1c2d3e-aaaa-bbbb-cccc-000000000002"

CLAUDE_CONFIG = f"""{{
  // servers for the assistant
  "mcpServers": {{
    "postmark": {{
      "command": "npx",
      "args": ["-y", "postmark-mcp@1.0.16"], // pinned by the README
      "env": {{"POSTMARK_SERVER_TOKEN": "{PM_TOKEN_1}", "DEFAULT_SENDER_EMAIL": "me@example.com"}}
    }},
    /* the file server stays */
    "files": {{
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem@2025.8.21", "/tmp"]
    }},
  }}
}}
"""

CLAUDE_AFTER = """{
  // servers for the assistant
  "mcpServers": {
    /* the file server stays */
    "files": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem@2025.8.21", "/tmp"]
    },
  }
}
"""

CURSOR_CONFIG = f"""{{
  "mcpServers": {{
    "files": {{"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem@2025.8.21"]}},
    "mail": {{
      "command": "npx",
      "args": ["-y", "postmark-mcp"],
      "env": {{"POSTMARK_SERVER_TOKEN": "{PM_TOKEN_2}"}}
    }}
  }}
}}
"""

CURSOR_AFTER = """{
  "mcpServers": {
    "files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem@2025.8.21"]}
  }
}
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _npx_entry(home: Path, digest: str, name: str, version: str) -> Path:
    entry = home / ".npm" / "_npx" / digest
    _write(entry / "package.json", json.dumps({"dependencies": {name: "*"}}))
    _write(entry / "node_modules" / name / "package.json", json.dumps({"name": name, "version": version}))
    return entry


@pytest.fixture
def victim(tmp_path: Path) -> dict[str, Path]:
    home = tmp_path / "home"
    project = tmp_path / "project"
    project.mkdir()
    return {
        "home": home,
        "project": project,
        "claude": _write(home / ".config" / "Claude" / "claude_desktop_config.json", CLAUDE_CONFIG),
        "cursor": _write(home / ".cursor" / "mcp.json", CURSOR_CONFIG),
        "npx": _npx_entry(home, "5e6f7a8b9c0d1e2f", "postmark-mcp", "1.0.17"),
        "state": tmp_path / "state",
    }


def _plan(v: dict[str, Path]) -> ResponsePlan:
    scan = run_scan(ScanOptions(home=v["home"], projects=(v["project"],), env={}))
    return plan_response(scan, home=v["home"], projects=(v["project"],))


def _enabled_postmark(v: dict[str, Path]) -> list[str]:
    scan = run_scan(ScanOptions(home=v["home"], projects=(v["project"],), env={}))
    return [
        f"{s.spec.client}/{s.spec.name}"
        for s in scan.servers
        if s.package and s.package.name == "postmark-mcp" and not s.spec.disabled
    ]


def test_plan_lists_both_servers_with_keys_copies_and_advisory(victim: dict[str, Path]) -> None:
    plan = _plan(victim)
    by_name = {(s.entry.client, s.entry.server): s for s in plan.servers}
    assert set(by_name) == {("claude-desktop", "postmark"), ("cursor", "mail")}
    pinned, floating = by_name["claude-desktop", "postmark"], by_name["cursor", "mail"]
    assert pinned.entry.config_path == victim["claude"] and pinned.entry.line == 4
    assert not pinned.floating and floating.floating
    assert pinned.credentials == ("POSTMARK_SERVER_TOKEN", "DEFAULT_SENDER_EMAIL")
    assert floating.credentials == ("POSTMARK_SERVER_TOKEN",)
    assert plan.advisories == ("MAL-2025-47604",)
    assert all(s.severity == Severity.CRITICAL for s in plan.servers)
    assert [c.target for c in plan.copies] == [victim["npx"]]  # shared cache entry listed once
    assert PM_TOKEN_1 not in repr(plan) and PM_TOKEN_2 not in repr(plan)


def test_plan_respects_min_severity(victim: dict[str, Path]) -> None:
    scan = run_scan(ScanOptions(home=victim["home"], projects=(victim["project"],), env={}))
    assert plan_response(scan, min_severity=Severity.CRITICAL).servers
    # The benign server has no finding at all, so even the lowest level never lists it.
    low = plan_response(scan, min_severity=Severity.LOW)
    assert {s.entry.server for s in low.servers} == {"postmark", "mail"}


def test_disable_removes_only_those_entries_and_undo_restores_bytes(victim: dict[str, Path]) -> None:
    before = {k: victim[k].read_bytes() for k in ("claude", "cursor")}
    report = disable_servers(_plan(victim), state_dir=victim["state"])

    assert {(f.client, f.status) for f in report.files} == {
        ("claude-desktop", "changed"),
        ("cursor", "changed"),
    }
    assert [e.action for _, e in report.entries("removed")] == ["removed", "removed"]
    assert victim["claude"].read_text() == CLAUDE_AFTER
    assert victim["cursor"].read_text() == CURSOR_AFTER
    found = discover(victim["home"], projects=(victim["project"],), env={})
    assert sorted((s.client, s.name) for s in found.servers) == [
        ("claude-desktop", "files"),
        ("cursor", "files"),
    ]
    assert _enabled_postmark(victim) == []

    undone = undo_disable(victim["state"])
    assert {f.status for f in undone.files} == {"restored"}
    assert victim["claude"].read_bytes() == before["claude"]
    assert victim["cursor"].read_bytes() == before["cursor"]
    assert sorted(_enabled_postmark(victim)) == ["claude-desktop/postmark", "cursor/mail"]
    assert undo_disable(victim["state"]).files == ()  # nothing left to undo


def test_undo_refuses_a_file_edited_since_unless_forced(victim: dict[str, Path]) -> None:
    original = victim["claude"].read_bytes()
    disable_servers(_plan(victim), state_dir=victim["state"])
    edited = victim["claude"].read_text().replace('"/tmp"', '"/home"')
    victim["claude"].write_text(edited)

    refused = undo_disable(victim["state"])
    claude = next(f for f in refused.files if f.client == "claude-desktop")
    assert claude.status == "refused" and "changed since" in claude.reason
    assert victim["claude"].read_text() == edited
    assert next(f for f in refused.files if f.client == "cursor").status == "restored"

    forced = undo_disable(victim["state"], force=True)
    (claude,) = forced.files
    assert claude.status == "restored" and claude.backup is not None
    assert victim["claude"].read_bytes() == original
    assert claude.backup.read_text() == edited  # the user's edits are kept aside


def test_disable_again_refuses_a_file_edited_since_unless_restored(victim: dict[str, Path]) -> None:
    plan = _plan(victim)
    disable_servers(plan, state_dir=victim["state"])
    victim["cursor"].write_text(CURSOR_AFTER.replace('"-y"', '"--yes"'))
    again = disable_servers(plan, state_dir=victim["state"])
    cursor = next(f for f in again.files if f.client == "cursor")
    assert cursor.status == "refused" and "changed since" in cursor.reason
    assert '"--yes"' in victim["cursor"].read_text()

    victim["cursor"].write_text(CURSOR_CONFIG)  # the user put the original back by hand
    third = disable_servers(plan, state_dir=victim["state"])
    assert next(f for f in third.files if f.client == "cursor").status == "changed"
    assert victim["cursor"].read_text() == CURSOR_AFTER


def test_flag_clients_keep_the_entry_and_set_their_switch(tmp_path: Path) -> None:
    home = tmp_path / "home"
    windsurf = _write(
        home / ".codeium" / "windsurf" / "mcp_config.json",
        '{\n  "mcpServers": {\n    "postmark": {\n      "command": "npx",\n'
        '      "args": ["-y", "postmark-mcp"]\n    },\n'
        '    "files": {"command": "npx", "args": ["@modelcontextprotocol/server-filesystem@2025.8.21"]}\n'
        "  }\n}\n",
    )
    codex = _write(
        home / ".codex" / "config.toml",
        '# my codex\nmodel = "o3"\n\n[mcp_servers.postmark]\ncommand = "npx"\n'
        'args = ["-y", "postmark-mcp@1.0.16"]  # pinned\n\n[mcp_servers.postmark.env]\n'
        'POSTMARK_SERVER_TOKEN = "x"\n\n[mcp_servers.files]\ncommand = "npx"\n'
        'args = ["-y", "@modelcontextprotocol/server-filesystem@2025.8.21"]\n',
    )
    _npx_entry(home, "aa11", "postmark-mcp", "1.0.16")
    scan = run_scan(ScanOptions(home=home, projects=(tmp_path,), env={}))
    plan = plan_response(scan, home=home)
    assert {s.entry.client for s in plan.servers} == {"windsurf", "codex"}

    report = disable_servers(plan, state_dir=tmp_path / "state")
    assert {e.action for _, e in report.entries("disabled")} == {"disabled"}
    assert '"args": ["-y", "postmark-mcp"],\n      "disabled": true\n    },' in windsurf.read_text()
    assert (
        'args = ["-y", "postmark-mcp@1.0.16"]  # pinned\nenabled = false\n\n[mcp_servers.postmark.env]'
        in (codex.read_text())
    )
    found = discover(home, projects=(tmp_path,), env={})
    states = {(s.client, s.name): s.disabled for s in found.servers}
    assert states == {
        ("windsurf", "postmark"): True,
        ("windsurf", "files"): False,
        ("codex", "postmark"): True,
        ("codex", "files"): False,
    }
    again = disable_servers(plan, state_dir=tmp_path / "state")
    assert {e.action for _, e in again.entries("already-disabled")} == {"already-disabled"}
    assert all(f.status == "unchanged" for f in again.files)


def test_remove_installed_lists_then_deletes_the_npx_entry(victim: dict[str, Path]) -> None:
    plan = _plan(victim)
    assert remove_installed(plan) == [str(victim["npx"])]
    assert victim["npx"].is_dir()  # dry run by default
    assert remove_installed(plan, dry_run=False) == [str(victim["npx"])]
    assert not victim["npx"].exists()
    assert victim["home"].joinpath(".npm", "_npx").is_dir()
    assert [r.status for r in check_removals(plan)] == ["gone"]


def test_remove_installed_refuses_a_folder_of_another_package(victim: dict[str, Path]) -> None:
    plan = _plan(victim)
    manifest = victim["npx"] / "node_modules" / "postmark-mcp" / "package.json"
    manifest.write_text(json.dumps({"name": "left-pad", "version": "1.3.0"}))
    assert remove_installed(plan, dry_run=False) == []
    assert victim["npx"].is_dir()
    (verdict,) = check_removals(plan)
    assert verdict.status == "refused" and "'left-pad'" in verdict.reason


def test_remove_installed_refuses_outside_the_given_roots(victim: dict[str, Path], tmp_path: Path) -> None:
    scan = run_scan(ScanOptions(home=victim["home"], projects=(victim["project"],), env={}))
    plan = plan_response(scan, home=tmp_path / "elsewhere")
    assert remove_installed(plan, dry_run=False) == []
    assert victim["npx"].is_dir()
    assert check_removals(plan)[0].status == "refused"


def test_remove_installed_refuses_a_symlinked_entry(victim: dict[str, Path], tmp_path: Path) -> None:
    outside = tmp_path / "precious"
    _write(outside / "node_modules" / "postmark-mcp" / "package.json", json.dumps({"name": "postmark-mcp"}))
    link = victim["home"] / ".npm" / "_npx" / "linked"
    link.symlink_to(outside, target_is_directory=True)
    plan = _plan(victim)
    verdicts = {r.path.name: r for r in check_removals(plan)}
    assert verdicts["linked"].status == "refused"
    remove_installed(plan, dry_run=False)
    assert (outside / "node_modules" / "postmark-mcp" / "package.json").is_file()


def _hunt() -> HuntResult:
    def exposure(n: int, day: int, categories: tuple[str, ...]) -> Exposure:
        record = MailRecord(
            message_id=f"<m{n}@example.com>",
            sent=datetime(2025, 9, day, 10, 0, tzinfo=UTC),
            sender="me@example.com",
            subject="Your password reset link",
            to=(f"user{n}@example.org",),
            bcc=("phan@giftshop.club",),
        )
        return Exposure(record, ("phan@giftshop.club",), ("bcc",), ("ioc:phan@giftshop.club",), categories)

    exposures = (exposure(1, 17, ("password-reset",)), exposure(2, 20, ("invoice",)), exposure(3, 25, ()))
    return HuntResult(exposures, scanned=40, sources=("sent.mbox",))


def test_report_has_checklist_key_names_and_no_secret(victim: dict[str, Path]) -> None:
    plan = _plan(victim)
    generated = datetime(2025, 9, 26, 9, 0, tzinfo=UTC)
    before = incident_report(plan, _hunt(), generated=generated)
    assert "- [ ] Disable **postmark** in claude-desktop" in before
    assert "- [ ] Rotate `POSTMARK_SERVER_TOKEN` (given to postmark, mail)" in before
    assert "`DEFAULT_SENDER_EMAIL`" in before
    assert f"- [ ] Remove postmark-mcp (npx-cache): `~/.npm/_npx/{victim['npx'].name}`" in before
    assert "- [ ] Review the 3 exposed messages" in before
    assert "GDPR Art. 33" in before and "72 hours" in before and "2025-09-29 09:00 UTC" in before
    assert "GDPR Art. 34" in before and "Contracts" in before
    assert "`distrust respond --undo`" in before
    assert "MAL-2025-47604" in before and "names no exact version" in before
    assert "2025-09-17 10:00 UTC: first message copied" in before
    assert "| password-reset | 1 |" in before and "`phan@giftshop.club` (3)" in before

    disable_servers(plan, state_dir=victim["state"])
    remove_installed(plan, dry_run=False)
    after = incident_report(plan, _hunt(), generated=generated)
    assert "- [x] Disable **postmark** in claude-desktop" in after
    assert "- [x] Disable **mail** in cursor" in after
    assert "- [x] Remove postmark-mcp (npx-cache)" in after
    for text in (before, after):
        assert PM_TOKEN_1 not in text and PM_TOKEN_2 not in text and "pm-live" not in text


def test_report_without_hunt_says_what_is_missing(victim: dict[str, Path]) -> None:
    text = incident_report(_plan(victim), None, generated=datetime(2025, 9, 26, tzinfo=UTC))
    assert "Run `distrust hunt`" in text and "Exposure window unknown" in text


def test_report_for_a_clean_machine(tmp_path: Path) -> None:
    scan = run_scan(ScanOptions(home=tmp_path, projects=(tmp_path,), env={}))
    text = incident_report(
        plan_response(scan, home=tmp_path), None, generated=datetime(2025, 9, 26, tzinfo=UTC)
    )
    assert "nothing to respond to" in text


def test_corrupt_state_record_is_a_notice_not_a_traceback(victim: dict[str, Path]) -> None:
    disable_servers(_plan(victim), state_dir=victim["state"])
    broken = next((victim["state"] / "files").glob("*.json"))
    broken.write_text('{"version": 1}')
    report = undo_disable(victim["state"])
    assert any(str(broken) in n and "missing" in n for n in report.notices)


def test_yaml_list_entry_is_removed_as_whole_lines(tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = _write(
        home / ".continue" / "config.yaml",
        "name: my assistant\nmcpServers:\n  - name: files\n    command: npx\n"
        '    args: ["-y", "@modelcontextprotocol/server-filesystem@2025.8.21"]\n'
        "  - name: postmark  # mail\n    command: npx\n    args:\n      - -y\n      - postmark-mcp@1.0.16\n"
        "models: []\n",
    )
    scan = run_scan(ScanOptions(home=home, projects=(tmp_path,), env={}))
    report = disable_servers(plan_response(scan, home=home), state_dir=tmp_path / "state")
    assert [e.action for _, e in report.entries("removed")] == ["removed"]
    assert config.read_text() == (
        "name: my assistant\nmcpServers:\n  - name: files\n    command: npx\n"
        '    args: ["-y", "@modelcontextprotocol/server-filesystem@2025.8.21"]\nmodels: []\n'
    )
