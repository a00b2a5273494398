"""Terminal table: grouping, colours, resolution, notices, summary, secrecy, literal text."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from report_samples import (
    FILES_SPEC,
    SECRETS,
    SERVERS,
    empty_result,
    reversed_result,
    sample_result,
)
from rich.console import Console
from rich.text import Text

from distrust.model import Notice, ResolvedServer, ScanResult
from distrust.report.table import render_table

# A console wide enough that no cell wraps, for tests that check whole phrases.
WIDE = 220


def _render(result: ScanResult, *, verbose: bool = False, width: int = 120) -> str:
    console = Console(record=True, width=width)
    render_table(result, console, verbose=verbose)
    return console.export_text()


def _render_ansi(result: ScanResult) -> str:
    console = Console(record=True, width=120, force_terminal=True, color_system="standard")
    render_table(result, console)
    return console.export_text(styles=True)


def _ansi(text: str, style: str) -> str:
    """``text`` preceded by the escape codes ``style`` turns into on the same kind of terminal."""
    console = Console(force_terminal=True, color_system="standard")
    with console.capture() as capture:
        console.print(Text(text, style=style), end="")
    styled = capture.get()
    return styled[: styled.index(text) + len(text)]


def test_no_servers_prints_exactly_the_message() -> None:
    assert _render(empty_result()) == "no MCP servers found\n"


def test_no_servers_still_lists_notices() -> None:
    result = ScanResult(servers=(), findings=(), notices=(Notice("unreadable", Path("/x/mcp.json"), 3),))
    text = _render(result)
    assert text.startswith("no MCP servers found\n")
    assert "/x/mcp.json:3: unreadable" in text


def test_grouped_by_client_with_servers_in_order() -> None:
    text = _render(sample_result())
    positions = [
        text.index(s) for s in ("claude-desktop", "postmark", "cursor", "analytics", "files", "github")
    ]
    assert positions == sorted(positions)
    # Findings of one server, most severe first.
    assert text.index("CRITICAL") < text.index("MEDIUM")


def test_shows_package_resolution_and_remediation() -> None:
    text = _render(sample_result(), width=WIDE)
    assert "declared: latest, not pinned" in text
    assert "installed: 1.0.16 (npx-cache)" in text
    assert "installed: 1.0.15 (npm-log)" in text
    assert "mcp-server-files==0.3.1" in text and "declared: ==0.3.1, pinned" in text
    assert "postmark-mcp 1.0.16 is a known malicious version [MAL-2025-47604]" in text
    assert "→ Remove the server and rotate the Postmark server token." in text
    # Only the first line of a remediation goes in the table.
    assert "search sent mail" not in text
    assert "note: docker image: tag, no digest" in text


def test_fits_a_120_column_terminal_without_cropping() -> None:
    text = _render(sample_result(), verbose=True)
    assert max(len(line) for line in text.splitlines()) <= 120
    for fragment in ("postmark-mcp 1.0.16 is a known", "MAL-2025-47604", "→ Remove the server", "npx-cache"):
        assert fragment in text


def test_notices_and_summary_come_after_the_tables() -> None:
    text = _render(sample_result())
    lines = text.rstrip("\n").splitlines()
    assert lines[-1] == (
        "4 servers scanned in 2 clients; 2 configs read; "
        "findings: 1 critical, 1 high, 1 medium, 1 low; 1 notice"
    )
    assert "mcp.json:7: could not parse JSON" in lines[-2]
    assert text.index("Notices") > text.index("advisory data is 40 days old")


def test_severity_colours() -> None:
    ansi = _render_ansi(sample_result())
    assert _ansi("CRITICAL", "bold red") in ansi
    assert _ansi("HIGH", "red") in ansi
    assert _ansi("MEDIUM", "yellow") in ansi
    assert _ansi("LOW", "cyan") in ansi


def test_verbose_adds_detail_evidence_and_env_keys_never_values() -> None:
    text = _render(sample_result(), verbose=True, width=WIDE)
    assert "1.0.16 adds a Bcc" in text
    assert "Bcc: 'phan@giftshop.club'" in text
    assert "env: DEFAULT_SENDER_EMAIL, POSTMARK_SERVER_TOKEN" in text
    assert "headers: Authorization" in text
    assert "--api-key" in text
    for secret in SECRETS:
        assert secret not in text, secret


def test_no_secret_value_appears_in_default_output() -> None:
    for width in (120, WIDE):
        text = _render(sample_result(), width=width)
        for secret in SECRETS:
            assert secret not in text, secret


def test_config_text_is_printed_literally_not_as_markup() -> None:
    spec = dataclasses.replace(FILES_SPEC, name="[bold]evil[/bold]")
    result = ScanResult(servers=(ResolvedServer(spec=spec, package=None),), findings=())
    assert "[bold]evil[/bold]" in _render(result)


def test_rendering_is_stable_and_independent_of_input_order() -> None:
    assert _render(sample_result()) == _render(sample_result()) == _render(reversed_result())


def test_finding_for_an_unlisted_server_is_not_dropped() -> None:
    base = sample_result()
    result = ScanResult(servers=SERVERS[1:], findings=base.findings)
    text = _render(result)
    assert "claude-desktop" in text and "postmark-mcp 1.0.16 is a known" in text
    assert "not resolved" in text
