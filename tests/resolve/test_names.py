"""Name normalisation, exact-version rules, and "no input makes the parsers crash"."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distrust.model import Ecosystem, PackageRef
from distrust.resolve.command import parse_command, parse_shell_string
from distrust.resolve.names import (
    dist_info_name_version,
    normalize_pypi,
    npm_exact_version,
    npm_ref,
    pypi_ref,
    split_npm_spec,
)


@pytest.mark.parametrize(
    ("text", "exact"),
    [
        ("1.0.16", "1.0.16"),
        ("=1.0.16", "1.0.16"),
        ("v1.0.16", "1.0.16"),
        ("1.0.0-rc.1+build.5", "1.0.0-rc.1+build.5"),
        ("1.0", None),
        ("^1.0.16", None),
        ("~1.0.16", None),
        (">=1.0.0", None),
        ("1.0.x", None),
        ("latest", None),
        ("01.0.0", None),
        ("", None),
    ],
)
def test_npm_exact_version(text: str, exact: str | None) -> None:
    assert npm_exact_version(text) == exact


@pytest.mark.parametrize(
    ("spec", "parts"),
    [
        ("pkg", ("pkg", None)),
        ("pkg@1", ("pkg", "1")),
        ("@s/p", ("@s/p", None)),
        ("@s/p@^2", ("@s/p", "^2")),
        ("@s/p@", ("@s/p", "")),
    ],
)
def test_split_npm_spec(spec: str, parts: tuple[str, str | None]) -> None:
    assert split_npm_spec(spec) == parts


def test_npm_ref_alias_prefix_and_empty_version() -> None:
    assert npm_ref("npm:pkg@1.0.0") == PackageRef(Ecosystem.NPM, "pkg", "1.0.0", True, "1.0.0")
    assert npm_ref("pkg@") == PackageRef(Ecosystem.NPM, "pkg", None, False, "latest")


@pytest.mark.parametrize(
    ("name", "normal"),
    [("Mcp_Server.Fetch", "mcp-server-fetch"), ("a--b__c", "a-b-c"), ("PyYAML", "pyyaml")],
)
def test_pep503(name: str, normal: str) -> None:
    assert normalize_pypi(name) == normal


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("pkg", PackageRef(Ecosystem.PYPI, "pkg", None, False, None)),
        ("pkg==1.0", PackageRef(Ecosystem.PYPI, "pkg", "1.0", True, "==1.0")),
        ("pkg===1.0", PackageRef(Ecosystem.PYPI, "pkg", "1.0", True, "===1.0")),
        ("pkg==1.0,<2", PackageRef(Ecosystem.PYPI, "pkg", None, False, "<2,==1.0")),
        ("pkg~=1.0", PackageRef(Ecosystem.PYPI, "pkg", None, False, "~=1.0")),
        ("pkg@1.0", PackageRef(Ecosystem.PYPI, "pkg", "1.0", True, "==1.0")),
        ("pkg@not-a-version", PackageRef(Ecosystem.PYPI, "pkg", None, False, "not-a-version")),
        ("./local/dir", None),
        ("git+https://x/y", None),
        ("!!!", None),
    ],
)
def test_pypi_ref(text: str, ref: PackageRef | None) -> None:
    assert pypi_ref(text) == ref


@pytest.mark.parametrize(
    ("dirname", "parsed"),
    [
        ("mcp_server_fetch-2025.4.7.dist-info", ("mcp-server-fetch", "2025.4.7")),
        ("PyYAML-6.0.2.dist-info", ("pyyaml", "6.0.2")),
        ("foo.egg-info", None),
        ("-1.0.dist-info", None),
    ],
)
def test_dist_info_names(dirname: str, parsed: tuple[str, str] | None) -> None:
    assert dist_info_name_version(dirname) == parsed


WORDS = st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=30), max_size=12)
LAUNCHERS = st.sampled_from(
    [
        "npx",
        "npm",
        "pnpm",
        "yarn",
        "bunx",
        "bun",
        "uvx",
        "uv",
        "pipx",
        "docker",
        "node",
        "python",
        "cmd",
        "sh",
        "env",
        "powershell",
        "deno",
        "/bin/x",
        "",
    ]
)


@settings(max_examples=150, deadline=None)
@given(LAUNCHERS, WORDS)
def test_parse_command_never_raises(command: str, args: list[str]) -> None:
    launch = parse_command(command, args)
    if launch.ref is not None:
        assert launch.ref.pinned == (launch.ref.version is not None)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_parse_shell_string_never_raises(text: str) -> None:
    parse_shell_string(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_spec_parsers_never_raise(text: str) -> None:
    npm_ref(text)
    pypi_ref(text)
