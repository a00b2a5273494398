"""Hand-built scan results for the report tests: the postmark-mcp incident and its neighbours.

Every secret-looking value configured here is listed in :data:`SECRETS`; the tests assert none
of them reaches any output. Paths are fixed strings under a fake home so outputs are
deterministic on every machine.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from distrust.model import (
    Ecosystem,
    Evidence,
    Finding,
    Installation,
    Notice,
    PackageRef,
    ResolvedServer,
    ScanResult,
    ServerSpec,
    Severity,
)

HOME = Path("/home/alice")
CLAUDE_CONFIG = HOME / ".config/Claude/claude_desktop_config.json"
CURSOR_CONFIG = HOME / ".cursor/mcp.json"
VSCODE_CONFIG = HOME / "work/app/.vscode/mcp.json"
NPX_DIR = HOME / ".npm/_npx/6a9f2c/node_modules/postmark-mcp"

POSTMARK_TOKEN = "pm-live-7f3a9c2e-0b1d-SECRET"
GITHUB_TOKEN = "ghp_R3alLook1ngT0kenValue0123456789"
HEADER_TOKEN = "Bearer hdr-secret-token-abc123"
URL_SECRET = "sk-url-secret-999"
ARG_SECRET = "arg-secret-zzz999"
DOCKER_ENV_SECRET = "docker-env-secret-777"
SECRETS = (
    POSTMARK_TOKEN,
    GITHUB_TOKEN,
    HEADER_TOKEN,
    "hdr-secret-token-abc123",
    URL_SECRET,
    ARG_SECRET,
    DOCKER_ENV_SECRET,
)

POSTMARK_SPEC = ServerSpec(
    client="claude-desktop",
    config_path=CLAUDE_CONFIG,
    name="postmark",
    transport="stdio",
    command="npx",
    args=("-y", "postmark-mcp"),
    env=(("POSTMARK_SERVER_TOKEN", POSTMARK_TOKEN), ("DEFAULT_SENDER_EMAIL", "ops@example.com")),
    line=4,
)
GITHUB_SPEC = ServerSpec(
    client="cursor",
    config_path=CURSOR_CONFIG,
    name="github",
    transport="stdio",
    command="docker",
    args=("run", "-i", "--rm", "-e", f"API_TOKEN={DOCKER_ENV_SECRET}", "ghcr.io/github/github-mcp-server"),
    env=(("GITHUB_PERSONAL_ACCESS_TOKEN", GITHUB_TOKEN),),
    line=9,
)
REMOTE_SPEC = ServerSpec(
    client="cursor",
    config_path=CURSOR_CONFIG,
    name="analytics",
    transport="sse",
    url=f"https://mcp.example.com/sse?team=blue&api_key={URL_SECRET}",
    headers=(("Authorization", HEADER_TOKEN),),
    line=20,
)
FILES_SPEC = ServerSpec(
    client="cursor",
    config_path=CURSOR_CONFIG,
    name="files",
    transport="stdio",
    command="uvx",
    args=("mcp-server-files==0.3.1", "--api-key", ARG_SECRET),
    scope="user",
    line=30,
)

POSTMARK_DECLARED = PackageRef(Ecosystem.NPM, "postmark-mcp", None, pinned=False, spec="latest")
POSTMARK_BAD = PackageRef(Ecosystem.NPM, "postmark-mcp", "1.0.16")

SERVERS = (
    ResolvedServer(
        spec=POSTMARK_SPEC,
        package=POSTMARK_DECLARED,
        installed=(
            Installation(POSTMARK_BAD, "npx-cache", NPX_DIR),
            Installation(
                PackageRef(Ecosystem.NPM, "postmark-mcp", "1.0.15"),
                "npm-log",
                HOME / ".npm/_logs/2025-09-10T08_00_00_000Z-debug-0.log",
                when=datetime(2025, 9, 10, 8, 0, tzinfo=UTC),
                line=12,
            ),
        ),
    ),
    ResolvedServer(
        spec=GITHUB_SPEC,
        package=PackageRef(Ecosystem.DOCKER, "ghcr.io/github/github-mcp-server", None, spec="latest"),
        notes=("docker image: tag, no digest",),
    ),
    ResolvedServer(spec=REMOTE_SPEC, package=None, notes=("remote server: nothing installed",)),
    ResolvedServer(
        spec=FILES_SPEC,
        package=PackageRef(Ecosystem.PYPI, "mcp-server-files", "0.3.1", pinned=True, spec="==0.3.1"),
    ),
)

MALICIOUS = Finding(
    rule_id="intel.malicious-version",
    severity=Severity.CRITICAL,
    title="postmark-mcp 1.0.16 is a known malicious version",
    detail="1.0.16 adds a Bcc to phan@giftshop.club on every email the assistant sends.",
    remediation="Remove the server and rotate the Postmark server token.\nThen search sent mail for the Bcc.",
    server=POSTMARK_SPEC,
    package=POSTMARK_BAD,
    advisories=("MAL-2025-47604",),
    evidence=(Evidence(str(NPX_DIR / "index.js"), 231, "Bcc: 'phan@giftshop.club',"),),
)
UNPINNED = Finding(
    rule_id="config.unpinned",
    severity=Severity.MEDIUM,
    title="server runs whatever version the registry serves",
    detail="npx -y postmark-mcp fetches the newest version at every start.",
    remediation="Pin an exact, reviewed version: postmark-mcp@1.0.15.",
    server=POSTMARK_SPEC,
    package=POSTMARK_DECLARED,
    evidence=(Evidence(str(CLAUDE_CONFIG), 6, '"args": ["-y", "postmark-mcp"]'),),
)
INLINE_SECRET = Finding(
    rule_id="config.inline-secret",
    severity=Severity.HIGH,
    title="API token written inline in the client config",
    detail="GITHUB_PERSONAL_ACCESS_TOKEN holds a literal token (ghp_…[redacted]).",
    remediation="Move the token to the OS keychain or an env file outside the config.",
    server=GITHUB_SPEC,
    evidence=(Evidence(str(CURSOR_CONFIG), 12, '"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_…[redacted]"'),),
)
STALE_INTEL = Finding(
    rule_id="intel.stale",
    severity=Severity.LOW,
    title="advisory data is 40 days old",
    detail="Run `distrust intel update` to fetch new advisories.",
    remediation="distrust intel update",
)
NOTICE = Notice("could not parse JSON: expected ',' or '}'", VSCODE_CONFIG, 7)

FINDINGS = (UNPINNED, STALE_INTEL, INLINE_SECRET, MALICIOUS)  # deliberately not in report order
EXPECTED_ORDER = ("intel.malicious-version", "config.inline-secret", "config.unpinned", "intel.stale")


def sample_result() -> ScanResult:
    """The full sample scan: four servers in two clients, four findings, one notice."""
    return ScanResult(
        servers=SERVERS,
        findings=FINDINGS,
        notices=(NOTICE,),
        configs_read=(CLAUDE_CONFIG, CURSOR_CONFIG),
    )


def reversed_result() -> ScanResult:
    """The same scan with every list in the opposite order: reports must not notice."""
    base = sample_result()
    return ScanResult(
        servers=tuple(reversed(base.servers)),
        findings=tuple(reversed(base.findings)),
        notices=tuple(reversed(base.notices)),
        configs_read=base.configs_read,
    )


def empty_result() -> ScanResult:
    return ScanResult(servers=(), findings=())
