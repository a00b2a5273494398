"""What the Typer app (:mod:`distrust.cli`) and the fast entry point (:mod:`distrust.entry`) share.

``distrust inspect`` and ``diff`` run in CI jobs and in loops over many packages, so their
start-up counts as much as the analysis: building the Typer app and converting its parameters
costs ~0.2 s (Typer 0.29 builds a pydantic adapter per parameter), and rich ~30 ms to import.
This module imports neither until it draws a table or a progress bar, so the fast path can run
the very same command bodies, and the two ways in cannot drift apart.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from distrust.model import Severity

if TYPE_CHECKING:
    from distrust.pipeline.risk import FetchOptions, Step
    from distrust.report.common import RiskResult

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UserError(Exception):
    """A problem the user can fix (bad argument, unreadable file); printed without a traceback."""


def emit(text: str, output: Path | None) -> None:
    """Write a report to stdout, or atomically to ``output``."""
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from distrust.fsutil import atomic_write

    try:
        atomic_write(output, text)
    except OSError as exc:
        raise UserError(f"cannot write report to {output}: {exc.strerror or exc}") from None


def exit_code_for(level: Severity, threshold: Severity) -> int:
    """1 when ``level`` reaches ``--fail-on`` (``none`` never fails), else 0."""
    return EXIT_FINDINGS if threshold > Severity.NONE and level >= threshold else EXIT_OK


def render_risk_result(result: RiskResult, fmt: str, output: Path | None, verbose: bool) -> None:
    """Print or write an inspect/diff/history result; ``fmt`` is table, json, sarif or markdown."""
    from distrust.report.common import default_risk_rules

    rules = default_risk_rules()
    if fmt == "table":
        from rich.console import Console

        from distrust.report.risk_table import render_risk_table, risk_table_text

        if output is None:
            render_risk_table(result, Console(), verbose=verbose, rules=rules)
        else:
            emit(risk_table_text(result, width=120, verbose=verbose, rules=rules), output)
        return
    from distrust.report import render_risk

    emit(render_risk(result, fmt, rules=rules), output)


def _stderr_may_be_terminal() -> bool:
    """False only when rich's ``Console(stderr=True).is_terminal`` is certainly False.

    That is: no ``TTY_COMPATIBLE``/``FORCE_COLOR`` override and stderr is not a TTY. Then no
    progress bar is drawn and rich need not be imported at all (CI, pipes, ``--format json``).
    """
    if os.environ.get("TTY_COMPATIBLE", "") or "FORCE_COLOR" in os.environ:
        return True
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty is not None and isatty())
    except ValueError:  # stderr already closed
        return False


def _silent(text: str, done: int | None = None, total: int | None = None) -> None:
    return None


@contextmanager
def steps() -> Iterator[Step]:
    """A progress bar on stderr for long fetches and analyses (only on a terminal)."""
    if not _stderr_may_be_terminal():
        yield _silent
        return
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield _silent
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("starting…", total=None)

        def step(text: str, done: int | None = None, total: int | None = None) -> None:
            progress.update(task, description=text, completed=done or 0, total=total)

        yield step


def _fetch_options(npm_registry: str | None, pypi_index: str | None, metadata: bool) -> FetchOptions:
    from distrust.pipeline.risk import FetchOptions

    return FetchOptions(npm_registry=npm_registry, pypi_index=pypi_index, metadata=metadata)


def inspect_command(
    spec: str,
    *,
    fmt: str,
    output: Path | None,
    threshold: Severity,
    npm_registry: str | None,
    pypi_index: str | None,
    metadata: bool,
    verbose: bool,
) -> int:
    """The body of ``distrust inspect``; returns the exit status."""
    from distrust.pipeline.risk import run_inspect

    opts = _fetch_options(npm_registry, pypi_index, metadata)
    with steps() as step:
        result = run_inspect(spec, opts, step)
    render_risk_result(result, fmt, output, verbose)
    return exit_code_for(result.assessment.level, threshold)


def diff_command(
    old: str,
    new: str,
    *,
    fmt: str,
    output: Path | None,
    threshold: Severity,
    npm_registry: str | None,
    pypi_index: str | None,
    metadata: bool,
    verbose: bool,
) -> int:
    """The body of ``distrust diff``; returns the exit status."""
    from distrust.pipeline.risk import run_diff

    opts = _fetch_options(npm_registry, pypi_index, metadata)
    with steps() as step:
        result = run_diff(old, new, opts, step)
    render_risk_result(result, fmt, output, verbose)
    return exit_code_for(result.assessment.level, threshold)


# --- errors --------------------------------------------------------------------------------


def describe_error(exc: Exception) -> str:
    """A one-line message for the user; unexpected errors say how to get details."""
    if isinstance(exc, UserError) or (type(exc).__name__.endswith(("Error", "Exception")) and _is_ours(exc)):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")
    return f"internal error: {type(exc).__name__}: {exc} (run with DISTRUST_DEBUG=1 for details)"


def _is_ours(exc: Exception) -> bool:
    return type(exc).__module__.startswith("distrust.")


def print_error(exc: Exception) -> None:
    """``error: …`` on stderr, the one line every failed command ends with."""
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]error:[/] {describe_error(exc)}", highlight=False, markup=True)
