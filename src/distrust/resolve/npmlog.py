"""npm's debug logs as dated evidence of what was installed.

npm (7+) writes ``<cache>/_logs/<ISO time>-debug-<n>.log`` for every run, including the runs
``npx -y pkg`` makes on an MCP client's behalf. With the default log level the lines below are
written (checked against npm 11 with ``--loglevel=silly``; ``http``/``silly`` lines are kept in
the file whatever the console level):

    20 silly placeDep ROOT is-number@7.0.0 OK for:  want: 7.0.0
    22 http cache is-number@https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz 1ms (cache hit)
    24 http fetch GET 200 https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz 40ms (cache miss)

The time comes from the file name (``2025-09-20T10_11_12_345Z-debug-0.log``, UTC): lines carry
no time of their own. Lines that only resolve a manifest (``silly fetch manifest pkg@^1``) are
not evidence that a version arrived and are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from distrust.resolve.names import normalize_npm, npm_exact_version

LOG_NAME = re.compile(r"^(?P<stamp>\d{4}-\d\d-\d\dT\d\d_\d\d_\d\d(?:_\d{1,3})?Z)-debug(?:-\d+)?\.log$")


@dataclass(frozen=True)
class LogPattern:
    id: str
    regex: re.Pattern[str]
    meaning: str


# Each regex yields either (name, version) groups, or a tarball URL group parsed below.
LOG_PATTERNS: tuple[LogPattern, ...] = (
    LogPattern(
        "placeDep",
        re.compile(r"^\d+ silly placeDep \S+ (?P<name>(?:@[^@\s/]+/)?[^@\s]+)@(?P<version>\S+) OK\b"),
        "npm placed this exact version in the dependency tree it was about to install",
    ),
    LogPattern(
        "tarball-fetch",
        re.compile(r"^\d+ http fetch GET 200 (?P<url>\S+\.tgz)\b"),
        "npm downloaded the tarball of this version from a registry",
    ),
    LogPattern(
        "tarball-cache",
        re.compile(r"^\d+ http cache (?P<name>(?:@[^@\s/]+/)?[^@\s]+)@(?P<url>\S+\.tgz)\b"),
        "npm took the tarball of this version from its cache to extract it",
    ),
)

# Cheap substring test before any regex: most log lines are config and timing noise.
_PREFILTER = (" placeDep ", " http fetch GET 200 ", " http cache ")


@dataclass(frozen=True)
class LogHit:
    name: str  # normalised
    version: str
    line: int  # 1-based line in the file
    pattern: str


def log_time(path: Path) -> datetime | None:
    """The run's start time encoded in an npm log file name, or None if the name is not npm's."""
    match = LOG_NAME.match(path.name)
    if not match:
        return None
    stamp = match.group("stamp")
    date, _, clock = stamp[:-1].partition("T")
    parts = clock.split("_")
    millis = int(parts[3].ljust(3, "0")) if len(parts) > 3 else 0
    try:
        return datetime.fromisoformat(f"{date}T{parts[0]}:{parts[1]}:{parts[2]}").replace(
            microsecond=millis * 1000, tzinfo=UTC
        )
    except ValueError:
        return None


def tarball_name_version(url: str) -> tuple[str, str] | None:
    """``…/@scope/pkg/-/pkg-1.0.16.tgz`` → (``@scope/pkg``, ``1.0.16``), for any registry host."""
    try:
        path = unquote(urlsplit(url).path)
    except ValueError:
        return None
    head, sep, file = path.rpartition("/-/")
    if not sep or not file.endswith(".tgz"):
        return None
    segments = [s for s in head.split("/") if s]
    if not segments:
        return None
    name = "/".join(segments[-2:]) if len(segments) >= 2 and segments[-2].startswith("@") else segments[-1]
    base = name.rsplit("/", 1)[-1]
    stem = file[: -len(".tgz")]
    if not stem.startswith(base + "-"):
        return None
    version = stem[len(base) + 1 :]
    return (name, version) if npm_exact_version(version) else None


def scan_log(text: str, wanted: frozenset[str] | None = None) -> Iterator[LogHit]:
    """Every line proving a package version was fetched or placed; one hit per (name, version).

    ``wanted`` (normalised names) keeps only the packages the caller asks about.
    """
    seen: set[tuple[str, str]] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not any(marker in line for marker in _PREFILTER):
            continue
        for pattern in LOG_PATTERNS:
            match = pattern.regex.match(line)
            if not match:
                continue
            groups = match.groupdict()
            if groups.get("url"):
                found = tarball_name_version(groups["url"])
                if found is None:
                    break
                name, version = found
            else:
                name, version = groups["name"], groups["version"]
                if not npm_exact_version(version):
                    break
            key = (normalize_npm(name), version)
            if (wanted is None or key[0] in wanted) and key not in seen:
                seen.add(key)
                yield LogHit(key[0], version, number, pattern.id)
            break
