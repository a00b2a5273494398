"""Shared presentation rules: severity tables, ordering, redaction, locations."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from report_samples import (
    EXPECTED_ORDER,
    FINDINGS,
    GITHUB_TOKEN,
    HEADER_TOKEN,
    POSTMARK_TOKEN,
    sample_result,
)

from distrust.model import Finding, ScanResult, ServerSpec, Severity
from distrust.report.common import (
    REDACTED,
    SARIF_LEVELS,
    SECURITY_SEVERITY_SCORES,
    SEVERITY_STYLES,
    Scrubber,
    display_path,
    finding_sort_key,
    path_uri,
    redact_args,
    redact_url,
    sarif_level,
    severity_counts,
    severity_style,
    sorted_findings,
    summary_line,
)


def test_every_severity_has_a_style_a_sarif_level_and_a_score() -> None:
    for table in (SEVERITY_STYLES, SARIF_LEVELS, SECURITY_SEVERITY_SCORES):
        assert set(table) == set(Severity)


def test_severity_presentation_values() -> None:
    assert severity_style(Severity.CRITICAL) == "bold red"
    assert severity_style(Severity.HIGH) == "red"
    assert severity_style(Severity.MEDIUM) == "yellow"
    assert severity_style(Severity.LOW) == "cyan"
    assert severity_style(Severity.NONE) == "dim"
    assert [sarif_level(s) for s in sorted(Severity, reverse=True)] == [
        "error",
        "error",
        "warning",
        "note",
        "none",
    ]


def test_security_severity_scores_fall_in_github_bands_and_rise_with_severity() -> None:
    scores = [float(SECURITY_SEVERITY_SCORES[s]) for s in sorted(Severity)]
    assert scores == sorted(scores)
    assert float(SECURITY_SEVERITY_SCORES[Severity.CRITICAL]) >= 9.0
    assert 7.0 <= float(SECURITY_SEVERITY_SCORES[Severity.HIGH]) < 9.0
    assert 4.0 <= float(SECURITY_SEVERITY_SCORES[Severity.MEDIUM]) < 7.0
    assert 0.1 <= float(SECURITY_SEVERITY_SCORES[Severity.LOW]) < 4.0


def test_findings_sort_by_severity_then_client_server_rule_whatever_the_input_order() -> None:
    rng = random.Random(1)
    for _ in range(20):
        shuffled = list(FINDINGS)
        rng.shuffle(shuffled)
        assert tuple(f.rule_id for f in sorted_findings(shuffled)) == EXPECTED_ORDER


def test_ties_on_severity_break_by_client_then_server_then_rule() -> None:
    def finding(client: str, server: str, rule: str) -> Finding:
        spec = ServerSpec(client=client, config_path=Path("/c.json"), name=server, transport="stdio")
        return Finding(rule_id=rule, severity=Severity.HIGH, title="t", detail="d", server=spec)

    items = [
        finding("b", "a", "r1"),
        finding("a", "z", "r1"),
        finding("a", "b", "r2"),
        finding("a", "b", "r1"),
    ]
    ordered = sorted(items, key=finding_sort_key)
    assert [(f.server.client, f.server.name, f.rule_id) for f in ordered if f.server] == [
        ("a", "b", "r1"),
        ("a", "b", "r2"),
        ("a", "z", "r1"),
        ("b", "a", "r1"),
    ]


def test_severity_counts_lists_every_level_most_severe_first() -> None:
    counts = severity_counts(FINDINGS)
    assert list(counts) == ["critical", "high", "medium", "low", "none"]
    assert counts == {"critical": 1, "high": 1, "medium": 1, "low": 1, "none": 0}


def test_summary_line_counts_servers_clients_configs_findings_notices() -> None:
    line = summary_line(sample_result())
    assert line == (
        "4 servers scanned in 2 clients; 2 configs read; "
        "findings: 1 critical, 1 high, 1 medium, 1 low; 1 notice"
    )
    assert summary_line(ScanResult(servers=(), findings=())) == "0 servers scanned; no findings"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("-y", "postmark-mcp"), ("-y", "postmark-mcp")),
        (("--api-key", "abc123"), ("--api-key", REDACTED)),
        (("--token=abc123",), (f"--token={REDACTED}",)),
        (("-e", "POSTMARK_SERVER_TOKEN=abc"), ("-e", f"POSTMARK_SERVER_TOKEN={REDACTED}")),
        (("-e", "LOG_LEVEL=debug"), ("-e", "LOG_LEVEL=debug")),
        (("--header", "Authorization: Bearer abc"), ("--header", f"Authorization: {REDACTED}")),
        (("--header", "X-Trace: on"), ("--header", "X-Trace: on")),
        (
            ("https://u:pw@h.example/x?token=t1&q=1",),
            (f"https://u:{REDACTED}@h.example/x?token={REDACTED}&q=1",),
        ),
    ],
)
def test_redact_args_hides_credential_values_but_keeps_names(
    args: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    assert redact_args(args) == expected


def test_redact_url() -> None:
    assert redact_url("https://mcp.example.com/sse") == "https://mcp.example.com/sse"
    assert redact_url("https://mcp.example.com/sse?api_key=s3cr3t&team=blue") == (
        f"https://mcp.example.com/sse?api_key={REDACTED}&team=blue"
    )
    assert redact_url("https://tok3n@h.example/") == f"https://{REDACTED}@h.example/"


def test_scrubber_removes_configured_values_from_free_text_only_when_they_can_be_secrets() -> None:
    spec = ServerSpec(
        client="c",
        config_path=Path("/c.json"),
        name="s",
        transport="stdio",
        env=(("TOKEN", POSTMARK_TOKEN), ("DEBUG", "1"), ("XDG_CONFIG_HOME", "/home/alice/.config")),
    )
    result = ScanResult(servers=(), findings=(Finding("r", Severity.LOW, "t", "d", server=spec),))
    scrub = Scrubber(result)
    assert scrub(f"token is {POSTMARK_TOKEN}!") == f"token is {REDACTED}!"
    # Short and path-like values are left alone: replacing them would garble ordinary text.
    assert scrub("retry 1 time in /home/alice/.config/x") == "retry 1 time in /home/alice/.config/x"


def test_scrubber_covers_every_configured_env_and_header_value() -> None:
    scrub = Scrubber(sample_result())
    configured = [POSTMARK_TOKEN, GITHUB_TOKEN, HEADER_TOKEN, HEADER_TOKEN.split(" ", 1)[1]]
    for secret in configured:
        assert secret not in scrub(f"x {secret} y"), secret


def test_path_uri() -> None:
    assert path_uri(Path("/home/alice/a b/mcp.json")) == "file:///home/alice/a%20b/mcp.json"
    assert path_uri("lib/index.js") == "lib/index.js"
    assert path_uri("pkg/a b#.js") == "pkg/a%20b%23.js"


def test_display_path_shortens_home() -> None:
    home = Path("/home/alice")
    assert display_path(Path("/home/alice/.cursor/mcp.json"), home) == "~/.cursor/mcp.json"
    assert display_path(Path("/etc/mcp.json"), home) == "/etc/mcp.json"


def test_redact_url_leaves_clean_text_byte_for_byte() -> None:
    for text in (
        "latest",
        "^1.0",
        "==0.3.1",
        "sha256:0123abcd",
        "ghcr.io/github/github-mcp-server:v1",
        "HTTP://X/?a=1",
    ):
        assert redact_url(text) == text
