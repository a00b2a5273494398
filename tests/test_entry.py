"""The fast entry point (``distrust.entry``) must read ``inspect``/``diff`` exactly as Typer does.

It parses plain calls itself and hands everything else to the Typer app, so two things can go
wrong: its option table drifts from the Typer commands, or it reads some call differently.
Both are checked here against Typer's own parser; and a plain ``inspect`` must not import the
heavy CLI libraries it exists to avoid.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import typer.main
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from distrust import cli
from distrust.entry import FAST_COMMANDS, RISK_OPTIONS, FastCall, parse_fast
from distrust.model import Severity

FIXTURE = Path(__file__).parent / "fixtures" / "packages" / "postmark-mcp" / "1.0.15"
DISTRUST = str(Path(sys.executable).with_name("distrust"))


def _typer_command(name: str) -> Any:
    return typer.main.get_command(cli.app).commands[name]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(FAST_COMMANDS))
def test_option_table_matches_the_typer_command(name: str) -> None:
    command = _typer_command(name)
    arguments = [p.name for p in command.params if p.param_type_name == "argument"]
    assert tuple(arguments) == FAST_COMMANDS[name]
    options = {p.name: p for p in command.params if p.param_type_name == "option"}
    assert set(options) == {o.dest for o in RISK_OPTIONS}
    for fast in RISK_OPTIONS:
        typer_option = options[fast.dest]
        assert set(typer_option.opts) | set(typer_option.secondary_opts) == set(fast.names)
        assert bool(getattr(typer_option, "is_flag", False)) == fast.flag
        assert typer_option.envvar == fast.envvar
        assert not typer_option.multiple and typer_option.nargs == 1
        default = typer_option.default
        assert getattr(default, "value", default) == fast.default
    assert {o.dest: o.choices for o in RISK_OPTIONS}["fmt"] == tuple(f.value for f in cli.OutputFormat)


_TOKENS = [
    "npm:left-pad@1.3.0",
    "pypi:requests==2.32.3",
    "./pkg",
    "-f",
    "--format",
    "json",
    "table",
    "sarif",
    "markdown",
    "xml",
    "--format=json",
    "--format=",
    "-fjson",
    "-o",
    "--output",
    "report.json",
    "--output=out.md",
    "--fail-on",
    "--fail-on=none",
    "low",
    "critical",
    "severe",
    "--npm-registry",
    "--npm-registry=http://127.0.0.1:4873",
    "http://127.0.0.1:4873",
    "--pypi-index",
    "https://pypi.example",
    "--no-metadata",
    "--no-metadata=1",
    "--verbose",
    "-v",
    "-vv",
    "--help",
    "-h",
    "--",
    "-",
    "",
    "--unknown",
]


def _typer_reading(name: str, args: list[str]) -> FastCall:
    params = _typer_command(name).make_context(name, list(args)).params
    positional = tuple(params[n] for n in FAST_COMMANDS[name])
    return FastCall(
        command=name,
        arguments=positional,
        fmt=params["fmt"].value,
        output=params["output"],
        threshold=Severity.parse(params["fail_on"]),
        npm_registry=params["npm_registry"],
        pypi_index=params["pypi_index"],
        no_metadata=params["no_metadata"],
        verbose=params["verbose"],
    )


@settings(max_examples=400, deadline=None)
@given(
    name=st.sampled_from(sorted(FAST_COMMANDS)),
    args=st.lists(st.sampled_from(_TOKENS), max_size=9),
    npm_env=st.sampled_from([None, "", "https://registry.example"]),
)
def test_every_call_the_fast_path_accepts_reads_as_typer_reads_it(
    name: str, args: list[str], npm_env: str | None
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISTRUST_NPM_REGISTRY", "DISTRUST_PYPI_INDEX")}
    if npm_env is not None:
        env["DISTRUST_NPM_REGISTRY"] = npm_env
    with mock.patch.dict(os.environ, env, clear=True):
        fast = parse_fast([name, *args], os.environ)
        if fast is not None:
            assert fast == _typer_reading(name, args)


@pytest.mark.parametrize(
    "argv",
    [
        ["inspect", "npm:express@4.21.2"],
        ["inspect", "npm:express@4.21.2", "--format", "json", "--no-metadata"],
        ["inspect", "--format=sarif", "-o", "out.sarif", "pypi:requests==2.32.3", "--fail-on", "critical"],
        ["diff", "npm:a@1.0.0", "npm:a@1.0.1", "-f", "markdown", "-v", "--npm-registry", "http://r.example"],
    ],
)
def test_common_calls_take_the_fast_path(argv: list[str]) -> None:
    assert parse_fast(argv, {}) is not None


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["scan"],
        ["inspect"],
        ["inspect", "--help"],
        ["inspect", "x", "--fail-on", "severe"],
        ["inspect", "x", "-v", "-v"],
        ["inspect", "x", "--", "-y"],
        ["diff", "only-one"],
    ],
)
def test_anything_unusual_goes_to_typer(argv: list[str]) -> None:
    assert parse_fast(argv, {}) is None


def test_a_completion_request_goes_to_typer() -> None:
    assert parse_fast(["inspect", "x"], {"_DISTRUST_COMPLETE": "bash_complete"}) is None


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}


def test_plain_inspect_imports_no_cli_framework() -> None:
    code = (
        "import sys\n"
        "from distrust import entry\n"
        f"sys.argv = ['distrust', 'inspect', {str(FIXTURE)!r}, '--format', 'json']\n"
        "try:\n"
        "    entry.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('typer', 'click', 'rich', 'pydantic', 'httpx', 'packaging')\n"
        "sys.stderr.write(repr(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_clean_env(), timeout=120
    )
    assert json.loads(proc.stdout)["command"] == "inspect"
    assert proc.stderr.strip() == "[]"


def test_fast_path_and_typer_print_the_same_report() -> None:
    args = ["inspect", str(FIXTURE), "--format", "json"]
    fast = subprocess.run([DISTRUST, *args], capture_output=True, text=True, env=_clean_env(), timeout=120)
    slow = CliRunner().invoke(cli.app, args)
    assert fast.returncode == slow.exit_code
    assert json.loads(fast.stdout) == json.loads(slow.stdout)


def test_help_and_usage_errors_are_still_typers() -> None:
    helped = subprocess.run([DISTRUST, "inspect", "--help"], capture_output=True, text=True, timeout=120)
    assert helped.returncode == 0 and "--fail-on" in helped.stdout
    bad = subprocess.run(
        [DISTRUST, "inspect", "x", "--format", "xml"], capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2 and "xml" in bad.stderr
