"""Risk terminal report: header, offending source lines, changes, history, hostile text."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from risk_samples import (
    ATTACKER,
    BCC_LINE,
    BCC_TEXT,
    BIDI_OVERRIDE,
    ESCAPE_SEQUENCE,
    hostile_inspect,
    many_changes_diff,
    minified_diff,
    postmark_diff,
    postmark_history,
    postmark_inspect,
)

from distrust.report.common import MAX_CHANGE_ROWS, MAX_SOURCE_LINE_CHARS
from distrust.report.risk_table import MARK, render_risk_table, risk_table_text

WIDTH = 120


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("risk-table")
    return {
        "inspect": postmark_inspect(tmp / "inspect"),
        "diff": postmark_diff(tmp / "diff"),
        "history": postmark_history(tmp / "history"),
    }


def _line_with(text: str, needle: str) -> str:
    return next(line for line in text.splitlines() if needle in line)


def test_diff_header_shows_versions_integrity_and_verdict(samples: dict[str, Any]) -> None:
    text = risk_table_text(samples["diff"], width=WIDTH)
    assert "1.0.15 → 1.0.16" in text
    assert "sha512-BBBB" in text and "sha512-AAAA" in text
    verdict = _line_with(text, "upgrade risk")
    assert re.search(r"upgrade risk 9\d/100 CRITICAL", verdict)
    assert "on its own 90/100 CRITICAL" in text


def test_diff_shows_the_bcc_line_with_its_number_and_context(samples: dict[str, Any]) -> None:
    text = risk_table_text(samples["diff"], width=WIDTH)
    offending = _line_with(text, BCC_TEXT)
    assert re.search(rf"{MARK} {BCC_LINE} │ +{re.escape(BCC_TEXT)}", offending)
    lines = text.splitlines()
    at = lines.index(offending)
    assert "35 │" in lines[at - 1] and "TextBody" in lines[at - 1]
    assert "34 │" in lines[at - 2]
    assert "37 │" in lines[at + 1] and "38 │" in lines[at + 2]
    assert MARK not in lines[at - 1] and MARK not in lines[at + 1]
    # Findings first, most severe first; both Bcc rules, the source printed once.
    assert text.index("DT-RISK-001") < text.index("DT-RISK-003")
    assert text.count(f"{BCC_LINE} │") == 1
    assert "(source shown above)" in text
    assert "→ Stay on the previous version" in text


def test_diff_changes_table(samples: dict[str, Any]) -> None:
    text = risk_table_text(samples["diff"], width=160)
    row = _line_with(text, f"bcc={ATTACKER}")
    for cell in ("+", "email.recipient", f"index.js:{BCC_LINE}", "yes", "CRITICAL", "DT-RISK-003"):
        assert cell in row
    assert "Changes (2)" in text


def test_changes_are_capped_unless_verbose(tmp_path: Path) -> None:
    result = many_changes_diff(tmp_path, count=MAX_CHANGE_ROWS + 10)
    short = risk_table_text(result, width=200)
    assert "… and 10 more changes (--verbose lists all)" in short
    assert (
        sum("example-cdn.net" in line and "lib.js:" in line for line in short.splitlines()) == MAX_CHANGE_ROWS
    )
    full = risk_table_text(result, width=200, verbose=True)
    assert "more changes" not in full
    assert (
        sum("example-cdn.net" in line and "lib.js:" in line for line in full.splitlines())
        == MAX_CHANGE_ROWS + 10
    )


def test_inspect_summarises_what_the_code_can_do(samples: dict[str, Any]) -> None:
    text = risk_table_text(samples["inspect"], width=WIDTH)
    assert "mail-relay-mcp@1.0.16" in text
    assert "risk 90/100 CRITICAL" in text
    assert re.search(r"email recipients +bcc=phan@giftshop\.club, from=<dynamic>, to=<dynamic>", text)
    assert re.search(r"secret env names +POSTMARK_SERVER_TOKEN", text)
    assert "email.recipient 3" in text
    assert "assets/logo.bin: binary file, not code" in text
    assert f"{MARK} {BCC_LINE} │" in text
    verbose = risk_table_text(samples["inspect"], width=WIDTH, verbose=True)
    assert "Capabilities (9)" in verbose and "package.json:8" in verbose


def test_history_table_highlights_the_change_and_closes_with_the_verdict(samples: dict[str, Any]) -> None:
    text = risk_table_text(samples["history"], width=WIDTH)
    flagged = _line_with(text, "1.0.15 → 1.0.16  ")
    assert flagged.lstrip().startswith(MARK)
    for cell in ("2025-09-17", "phanpak", "CRITICAL", "Hard-coded Bcc recipient"):
        assert cell in flagged
    quiet = _line_with(text, "1.0.13 → 1.0.14")
    assert MARK not in quiet and "NONE" in quiet
    assert text.rstrip().splitlines()[-1] == (
        "behaviour changed at 1.0.16 (critical): "
        "Hard-coded Bcc recipient phan@giftshop.club in outgoing email"
    )
    # No extracted files in a history: the analyser's snippet stands in for source lines.
    assert f"{MARK} {BCC_TEXT}" in text
    assert "registry gave no publish time for 1.0.12" in text


def test_colours_follow_the_severity(samples: dict[str, Any]) -> None:
    console = Console(record=True, width=WIDTH, force_terminal=True, color_system="standard")
    render_risk_table(samples["diff"], console)
    styled = console.export_text(styles=True)
    assert "\x1b[1;31mCRITICAL" in styled  # bold red, as in the scan report


def test_minified_line_is_cut_around_the_offending_code(tmp_path: Path) -> None:
    text = risk_table_text(minified_diff(tmp_path), width=WIDTH)
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    # The excerpt is a window of at most MAX_SOURCE_LINE_CHARS characters around the Bcc.
    start = text.index(f"{MARK} 1 │")
    excerpt = text[start : text.index("\n\n", start)]
    assert "Bcc:'phan@giftshop.club'" in excerpt.replace("\n", "").replace(" ", "")
    assert excerpt.count("…") >= 2
    code = "".join(line.split("│", 1)[-1].strip() for line in excerpt.splitlines())
    assert len(code) <= MAX_SOURCE_LINE_CHARS


def test_a_missing_evidence_file_does_not_crash(tmp_path: Path) -> None:
    result = postmark_diff(tmp_path)
    (result.new.artifact.root / "index.js").unlink()
    text = risk_table_text(result, width=WIDTH)
    assert "index.js:36  (source not shown: no such file or directory)" in text
    assert f"{MARK} {BCC_TEXT}" in text


def test_evidence_outside_the_package_root_is_never_read(tmp_path: Path) -> None:
    result = postmark_diff(tmp_path / "pkg")
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT\n" * 40)
    root = result.new.artifact.root
    (root / "link.js").symlink_to(secret)
    finding = result.assessment.findings[0]
    sneaky = dataclasses.replace(
        finding,
        evidence=(
            dataclasses.replace(finding.evidence[0], file="../../secret.txt", line=1),
            dataclasses.replace(finding.evidence[0], file="link.js", line=2),
            dataclasses.replace(finding.evidence[0], file=str(secret), line=3),
        ),
    )
    hostile = dataclasses.replace(
        result, assessment=dataclasses.replace(result.assessment, findings=(sneaky,))
    )
    text = risk_table_text(hostile, width=WIDTH)
    assert "TOP-SECRET-CONTENT" not in text
    assert text.count("(source not shown: path lea") == 3


def test_hostile_text_prints_literally_and_visibly(tmp_path: Path) -> None:
    text = risk_table_text(hostile_inspect(tmp_path), width=160, verbose=True)
    assert "\x1b" not in text
    assert BIDI_OVERRIDE not in text
    assert "<U+202E>" in text and "<U+001B>" in text
    assert "[bold red]x[/]" in text  # markup in a value is text, not style
    assert ESCAPE_SEQUENCE.replace("\x1b", "<U+001B>") in text
