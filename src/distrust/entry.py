"""The ``distrust`` console entry point: plain ``inspect``/``diff`` calls skip building the Typer app.

Building the Typer app and converting its parameters costs more than analysing a small package
(~0.2 s: Typer 0.29 builds a pydantic adapter per parameter, and imports rich). So when the
arguments are a plain ``inspect`` or ``diff`` call — options from the table below, each given
at most once, values Typer would accept unchanged — they are parsed here and the shared command
body in :mod:`distrust.cli_support` runs directly. Anything else (``--help``, a typo, ``--``, a
repeated or unknown option, a value Typer would reject or convert) goes to :mod:`distrust.cli`,
so every help text, usage error and message is still Typer's own.

``tests/test_entry.py`` checks that the table matches the Typer commands (names, flags, choices,
defaults, environment variables) and that both parsers agree on every call this one accepts.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: parsing a call that Typer then handles needs neither
    from distrust.model import Severity


@dataclass(frozen=True)
class FastOption:
    """One option of ``inspect``/``diff`` as Typer declares it in ``cli.py``."""

    names: tuple[str, ...]
    dest: str
    default: str | bool | None
    flag: bool = False
    choices: tuple[str, ...] = ()
    envvar: str | None = None


RISK_OPTIONS: tuple[FastOption, ...] = (
    FastOption(("--format", "-f"), "fmt", "table", choices=("table", "json", "sarif", "markdown")),
    FastOption(("--output", "-o"), "output", None),
    FastOption(("--fail-on",), "fail_on", "high"),
    FastOption(("--npm-registry",), "npm_registry", None, envvar="DISTRUST_NPM_REGISTRY"),
    FastOption(("--pypi-index",), "pypi_index", None, envvar="DISTRUST_PYPI_INDEX"),
    FastOption(("--no-metadata",), "no_metadata", False, flag=True),
    FastOption(("--verbose", "-v"), "verbose", False, flag=True),
)
"""The options ``inspect`` and ``diff`` share (both take exactly these)."""

FAST_COMMANDS: Mapping[str, tuple[str, ...]] = {"inspect": ("spec",), "diff": ("old", "new")}
"""Commands the fast path runs, with the names of their positional arguments."""

_BY_NAME = {name: option for option in RISK_OPTIONS for name in option.names}


@dataclass(frozen=True)
class FastCall:
    """A parsed ``inspect``/``diff`` call: what Typer would have passed to the command."""

    command: str
    arguments: tuple[str, ...]
    fmt: str
    output: Path | None
    threshold: Severity
    npm_registry: str | None
    pypi_index: str | None
    no_metadata: bool
    verbose: bool


def parse_fast(argv: Sequence[str], environ: Mapping[str, str]) -> FastCall | None:
    """The call ``argv`` (without the program name) makes, or None when Typer must handle it.

    None is never an error: it only means "not plain enough to be sure we read it exactly as
    Typer would", and Typer then parses it (and reports any mistake) as it always did.
    """
    if os.name == "nt" or not argv or argv[0] not in FAST_COMMANDS:
        return None
    if any(key.startswith("_") and key.endswith("_COMPLETE") for key in environ):
        return None  # a shell-completion request: Typer answers those
    values: dict[str, str | bool] = {}
    positionals: list[str] = []
    args = list(argv[1:])
    while args:
        arg = args.pop(0)
        if not _plain(arg):
            return None
        if not arg.startswith("-"):
            positionals.append(arg)
            continue
        name, has_inline, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        option = _BY_NAME.get(name)
        if option is None or option.dest in values:  # --help, --, unknown, -vf, or given twice
            return None
        if option.flag:
            if has_inline:
                return None
            values[option.dest] = True
            continue
        if has_inline:
            value = inline
        elif args:
            value = args.pop(0)
        else:
            return None
        if not _plain(value) or value.startswith("-") or (option.choices and value not in option.choices):
            return None
        values[option.dest] = value
    if len(positionals) != len(FAST_COMMANDS[argv[0]]):
        return None
    for option in RISK_OPTIONS:
        if option.dest not in values and option.envvar and environ.get(option.envvar):
            values[option.dest] = environ[option.envvar]
    from distrust.model import Severity

    try:
        threshold = Severity.parse(str(values.get("fail_on", "high")))
    except ValueError:
        return None  # Typer reports the bad --fail-on
    output = values.get("output")
    if isinstance(output, str) and not _usable_output(output):
        return None
    return FastCall(
        command=argv[0],
        arguments=tuple(positionals),
        fmt=str(values.get("fmt", "table")),
        output=Path(output) if isinstance(output, str) else None,
        threshold=threshold,
        npm_registry=_text(values.get("npm_registry")),
        pypi_index=_text(values.get("pypi_index")),
        no_metadata=bool(values.get("no_metadata", False)),
        verbose=bool(values.get("verbose", False)),
    )


def _plain(text: str) -> bool:
    """Non-empty, and valid Unicode (no undecodable bytes smuggled in as surrogates)."""
    if not text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _usable_output(value: str) -> bool:
    """Typer's Path check for ``--output``: a path that exists must be readable."""
    try:
        os.stat(value)
    except OSError:
        return True
    return os.access(value, os.R_OK)


def _text(value: str | bool | None) -> str | None:
    return value if isinstance(value, str) else None


def _run(call: FastCall) -> int:
    from distrust.cli_support import diff_command, inspect_command

    if call.command == "diff":
        old, new = call.arguments
        return diff_command(
            old,
            new,
            fmt=call.fmt,
            output=call.output,
            threshold=call.threshold,
            npm_registry=call.npm_registry,
            pypi_index=call.pypi_index,
            metadata=not call.no_metadata,
            verbose=call.verbose,
        )
    (spec,) = call.arguments
    return inspect_command(
        spec,
        fmt=call.fmt,
        output=call.output,
        threshold=call.threshold,
        npm_registry=call.npm_registry,
        pypi_index=call.pypi_index,
        metadata=not call.no_metadata,
        verbose=call.verbose,
    )


def run_fast(call: FastCall) -> int:
    """Run a parsed call; failures end as they would under Typer and ``cli.main``."""
    try:
        return _run(call)
    except KeyboardInterrupt:
        return 130  # Typer turns an interrupt into exit 130, silently
    except EOFError:
        print(file=sys.stderr)  # Typer: a blank line, then its "Aborted" message
        from typer import rich_utils

        rich_utils.rich_abort_error()
        return 1
    except Exception as exc:  # the CLI is the one place that must catch everything
        if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
            # The reader went away (``| head``): exit 1 quietly, as Typer does, with stdout on
            # /dev/null so the interpreter's last flush cannot fail a second time.
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        if os.environ.get("DISTRUST_DEBUG") == "1":
            raise
        from distrust.cli_support import EXIT_ERROR, print_error

        print_error(exc)
        return EXIT_ERROR


def main() -> None:
    """The fast path for plain inspect/diff calls, else the Typer app (after :mod:`distrust.console`)."""
    call = parse_fast(sys.argv[1:], os.environ)
    if call is None:
        from distrust.cli import main as typer_main

        typer_main()
        return
    sys.exit(run_fast(call))
