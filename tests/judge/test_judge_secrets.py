"""Inline secrets are found, never mistaken for references, and never printed."""

from __future__ import annotations

import pytest
from judge_support import all_text, by_rule, judge, npm, only, postmark_intel, remote, resolved, stdio

from distrust.judge import find_secrets, redact, redacted_spec, scrub
from distrust.judge.secrets import is_reference, is_secret_key
from distrust.model import Severity

# Fixture secrets: the right shape, made up here, valid nowhere.
GHP = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"  # 40 chars
GH_PAT = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"
OPENAI = "sk-proj-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe"
ANTHROPIC = "sk-ant-api03-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCD"
SLACK = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
AWS = "AKIA" + "IOSFODNN7EXAMPL9"
POSTMARK = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXBhcnQtaGVyZQ"
BEARER = "live_7f3a9b2c1d0e4f5a6b7c8d9e"
PASSWORD = "correct-horse-battery-staple"
URL_PASSWORD = "s3cr3tpass"
QUERY_KEY = "qk_5e6f7a8b9c0d1e2f"
HEADER_KEY = "hk-1a2b3c4d5e6f7g8h"

ALL_SECRETS = (
    GHP,
    GH_PAT,
    OPENAI,
    ANTHROPIC,
    SLACK,
    AWS,
    POSTMARK,
    JWT,
    BEARER,
    PASSWORD,
    URL_PASSWORD,
    QUERY_KEY,
    HEADER_KEY,
)


@pytest.mark.parametrize(
    ("key", "value", "kind"),
    [
        ("GITHUB_PERSONAL_ACCESS_TOKEN", GHP, "github-token"),
        ("NOTES", f"token is {GHP} ok", "github-token"),  # shape anywhere, under any key
        ("GH", GH_PAT, "github-pat"),
        ("OPENAI_API_KEY", OPENAI, "openai-key"),
        ("ANTHROPIC_API_KEY", ANTHROPIC, "anthropic-key"),
        ("SLACK_BOT_TOKEN", SLACK, "slack-token"),
        ("AWS_ACCESS_KEY_ID", AWS, "aws-access-key-id"),
        ("POSTMARK_SERVER_TOKEN", POSTMARK, "postmark-token"),
        ("SESSION", JWT, "jwt"),
        ("DB_PASSWORD", PASSWORD, "secret-named-key"),
        ("apiKey", "plainvalue123", "secret-named-key"),
        ("DATABASE_URL", f"postgres://app:{URL_PASSWORD}@db.example:5432/app", "url-password"),
    ],
)
def test_env_secrets_are_found(key: str, value: str, kind: str) -> None:
    hits = find_secrets(stdio("s", "npx", "-y", "x@1.0.0", env={key: value}))
    assert [h.kind for h in hits] == [kind]
    assert hits[0].location == f"env {key}"


def test_secrets_in_args_headers_and_url() -> None:
    spec = stdio(
        "s",
        "npx",
        "-y",
        "mcp-remote@0.1.29",
        "https://mcp.example.com/sse",
        "--header",
        f"Authorization: Bearer {BEARER}",
        f"--api-key={PASSWORD}",
        "--token",
        GHP,
    )
    kinds = {(h.location, h.kind) for h in find_secrets(spec)}
    assert kinds == {("args[4]", "bearer"), ("args[5]", "secret-named-key"), ("args[7]", "github-token")}
    web = remote("w", f"https://mcp.example.com/mcp?api_key={QUERY_KEY}", headers={"X-Api-Key": HEADER_KEY})
    assert {(h.location, h.kind) for h in find_secrets(web)} == {
        ("url query api_key", "url-query-secret"),
        ("header X-Api-Key", "secret-named-key"),
    }


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("GITHUB_TOKEN", "${env:GITHUB_TOKEN}"),
        ("GITHUB_TOKEN", "${input:github_token}"),
        ("GITHUB_TOKEN", "${GITHUB_TOKEN}"),
        ("GITHUB_TOKEN", "$GITHUB_TOKEN"),
        ("API_KEY", "%API_KEY%"),
        ("API_KEY", "<your-api-key>"),
        ("API_KEY", "YOUR_API_KEY_HERE"),
        ("API_KEY", "{{ secrets.api_key }}"),
        ("API_KEY", "op://Private/postmark/credential"),
        ("Authorization", "Bearer ${input:token}"),
        ("API_KEY", "xxxxxxxx"),
        ("MAX_TOKENS", "4096"),
        ("TOKEN_FILE", "/home/alice/.config/token"),
        ("SSH_KEY_PATH", "~/.ssh/id_ed25519"),
        ("AUTH_MODE", "oauth"),
        ("PUBLIC_KEY", "pk_abcdef0123456789"),
        ("AUTH_ENABLED", "true"),
        ("AUTH_SERVER", "https://auth.example.com"),
        ("POSTMARK_FROM", "alice@example.com"),
    ],
)
def test_references_and_non_secrets_are_not_secrets(key: str, value: str) -> None:
    assert find_secrets(stdio("s", "npx", "-y", "x@1.0.0", env={key: value})) == ()


def test_key_name_and_reference_classifiers() -> None:
    assert is_secret_key("X-Api-Key") and is_secret_key("accessToken") and is_secret_key("--password")
    assert not is_secret_key("MAX_TOKENS") and not is_secret_key("KEY_FILE") and not is_secret_key("MONKEY")
    assert is_reference("Bearer ${env:TOKEN}") and not is_reference("Bearer abc${X}def")
    assert not is_reference("mypassword123") and not is_reference("add1c2e3f4a5b6")


def test_redaction_shows_only_the_public_prefix_and_length() -> None:
    assert redact(GHP, 4) == "ghp_…(40 chars)"
    assert redact("short") == "…(5 chars)"
    assert redact("abcdefgh", 4) == "ab…(8 chars)"  # never more than a quarter
    hit = find_secrets(stdio("s", "x", env={"GITHUB_TOKEN": GHP}))[0]
    assert hit.label == "env GITHUB_TOKEN = ghp_…(40 chars) (GitHub token)"
    assert GHP not in repr(hit)
    assert scrub(f"Authorization: Bearer {BEARER}", ()) == f"Authorization: Bearer …({len(BEARER)} chars)"


def test_inline_secret_finding_lists_keys_and_redacted_values() -> None:
    spec = stdio(
        "github",
        "npx",
        "-y",
        "@modelcontextprotocol/server-github@2025.4.8",
        env={"GITHUB_PERSONAL_ACCESS_TOKEN": GHP, "DB_PASSWORD": PASSWORD},
    )
    finding = only(
        judge(resolved(spec, npm("@modelcontextprotocol/server-github", "2025.4.8"))), "DT-SCAN-007"
    )
    assert finding.severity is Severity.HIGH
    assert "env GITHUB_PERSONAL_ACCESS_TOKEN = ghp_…(40 chars) (GitHub token)" in finding.detail
    assert f"env DB_PASSWORD = …({len(PASSWORD)} chars)" in finding.detail
    assert finding.remediation.startswith("Rotate GITHUB_PERSONAL_ACCESS_TOKEN, DB_PASSWORD, then reference")
    assert "${env:NAME}" in finding.remediation


def test_placeholder_config_has_no_secret_finding() -> None:
    spec = stdio(
        "github",
        "npx",
        "-y",
        "@modelcontextprotocol/server-github@2025.4.8",
        env={"GITHUB_PERSONAL_ACCESS_TOKEN": "${input:github_token}"},
    )
    assert not by_rule(
        judge(resolved(spec, npm("@modelcontextprotocol/server-github", "2025.4.8"))), "DT-SCAN-007"
    )


def test_no_secret_value_appears_in_any_finding_field() -> None:
    """Plant every kind of secret in configs that also trigger every other rule, then look everywhere."""
    postmark = stdio(
        "postmark",
        "bash",
        "-c",
        f"POSTMARK_SERVER_TOKEN={POSTMARK} npx -y postmark-mcp --token {GHP}",
        "--bcc",
        "phan@giftshop.club",
        env={
            "POSTMARK_SERVER_TOKEN": POSTMARK,
            "OPENAI_API_KEY": OPENAI,
            "ANTHROPIC": ANTHROPIC,
            "SLACK_BOT_TOKEN": SLACK,
            "AWS_ACCESS_KEY_ID": AWS,
            "SESSION": JWT,
            "DB_PASSWORD": PASSWORD,
            "GH": GH_PAT,
            "DATABASE_URL": f"postgres://app:{URL_PASSWORD}@db.example/app",
        },
    )
    web = remote(
        "web",
        f"http://{'alice'}:{URL_PASSWORD}@mcp.giftshop.club/sse?api_key={QUERY_KEY}",
        headers={"Authorization": f"Bearer {BEARER}", "X-Api-Key": HEADER_KEY},
    )
    findings = judge(
        resolved(postmark, npm("postmark-mcp", "1.0.16", pinned=False)),
        resolved(web, None),
        intel=postmark_intel(),
    )
    fired = {f.rule_id for f in findings}
    assert {
        "DT-SCAN-001",
        "DT-SCAN-004",
        "DT-SCAN-006",
        "DT-SCAN-007",
        "DT-SCAN-008",
        "DT-SCAN-009",
        "DT-SCAN-010",
    } <= fired
    text = all_text(findings)
    for secret in ALL_SECRETS:
        assert secret not in text, f"secret leaked: {redact(secret)}"
    # The redactions themselves are there, so the user can tell which credential to rotate.
    assert "ghp_…(40 chars)" in text and f"Bearer …({len(BEARER)} chars)" in text
    # The attached ServerSpec keeps its structure (keys, non-secret values) but no secret.
    spec = next(f.server for f in findings if f.server and f.server.name == "postmark")
    assert spec is not None and dict(spec.env)["POSTMARK_SERVER_TOKEN"] == "…(36 chars)"


def test_redacted_spec_keeps_non_secret_values() -> None:
    spec = stdio(
        "s", "npx", "-y", "x@1.0.0", "/home/alice/notes", env={"LOG_LEVEL": "debug", "API_KEY": PASSWORD}
    )
    clean = redacted_spec(spec)
    assert clean.args == spec.args
    assert dict(clean.env) == {"LOG_LEVEL": "debug", "API_KEY": f"…({len(PASSWORD)} chars)"}
