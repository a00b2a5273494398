"""Lockfiles as evidence: which exact versions a project installed, with the line that says so.

A lockfile outlives the ``node_modules`` it described, so it can prove that a project once ran
postmark-mcp 1.0.16 after the directory was cleaned. Each format has a small parser returning
:class:`LockEntry` rows; the table :data:`LOCKFILE_FORMATS` says which file names use which
parser. Parsers never import or run anything from the project: they read text.

YAML (pnpm) is read line by line rather than with a YAML library: only the package keys are
needed, their shapes are fixed by pnpm, and it keeps a dependency out.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from distrust.model import Ecosystem
from distrust.resolve.names import normalize_npm, normalize_pypi, npm_exact_version, pypi_ref


class LockfileError(ValueError):
    """A lockfile could not be parsed; the message names the file (and line when known)."""


@dataclass(frozen=True)
class LockEntry:
    ecosystem: str
    name: str  # normalised
    version: str
    line: int | None


Parser = Callable[[str, str], list[LockEntry]]  # (text, file name for messages) -> entries


# --- JSON helpers -------------------------------------------------------------------------

_JSON_OBJECT_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:\s*[\[{]')


def _key_lines(text: str) -> dict[str, list[int]]:
    """Line numbers of every ``"key": {`` / ``"key": [`` in document order, per key.

    json loses positions; walking the parsed tree in document order and taking the next line
    recorded for a key gives each object its line back.
    """
    lines: dict[str, list[int]] = {}
    line = 1
    pos = 0
    for match in _JSON_OBJECT_KEY.finditer(text):
        line += text.count("\n", pos, match.start())
        pos = match.start()
        lines.setdefault(match.group(1), []).append(line)
    return lines


class _LineCursor:
    def __init__(self, text: str) -> None:
        self._lines = _key_lines(text)
        self._next: dict[str, int] = {}

    def take(self, key: str) -> int | None:
        found = self._lines.get(key)
        if not found:
            return None
        n = self._next.get(key, 0)
        self._next[key] = n + 1
        return found[n] if n < len(found) else None


def _load_json(text: str, filename: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LockfileError(f"{filename}:{exc.lineno}: invalid JSON ({exc.msg})") from None


def _npm_name_from_path(path: str) -> str | None:
    """``node_modules/a/node_modules/@s/b`` → ``@s/b``; the root entry ``""`` has no name."""
    marker = "node_modules/"
    at = path.rfind(marker)
    return path[at + len(marker) :] if at >= 0 else None


# --- npm ----------------------------------------------------------------------------------


def parse_package_lock(text: str, filename: str) -> list[LockEntry]:
    """package-lock.json / npm-shrinkwrap.json: v2/v3 ``packages`` map, else v1 ``dependencies``."""
    data = _load_json(text, filename)
    if not isinstance(data, dict):
        raise LockfileError(f"{filename}: expected a JSON object at the top")
    cursor = _LineCursor(text)
    entries: list[LockEntry] = []
    packages = data.get("packages")
    if isinstance(packages, dict):
        for path, meta in packages.items():
            line = cursor.take(path)
            # Workspace packages (`packages/x`) and links are project code, not installs.
            if not isinstance(meta, dict) or meta.get("link") or "node_modules/" not in path:
                continue
            name = meta.get("name") if isinstance(meta.get("name"), str) and path else None
            name = name or _npm_name_from_path(path)
            version = meta.get("version")
            if name and isinstance(version, str) and npm_exact_version(version):
                entries.append(LockEntry(Ecosystem.NPM, normalize_npm(name), version, line))
        return entries

    def walk(deps: Any) -> None:
        if not isinstance(deps, dict):
            return
        for name, meta in deps.items():
            line = cursor.take(name)
            if not isinstance(meta, dict):
                continue
            version = meta.get("version")
            if isinstance(version, str) and npm_exact_version(version):
                entries.append(LockEntry(Ecosystem.NPM, normalize_npm(name), version, line))
            # `requires` maps names to ranges (strings), so it holds no objects to count.
            walk(meta.get("dependencies"))

    walk(data.get("dependencies"))
    return entries


_SEMVER = r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?"
# v6 `/name@1.0.0(peer@1)`, v9 `name@1.0.0`, scoped variants; peer suffixes `(…)` or `_…`.
_PNPM_AT_KEY = re.compile(rf"^/?(?P<name>(?:@[^/@]+/)?[^/@()]+)@(?P<version>{_SEMVER})(?:[(_].*)?$")
# v5 `/name/1.0.0_peer@1`, optionally after a registry host: `registry.example.com/name/1.0.0`.
_PNPM_SLASH_KEY = re.compile(
    rf"^/?(?:[^/@]+\.[^/@]+/)?(?P<name>(?:@[^/@]+/)?[^/@()]+)/(?P<version>{_SEMVER})(?:[(_].*)?$"
)
_PNPM_SECTION = re.compile(r"^([A-Za-z][\w-]*):\s*(?:#.*)?$")
_PNPM_PACKAGE_KEY = re.compile(r"^  (?P<key>'[^']+'|\"[^\"]+\"|[^\s#'\"][^\s]*?):\s*(?:#.*)?$")


def parse_pnpm_lock(text: str, filename: str) -> list[LockEntry]:
    """pnpm-lock.yaml v5/v6/v9: the keys of the top-level ``packages:`` section."""
    entries: list[LockEntry] = []
    section = ""
    for number, raw in enumerate(text.splitlines(), 1):
        head = _PNPM_SECTION.match(raw)
        if head:
            section = head.group(1)
            continue
        if section != "packages":
            continue
        match = _PNPM_PACKAGE_KEY.match(raw)
        if not match:
            continue
        key = match.group("key").strip("'\"")
        parsed = _PNPM_AT_KEY.match(key) or _PNPM_SLASH_KEY.match(key)
        if parsed:
            entries.append(
                LockEntry(Ecosystem.NPM, normalize_npm(parsed.group("name")), parsed.group("version"), number)
            )
    return entries


def _yarn_descriptor_name(descriptor: str) -> str:
    """``@s/p@^1`` → ``@s/p``; ``p@npm:^1`` → ``p``; the name ends at the first ``@`` after 0."""
    at = descriptor.find("@", 1)
    return descriptor[:at] if at > 0 else descriptor


# Descriptors that point at project code rather than a registry release.
_YARN_LOCAL_PROTOCOLS = ("workspace:", "link:", "portal:", "file:")
_YARN_VERSION = re.compile(r"^\s+version:?\s+\"?(?P<version>[^\"\s]+)\"?\s*$")


def parse_yarn_lock(text: str, filename: str) -> list[LockEntry]:
    """yarn.lock, classic v1 (``version "1.0.0"``) and berry (``version: 1.0.0``)."""
    entries: list[LockEntry] = []
    current: tuple[str, int] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            current = None
            if raw.rstrip().endswith(":") and not raw.startswith("__metadata"):
                first = raw.rstrip()[:-1].split(",")[0].strip().strip('"')
                name = _yarn_descriptor_name(first)
                protocol = first[len(name) + 1 :]
                if name and "@" not in name[1:] and not protocol.startswith(_YARN_LOCAL_PROTOCOLS):
                    current = (name, number)
            continue
        if current is not None:
            match = _YARN_VERSION.match(raw)
            if match and npm_exact_version(match.group("version")):
                entries.append(
                    LockEntry(Ecosystem.NPM, normalize_npm(current[0]), match.group("version"), current[1])
                )
                current = None
    return entries


def _strip_jsonc(text: str) -> str:
    """Remove // and /* */ comments, then trailing commas, outside strings (bun.lock is JSONC).

    Newlines inside comments are kept so JSON error line numbers still match the file.
    """
    return _drop_trailing_commas(_drop_comments(text))


def _string_end(text: str, start: int) -> int:
    """Index just past the JSON string whose opening quote is at ``start``."""
    i, n = start + 1, len(text)
    while i < n:
        if text[i] == "\\":
            i += 2
        elif text[i] == '"':
            return i + 1
        else:
            i += 1
    return n


def _drop_comments(text: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            end = _string_end(text, i)
            out.append(text[i:end])
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            stop = n if end < 0 else end + 2
            out.append("\n" * text.count("\n", i, stop))
            i = stop
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _drop_trailing_commas(text: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            end = _string_end(text, i)
            out.append(text[i:end])
            i = end
            continue
        if ch == ",":
            j = i + 1
            while j < n and text[j] in " \t\r\n":
                j += 1
            if j < n and text[j] in "]}":
                i += 1  # drop the comma, keep what follows
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def parse_bun_lock(text: str, filename: str) -> list[LockEntry]:
    """bun.lock (text, JSONC): ``"packages": {"key": ["name@1.0.0", …]}``."""
    clean = _strip_jsonc(text)
    data = _load_json(clean, filename)
    packages = data.get("packages") if isinstance(data, dict) else None
    if not isinstance(packages, dict):
        return []
    cursor = _LineCursor(clean)
    entries: list[LockEntry] = []
    for key, value in packages.items():
        line = cursor.take(key)
        if not isinstance(value, list) or not value or not isinstance(value[0], str):
            continue
        ident = value[0]
        name = _yarn_descriptor_name(ident)
        version = ident[len(name) + 1 :]
        if version.startswith("npm:"):
            version = version[4:]
        if npm_exact_version(version):
            entries.append(LockEntry(Ecosystem.NPM, normalize_npm(name), version, line))
    return entries


# --- Python -------------------------------------------------------------------------------

_TOML_PACKAGE_HEADER = re.compile(r"^\[\[package\]\]\s*$")
_TOML_NAME = re.compile(r"^name\s*=")


def _toml_package_name_lines(text: str) -> list[int]:
    """The ``name = …`` line of each ``[[package]]`` table, in order (the line a reader wants)."""
    found: list[int] = []
    in_header = False
    for number, raw in enumerate(text.splitlines(), 1):
        if _TOML_PACKAGE_HEADER.match(raw):
            in_header = True
        elif in_header and _TOML_NAME.match(raw):
            found.append(number)
            in_header = False
        elif raw.startswith("["):
            in_header = False
    return found


def _parse_toml_packages(text: str, filename: str) -> list[LockEntry]:
    """uv.lock and poetry.lock: ``[[package]]`` tables with ``name`` and ``version``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LockfileError(f"{filename}: invalid TOML ({exc})") from None
    packages = data.get("package")
    if not isinstance(packages, list):
        return []
    name_lines = _toml_package_name_lines(text)
    lines: list[int | None] = list(name_lines) if len(name_lines) == len(packages) else [None] * len(packages)
    entries: list[LockEntry] = []
    for pkg, line in zip(packages, lines, strict=True):
        if not isinstance(pkg, dict):
            continue
        name, version = pkg.get("name"), pkg.get("version")
        if isinstance(name, str) and isinstance(version, str):
            entries.append(LockEntry(Ecosystem.PYPI, normalize_pypi(name), version, line))
    return entries


def parse_pipfile_lock(text: str, filename: str) -> list[LockEntry]:
    """Pipfile.lock: ``{"default": {"name": {"version": "==1.0"}}, "develop": {…}}``."""
    data = _load_json(text, filename)
    if not isinstance(data, dict):
        raise LockfileError(f"{filename}: expected a JSON object at the top")
    cursor = _LineCursor(text)
    entries: list[LockEntry] = []
    for section in ("default", "develop"):
        cursor.take(section)
        group = data.get(section)
        if not isinstance(group, dict):
            continue
        for name, meta in group.items():
            line = cursor.take(name)
            version = meta.get("version") if isinstance(meta, dict) else None
            if isinstance(version, str) and version.startswith("=="):
                entries.append(LockEntry(Ecosystem.PYPI, normalize_pypi(name), version[2:], line))
    return entries


def parse_requirements(text: str, filename: str) -> list[LockEntry]:
    """requirements*.txt: only exact pins (``name==1.0``) prove a version; ranges do not."""
    entries: list[LockEntry] = []
    for number, logical in _requirement_lines(text):
        ref = pypi_ref(logical)
        if ref is not None and ref.pinned and ref.version:
            entries.append(LockEntry(Ecosystem.PYPI, ref.name, ref.version, number))
    return entries


def _requirement_lines(text: str) -> Iterator[tuple[int, str]]:
    """Logical lines (continuations joined) without comments, options or hashes."""
    start: int | None = None
    buffer = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw)
        if start is None:
            start = number
        if line.rstrip().endswith("\\"):
            buffer += line.rstrip()[:-1] + " "
            continue
        buffer += line
        logical = re.split(r"\s--?[A-Za-z]", " " + buffer.strip(), maxsplit=1)[0].strip()
        if logical and not logical.startswith("-"):
            yield start, logical
        start, buffer = None, ""


@dataclass(frozen=True)
class LockfileFormat:
    id: str
    ecosystem: str
    patterns: tuple[str, ...]  # file-name globs in a project directory
    parser: Parser
    rationale: str


LOCKFILE_FORMATS: tuple[LockfileFormat, ...] = (
    LockfileFormat(
        "npm-lock",
        Ecosystem.NPM,
        ("package-lock.json", "npm-shrinkwrap.json", "node_modules/.package-lock.json"),
        parse_package_lock,
        "npm records every installed version, v1 nested or v2/v3 flat",
    ),
    LockfileFormat(
        "pnpm-lock",
        Ecosystem.NPM,
        ("pnpm-lock.yaml",),
        parse_pnpm_lock,
        "pnpm keys each package by name and exact version",
    ),
    LockfileFormat(
        "yarn-lock",
        Ecosystem.NPM,
        ("yarn.lock",),
        parse_yarn_lock,
        "yarn classic and berry resolve each range to one version",
    ),
    LockfileFormat(
        "bun-lock",
        Ecosystem.NPM,
        ("bun.lock",),
        parse_bun_lock,
        "bun's text lockfile lists name@version per package",
    ),
    LockfileFormat(
        "uv-lock",
        Ecosystem.PYPI,
        ("uv.lock",),
        _parse_toml_packages,
        "uv.lock pins every package of the project",
    ),
    LockfileFormat(
        "poetry-lock",
        Ecosystem.PYPI,
        ("poetry.lock",),
        _parse_toml_packages,
        "poetry.lock pins every package of the project",
    ),
    LockfileFormat(
        "pipfile-lock",
        Ecosystem.PYPI,
        ("Pipfile.lock",),
        parse_pipfile_lock,
        "pipenv pins every package with ==version",
    ),
    LockfileFormat(
        "requirements",
        Ecosystem.PYPI,
        ("requirements*.txt", "requirements/*.txt"),
        parse_requirements,
        "pip requirement files with ==pins, often generated by pip freeze",
    ),
)
