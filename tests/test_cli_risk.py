"""The Risk Engine from the command line: inspect, diff and history on our fixture packages.

History runs against a real local npm registry serving the postmark-style fixture server as
1.0.0–1.0.15 (clean) and 1.0.16 (one added Bcc line), the pattern of the real incident.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from npm_registry import LocalNpmRegistry, running_registry

FIXTURES = Path(__file__).parent / "fixtures" / "packages" / "postmark-mcp"
DISTRUST = str(Path(sys.executable).with_name("distrust"))


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DISTRUST, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120
    )


@pytest.fixture
def registry() -> Iterator[LocalNpmRegistry]:
    with running_registry() as reg:
        for patch in range(16):
            reg.publish(
                FIXTURES / "1.0.15", version=f"1.0.{patch}", when=f"2025-08-{patch + 1:02d}T10:00:00.000Z"
            )
        reg.publish(FIXTURES / "1.0.16", when="2025-09-17T10:00:00.000Z")
        yield reg


def test_diff_reports_the_bcc_line_as_critical_with_file_line_and_reason() -> None:
    proc = run("diff", str(FIXTURES / "1.0.15"), str(FIXTURES / "1.0.16"), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["risk"]["level"] == "critical"
    change = next(c for c in doc["changes"] if c["kind"] == "email.recipient")
    assert change["change"] == "added"
    assert change["value"] == "bcc=phan@giftshop.club"
    assert (change["file"], change["line"]) == ("index.js", 36)
    assert change["severity"] == "critical"
    assert "no earlier version referred to giftshop.club" in change["explanation"]


def test_diff_table_shows_the_offending_source_line() -> None:
    proc = run("diff", str(FIXTURES / "1.0.15"), str(FIXTURES / "1.0.16"))
    assert proc.returncode == 1
    assert 'Bcc: "phan@giftshop.club"' in proc.stdout
    assert "36" in proc.stdout


def test_clean_version_inspects_clean_and_exits_zero() -> None:
    proc = run("inspect", str(FIXTURES / "1.0.15"), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["risk"]["level"] in ("none", "low")
    kinds = {c["kind"] for c in doc["capabilities"]}
    assert {"email.send", "email.recipient", "env.read.secret", "mcp.tool"} <= kinds


def test_history_points_at_the_release_that_turned(registry: LocalNpmRegistry) -> None:
    proc = run("history", "npm:postmark-mcp", "--npm-registry", registry.url, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    steps = doc["steps"]
    assert len(steps) == 16
    levels = {s["new"]: s["risk"]["level"] for s in steps}
    assert levels.pop("1.0.16") == "critical"
    assert set(levels.values()) <= {"none", "low"}, levels


def test_inspect_from_registry_verifies_integrity(registry: LocalNpmRegistry) -> None:
    proc = run("inspect", "npm:postmark-mcp@1.0.16", "--npm-registry", registry.url, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["integrity"].startswith("sha512-")
    assert doc["risk"]["level"] == "critical"
    # Tamper with the tarball: a fresh cache must refuse it.
    path = next(p for p in registry.tarballs if p.endswith("1.0.14.tgz"))
    registry.tarballs[path] = registry.tarballs[path][:-10] + b"0123456789"
    bad = run("inspect", "npm:postmark-mcp@1.0.14", "--npm-registry", registry.url)
    assert bad.returncode == 2
    assert "integrity" in bad.stderr.lower() or "hash" in bad.stderr.lower()
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("inspect", "/definitely/not/here"),
        ("inspect", "npm:"),
        ("diff", "npm:a@1.0.0"),
        ("history", "npm:postmark-mcp@1.0.0"),
        ("inspect", str(FIXTURES / "1.0.15"), "--fail-on", "severe"),
    ],
)
def test_bad_input_is_a_clean_error(args: tuple[str, ...]) -> None:
    proc = run(*args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
