"""End-to-end resolution over fake homes laid out as npm, npx, uv and pipx lay them out."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from resolve_helpers import FIXTURES, FakeMachine, server

from distrust.model import Ecosystem, PackageRef, ServerSpec
from distrust.resolve import resolve, resolve_all, resolve_all_detailed

SEPT_1 = datetime(2025, 9, 1, 12, 0, tzinfo=UTC).timestamp()


def sources(resolved: object) -> list[tuple[str, str | None]]:
    return [(i.source, i.ref.version) for i in resolved.installed]  # type: ignore[attr-defined]


def test_floating_npx_reports_cached_versions(machine: FakeMachine) -> None:
    machine.npx_cache("aaa111", {"postmark-mcp": "1.0.17"}, mtime=SEPT_1)
    machine.npx_cache("bbb222", {"postmark-mcp": "1.0.16", "postmark": "4.0.5"})
    machine.npx_cache("ccc333", {"other-server": "1.0.0"})
    result = resolve(server("npx", "-y", "postmark-mcp"), machine.context())
    assert result.package == PackageRef(Ecosystem.NPM, "postmark-mcp", None, False, "latest")
    assert sorted(sources(result)) == [("npx-cache", "1.0.16"), ("npx-cache", "1.0.17")]
    dated = next(i for i in result.installed if i.ref.version == "1.0.17")
    assert dated.when == datetime.fromtimestamp(SEPT_1, tz=UTC)
    assert dated.path.name == "package.json" and "aaa111" in str(dated.path)
    assert "1.0.16, 1.0.17" in result.notes[0] and "not an exact version" in result.notes[0]
    assert set(result.versions) == {"1.0.16", "1.0.17"}


def test_npm_cache_env_override_and_case_insensitive_name(machine: FakeMachine) -> None:
    other_cache = machine.root / "elsewhere" / "npm-cache"
    machine.npx_cache("x", {"postmark-mcp": "1.0.9"}, base=other_cache)
    machine.env["NPM_CONFIG_CACHE"] = str(other_cache)
    result = resolve(server("npx", "-y", "postmark-mcp"), machine.context())
    assert sources(result) == [("npx-cache", "1.0.9")]


def test_scoped_package_in_npx_cache_and_global_prefixes(machine: FakeMachine) -> None:
    name = "@acme/mail-mcp"
    machine.npx_cache("s1", {name: "2.0.0", "@acme/other": "9.9.9"})
    machine.node_package(machine.home / ".npm-global" / "lib" / "node_modules", name, "2.0.1")
    machine.node_package(
        machine.home / ".nvm" / "versions" / "node" / "v20.1.0" / "lib" / "node_modules", name, "2.0.2"
    )
    machine.node_package(
        machine.home
        / ".volta"
        / "tools"
        / "image"
        / "packages"
        / "@acme"
        / "mail-mcp"
        / "lib"
        / "node_modules",
        name,
        "2.0.3",
    )
    prefix = machine.root / "custom-prefix"
    machine.node_package(prefix / "lib" / "node_modules", name, "2.0.4")
    machine.env["npm_config_prefix"] = str(prefix)
    system = machine.root / "usr" / "lib" / "node_modules"
    machine.node_package(system, name, "2.0.5")
    result = resolve(server("npx", "-y", "@ACME/mail-mcp@^2"), machine.context(system_roots=(system,)))
    assert sorted(sources(result)) == [
        ("npm-global", "2.0.1"),
        ("npm-global", "2.0.2"),
        ("npm-global", "2.0.3"),
        ("npm-global", "2.0.4"),
        ("npm-global", "2.0.5"),
        ("npx-cache", "2.0.0"),
    ]


def test_pinned_spec_still_reports_installed_copies(machine: FakeMachine) -> None:
    machine.npx_cache("a", {"postmark-mcp": "1.0.16"})
    project = machine.project()
    machine.node_package(project / "node_modules", "postmark-mcp", "1.0.15")
    result = resolve(server("npx", "-y", "postmark-mcp@1.0.15"), machine.context())
    assert result.package == PackageRef(Ecosystem.NPM, "postmark-mcp", "1.0.15", True, "1.0.15")
    assert sorted(sources(result)) == [("node_modules", "1.0.15"), ("npx-cache", "1.0.16")]
    assert result.notes == ()  # the pinned version is on disk: nothing partial to explain


def test_pinned_but_not_installed_says_so(machine: FakeMachine) -> None:
    result = resolve(server("npx", "-y", "postmark-mcp@1.0.15"), machine.context())
    assert result.installed == ()
    assert "no installed copy" in result.notes[0]


def test_floating_without_copies_says_so(machine: FakeMachine) -> None:
    result = resolve(server("npx", "-y", "postmark-mcp"), machine.context())
    assert result.installed == () and "no installed copy was found" in result.notes[0]


def test_npm_log_proves_past_install_with_date(machine: FakeMachine) -> None:
    logs = machine.home / ".npm" / "_logs"
    logs.mkdir(parents=True)
    shutil.copy(FIXTURES / "npm-logs" / "2025-09-20T10_11_12_345Z-debug-0.log", logs)
    (logs / "not-a-log.txt").write_text("12 silly placeDep ROOT postmark-mcp@9.9.9 OK for:  want: 9.9.9\n")
    result = resolve(server("npx", "-y", "postmark-mcp"), machine.context())
    [inst] = result.installed
    assert (inst.source, inst.ref.version, inst.line) == ("npm-log", "1.0.16", 13)
    assert inst.when == datetime(2025, 9, 20, 10, 11, 12, 345000, tzinfo=UTC)


def test_npm_logs_dir_override(machine: FakeMachine) -> None:
    logs = machine.root / "ci-logs"
    logs.mkdir()
    shutil.copy(FIXTURES / "npm-logs" / "2025-09-20T10_11_12_345Z-debug-0.log", logs)
    machine.env["npm_config_logs_dir"] = str(logs)
    result = resolve(server("npx", "-y", "@modelcontextprotocol/sdk"), machine.context())
    assert sources(result) == [("npm-log", "1.17.5")]


@pytest.mark.parametrize(
    ("fixture", "filename"),
    [
        ("package-lock-v3.json", "package-lock.json"),
        ("package-lock-v1.json", "npm-shrinkwrap.json"),
        ("pnpm-lock-v5.yaml", "pnpm-lock.yaml"),
        ("pnpm-lock-v6.yaml", "pnpm-lock.yaml"),
        ("pnpm-lock-v9.yaml", "pnpm-lock.yaml"),
        ("yarn-classic.lock", "yarn.lock"),
        ("yarn-berry.lock", "yarn.lock"),
        ("bun.lock", "bun.lock"),
    ],
)
def test_npm_lockfiles_in_projects(machine: FakeMachine, fixture: str, filename: str) -> None:
    project = machine.project()
    shutil.copy(FIXTURES / "lockfiles" / fixture, project / filename)
    result = resolve(server("npx", "-y", "postmark-mcp"), machine.context())
    lock_hits = [i for i in result.installed if i.source == "lockfile"]
    assert "1.0.16" in [i.ref.version for i in lock_hits]
    assert all(i.path == project / filename and i.line for i in lock_hits)
    assert all(i.ref.name == "postmark-mcp" for i in lock_hits)  # @acme/mcp-tools is not asked for


@pytest.mark.parametrize(
    ("fixture", "filename", "version"),
    [
        ("uv.lock", "uv.lock", "2025.4.7"),
        ("poetry.lock", "poetry.lock", "2025.1.17"),
        ("requirements.txt", "requirements-prod.txt", "2025.4.7"),
        ("Pipfile.lock", "Pipfile.lock", "2025.4.7"),
    ],
)
def test_python_lockfiles_in_projects(
    machine: FakeMachine, fixture: str, filename: str, version: str
) -> None:
    project = machine.project()
    shutil.copy(FIXTURES / "lockfiles" / fixture, project / filename)
    result = resolve(server("uvx", "mcp_server_fetch"), machine.context())
    assert [(i.source, i.ref.version) for i in result.installed] == [("lockfile", version)]


def test_broken_lockfile_is_a_notice_not_a_traceback(machine: FakeMachine) -> None:
    project = machine.project()
    (project / "package-lock.json").write_text('{"packages": {\n  "node_modules/x": \n}')
    (project / "uv.lock").write_text("[[package]\nname = 'x'")
    specs = [server("npx", "-y", "x"), server("uvx", "x")]
    resolution = resolve_all_detailed(specs, machine.context())
    messages = sorted(n.message for n in resolution.notices)
    assert len(messages) == 2
    assert "package-lock.json:3: invalid JSON" in messages[0]
    assert "uv.lock: invalid TOML" in messages[1]


def test_unreadable_manifest_is_a_notice(machine: FakeMachine) -> None:
    root = machine.npx_cache("bad", {"postmark-mcp": "1.0.0"})
    (root / "node_modules" / "postmark-mcp" / "package.json").write_text("{not json")
    resolution = resolve_all_detailed([server("npx", "-y", "postmark-mcp")], machine.context())
    assert resolution.servers[0].installed == ()
    [notice] = resolution.notices
    assert "invalid JSON" in notice.message and notice.file is not None


def test_uv_tool_uv_cache_and_pipx(machine: FakeMachine) -> None:
    tools = machine.home / ".local" / "share" / "uv" / "tools"
    machine.dist_info(machine.venv(tools / "mcp-server-fetch"), "mcp-server-fetch", "2025.4.7")
    cache = machine.home / ".cache" / "uv"
    machine.dist_info(cache / "archive-v0" / "Ab12", "mcp_server_fetch", "2025.1.17")  # unpacked wheel
    machine.dist_info(
        machine.venv(cache / "archive-v0" / "Cd34"), "mcp-server-fetch", "2024.12.1"
    )  # uvx venv
    machine.dist_info(
        machine.venv(machine.home / ".local" / "share" / "pipx" / "venvs" / "x"),
        "Mcp.Server-Fetch",
        "2024.11.0",
    )
    result = resolve(server("uvx", "mcp-server-fetch"), machine.context())
    assert sorted(sources(result)) == [
        ("pipx", "2024.11.0"),
        ("uv-cache", "2024.12.1"),
        ("uv-cache", "2025.1.17"),
        ("uv-tool", "2025.4.7"),
    ]


def test_uv_and_pipx_env_overrides(machine: FakeMachine) -> None:
    tool_dir, cache_dir, pipx_home = (machine.root / n for n in ("tools", "uvcache", "pipxhome"))
    machine.dist_info(machine.venv(tool_dir / "pkg"), "pkg", "1.0.0")
    machine.dist_info(cache_dir / "archive-v0" / "z", "pkg", "1.0.1")
    machine.dist_info(machine.venv(pipx_home / ".cache" / "0a1b2c"), "pkg", "1.0.2")  # pipx run cache
    machine.env.update(UV_TOOL_DIR=str(tool_dir), UV_CACHE_DIR=str(cache_dir), PIPX_HOME=str(pipx_home))
    result = resolve(server("pipx", "run", "pkg"), machine.context())
    assert sorted(sources(result)) == [("pipx", "1.0.2"), ("uv-cache", "1.0.1"), ("uv-tool", "1.0.0")]


def test_xdg_data_home_for_uv_tools(machine: FakeMachine) -> None:
    xdg = machine.root / "xdg"
    machine.dist_info(machine.venv(xdg / "uv" / "tools" / "pkg"), "pkg", "3.0.0")
    machine.env["XDG_DATA_HOME"] = str(xdg)
    assert sources(resolve(server("uvx", "pkg@3.0.0"), machine.context())) == [("uv-tool", "3.0.0")]


def test_node_script_inside_node_modules(machine: FakeMachine) -> None:
    project = machine.project()
    pkg = machine.node_package(project / "node_modules", "postmark-mcp", "1.0.16")
    script = pkg / "dist" / "index.js"
    result = resolve(server("node", str(script)), machine.context())
    assert result.package == PackageRef(Ecosystem.NPM, "postmark-mcp", "1.0.16", True, None)
    assert [(i.source, i.path) for i in result.installed] == [("node_modules", pkg / "package.json")]
    assert result.notes == ()


def test_node_script_relative_to_cwd_and_scoped(machine: FakeMachine) -> None:
    project = machine.project()
    machine.node_package(project / "node_modules", "@acme/srv", "0.3.0")
    result = resolve(
        server("node", "node_modules/@acme/srv/dist/index.js", cwd=str(project)), machine.context()
    )
    assert result.package == PackageRef(Ecosystem.NPM, "@acme/srv", "0.3.0", True, None)


def test_node_script_outside_node_modules_is_local(machine: FakeMachine) -> None:
    project = machine.project("my-server")
    (project / "package.json").write_text('{"name": "my-server", "version": "0.1.0"}')
    (project / "build").mkdir()
    (project / "build" / "index.js").write_text("")
    result = resolve(server("node", str(project / "build" / "index.js")), machine.context())
    assert result.package == PackageRef(Ecosystem.LOCAL, str(project / "build" / "index.js"))


def test_node_script_missing_or_unresolvable(machine: FakeMachine) -> None:
    missing = resolve(server("node", "/nowhere/index.js"), machine.context())
    assert missing.package is not None and missing.package.ecosystem == Ecosystem.LOCAL
    assert "does not exist" in missing.notes[0]
    relative = resolve(server("node", "dist/index.js"), machine.context())
    assert "without a working directory" in relative.notes[0]
    placeholder = resolve(server("node", "${workspaceFolder}/dist/index.js"), machine.context())
    assert "client variable" in placeholder.notes[0]


def test_binary_symlinked_into_global_node_modules(machine: FakeMachine) -> None:
    prefix = machine.home / ".npm-global"
    pkg = machine.node_package(prefix / "lib" / "node_modules", "postmark-mcp", "1.0.16")
    (prefix / "bin").mkdir()
    (pkg / "dist" / "index.js").chmod(0o755)  # npm marks bin targets executable
    (prefix / "bin" / "postmark-mcp").symlink_to(pkg / "dist" / "index.js")
    machine.env["PATH"] = str(prefix / "bin")
    result = resolve(server("postmark-mcp"), machine.context())
    assert result.package == PackageRef(Ecosystem.NPM, "postmark-mcp", "1.0.16", True, None)
    assert sources(result) == [("npm-global", "1.0.16")]


def test_binary_in_uv_tool_venv(machine: FakeMachine) -> None:
    tool = machine.home / ".local" / "share" / "uv" / "tools" / "mcp-server-fetch"
    machine.dist_info(
        machine.venv(tool), "mcp-server-fetch", "2025.4.7", console_scripts=("mcp-server-fetch",)
    )
    exe = tool / "bin" / "mcp-server-fetch"
    exe.write_text("#!/bin/sh\n")
    bin_dir = machine.home / ".local" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "mcp-server-fetch").symlink_to(exe)
    result = resolve(server(str(bin_dir / "mcp-server-fetch")), machine.context())
    assert result.package == PackageRef(Ecosystem.PYPI, "mcp-server-fetch", "2025.4.7", True, None)
    assert ("uv-tool", "2025.4.7") in sources(result)


def test_unknown_binary_is_local(machine: FakeMachine) -> None:
    exe = machine.root / "opt" / "srv"
    exe.parent.mkdir()
    exe.write_text("")
    exe.chmod(0o755)
    result = resolve(server(str(exe)), machine.context())
    assert result.package == PackageRef(Ecosystem.LOCAL, str(exe))
    assert (
        resolve(server("no-such-program"), machine.context()).notes[0].startswith("program 'no-such-program'")
    )


def test_python_module_in_project_venv(machine: FakeMachine) -> None:
    project = machine.project()
    site = machine.venv(project / ".venv")
    machine.dist_info(site, "mcp-server-fetch", "2025.4.7", top_level="mcp_server_fetch")
    machine.dist_info(site, "PyYAML", "6.0.2", top_level="yaml")
    by_name = resolve(server("python", "-m", "mcp_server_fetch", cwd=str(project)), machine.context())
    assert by_name.package == PackageRef(Ecosystem.PYPI, "mcp-server-fetch", "2025.4.7", True, None)
    by_top_level = resolve(
        server(str(project / ".venv" / "bin" / "python"), "-m", "yaml.cli"), machine.context()
    )
    assert by_top_level.package == PackageRef(Ecosystem.PYPI, "pyyaml", "6.0.2", True, None)
    assert [i.source for i in by_top_level.installed] == ["venv"]


def test_python_module_not_found_is_local(machine: FakeMachine) -> None:
    result = resolve(server("python3", "-m", "my_server"), machine.context())
    assert result.package == PackageRef(Ecosystem.LOCAL, "my_server")
    assert "not found in a virtualenv" in result.notes[0]


def test_remote_url_server(machine: FakeMachine) -> None:
    result = resolve(server(None, url="https://mcp.Example.com/sse?token=s3cret"), machine.context())
    assert result.package == PackageRef(
        Ecosystem.URL, "mcp.example.com", None, False, "https://mcp.example.com/sse"
    )
    assert "s3cret" not in repr(result.package) + " ".join(result.notes)


def test_docker_notes(machine: FakeMachine) -> None:
    result = resolve(server("docker", "run", "-i", "--rm", "-e", "TOKEN", "mcp/postmark"), machine.context())
    assert result.package == PackageRef(Ecosystem.DOCKER, "mcp/postmark", None, False, "latest")
    assert result.notes == ("docker image by tag, not digest: cannot tell which build runs",)


def test_no_command_is_explained(machine: FakeMachine) -> None:
    result = resolve(server(None), machine.context())
    assert result.package is None and result.notes


def test_only_referenced_packages_are_reported(machine: FakeMachine) -> None:
    machine.npx_cache("a", {"postmark-mcp": "1.0.16", "postmark": "4.0.5", "zod": "3.0.0"})
    project = machine.project()
    shutil.copy(FIXTURES / "lockfiles" / "package-lock-v3.json", project / "package-lock.json")
    result = resolve(server("npx", "-y", "postmark"), machine.context())
    assert {i.ref.name for i in result.installed} == {"postmark"}


def test_postmark_incident_story(machine: FakeMachine) -> None:
    """Config floats; today's cache holds 1.0.17; a log proves 1.0.16 ran on 20 Sept 2025."""
    machine.npx_cache("today", {"postmark-mcp": "1.0.17"})
    logs = machine.home / ".npm" / "_logs"
    logs.mkdir(parents=True)
    shutil.copy(FIXTURES / "npm-logs" / "2025-09-20T10_11_12_345Z-debug-0.log", logs)
    project = machine.project()
    shutil.copy(FIXTURES / "lockfiles" / "pnpm-lock-v9.yaml", project / "pnpm-lock.yaml")
    [result] = resolve_all([server("cmd", "/c", "npx", "-y", "postmark-mcp")], machine.context())
    assert result.versions == ("1.0.17", "1.0.16")
    log_entry = next(i for i in result.installed if i.source == "npm-log")
    assert log_entry.when is not None and log_entry.when.date().isoformat() == "2025-09-20"


def test_resolve_all_500_servers_over_big_npx_cache_is_fast(machine: FakeMachine) -> None:
    # 250 npx cache dirs of 9 packages each: the shape of a long-used developer machine
    for d in range(250):
        root = machine.home / ".npm" / "_npx" / f"{d:016x}" / "node_modules"
        for p in range(8):
            (root / f"dep-{d}-{p}").mkdir(parents=True)
        machine.node_package(root, f"mcp-server-{d}", "1.0.0")
    specs = [server("npx", "-y", f"mcp-server-{i % 300}", name=f"s{i}") for i in range(500)]
    ctx = machine.context()
    timings = []
    for _ in range(3):  # best of three, as timeit does: a busy CI machine must not fail the test
        start = time.perf_counter()
        results = resolve_all(specs, ctx)
        timings.append(time.perf_counter() - start)
    assert len(results) == 500
    assert sources(results[0]) == [("npx-cache", "1.0.0")]
    assert results[280].installed == ()  # mcp-server-280 is not in the cache
    assert min(timings) < 0.5, f"500 servers took {min(timings):.3f}s"


def test_resolve_is_robust_to_hostile_files(machine: FakeMachine, tmp_path: Path) -> None:
    root = machine.home / ".npm" / "_npx" / "h" / "node_modules"
    (root / "postmark-mcp").mkdir(parents=True)
    (root / "postmark-mcp" / "package.json").mkdir()  # a directory where a file should be
    loop = root / "loop"
    loop.symlink_to(loop)
    result = resolve_all_detailed([server("npx", "-y", "postmark-mcp")], machine.context())
    assert result.servers[0].installed == ()
    assert "is a directory" in result.notices[0].message


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(["node", "python", "uv", "pnpm", "/opt/x", "x", "npx", "sh", "~/bin/y"]),
    st.lists(
        st.sampled_from(
            [
                "-m",
                "run",
                "exec",
                "--directory",
                "~",
                "a/b.js",
                "\x00",
                "..",
                "-c",
                "${x}/y",
                "/",
                "node_modules/p/i.js",
                "-y",
                "p",
            ]
        ),
        max_size=6,
    ),
    st.sampled_from([None, "", "/", "\x00bad", "~/w", "${workspaceFolder}"]),
)
def test_resolve_never_raises_on_odd_paths(
    machine: FakeMachine, command: str, args: list[str], cwd: str | None
) -> None:
    result = resolve(server(command, *args, cwd=cwd), machine.context())
    assert result.package is not None or result.notes


def test_registry_override_in_server_env_is_noted_without_credentials(machine: FakeMachine) -> None:
    spec = ServerSpec(
        client="t",
        config_path=Path("/c.json"),
        name="s",
        transport="stdio",
        command="npx",
        args=("-y", "postmark-mcp"),
        env=(("NPM_CONFIG_REGISTRY", "https://u:pw@npm.evil.example/r/?t=1"), ("X", "y")),
    )
    notes = resolve(spec, machine.context()).notes
    assert "package index set by the server's env NPM_CONFIG_REGISTRY=https://npm.evil.example/r/" in notes[0]
    assert "pw" not in " ".join(notes)


def test_permission_errors_become_notes_and_notices(
    machine: FakeMachine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root ignores permission bits, so the denial is simulated where the OS would raise it."""
    machine.npx_cache("a", {"postmark-mcp": "1.0.16"})
    machine.node_package(machine.home / ".npm-global" / "lib" / "node_modules", "postmark-mcp", "1.0.15")
    real_glob = Path.glob

    def denied_glob(self: Path, pattern: str) -> object:
        if "_npx" in pattern:
            raise PermissionError(13, "Permission denied", str(self))
        return real_glob(self, pattern)

    monkeypatch.setattr(Path, "glob", denied_glob)
    resolution = resolve_all_detailed([server("npx", "-y", "postmark-mcp")], machine.context())
    assert sources(resolution.servers[0]) == [("npm-global", "1.0.15")]  # the other locations still count
    assert any("cannot search npx-cache: permission denied" in n.message for n in resolution.notices)

    def denied_exists(self: Path) -> bool:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "exists", denied_exists)
    result = resolve(server("node", "/secret/dir/index.js"), machine.context())
    assert result.package == PackageRef(Ecosystem.LOCAL, "/secret/dir/index.js")
    assert result.notes[0] == "could not inspect /secret/dir/index.js: permission denied"
