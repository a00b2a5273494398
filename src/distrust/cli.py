"""Command line: parse arguments, call the pipeline, choose a report. No logic lives here.

Exit status everywhere: 0 when nothing is at or above ``--fail-on``, 1 when something is,
2 for usage and I/O errors. No traceback reaches the user unless ``DISTRUST_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from distrust import __version__
from distrust.cli_support import (
    EXIT_ERROR,
    EXIT_FINDINGS,
    UserError,
    diff_command,
    emit,
    exit_code_for,
    inspect_command,
    print_error,
    render_risk_result,
    steps,
)
from distrust.model import Severity

if TYPE_CHECKING:
    from distrust.analyze.results import DiffResult
    from distrust.gateway.locking import Machine
    from distrust.gateway.wrap import WrapReport
    from distrust.pipeline.hunt import HuntOptions

app = typer.Typer(
    name="distrust",
    help="Use MCP servers without trusting them: scan, inspect, pin, sandbox and hunt.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
intel_app = typer.Typer(help="Manage the offline advisory store (OSV).", no_args_is_help=True)
app.add_typer(intel_app, name="intel")
demo_app = typer.Typer(help="Reproduce real incidents safely on this machine.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
resident_app = typer.Typer(
    help="A warm analyser process that makes each inspect/diff start instantly (opt-in).",
    no_args_is_help=True,
)
app.add_typer(resident_app, name="resident")


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
    from distrust.judge import load_rules
    from distrust.pipeline.scan import ScanOptions, run_scan
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
        emit(console.export_text(), output)
    else:
        rules = {rule.id: rule for rule in load_rules()}
        emit(render(result, fmt.value, rules=rules), output)
    worst = max((f.severity for f in result.findings), default=Severity.NONE)
    if result.findings and worst >= threshold and threshold > Severity.NONE:
        raise typer.Exit(EXIT_FINDINGS)


NpmRegistryOpt = Annotated[
    str | None,
    typer.Option("--npm-registry", envvar="DISTRUST_NPM_REGISTRY", help="npm registry URL to fetch from."),
]
PypiIndexOpt = Annotated[
    str | None,
    typer.Option(
        "--pypi-index", envvar="DISTRUST_PYPI_INDEX", help="PyPI base URL (JSON API) to fetch from."
    ),
]
NoMetadataOpt = Annotated[
    bool, typer.Option("--no-metadata", help="Do not judge registry metadata (publisher, names, provenance).")
]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show every change, not only the first 50.")
]


@app.command()
def inspect(
    spec: Annotated[
        str, typer.Argument(help="npm:NAME@VERSION, pypi:NAME==VERSION, a directory or an archive.")
    ],
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    fail_on: FailOnOpt = "high",
    npm_registry: NpmRegistryOpt = None,
    pypi_index: PypiIndexOpt = None,
    no_metadata: NoMetadataOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """What can this package version do? Static analysis; the package is never run."""
    code = inspect_command(
        spec,
        fmt=fmt.value,
        output=output,
        threshold=_fail_level(fail_on),
        npm_registry=npm_registry,
        pypi_index=pypi_index,
        metadata=not no_metadata,
        verbose=verbose,
    )
    if code:
        raise typer.Exit(code)


@app.command()
def diff(
    old: Annotated[str, typer.Argument(help="The version you trust (same forms as inspect).")],
    new: Annotated[str, typer.Argument(help="The version you are about to run.")],
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    fail_on: FailOnOpt = "high",
    npm_registry: NpmRegistryOpt = None,
    pypi_index: PypiIndexOpt = None,
    no_metadata: NoMetadataOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """What did NEW add that OLD could not do? Each change with file, line and why it matters."""
    code = diff_command(
        old,
        new,
        fmt=fmt.value,
        output=output,
        threshold=_fail_level(fail_on),
        npm_registry=npm_registry,
        pypi_index=pypi_index,
        metadata=not no_metadata,
        verbose=verbose,
    )
    if code:
        raise typer.Exit(code)


@app.command()
def history(
    package: Annotated[str, typer.Argument(help="npm:NAME or pypi:NAME.")],
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Only the newest N upgrades (default: all).")
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    fail_on: FailOnOpt = "high",
    npm_registry: NpmRegistryOpt = None,
    pypi_index: PypiIndexOpt = None,
    no_metadata: NoMetadataOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Diff every consecutive pair of published versions: where did behaviour change?"""
    from distrust.pipeline.risk import FetchOptions, run_history

    threshold = _fail_level(fail_on)
    opts = FetchOptions(npm_registry=npm_registry, pypi_index=pypi_index, metadata=not no_metadata)
    with steps() as step:
        result = run_history(package, opts, step, limit=limit)
    render_risk_result(result, fmt.value, output, verbose)
    worst = max((s.assessment.level for s in result.steps), default=Severity.NONE)
    if result.first is not None:
        worst = max(worst, result.first.assessment.level)
    code = exit_code_for(worst, threshold)
    if code:
        raise typer.Exit(code)


@app.command()
def rules(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print RULES.md (all rule sets).")] = False,
) -> None:
    """List the detection rules: id, severity and what each one means."""
    from distrust.analyze.rules import load_rules as load_risk_rules
    from distrust.analyze.rules import rules_markdown
    from distrust.judge import load_rules as load_scan_rules

    risk = load_risk_rules()
    if markdown:
        typer.echo(rules_markdown(risk), nl=False)
        typer.echo("\n# Scan (configuration) rules\n")
        typer.echo("| id | name | severity | title |\n|---|---|---|---|")
        for r in load_scan_rules():
            typer.echo(f"| {r.id} | {r.name} | {r.severity.label} | {r.title} |")
        return
    for r in load_scan_rules():
        typer.echo(f"{r.id}  {r.severity.label:<8}  {r.name}")
    for rr in risk:
        typer.echo(f"{rr.id}  {rr.severity.label:<8}  {rr.name}")


HomeOpt = Annotated[Path | None, typer.Option(help="Work on this home directory instead of yours.")]
ProjectOpt = Annotated[
    list[Path] | None,
    typer.Option("--project", help="Also handle project-level configs in DIR (default: current dir)."),
]
ClientOpt = Annotated[
    list[str] | None,
    typer.Option("--client", help="Only this client (e.g. cursor, claude-desktop); repeatable."),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Proceed even if a config changed since distrust wrote it.")
]


def _print_wrap(report: WrapReport) -> None:
    from rich.markup import escape

    console = Console()
    for outcome in report.files:
        console.print(
            f"[bold]{outcome.status:<9}[/] {escape(str(outcome.path))}  ({outcome.client})", highlight=False
        )
        if outcome.reason:
            console.print(f"          {escape(outcome.reason)}", highlight=False)
        for server in outcome.servers:
            why = f" — {escape(server.reason)}" if server.reason else ""
            console.print(f"          {server.action}: {escape(server.name)}{why}", highlight=False)
        if outcome.backup:
            console.print(f"          backup: {escape(str(outcome.backup))}", highlight=False)
    for notice in report.notices:
        console.print(f"[yellow]note:[/] {escape(notice.message)}", highlight=False)
    if not report.files:
        console.print("no MCP client configs found")


@app.command()
def wrap(
    home: HomeOpt = None,
    project: ProjectOpt = None,
    client: ClientOpt = None,
    force: ForceOpt = False,
) -> None:
    """Rewrite client configs so every server starts through `distrust run` (backed up first)."""
    from distrust.gateway.wrap import wrap_configs

    exe = Path(sys.argv[0]).resolve() if Path(sys.argv[0]).name == "distrust" else None
    command = str(exe) if exe and exe.exists() else str(Path(sys.executable).with_name("distrust"))
    report = wrap_configs(
        home or Path.home(),
        projects=tuple(project or (Path.cwd(),)),
        clients=set(client) if client else None,
        distrust_command=command,
        force=force,
    )
    _print_wrap(report)
    if report.refused:
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
def unwrap(
    home: HomeOpt = None,
    project: ProjectOpt = None,
    client: ClientOpt = None,
    force: ForceOpt = False,
) -> None:
    """Restore the client configs `distrust wrap` changed, byte for byte."""
    from distrust.gateway.wrap import unwrap_configs

    report = unwrap_configs(
        home or Path.home(),
        projects=tuple(project or (Path.cwd(),)),
        clients=set(client) if client else None,
        force=force,
    )
    _print_wrap(report)
    if report.refused:
        raise typer.Exit(EXIT_FINDINGS)


LockPathOpt = Annotated[
    Path | None, typer.Option("--lock", help="The lock file (default: distrust.lock in the config dir).")
]


def _machine(home: Path | None, project: list[Path] | None) -> Machine:
    from distrust.gateway.locking import Machine

    projects = tuple(project or (Path.cwd(),))
    if home is None:
        return Machine.current(projects)
    return Machine(home=home, projects=projects, env=dict(os.environ))


@app.command()
def lock(
    home: HomeOpt = None,
    project: ProjectOpt = None,
    server: Annotated[str | None, typer.Option("--server", help="Only this server.")] = None,
    lock_path: LockPathOpt = None,
    npm_registry: NpmRegistryOpt = None,
    pypi_index: PypiIndexOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Lock even versions the Risk Engine rates high.")
    ] = False,
) -> None:
    """Pin every configured server to an exact, verified, inspected version in distrust.lock."""
    from rich.markup import escape

    from distrust.gateway.locking import Sources, lock_servers

    with steps() as step:
        step("locking servers")
        result = lock_servers(
            _machine(home, project),
            server=server,
            lock_path=lock_path,
            sources=Sources(npm_registry, pypi_index),
            force=force,
        )
    console = Console()
    for outcome in result.outcomes:
        console.print(
            f"[bold]{outcome.status:<8}[/] {escape(outcome.name)}: {escape(outcome.detail)}", highlight=False
        )
        for finding in outcome.findings[:3]:
            console.print(f"           {finding.severity.label}: {escape(finding.title)}", highlight=False)
    for notice in result.notices:
        console.print(f"[yellow]note:[/] {escape(notice.message)}", highlight=False)
    state = "written" if result.written else "unchanged"
    console.print(f"lock file {state}: {escape(str(result.lock_path))}", highlight=False)
    if result.refused:
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
def verify(
    home: HomeOpt = None,
    project: ProjectOpt = None,
    lock_path: LockPathOpt = None,
) -> None:
    """Check this machine against distrust.lock; exit 1 on any drift, listing each difference."""
    from rich.markup import escape

    from distrust.gateway.locking import verify_machine

    result = verify_machine(_machine(home, project), lock_path=lock_path)
    console = Console()
    for drift in result.drifts:
        mark = "[red]drift[/]" if drift.blocking else "[yellow]note[/] "
        console.print(f"{mark} {escape(drift.server)}: {escape(drift.detail)}", highlight=False)
    for notice in result.notices:
        console.print(f"[yellow]note:[/] {escape(notice.message)}", highlight=False)
    if result.drifted:
        raise typer.Exit(EXIT_FINDINGS)
    console.print(f"machine matches {escape(str(result.lock_path))}", highlight=False)


@app.command()
def update(
    name: Annotated[str, typer.Argument(help="The locked server to update.")],
    to: Annotated[str | None, typer.Option("--to", help="Version to move to (default: latest).")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Approve without asking (for scripts).")] = False,
    lock_path: LockPathOpt = None,
    npm_registry: NpmRegistryOpt = None,
    pypi_index: PypiIndexOpt = None,
) -> None:
    """Show the Risk Engine diff from the locked version and move only after approval."""
    from distrust.gateway.locking import Sources, update_server

    def approve(diff: DiffResult) -> bool:
        render_risk_result(diff, OutputFormat.table.value, None, verbose=False)
        if yes:
            return True
        if not sys.stdin.isatty():
            Console(stderr=True).print(
                "not approved: no terminal to ask on (use --yes to approve in scripts)"
            )
            return False
        return typer.confirm(f"Move {name} to this version?", default=False)

    result = update_server(
        name, approve=approve, to_version=to, lock_path=lock_path, sources=Sources(npm_registry, pypi_index)
    )
    typer.echo(f"{name}: {result.status} ({result.old_version} → {result.new_version})")
    if result.status == "declined":
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
def approve(
    name: Annotated[str, typer.Argument(help="The server whose changed tools you reviewed.")],
    yes: Annotated[bool, typer.Option("--yes", help="Approve without asking.")] = False,
    lock_path: LockPathOpt = None,
) -> None:
    """Show how a server's tools changed and pin the new definitions once you agree."""
    from rich.markup import escape

    from distrust.gateway.runner import approve as approve_tools
    from distrust.gateway.runner import pending_approval

    lines, _ = pending_approval(name, lock_path=lock_path)
    console = Console()
    for line in lines:
        console.print(escape(line), highlight=False)
    if not yes and not (sys.stdin.isatty() and typer.confirm(f"Pin these tools for {name}?", default=False)):
        console.print("not approved")
        raise typer.Exit(EXIT_FINDINGS)
    approve_tools(name, lock_path=lock_path)
    console.print(f"{escape(name)}: new tool definitions pinned", highlight=False)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(
    ctx: typer.Context,
    server: Annotated[str | None, typer.Option("--server", help="Run this locked server.")] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Name for an ad-hoc command's pins and log.")
    ] = None,
    env: Annotated[
        list[str] | None, typer.Option("--env", help="Env key to pass to an ad-hoc command (repeatable).")
    ] = None,
    allow_host: Annotated[
        list[str] | None, typer.Option("--allow-host", help="Host an ad-hoc command may reach (repeatable).")
    ] = None,
    allow_recipient: Annotated[
        list[str] | None,
        typer.Option("--allow-recipient", help="Address or @domain always allowed as a mail recipient."),
    ] = None,
    no_sandbox: Annotated[
        bool, typer.Option("--no-sandbox", help="Run without bubblewrap (logged; egress is not enforced).")
    ] = False,
    lock_path: LockPathOpt = None,
) -> None:
    """Run an MCP server behind distrust's relay, sandboxed: `run --server NAME` or `run -- CMD ARGS…`."""
    from distrust.gateway.runner import run_adhoc, run_locked

    command = list(ctx.args)
    if server and command:
        raise typer.BadParameter("give either --server NAME or a command after --, not both")
    if no_sandbox:
        Console(stderr=True).print("distrust: --no-sandbox: the server can reach the network directly")
    if server:
        code = run_locked(server, lock_path=lock_path, sandbox=not no_sandbox)
    elif command:
        code = run_adhoc(
            command,
            name=name,
            env_keys=tuple(env or ()),
            allow_hosts=tuple(allow_host or ()),
            recipients=tuple(allow_recipient or ()),
            sandbox=not no_sandbox,
        )
    else:
        raise typer.BadParameter("give --server NAME or a command after --")
    raise typer.Exit(code)


@app.command("log")
def log_command(
    server: Annotated[str | None, typer.Option("--server", help="Only calls to this server.")] = None,
    tool: Annotated[str | None, typer.Option("--tool", help="Only calls of this tool.")] = None,
    decision: Annotated[
        str | None, typer.Option("--decision", help="allowed, blocked-pin, server-died, …")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many calls.")] = 50,
    json_out: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """List recorded tool calls (newest first), with arguments already redacted."""
    import json as _json

    from rich.table import Table

    from distrust.gateway.audit import query

    try:
        entries = query(server=server, tool=tool, decision=decision, limit=limit)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--decision") from None
    if json_out:
        for e in entries:
            record = {
                "started": e.started.isoformat(),
                "server": e.server,
                "tool": e.tool,
                "call_id": e.call_id,
                "decision": e.decision,
                "latency_ms": e.latency_ms,
                "result_bytes": e.result_bytes,
                "is_error": e.is_error,
                "error": e.error,
                "arguments": e.arguments,
                "detail": e.detail,
            }
            typer.echo(_json.dumps(record))
        return
    table = Table("started", "server", "tool", "decision", "ms", "arguments")
    for e in entries:
        latency = f"{e.latency_ms:.1f}" if e.latency_ms is not None else "—"
        table.add_row(
            e.started.strftime("%Y-%m-%d %H:%M:%S"), e.server, e.tool, e.decision, latency, e.arguments[:60]
        )
    Console().print(table if entries else "no tool calls recorded")


class HuntFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


def _when(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD or ISO 8601)", param_hint=option
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _hunt_options(
    paths: list[Path] | None,
    input_format: str | None,
    postmark_token: str | None,
    api_url: str,
    full_sweep: bool,
    ioc: list[str] | None,
    org_domain: list[str] | None,
    since: str | None,
    until: str | None,
    env_keys: tuple[str, ...] = (),
) -> HuntOptions:
    from distrust import paths as dirs
    from distrust.pipeline.hunt import HuntOptions

    audit_db = dirs.data_dir() / "audit.sqlite3"
    return HuntOptions(
        paths=tuple(paths or ()),
        fmt=input_format,
        postmark_token=postmark_token,
        api_url=api_url,
        full_sweep=full_sweep,
        iocs=tuple(ioc or ()),
        org_domains=tuple(org_domain or ()),
        since=_when(since, "--since"),
        until=_when(until, "--until"),
        audit_db=audit_db if audit_db.exists() else None,
        env_keys=env_keys,
    )


HuntPathsArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Mail logs: mbox, maildir, .eml trees, Postmark JSON/CSV exports, Postfix/Exim/Sendmail logs."
    ),
]
InputFormatOpt = Annotated[
    str | None, typer.Option("--input-format", help="Force the log format instead of detecting it.")
]
TokenOpt = Annotated[
    str | None,
    typer.Option(
        "--postmark-token",
        envvar="POSTMARK_SERVER_TOKEN",
        help="Search the Postmark API with this server token.",
    ),
]
ApiUrlOpt = Annotated[str, typer.Option("--api-url", help="Postmark API base URL.")]
FullSweepOpt = Annotated[
    bool, typer.Option("--full-sweep", help="Read every outbound message, not only IOC searches.")
]
IocOpt = Annotated[list[str] | None, typer.Option("--ioc", help="Extra IOC address or domain (repeatable).")]
OrgOpt = Annotated[
    list[str] | None,
    typer.Option("--org-domain", help="Your mail domain: Cc/Bcc outside it are suspect (repeatable)."),
]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Only mail sent at or after this date.")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Only mail sent before this date.")]


@app.command()
def hunt(
    paths: HuntPathsArg = None,
    input_format: InputFormatOpt = None,
    postmark_token: TokenOpt = None,
    api_url: ApiUrlOpt = "https://api.postmarkapp.com",
    full_sweep: FullSweepOpt = False,
    ioc: IocOpt = None,
    org_domain: OrgOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    fmt: Annotated[HuntFormat, typer.Option("--format", "-f", help="Report format.")] = HuntFormat.table,
    output: OutputOpt = None,
) -> None:
    """Find mail that went to known-bad or unexpected recipients; exit 1 when any did."""
    from distrust.pipeline.hunt import run_hunt
    from distrust.report.hunt_html import render_hunt_html
    from distrust.report.hunt_json import render_hunt_json
    from distrust.report.hunt_markdown import render_hunt_markdown
    from distrust.report.hunt_table import hunt_table_text, render_hunt_table

    if not paths and not postmark_token:
        raise typer.BadParameter("give mail log paths and/or --postmark-token")
    opts = _hunt_options(
        paths, input_format, postmark_token, api_url, full_sweep, ioc, org_domain, since, until
    )
    with steps() as step:
        step("searching mail")
        result = run_hunt(opts)
    if fmt is HuntFormat.table and output is None:
        render_hunt_table(result, Console())
    elif fmt is HuntFormat.table:
        emit(hunt_table_text(result), output)
    else:
        render = {"json": render_hunt_json, "markdown": render_hunt_markdown, "html": render_hunt_html}[
            fmt.value
        ]
        emit(render(result), output)
    if result.exposures:
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
def respond(
    home: HomeOpt = None,
    project: ProjectOpt = None,
    undo: Annotated[
        bool, typer.Option("--undo", help="Restore the configs respond changed, byte for byte.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Disable and clean up without asking.")] = False,
    delete: Annotated[
        bool, typer.Option("--delete", help="Also delete the installed copies (npx cache…).")
    ] = False,
    force: ForceOpt = False,
    paths: HuntPathsArg = None,
    postmark_token: TokenOpt = None,
    api_url: ApiUrlOpt = "https://api.postmarkapp.com",
    org_domain: OrgOpt = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Where to write the incident report.")
    ] = None,
) -> None:
    """Scan, disable every server with a critical finding, hunt the mail logs, write the incident report."""
    from rich.markup import escape

    from distrust.hunt.respond import (
        check_removals,
        disable_servers,
        incident_report,
        plan_response,
        remove_installed,
        undo_disable,
    )
    from distrust.pipeline.hunt import run_hunt
    from distrust.pipeline.scan import ScanOptions, run_scan

    console = Console()
    if undo:
        restored = undo_disable(force=force)
        for outcome in restored.files:
            console.print(f"{outcome.status:<9} {escape(str(outcome.path))}", highlight=False)
        if restored.refused:
            raise typer.Exit(EXIT_FINDINGS)
        return
    projects = tuple(project or (Path.cwd(),))
    scan_result = run_scan(ScanOptions(home=home, projects=projects))
    plan = plan_response(scan_result, home=home, projects=projects)
    if not plan.servers:
        console.print("no configured server has a critical finding: nothing to respond to")
        return
    for server in plan.servers:
        console.print(
            f"[bold red]affected[/] {escape(server.entry.client)} / {escape(server.entry.server)}",
            highlight=False,
        )
    if not yes and not (sys.stdin.isatty() and typer.confirm("Disable these servers now?", default=False)):
        console.print("nothing changed (use --yes to act without asking)")
        raise typer.Exit(EXIT_FINDINGS)
    disabled = disable_servers(plan, force=force)
    for outcome in disabled.files:
        console.print(f"{outcome.status:<9} {escape(str(outcome.path))}", highlight=False)
    removed = remove_installed(plan, dry_run=not delete)
    verb = "deleted" if delete else "to delete (use --delete)"
    for path in removed:
        console.print(f"{verb}: {escape(path)}", highlight=False)
    for item in check_removals(plan):
        if item.status in ("refused", "manual"):
            console.print(f"{item.status}: {escape(item.reason)}", highlight=False)
    hunt_result = None
    if paths or postmark_token:
        opts = _hunt_options(
            paths,
            None,
            postmark_token,
            api_url,
            False,
            None,
            org_domain,
            None,
            None,
            env_keys=plan.credentials,
        )
        hunt_result = run_hunt(opts)
    text = incident_report(plan, hunt_result, generated=datetime.now(UTC))
    target = report or Path.cwd() / f"distrust-incident-{datetime.now(UTC):%Y%m%d-%H%M%S}.md"
    emit(text, target)
    console.print(f"incident report: {escape(str(target))}", highlight=False)
    raise typer.Exit(EXIT_FINDINGS)


@demo_app.command("postmark")
def demo_postmark() -> None:
    """The postmark-mcp incident in four acts: scan, diff, and run (blocked, then clean)."""
    from rich.markup import escape

    from distrust.demo.postmark import Act, run_demo

    console = Console()

    def say(act: Act) -> None:
        mark = "[green]caught[/]" if act.caught else "[red]MISSED[/]"
        console.print(f"\n[bold]{escape(act.title)}[/]  {mark}", highlight=False)
        for line in act.lines:
            console.print(f"   {escape(line)}", highlight=False)

    console.print(
        "[bold]postmark-mcp, September 2025[/]: 1.0.0–1.0.15 were clean; 1.0.16 added one line,\n"
        "Bcc: 'phan@giftshop.club', and every email the assistant sent was copied to the attacker.\n"
        "Here it is again, with our own look-alike server and a local stand-in for the Postmark API.",
        highlight=False,
    )
    ok = run_demo(say)
    console.print(
        "\n[bold green]Every layer caught it.[/]" if ok else "\n[bold red]A layer missed it (see above).[/]",
        highlight=False,
    )
    if not ok:
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
    typer.echo(
        f"{report.source}: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.skipped} skipped"
    )
    for reason in report.reasons:
        typer.echo(f"  skipped: {reason}", err=True)


@intel_app.command("status")
def intel_status() -> None:
    """Show how many advisories the store holds and where they come from."""
    from distrust.intel.store import AdvisoryStore

    store = AdvisoryStore.load()
    typer.echo(f"{len(store)} advisories loaded (bundled snapshot + imported)")
    for notice in store.notices:
        typer.echo(f"  note: {notice.message}", err=True)


SocketOpt = Annotated[
    str | None,
    typer.Option(
        "--socket",
        envvar="DISTRUST_RESIDENT_SOCKET",
        help="Socket path (default: $XDG_RUNTIME_DIR/distrust/resident.sock, else /tmp/distrust-UID/).",
    ),
]


@resident_app.command("start")
def resident_start(
    socket_path: SocketOpt = None,
    idle_timeout: Annotated[
        float, typer.Option("--idle-timeout", min=1, help="Exit after this many seconds without a request.")
    ] = 1800,
) -> None:
    """Start the analyser in the background; inspect and diff then use it until it stops.

    It answers only this user, only this distrust installation, and steps aside (the command
    runs in-process) once distrust is upgraded or edited. DISTRUST_RESIDENT=0 ignores it.
    """
    from distrust.resident.control import start
    from distrust.resident.protocol import ResidentError

    try:
        info = start(socket_path, idle_timeout)
    except ResidentError as exc:
        raise UserError(str(exc)) from None
    typer.echo(
        f"resident analyser started (pid {info.pid}, socket {info.socket}, idle timeout {idle_timeout:g} s)"
    )


@resident_app.command("stop")
def resident_stop(socket_path: SocketOpt = None) -> None:
    """Stop the analyser (commands in progress finish first)."""
    from distrust.resident.control import stop
    from distrust.resident.protocol import ResidentError

    try:
        pid = stop(socket_path)
    except ResidentError as exc:
        raise UserError(str(exc)) from None
    typer.echo("no resident analyser is running" if pid is None else f"resident analyser stopped (pid {pid})")


@resident_app.command("status")
def resident_status(socket_path: SocketOpt = None) -> None:
    """Whether an analyser is running, and what it has served. Exit 1 when none is running."""
    from distrust.resident.control import status
    from distrust.resident.protocol import ResidentError

    try:
        info = status(socket_path)
    except ResidentError as exc:
        raise UserError(str(exc)) from None
    if info is None:
        typer.echo("no resident analyser is running")
        raise typer.Exit(EXIT_FINDINGS)
    started = datetime.fromtimestamp(info.started, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    typer.echo(
        f"resident analyser running: pid {info.pid}, socket {info.socket}, started {started}, "
        f"{info.served} command(s) served, {info.running} running, idle timeout {info.idle_timeout:g} s"
    )


def main() -> None:
    """Console entry point: run the app and turn known failures into clean messages.

    Usage errors and ``typer.Exit`` are handled by Typer itself (exit 2 and the given code);
    anything else raised by a stage becomes one line on stderr and exit 2.
    """
    debug = os.environ.get("DISTRUST_DEBUG") == "1"
    try:
        app()
    except KeyboardInterrupt:
        Console(stderr=True).print("aborted")
        sys.exit(130)
    except Exception as exc:  # the CLI is the one place that must catch everything
        if debug:
            raise
        print_error(exc)
        sys.exit(EXIT_ERROR)
