"""npm debug logs: the hand-trimmed fixture, and logs written by the real npm installed here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from resolve_helpers import FIXTURES, FakeMachine, server

from distrust.model import Ecosystem, PackageRef
from distrust.resolve import resolve
from distrust.resolve.npmlog import LogHit, log_time, scan_log, tarball_name_version

FIXTURE_LOG = FIXTURES / "npm-logs" / "2025-09-20T10_11_12_345Z-debug-0.log"


def test_fixture_log_hits() -> None:
    hits = list(scan_log(FIXTURE_LOG.read_text()))
    assert hits == [
        LogHit("postmark-mcp", "1.0.16", 13, "placeDep"),
        LogHit("postmark", "4.0.5", 16, "placeDep"),
        LogHit("@modelcontextprotocol/sdk", "1.17.5", 17, "placeDep"),
    ]


def test_wanted_filter_and_tarball_lines_alone() -> None:
    text = "\n".join(
        [
            "1 silly fetch manifest postmark-mcp@^1.0.0",  # resolving only: not evidence
            # the packument (all versions' metadata) is not evidence of any one version
            "2 http fetch GET 200 https://registry.npmjs.org/postmark-mcp 50ms (cache miss)",
            "3 http fetch GET 200 https://registry.npmjs.org/postmark-mcp/-/postmark-mcp-1.0.16.tgz 9ms",
            "4 http cache @scope/x@https://r.example.com/@scope/x/-/x-2.0.0.tgz 0ms (cache hit)",
            "5 http fetch GET 404 https://registry.npmjs.org/postmark-mcp/-/postmark-mcp-9.9.9.tgz 9ms",
        ]
    )
    assert list(scan_log(text)) == [
        LogHit("postmark-mcp", "1.0.16", 3, "tarball-fetch"),
        LogHit("@scope/x", "2.0.0", 4, "tarball-cache"),
    ]
    assert [h.name for h in scan_log(text, frozenset({"@scope/x"}))] == ["@scope/x"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://registry.npmjs.org/postmark-mcp/-/postmark-mcp-1.0.16.tgz", ("postmark-mcp", "1.0.16")),
        (
            "https://registry.npmjs.org/@isaacs/string-locale-compare/-/string-locale-compare-1.1.0.tgz",
            ("@isaacs/string-locale-compare", "1.1.0"),
        ),
        ("https://registry.npmjs.org/@scope%2fpkg/-/pkg-1.0.0-rc.1.tgz", ("@scope/pkg", "1.0.0-rc.1")),
        ("https://npm.corp.example/artifactory/api/npm/npm/foo/-/foo-3.2.1.tgz", ("foo", "3.2.1")),
        ("https://registry.npmjs.org/foo/-/bar-1.0.0.tgz", None),
        ("file:/tmp/foo-1.0.0.tgz", None),
    ],
)
def test_tarball_url_parsing(url: str, expected: tuple[str, str] | None) -> None:
    assert tarball_name_version(url) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2025-09-20T10_11_12_345Z-debug-0.log", datetime(2025, 9, 20, 10, 11, 12, 345000, tzinfo=UTC)),
        ("2020-01-02T03_04_05_006Z-debug.log", datetime(2020, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)),
        ("2025-13-40T10_11_12_345Z-debug-0.log", None),
        ("debug.log", None),
    ],
)
def test_log_time_from_file_name(name: str, expected: datetime | None) -> None:
    assert log_time(Path(name)) == expected


# --- real npm ---------------------------------------------------------------------------

NPM = shutil.which("npm")
needs_npm = pytest.mark.skipif(NPM is None, reason="npm is not installed")


def _npm(args: list[str], cwd: Path, home: Path) -> None:
    """Run the real npm offline, with every directory it writes inside the test's tmp dir."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
    }
    subprocess.run(
        [NPM or "npm", "--offline", "--ignore-scripts", *args],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def local_tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Our own tiny package, packed by npm once per module: no registry, no third-party code."""
    root = tmp_path_factory.mktemp("tarball")
    src = root / "src"
    src.mkdir()
    (src / "package.json").write_text(json.dumps({"name": "@distrust-fixture/mailer", "version": "1.0.16"}))
    (src / "index.js").write_text("module.exports = 1\n")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(root)}
    subprocess.run(
        [NPM or "npm", "pack", "--pack-destination", str(root)],
        cwd=src,
        check=True,
        capture_output=True,
        timeout=60,
        env=env,
    )
    return root / "distrust-fixture-mailer-1.0.16.tgz"


@needs_npm
def test_real_npm_exec_leaves_cache_and_log_we_read(machine: FakeMachine, local_tarball: Path) -> None:
    """`npm exec --package=<tgz>` (what npx runs) fills ~/.npm/_npx and ~/.npm/_logs as we expect."""
    cwd = machine.root / "cwd"
    cwd.mkdir()
    # the command npm runs is `node -e 0`: nothing from the package is executed
    _npm(["exec", "--yes", f"--package={local_tarball}", "--", "node", "-e", "0"], cwd, machine.home)
    result = resolve(server("npx", "-y", "@distrust-fixture/mailer"), machine.context())
    by_source = {i.source: i for i in result.installed}
    assert set(by_source) == {"npx-cache", "npm-log"}
    assert by_source["npx-cache"].ref == PackageRef(Ecosystem.NPM, "@distrust-fixture/mailer", "1.0.16", True)
    log = by_source["npm-log"]
    assert log.ref.version == "1.0.16" and log.line
    assert "placeDep" in log.path.read_text().splitlines()[log.line - 1]
    assert log.when is not None and abs((datetime.now(UTC) - log.when).total_seconds()) < 600


@needs_npm
def test_real_npm_install_project_lockfile_and_node_modules(
    machine: FakeMachine, local_tarball: Path
) -> None:
    project = machine.project()
    (project / "package.json").write_text('{"name": "proj", "version": "1.0.0"}')
    _npm(["install", str(local_tarball)], project, machine.home)
    result = resolve(server("npx", "-y", "@distrust-fixture/mailer@1.0.16"), machine.context())
    found = sorted((i.source, i.path.name) for i in result.installed)
    assert ("node_modules", "package.json") in found
    assert ("lockfile", "package-lock.json") in found
    assert ("lockfile", ".package-lock.json") in found  # npm's hidden lockfile inside node_modules
    assert result.notes == ()
