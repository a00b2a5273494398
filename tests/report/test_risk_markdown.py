"""Risk Markdown report: summary, source code blocks, changes and history tables, escaping."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from risk_samples import (
    ATTACKER,
    BCC_LINE,
    BCC_TEXT,
    BIDI_OVERRIDE,
    hostile_inspect,
    many_changes_diff,
    minified_diff,
    postmark_diff,
    postmark_history,
    postmark_inspect,
)

from distrust.report import render_risk
from distrust.report.common import MAX_SOURCE_LINE_CHARS
from distrust.report.risk_markdown import render_risk_markdown


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("risk-md")
    return {
        "inspect": postmark_inspect(tmp / "inspect"),
        "diff": postmark_diff(tmp / "diff"),
        "history": postmark_history(tmp / "history"),
    }


def _code_blocks(text: str) -> list[str]:
    return re.findall(r"^(`{3,})[^\n]*\n(.*?)\n\1$", text, flags=re.MULTILINE | re.DOTALL)


def test_diff_summary_and_bcc_code_block(samples: dict[str, Any]) -> None:
    text = render_risk_markdown(samples["diff"])
    assert text.startswith("# distrust diff: `mail-relay-mcp@1.0.15` → `mail-relay-mcp@1.0.16`\n")
    assert re.search(r"\*\*Upgrade risk: 9\d/100 \(critical\), 2 findings\*\*", text)
    blocks = [body for _, body in _code_blocks(text)]
    (bcc_block,) = [b for b in blocks if BCC_TEXT in b]
    lines = bcc_block.splitlines()
    assert lines[2] == f"> {BCC_LINE} |       {BCC_TEXT}"
    assert lines[0].startswith(f"  {BCC_LINE - 2} | ") and lines[-1].startswith(f"  {BCC_LINE + 2} | ")
    assert "- Rule: `DT-RISK-003`" in text
    assert "Why it matters: The exact change that turned postmark-mcp 1.0.15 into 1.0.16" in text
    assert "**Remediation:** Stay on the previous version" in text


def test_diff_changes_table(samples: dict[str, Any]) -> None:
    text = render_risk_markdown(samples["diff"])
    assert "| Change | Kind | Value | Where | New line | Severity | Rule |" in text
    assert (
        f"| added | email.recipient | bcc={ATTACKER} | index.js:{BCC_LINE} | yes | **CRITICAL** "
        "| DT-RISK-003 |" in text
    )


def test_changes_are_capped(tmp_path: Path) -> None:
    result = many_changes_diff(tmp_path, count=12)
    text = render_risk_markdown(result, max_changes=5)
    assert sum(line.startswith("| added | network.url") for line in text.splitlines()) == 5
    assert "_… and 7 more changes; the JSON report lists all._" in text


def test_inspect_lists_capabilities(samples: dict[str, Any]) -> None:
    text = render_risk_markdown(samples["inspect"])
    assert "**Risk: 90/100 (critical), 1 finding**" in text
    assert f"- **email recipients**: `bcc={ATTACKER}`, `from=<dynamic>`, `to=<dynamic>`" in text
    assert "- **secret env names**: `POSTMARK_SERVER_TOKEN`" in text
    assert "- `assets/logo.bin`: binary file, not code" in text


def test_history_table_and_verdict(samples: dict[str, Any]) -> None:
    text = render_risk_markdown(samples["history"])
    assert "| Release | Published | Publisher | Level | Score | Top finding |" in text
    assert re.search(
        r"^\| \*\*1\.0\.15 → 1\.0\.16\*\* \| 2025-09-17 \| phanpak \| \*\*CRITICAL\*\* \| 9\d \|", text, re.M
    )
    assert "| 1.0.13 → 1.0.14 | 2025-09-02 | phanpak | NONE | 0 |  |" in text
    assert "**behaviour changed at 1.0.16 (critical): Hard-coded Bcc recipient phan@giftshop.club" in text
    assert "## 1.0.15 → 1.0.16 (critical)" in text


def test_long_lines_are_cut_and_missing_files_tolerated(tmp_path: Path) -> None:
    result = minified_diff(tmp_path)
    text = render_risk_markdown(result)
    (body,) = {b for _, b in _code_blocks(text)}
    code = body.split(" | ", 1)[1]
    assert len(code) <= MAX_SOURCE_LINE_CHARS and "Bcc:'phan@giftshop.club'" in code
    (result.new.artifact.root / "dist/index.min.js").unlink()
    gone = render_risk_markdown(result)
    assert "_(source not shown: no such file or directory)_" in gone
    assert "Bcc:'phan@giftshop.club'" in gone  # the analyser's snippet still shows


def test_hostile_text_cannot_break_out(tmp_path: Path) -> None:
    text = render_risk_markdown(hostile_inspect(tmp_path))
    # Raw HTML only ever sits inside fenced blocks or code spans, where Markdown renders it as text.
    fence = ""
    for line in text.splitlines():
        opener = re.match(r"\s*(`{3,})", line)
        if opener and (not fence or opener.group(1) == fence):
            fence = "" if fence else opener.group(1)
            continue
        if "<img" in line and not fence:
            assert re.search(r"`[^`]*<img[^`]*`", line), line
    assert "&lt;img" in text
    assert "\\| &lt;img" in text  # a pipe cannot split a cell or a heading
    assert BIDI_OVERRIDE not in text and "\x1b" not in text
    # The source line holding ``` sits in a longer fence, so it cannot close the block.
    fences = [fence for fence, body in _code_blocks(text) if "```" in body]
    assert fences and all(len(f) > 3 for f in fences)


def test_dispatcher_and_stability(samples: dict[str, Any]) -> None:
    for result in samples.values():
        assert render_risk(result, "markdown") == render_risk_markdown(result) == render_risk_markdown(result)
    with pytest.raises(ValueError, match="choose one of: json, markdown, sarif"):
        render_risk(samples["diff"], "html")
