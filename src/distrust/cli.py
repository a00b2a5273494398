"""Command line: parse arguments, call the pipeline, choose a report. No logic lives here.

Exit status everywhere: 0 when nothing is at or above ``--fail-on``, 1 when something is,
2 for usage and I/O errors. No traceback reaches the user unless ``DISTRUST_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from distrust import __version__
from distrust.model import Severity

app = typer.Typer(
    name="distrust",
    help="Use MCP servers without trusting them: scan, inspect, pin, sandbox and hunt.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
intel_app = typer.Typer(help="Manage the offline advisory store (OSV).", no_args_is_help=True)
app.add_typer(intel_app, name="intel")

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UserError(Exception):
    """A problem the user can fix (bad argument, unreadable file); printed without a traceback."""


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"
    markdown = "markdown"


FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the report to this file instead of stdout.")
]
FailOnOpt = Annotated[
    str, typer.Option("--fail-on", help="Exit 1 when a finding is at or above this level (none…critical).")
]


def _fail_level(text: str) -> Severity:
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--fail-on") from None


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from distrust.fsutil import atomic_write

    try:
        atomic_write(output, text)
    except OSError as exc:
        raise UserError(f"cannot write report to {output}: {exc.strerror or exc}") from None


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"distrust {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """distrust makes paranoia the default for MCP servers."""


@app.command()
def scan(
    home: Annotated[Path | None, typer.Option(help="Scan this home directory instead of yours.")] = None,
    config: Annotated[
        list[Path] | None, typer.Option("--config", help="Also read this client config file (repeatable).")
    ] = None,
    project: Annotated[
        list[Path] | None,
        typer.Option("--project", help="Also read project-level configs in DIR (default: current dir)."),
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    fail_on: FailOnOpt = "high",
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show every server, not only risky ones.")
    ] = False,
) -> None:
    """Find every MCP server configured on this machine and judge what it runs."""
    from distrust.pipeline import ScanOptions, run_scan
    from distrust.report import render
    from distrust.report.table import render_table

    threshold = _fail_level(fail_on)
    if home is not None and not home.is_dir():
        raise UserError(f"--home {home}: not a directory")
    for path in project or []:
        if not path.is_dir():
            raise UserError(f"--project {path}: not a directory")
    result = run_scan(
        ScanOptions(home=home, projects=tuple(project or ()), extra_configs=tuple(config or ()))
    )
    if fmt is OutputFormat.table and output is None:
        render_table(result, Console(), verbose=verbose)
    elif fmt is OutputFormat.table:
        console = Console(record=True, width=120, file=open(os.devnull, "w"))  # noqa: SIM115
        render_table(result, console, verbose=verbose)
        _emit(console.export_text(), output)
    else:
        _emit(render(result, fmt.value), output)
    worst = max((f.severity for f in result.findings), default=Severity.NONE)
    if result.findings and worst >= threshold and threshold > Severity.NONE:
        raise typer.Exit(EXIT_FINDINGS)


@intel_app.command("update")
def intel_update(
    source: Annotated[
        str,
        typer.Option(
            "--from", help="OSV JSON file, directory tree, osv.dev all.zip, or an http(s) URL to one."
        ),
    ],
) -> None:
    """Import OSV advisories into the local store (deduplicated by id and modified time)."""
    from distrust.intel.update import import_advisories

    report = import_advisories(source)
    typer.echo(str(report))


@intel_app.command("status")
def intel_status() -> None:
    """Show how many advisories the store holds and where they come from."""
    from distrust.intel.store import AdvisoryStore

    store = AdvisoryStore.load()
    typer.echo(f"{len(store)} advisories loaded")


def main() -> None:
    """Console entry point: run the app and turn known failures into clean messages."""
    debug = os.environ.get("DISTRUST_DEBUG") == "1"
    err = Console(stderr=True)
    try:
        app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # the CLI is the one place that must catch everything
        import click

        if isinstance(exc, click.exceptions.NoArgsIsHelpError):
            sys.exit(EXIT_OK)
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(EXIT_ERROR)
        if debug:
            raise
        err.print(f"[bold red]error:[/] {_describe(exc)}", highlight=False)
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_OK)


def _describe(exc: Exception) -> str:
    """A one-line message for the user; unexpected errors say how to get details."""
    if isinstance(exc, UserError) or (type(exc).__name__.endswith(("Error", "Exception")) and _is_ours(exc)):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")
    return f"internal error: {type(exc).__name__}: {exc} (run with DISTRUST_DEBUG=1 for details)"


def _is_ours(exc: Exception) -> bool:
    return type(exc).__module__.startswith("distrust.")
