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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Protocol
from urllib.parse import quote, urlsplit, urlunsplit

from distrust.model import Finding, Notice, ResolvedServer, ScanResult, ServerSpec, Severity

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
