"""End-to-end judge scenarios: the postmark-mcp incident and a benign everyday setup."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from judge_support import (
    CLAUDE,
    CURSOR,
    HOME,
    VSCODE,
    MemoryAdvisories,
    above,
    by_rule,
    installed,
    judge,
    npm,
    only,
    postmark_intel,
    pypi,
    remote,
    resolved,
    rule_ids,
    stdio,
)

from distrust.model import Severity

NPX_ENTRY = HOME / ".npm/_npx/3f2a9c1d0b7e6a5f"
NPX_COPY = NPX_ENTRY / "node_modules/postmark-mcp"
POSTMARK_ENV = {
    "POSTMARK_SERVER_TOKEN": "${env:POSTMARK_SERVER_TOKEN}",
    "DEFAULT_SENDER_EMAIL": "alice@example.com",
}


def test_claude_desktop_pinned_to_the_malicious_version_is_critical() -> None:
    spec = stdio("postmark", "npx", "-y", "postmark-mcp@1.0.16", env=POSTMARK_ENV)
    findings = judge(resolved(spec, npm("postmark-mcp", "1.0.16")), intel=postmark_intel())

    mal = only(findings, "DT-SCAN-001")
    assert mal.severity is Severity.CRITICAL
    assert mal.advisories == ("MAL-2025-47604",)
    assert "the config pins 1.0.16" in mal.detail
    assert mal.title == "postmark-mcp 1.0.16 is a known-malicious version"
    assert "rotate the server's credentials (env keys: POSTMARK_SERVER_TOKEN)" in mal.remediation
    assert mal.evidence[0].file == str(CLAUDE) and mal.evidence[0].line == 3
    assert mal.server is not None and mal.server.name == "postmark"
    assert mal.package is not None and mal.package.version == "1.0.16"
    # Pinned: no floating finding. The sender address is the user's identity, not a forward.
    assert not by_rule(findings, "DT-SCAN-004")
    assert not by_rule(findings, "DT-SCAN-008")


def test_cursor_floating_npx_with_malicious_copy_in_npx_cache() -> None:
    spec = stdio(
        "postmark", "npx", "-y", "postmark-mcp", env=POSTMARK_ENV, config=CURSOR, client="cursor", line=12
    )
    server = resolved(
        spec, npm("postmark-mcp"), installed(npm("postmark-mcp", "1.0.17"), "npx-cache", NPX_COPY)
    )
    findings = judge(server, intel=postmark_intel())

    mal = only(findings, "DT-SCAN-001")
    assert mal.severity is Severity.CRITICAL
    assert "npx cache at ~/.npm/_npx/3f2a9c1d0b7e6a5f/node_modules/postmark-mcp holds 1.0.17" in mal.detail
    assert "delete the npx cache entry ~/.npm/_npx/3f2a9c1d0b7e6a5f" in mal.remediation
    assert "POSTMARK_SERVER_TOKEN" in mal.remediation
    assert [(e.file, e.line) for e in mal.evidence] == [(str(CURSOR), 12), (str(NPX_COPY), None)]
    assert mal.evidence[0].snippet == "postmark: npx -y postmark-mcp"

    floating = only(findings, "DT-SCAN-004")
    assert floating.severity is Severity.HIGH  # escalated: the package has advisories
    assert "MAL-2025-47604" in floating.advisories
    assert floating.evidence[0].file == str(CURSOR) and floating.evidence[0].line == 12
    assert "postmark-mcp@<reviewed version>" in floating.remediation  # 1.0.17 is not offered as safe


def test_npm_log_history_and_several_versions_aggregate_into_one_finding() -> None:
    spec = stdio("postmark", "npx", "-y", "postmark-mcp@1.0.16")
    log = HOME / ".npm/_logs/2025-09-20T10_00_00_000Z-debug-0.log"
    server = resolved(
        spec,
        npm("postmark-mcp", "1.0.16"),
        installed(npm("postmark-mcp", "1.0.17"), "npx-cache", NPX_COPY),
        installed(npm("postmark-mcp", "1.0.16"), "npm-log", log, when=datetime(2025, 9, 20, 10, 0), line=41),
        installed(npm("postmark-mcp", "1.0.15"), "node_modules", HOME / "proj/node_modules/postmark-mcp"),
    )
    findings = judge(server, intel=postmark_intel())

    mal = only(findings, "DT-SCAN-001")  # one finding per rule per server
    assert "npm log 2025-09-20 shows 1.0.16 was installed" in mal.detail
    assert "npx cache" in mal.detail and "the config pins 1.0.16" in mal.detail
    assert "1.0.15" not in mal.detail  # the clean copy is not evidence
    assert mal.title == "postmark-mcp 1.0.16, 1.0.17 is a known-malicious version"
    assert [(e.file, e.line) for e in mal.evidence] == [
        (str(CLAUDE), 3),
        (str(NPX_COPY), None),
        (str(log), 41),
    ]
    assert mal.remediation.count("delete the npx cache entry") == 1
    assert "npm log" not in mal.remediation  # history: nothing to delete


def test_clean_pinned_postmark_version_is_quiet() -> None:
    spec = stdio("postmark", "npx", "-y", "postmark-mcp@1.0.15", env=POSTMARK_ENV)
    findings = judge(resolved(spec, npm("postmark-mcp", "1.0.15")), intel=postmark_intel())
    assert findings == ()


def test_benign_well_known_servers_produce_nothing_above_low() -> None:
    servers = [
        resolved(
            stdio(
                "filesystem",
                "npx",
                "-y",
                "@modelcontextprotocol/server-filesystem@2025.8.21",
                str(HOME / "notes"),
            ),
            npm("@modelcontextprotocol/server-filesystem", "2025.8.21"),
        ),
        resolved(
            stdio(
                "github",
                "docker",
                "run",
                "-i",
                "--rm",
                "-e",
                "GITHUB_PERSONAL_ACCESS_TOKEN",
                "ghcr.io/github/github-mcp-server@sha256:" + "a" * 64,
                env={"GITHUB_PERSONAL_ACCESS_TOKEN": "${input:github_token}"},
                config=VSCODE,
                client="vscode",
            ),
            __import__("distrust.model", fromlist=["PackageRef"]).PackageRef(
                "docker", "ghcr.io/github/github-mcp-server", "sha256:" + "a" * 64, pinned=True
            ),
        ),
        resolved(stdio("fetch", "uvx", "mcp-server-fetch==2025.4.7"), pypi("mcp-server-fetch", "2025.4.7")),
        resolved(
            remote(
                "github-remote",
                "https://api.githubcopilot.com/mcp/",
                headers={"Authorization": "Bearer ${input:pat}"},
            ),
            None,
        ),
        resolved(remote("local-dev", "http://127.0.0.1:8931/mcp"), None),
    ]
    intel = postmark_intel()
    findings = judge(*servers, intel=intel)
    assert above(findings, Severity.LOW) == [], [(f.rule_id, f.detail) for f in findings]


def test_benign_set_with_empty_store_is_entirely_quiet() -> None:
    spec = stdio(
        "filesystem", "npx", "-y", "@modelcontextprotocol/server-filesystem@2025.8.21", "/home/alice/notes"
    )
    findings = judge(
        resolved(spec, npm("@modelcontextprotocol/server-filesystem", "2025.8.21")), intel=MemoryAdvisories()
    )
    assert findings == ()


def test_same_entry_read_twice_is_one_finding_with_merged_evidence() -> None:
    spec = stdio("postmark", "npx", "-y", "postmark-mcp", config=CURSOR, client="cursor")
    first = resolved(
        spec, npm("postmark-mcp"), installed(npm("postmark-mcp", "1.0.17"), "npx-cache", NPX_COPY)
    )
    other_copy = Path("/usr/lib/node_modules/postmark-mcp")
    second = resolved(
        spec, npm("postmark-mcp"), installed(npm("postmark-mcp", "1.0.18"), "npm-global", other_copy)
    )
    findings = judge(first, second, intel=postmark_intel())
    assert sorted(f.rule_id for f in findings) == ["DT-SCAN-001", "DT-SCAN-004"]
    mal = only(findings, "DT-SCAN-001")
    assert [e.file for e in mal.evidence] == [str(CURSOR), str(NPX_COPY), str(other_copy)]
    assert "run `npm uninstall -g postmark-mcp`" in mal.remediation


def test_same_server_name_in_two_configs_is_two_servers() -> None:
    a = resolved(stdio("postmark", "npx", "-y", "postmark-mcp"), npm("postmark-mcp"))
    b = resolved(
        stdio("postmark", "npx", "-y", "postmark-mcp", config=CURSOR, client="cursor"), npm("postmark-mcp")
    )
    findings = judge(a, b, intel=postmark_intel())
    assert [f.rule_id for f in findings] == ["DT-SCAN-004", "DT-SCAN-004"]
    assert {f.evidence[0].file for f in findings} == {str(CLAUDE), str(CURSOR)}


def test_findings_come_in_server_then_rule_order() -> None:
    a = resolved(stdio("a", "bash", "-c", "npx -y postmark-mcp"), None)
    b = resolved(stdio("b", "npx", "-y", "postmark-mcp@1.0.16"), npm("postmark-mcp", "1.0.16"))
    findings = judge(a, b, intel=postmark_intel())
    assert [(f.server.name if f.server else "", f.rule_id) for f in findings] == [
        ("a", "DT-SCAN-010"),
        ("a", "DT-SCAN-012"),
        ("b", "DT-SCAN-001"),
    ]
    assert rule_ids(findings) == {"DT-SCAN-010", "DT-SCAN-012", "DT-SCAN-001"}
