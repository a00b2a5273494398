"""What every report format shares: severity presentation, ordering, rule metadata, redaction.

Reports never decide anything: they render the findings list the judge stage produced. What
they *do* own is presentation, and presentation must agree across formats: the same colour
for the same severity, the same order of findings, and the same promise that a configured
secret never reaches the screen or a file. Keeping those choices here means a new format (or
the Risk Engine's inspect/diff reports) inherits them instead of re-inventing them slightly
differently.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Protocol
from urllib.parse import quote, urlsplit, urlunsplit

from distrust.analyze.results import DiffResult, HistoryResult, HistoryStep, InspectResult
from distrust.analyze.rules import load_rules
from distrust.analyze.score import RatedChange, domain_of
from distrust.analyze.textscan import redact as redact_secrets
from distrust.fsutil import ReadError, read_bytes_capped
from distrust.model import (
    Capability,
    Finding,
    Notice,
    PackageRef,
    ResolvedServer,
    ScanResult,
    ServerSpec,
    Severity,
)

REDACTED = "[redacted]"

# --- severity presentation ----------------------------------------------------------------

# Rich style per severity. Critical is bold so it still stands out on terminals that render
# "red" and "bold red" alike; "none" is dim because it is context, not a call to act.
SEVERITY_STYLES: Mapping[Severity, str] = MappingProxyType(
    {
        Severity.CRITICAL: "bold red",
        Severity.HIGH: "red",
        Severity.MEDIUM: "yellow",
        Severity.LOW: "cyan",
        Severity.NONE: "dim",
    }
)

# SARIF has only four levels. Critical and high both become "error" so CI gates that fail on
# errors catch them; the finer grade travels in ``security-severity`` (below).
SARIF_LEVELS: Mapping[Severity, str] = MappingProxyType(
    {
        Severity.CRITICAL: "error",
        Severity.HIGH: "error",
        Severity.MEDIUM: "warning",
        Severity.LOW: "note",
        Severity.NONE: "none",
    }
)

# GitHub code scanning maps the numeric ``security-severity`` rule property back to a label:
# >= 9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low. Each value sits inside its band
# so a reader of the SARIF file sees the same grade distrust printed.
SECURITY_SEVERITY_SCORES: Mapping[Severity, str] = MappingProxyType(
    {
        Severity.CRITICAL: "9.5",
        Severity.HIGH: "8.0",
        Severity.MEDIUM: "5.5",
        Severity.LOW: "2.0",
        Severity.NONE: "0.0",
    }
)

# Most severe first: the order summaries and counts are printed in.
SEVERITIES_DESCENDING: tuple[Severity, ...] = tuple(sorted(Severity, reverse=True))


def severity_style(severity: Severity) -> str:
    """Rich style for a severity (see :data:`SEVERITY_STYLES`)."""
    return SEVERITY_STYLES[severity]


def sarif_level(severity: Severity) -> str:
    """SARIF ``level`` for a severity (see :data:`SARIF_LEVELS`)."""
    return SARIF_LEVELS[severity]


def security_severity(severity: Severity) -> str:
    """GitHub ``security-severity`` score, as the numeric string SARIF consumers expect."""
    return SECURITY_SEVERITY_SCORES[severity]


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per severity label, every label present, most severe first.

    Every label is present (zeros included) so consumers can index without guarding and two
    reports of different scans have the same shape.
    """
    counts = {s.label: 0 for s in SEVERITIES_DESCENDING}
    for finding in findings:
        counts[finding.severity.label] += 1
    return counts


def summary_line(result: ScanResult) -> str:
    """One sentence every format ends or starts with: what was scanned and what was found."""
    servers = len(result.servers)
    clients = len({r.spec.client for r in result.servers})
    parts = [f"{servers} server{'s' if servers != 1 else ''} scanned"]
    if servers:
        parts[0] += f" in {clients} client{'s' if clients != 1 else ''}"
    if result.configs_read:
        n = len(result.configs_read)
        parts.append(f"{n} config{'s' if n != 1 else ''} read")
    counts = severity_counts(result.findings)
    found = [f"{n} {label}" for label, n in counts.items() if n]
    parts.append("findings: " + ", ".join(found) if found else "no findings")
    if result.notices:
        n = len(result.notices)
        parts.append(f"{n} notice{'s' if n != 1 else ''}")
    return "; ".join(parts)


# --- ordering -------------------------------------------------------------------------------


def finding_sort_key(finding: Finding) -> tuple[object, ...]:
    """Most severe first, then client, server, rule id; the rest only breaks ties.

    The tie-breakers (config path, package, title, evidence…) make the order total, so two
    renders of the same findings are byte-identical whatever order the judge produced them in.
    """
    server = finding.server
    package = finding.package
    return (
        -int(finding.severity),
        server.client if server else "",
        server.name if server else "",
        finding.rule_id,
        str(server.config_path) if server else "",
        package.ecosystem if package else "",
        package.name if package else "",
        (package.version or "") if package else "",
        finding.title,
        finding.detail,
        finding.advisories,
        tuple((e.file, e.line or 0, e.snippet or "") for e in finding.evidence),
    )


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings in report order (see :func:`finding_sort_key`)."""
    return sorted(findings, key=finding_sort_key)


def server_sort_key(server: ResolvedServer) -> tuple[str, str, str]:
    """Servers by client, then name, then config file: how people look for them."""
    return (server.spec.client, server.spec.name, str(server.spec.config_path))


def notice_sort_key(notice: Notice) -> tuple[str, int, str]:
    """Notices by file, then line: the order a person fixing them walks through the files."""
    return (str(notice.file) if notice.file else "", notice.line or 0, notice.message)


def server_identity(spec: ServerSpec) -> tuple[str, str, str]:
    """What makes a configured server "the same one" across findings and the server list.

    Findings carry their own copy of the ServerSpec; comparing whole specs would fail on a
    spec re-read with another line number, so reports match on client, config file and name.
    """
    return (spec.client, str(spec.config_path), spec.name)


# --- rule metadata --------------------------------------------------------------------------


class RuleInfo(Protocol):
    """What a report may want to know about a rule beyond a finding's own text.

    A Protocol with read-only attributes, so the judge stage's rule table (any frozen
    dataclass with these fields) satisfies it without importing ``report``: data flows
    forward, imports never point backward.
    """

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def severity(self) -> Severity: ...

    @property
    def rationale(self) -> str: ...

    @property
    def remediation(self) -> str: ...


@dataclass(frozen=True)
class RuleMeta:
    """A plain :class:`RuleInfo`, for callers (and tests) that have no rule table of their own."""

    id: str
    title: str
    severity: Severity
    rationale: str = ""
    remediation: str = ""


RuleCatalog = Mapping[str, RuleInfo]


# --- redaction ------------------------------------------------------------------------------

# Names of flags, variables, headers and query parameters whose *value* is a credential. The
# judge flags inline secrets as findings; the reports additionally never echo them, because
# a report is pasted into tickets and uploaded to CI where a leaked key outlives the fix.
SECRET_NAME = re.compile(
    r"(token|secret|passw(or)?d|passwd|pwd|api[-_]?key|apikey|auth|bearer|credential|"
    r"private[-_]?key|access[-_]?key|session|cookie|signature|\bsig\b|\bkey\b)",
    re.IGNORECASE,
)

# Header-style argument, as mcp-remote takes it: ``--header "Authorization: Bearer abc"``.
_HEADER_ARG = re.compile(r"^(?P<name>[A-Za-z0-9_-]+)\s*:\s*(?P<value>.+)$")
# Assignment-style argument: ``--api-key=abc``, ``-e POSTMARK_TOKEN=abc``, ``token=abc``.
_ASSIGN_ARG = re.compile(r"^(?P<name>-{0,2}[A-Za-z0-9_.-]+)=(?P<value>.*)$", re.DOTALL)

# Values shorter than this are not scrubbed from free text: "1", "true" or "dev" occur in any
# sentence, and replacing them would garble the report while protecting nothing secret.
MIN_SCRUB_LENGTH = 6


def redact_args(args: Iterable[str]) -> tuple[str, ...]:
    """Command-line arguments with credential values replaced by :data:`REDACTED`.

    Covers ``--token=abc``, ``--token abc`` (the value is the next argument), ``KEY=abc``
    (docker ``-e``), ``Authorization: Bearer abc`` (mcp-remote ``--header``) and URLs with a
    password or a secret query parameter (see :func:`redact_url`). Only values
    are hidden: the flag names stay, so the reader still sees *that* a secret is passed inline.
    """
    out: list[str] = []
    hide_next = False
    for arg in args:
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        assign = _ASSIGN_ARG.match(arg)
        header = _HEADER_ARG.match(arg)
        if assign and SECRET_NAME.search(assign.group("name")):
            out.append(f"{assign.group('name')}={REDACTED}")
        elif header and SECRET_NAME.search(header.group("name")):
            out.append(f"{header.group('name')}: {REDACTED}")
        elif arg.startswith("-") and SECRET_NAME.search(arg):
            out.append(arg)
            hide_next = True
        elif "://" in arg:
            out.append(redact_url(arg))
        else:
            out.append(arg)
    return tuple(out)


def redact_url(url: str) -> str:
    """A URL with its password and secret-looking query values replaced by :data:`REDACTED`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url if "@" not in url else REDACTED
    netloc = parts.netloc
    if "@" not in netloc and not any(_secret_query_value(p) for p in parts.query.split("&")):
        return url  # nothing to hide: keep the text byte for byte, not as urlunsplit re-spells it
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{hostport}" if ":" in userinfo else f"{REDACTED}@{hostport}"
    query = parts.query
    if query:
        query = "&".join(
            f"{pair.partition('=')[0]}={REDACTED}" if _secret_query_value(pair) else pair
            for pair in query.split("&")
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _secret_query_value(pair: str) -> bool:
    name, sep, value = pair.partition("=")
    return bool(sep and value and SECRET_NAME.search(name))


class Scrubber:
    """Removes configured env and header values from free text before it is rendered.

    Rules redact their own evidence, and reports never print ``ServerSpec.env`` values; this
    is the last line of defence for text a rule or resolver wrote without thinking of it (a
    detail quoting a command line, a note quoting a URL). It only touches free text, never
    paths or names, and skips values that are too short or look like paths to be secrets.
    """

    def __init__(self, result: ScanResult) -> None:
        specs = [r.spec for r in result.servers] + [f.server for f in result.findings if f.server]
        values = {
            candidate
            for spec in specs
            for _, value in (*spec.env, *spec.headers)
            for candidate in _secret_parts(value)
            if _looks_scrubbable(candidate)
        }
        # Longest first so a value containing another is replaced whole.
        self._values = sorted(values, key=lambda v: (-len(v), v))

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def args(self, args: Iterable[str]) -> tuple[str, ...]:
        """Arguments redacted by name (:func:`redact_args`) and by configured value."""
        return tuple(self(a) for a in redact_args(args))

    def url(self, url: str | None) -> str | None:
        """A URL redacted by name (:func:`redact_url`) and by configured value."""
        return None if url is None else self(redact_url(url))


def _secret_parts(value: str) -> tuple[str, ...]:
    """The value, and for ``Bearer abc`` / ``Basic abc`` header values the credential alone.

    Text quoting a header usually quotes the token without its scheme word.
    """
    scheme, _, credential = value.strip().partition(" ")
    if credential and scheme.isalpha():
        return (value, credential.strip())
    return (value,)


def _looks_scrubbable(value: str) -> bool:
    value = value.strip()
    if len(value) < MIN_SCRUB_LENGTH:
        return False
    # A path-valued variable (HOME, XDG_CONFIG_HOME, a cache dir) is not a secret, and
    # replacing it inside details would garble every path printed beside it.
    return not value.startswith(("/", "~", "./", "../")) and not re.match(r"^[A-Za-z]:[\\/]", value)


# --- locations ------------------------------------------------------------------------------


def path_uri(path: str | Path) -> str:
    """A URI for a file: ``file://`` for absolute paths, a percent-encoded relative reference else.

    Evidence inside a package is relative to the package root (``index.js``), config files are
    absolute; both must be valid URI references for SARIF consumers.
    """
    p = Path(path)
    if p.is_absolute():
        return p.as_uri()
    return quote(Path(path).as_posix(), safe="/@+:~-._")


def display_path(path: str | Path, home: Path | None = None) -> str:
    """A path as a person reads it: the home directory shortened to ``~``."""
    home = home if home is not None else _home()
    p = Path(path)
    if home is not None:
        try:
            rel = p.relative_to(home)
        except ValueError:
            return str(p)
        return "~" if str(rel) == "." else f"~/{rel.as_posix()}"
    return str(p)


def _home() -> Path | None:
    try:
        return Path.home()
    except RuntimeError:
        return None


def first_line(text: str) -> str:
    """The first non-empty line of a text, for one-line remediation in tables."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


# --- Risk Engine reports (inspect / diff / history) -----------------------------------------
#
# The four risk formats share what a person needs to judge a package: the offending source
# lines (read back from the verified artifact, since a finding's snippet alone hides the code
# around it), a summary of what the code can do, and, for a history, where behaviour changed.

RiskResult = InspectResult | DiffResult | HistoryResult
"""What ``inspect``, ``diff`` and ``history`` hand to a risk report format."""

# Lines shown above and below an offending line: enough to see the object a ``Bcc:`` sits in.
SOURCE_CONTEXT_LINES = 2
# Longest source line printed whole. Minified bundles put a whole program on one line; beyond
# this, a window around the offending snippet is shown so the terminal is not flooded.
MAX_SOURCE_LINE_CHARS = 200
# Changes listed before a report says "N more": a bundle rebuild can add hundreds.
MAX_CHANGE_ROWS = 50
ELLIPSIS = "…"

# Characters that must not reach a terminal or a rendered page raw: C0/C1 controls can move
# the cursor or rewrite earlier output, format characters (bidi overrides, zero-width joiners)
# reorder or hide text, which is exactly what the obfuscation.unicode capability is about.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def printable(text: str) -> str:
    """Text with controls and invisible characters spelled out (``<U+202E>``), tabs as spaces.

    Newlines are kept: free text may span lines, and source lines are split before this.

    A package's source is hostile input: printing a bidi override or an escape sequence raw
    would let the code disguise itself in the very report meant to expose it.
    """
    if text.isprintable():
        return text
    out: list[str] = []
    for ch in text:
        if ch == "\t":
            out.append("    ")
        elif ch == "\n":  # free text may span lines; source lines never contain one
            out.append(ch)
        elif unicodedata.category(ch) in _INVISIBLE_CATEGORIES:
            out.append(f"<U+{ord(ch):04X}>")
        else:
            out.append(ch)
    return "".join(out)


def clip(text: str, width: int = MAX_SOURCE_LINE_CHARS, focus: str | None = None) -> str:
    """``text`` cut to ``width`` characters, keeping ``focus`` in view when it is found.

    A long line is shown as a window around the first occurrence of ``focus`` (the finding's
    snippet) so the offending code is on screen even at column 50 000 of a minified file;
    ``…`` marks each cut end.
    """
    if len(text) <= width:
        return text
    width = max(width, 8)
    at = text.find(focus) if focus else -1
    if at < 0:
        return text[: width - 1] + ELLIPSIS
    start = max(0, at - width // 4)
    end = start + width - (1 if start == 0 else 2)  # room for the cut marks
    if end >= len(text):  # the focus sits near the end: show the tail, one mark in front
        return ELLIPSIS + text[len(text) - (width - 1) :]
    return (ELLIPSIS if start > 0 else "") + text[start:end] + ELLIPSIS


@dataclass(frozen=True)
class SourceLine:
    """One line of an excerpt, already made safe to print (redacted, printable, clipped)."""

    number: int
    text: str
    offending: bool


@dataclass(frozen=True)
class SourceExcerpt:
    """The lines around one piece of evidence, or the reason they cannot be shown."""

    file: str
    line: int | None
    lines: tuple[SourceLine, ...] = ()
    problem: str | None = None


class SourceReader:
    """Reads evidence lines back from one package's files, each file at most once per report.

    Evidence names a path relative to the artifact root; a path that would leave the root
    (absolute, ``..``, a symlink pointing out) is refused, because the report must only ever
    show the package's own files. Every failure becomes a :attr:`SourceExcerpt.problem`, never
    an exception: a report with one missing excerpt is still a report.
    """

    def __init__(
        self,
        root: Path | None,
        *,
        context: int = SOURCE_CONTEXT_LINES,
        width: int = MAX_SOURCE_LINE_CHARS,
    ) -> None:
        self._root = root
        self._context = context
        self._width = width
        self._files: dict[str, list[str] | str] = {}

    def excerpt(self, file: str, line: int | None, snippet: str | None = None) -> SourceExcerpt:
        """Lines ``line - context`` .. ``line + context`` of ``file``, the offending one marked."""
        if line is None or line < 1:
            return SourceExcerpt(file, None, problem="no line number recorded")
        lines = self._lines(file)
        if isinstance(lines, str):
            return SourceExcerpt(file, line, problem=lines)
        if line > len(lines):
            past = f"line {line} is past the end of the file ({len(lines)} lines)"
            return SourceExcerpt(file, line, problem=past)
        focus = _focus(snippet)
        first = max(1, line - self._context)
        last = min(len(lines), line + self._context)
        shown = tuple(
            SourceLine(n, clip(printable(redact_source(lines[n - 1])), self._width, focus), n == line)
            for n in range(first, last + 1)
        )
        return SourceExcerpt(file, line, shown)

    def _lines(self, file: str) -> list[str] | str:
        cached = self._files.get(file)
        if cached is None:
            cached = self._read(file)
            self._files[file] = cached
        return cached

    def _read(self, file: str) -> list[str] | str:
        if self._root is None:
            return "package files not extracted for this report"
        rel = Path(file)
        if rel.is_absolute() or ".." in rel.parts:
            return "path leaves the package root; not shown"
        path = self._root / rel
        try:
            root = self._root.resolve()
            if not path.resolve().is_relative_to(root):
                return "path leads outside the package root; not shown"
            # Decoded as the diff decodes: a Latin-1 file still shows, with U+FFFD for odd bytes.
            text = read_bytes_capped(path).decode("utf-8-sig", errors="replace")
        except ReadError as exc:
            return exc.reason
        except (OSError, RuntimeError) as exc:  # resolve(): symlink loops, permissions
            return str(exc) or type(exc).__name__
        # Split on "\n" only, as the analysers count lines: str.splitlines() would also break at
        # form feeds and U+2028, shifting every line number after one.
        lines = [ln.removesuffix("\r") for ln in text.split("\n")]
        if lines and lines[-1] == "" and text.endswith("\n"):
            lines.pop()  # the newline ends the last line; it does not start another
        return lines


def _focus(snippet: str | None) -> str | None:
    """The part of a snippet to look for in a long line: its start, without the cut marker."""
    if not snippet:
        return None
    text = printable(snippet.strip()).removesuffix(ELLIPSIS).removesuffix("…[redacted]")
    return text[:60] or None


def redact_source(text: str) -> str:
    """Package text with token-shaped strings masked, as the analysers mask their snippets.

    Source read back from the artifact bypasses the analyser's snippet redaction, so the same
    masking is applied here: a report must not leak a key a package embeds or has stolen.
    """
    return redact_secrets(text)


# What a person wants to know first about a package's abilities: each row names the kinds it
# summarises, how a capability becomes the value listed (``""`` skips it), and why it matters.
@dataclass(frozen=True)
class CapabilityHighlight:
    """One line of the capability summary: a label and the distinct values behind it."""

    label: str
    kinds: tuple[str, ...]
    value: Callable[[Capability], str]
    why: str


def _literal(cap: Capability) -> str:
    return cap.value


CAPABILITY_HIGHLIGHTS: tuple[CapabilityHighlight, ...] = (
    CapabilityHighlight(
        "network domains",
        ("network.url", "network.host", "network.ip", "network.request"),
        lambda cap: domain_of(cap.value),
        "where the code can send data",
    ),
    CapabilityHighlight(
        "email recipients",
        ("email.recipient",),
        _literal,
        "who receives mail the code sends (a fixed bcc is how postmark-mcp 1.0.16 stole mail)",
    ),
    CapabilityHighlight(
        "secret env names",
        ("env.read.secret",),
        _literal,
        "credentials the code reads from its environment",
    ),
    CapabilityHighlight(
        "credential files",
        ("file.read.sensitive",),
        _literal,
        "private files the code refers to",
    ),
    CapabilityHighlight(
        "install hooks",
        ("install.hook",),
        _literal,
        "code that runs the moment the package is installed",
    ),
    CapabilityHighlight(
        "programs run",
        ("process.spawn",),
        _literal,
        "other programs the code starts",
    ),
)


def capability_counts(capabilities: Iterable[Capability]) -> list[tuple[str, int]]:
    """Capabilities per kind, sorted by kind so two reports of one version are identical."""
    counts: dict[str, int] = {}
    for cap in capabilities:
        counts[cap.kind] = counts.get(cap.kind, 0) + 1
    return sorted(counts.items())


def capability_highlights(capabilities: Iterable[Capability]) -> list[tuple[CapabilityHighlight, list[str]]]:
    """For each :data:`CAPABILITY_HIGHLIGHTS` row with values, its distinct values, sorted."""
    caps = list(capabilities)
    out: list[tuple[CapabilityHighlight, list[str]]] = []
    for row in CAPABILITY_HIGHLIGHTS:
        values = {printable(redact_source(v)) for c in caps if c.kind in row.kinds and (v := row.value(c))}
        if values:
            out.append((row, sorted(values)))
    return out


def capability_sort_key(cap: Capability) -> tuple[str, int, str, str]:
    """Capabilities in reading order: file, line, then kind and value to break ties."""
    return (cap.file, cap.line, cap.kind, cap.value)


def change_sort_key(rated: RatedChange) -> tuple[object, ...]:
    """Most severe change first, additions before removals, then where it is in the code."""
    cap = rated.change.capability
    return (
        -int(rated.severity),
        0 if rated.change.kind == "added" else 1,
        cap.file,
        cap.line,
        cap.kind,
        cap.value,
        rated.rule_id or "",
    )


def behaviour_changes(result: HistoryResult) -> list[HistoryStep]:
    """Steps whose release added something a rule judged risky, oldest first.

    "Behaviour changed" means a rule fired on what the release added; releases that only move
    code around or add capabilities no rule cares about are routine and stay unmarked.
    """
    return [s for s in result.steps if s.assessment.level > Severity.NONE]


def history_risk(result: HistoryResult) -> tuple[int, Severity]:
    """A package history's risk: its worst step, or the first version when it is worse."""
    assessments = [s.assessment for s in result.steps]
    if result.first is not None:
        assessments.append(result.first.assessment)
    worst = max(assessments, key=lambda a: (a.level, a.score), default=None)
    return (worst.score, worst.level) if worst is not None else (0, Severity.NONE)


def history_verdict(result: HistoryResult) -> str:
    """The closing sentence of a history: where behaviour changed, worst first."""
    flagged = behaviour_changes(result)
    if not flagged:
        if not result.steps:
            return "only one version analysed; no upgrade to compare"
        n = len(result.steps)
        return f"no release added risky behaviour ({n} upgrade{'s' if n != 1 else ''} compared)"
    ordered = sorted(flagged, key=lambda s: (-int(s.assessment.level), -s.assessment.score))
    top = ordered[0]
    text = f"behaviour changed at {top.new.version} ({top.assessment.level.label})"
    findings = sorted_findings(top.assessment.findings)
    if findings:
        text += f": {printable(findings[0].title)}"
    others = [f"{s.new.version} ({s.assessment.level.label})" for s in flagged if s is not top]
    if others:
        text += f"; also at {', '.join(others)}"
    return text


def default_risk_rules() -> RuleCatalog:
    """The shipped Risk Engine rules by id, for formats that describe rules (SARIF, Markdown)."""
    return {rule.id: rule for rule in load_rules()}


def package_label(ref: PackageRef) -> str:
    """``name@version`` for npm, ``name==version`` for PyPI: how users type them."""
    return str(ref)
