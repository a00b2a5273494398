"""Markdown report: structure, escaping, evidence blocks, notices, secrecy, stability."""

from __future__ import annotations

import dataclasses
import re

from report_samples import (
    FILES_SPEC,
    MALICIOUS,
    SECRETS,
    empty_result,
    reversed_result,
    sample_result,
)

from distrust.model import Evidence, ResolvedServer, ScanResult
from distrust.report.common import RuleMeta
from distrust.report.markdown import code_block, escape_inline, render_markdown


def test_heading_summary_and_a_section_per_client() -> None:
    text = render_markdown(sample_result())
    lines = text.splitlines()
    assert lines[0] == "# distrust scan report"
    assert lines[2].startswith("4 servers scanned in 2 clients")
    assert text.index("## claude-desktop") < text.index("## cursor") < text.index("## Notices")
    assert "| Server | Config | Package | Installed | Findings |" in text
    assert "#### CRITICAL: postmark-mcp 1.0.16 is a known malicious version" in text
    assert "- Advisories: MAL-2025-47604" in text
    assert "**Remediation:** Remove the server and rotate the Postmark server token." in text
    assert "1.0.16 (npx-cache)<br>1.0.15 (npm-log)" in text


def test_findings_follow_report_order() -> None:
    text = render_markdown(sample_result())
    order = [m.group(1) for m in re.finditer(r"^#### (\w+):", text, re.MULTILINE)]
    assert order == ["CRITICAL", "MEDIUM", "HIGH", "LOW"]  # per client, then unattached


def test_evidence_and_notices() -> None:
    text = render_markdown(sample_result())
    assert "```\nBcc: 'phan@giftshop.club',\n```" in text
    assert re.search(r"^- `[^`]*\.vscode/mcp\.json:7`: could not parse JSON", text, re.MULTILINE)


def test_table_cells_escape_pipes_and_backticks() -> None:
    spec = dataclasses.replace(FILES_SPEC, name="evil|name`x")
    result = ScanResult(servers=(ResolvedServer(spec=spec, package=None),), findings=())
    row = next(line for line in render_markdown(result).splitlines() if "evil" in line)
    assert "evil\\|name\\`x" in row
    unescaped_pipes = re.findall(r"(?<!\\)\|", row)
    assert len(unescaped_pipes) == 6  # five cells


def test_escape_inline_blocks_html_and_newlines() -> None:
    assert escape_inline("<img src=x>") == "&lt;img src=x&gt;"
    assert escape_inline("a\nb") == "a<br>b"
    assert escape_inline("a|b`c") == "a\\|b\\`c"


def test_snippet_with_backticks_cannot_close_its_fence() -> None:
    block = code_block("x = ```evil```")
    assert block.startswith("````\n") and block.endswith("\n````")
    finding = dataclasses.replace(MALICIOUS, evidence=(Evidence("index.js", 3, "a ``` b"),))
    text = render_markdown(ScanResult(servers=(), findings=(finding,)))
    assert "````\na ``` b\n````" in text


def test_rule_rationale_is_shown_when_a_catalogue_is_given() -> None:
    rules = {
        "intel.malicious-version": RuleMeta(
            "intel.malicious-version", "t", MALICIOUS.severity, "OSV says so."
        )
    }
    assert "Why it matters: OSV says so." in render_markdown(sample_result(), rules=rules)


def test_empty_scan() -> None:
    text = render_markdown(empty_result())
    assert "no MCP servers found" in text and "## " not in text


def test_rendering_is_stable_and_independent_of_input_order() -> None:
    assert render_markdown(sample_result()) == render_markdown(reversed_result())


def test_no_secret_value_appears() -> None:
    text = render_markdown(sample_result())
    for secret in SECRETS:
        assert secret not in text, secret
