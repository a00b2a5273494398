"""One pass over the machine's install locations, answering "which copies of X are here?".

A scan can hold hundreds of servers; walking the npx cache, every global prefix, every
lockfile and every npm log once per server would be quadratic. :class:`InstallIndex` walks each
location once, lists directory names (cheap), and reads a ``package.json`` or parses a
``dist-info`` name only for the packages some server actually references.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from distrust.fsutil import ReadError, read_text_capped
from distrust.model import Ecosystem, Installation, Notice, PackageRef
from distrust.resolve.context import ResolveContext
from distrust.resolve.locations import LOCATIONS, Location, Shape, Source, expand
from distrust.resolve.lockfiles import LOCKFILE_FORMATS, LockfileError, Parser
from distrust.resolve.names import dist_info_name_version, normalize, normalize_npm
from distrust.resolve.npmlog import LOG_NAME, log_time, scan_log

MANIFEST_MAX_BYTES = 1024 * 1024  # a package.json larger than this is not a real manifest
LOCKFILE_MAX_BYTES = 64 * 1024 * 1024  # monorepo lockfiles reach tens of MB
LOG_MAX_BYTES = 64 * 1024 * 1024

Key = tuple[str, str]  # (ecosystem, normalised name)


def mtime_utc(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except OSError:
        return None


def _listdir(path: Path) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def read_package_json(path: Path) -> tuple[str, str | None]:
    """(name, version) from a package.json; raises ReadError saying why it is unusable."""
    text = read_text_capped(path, MANIFEST_MAX_BYTES)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReadError(path, f"line {exc.lineno}: invalid JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise ReadError(path, 'has no "name" field')
    version = data.get("version")
    return data["name"], version if isinstance(version, str) else None


class InstallIndex:
    """Installed copies and past installations of the wanted packages, found in one pass."""

    def __init__(self, ctx: ResolveContext, wanted: Iterable[Key]) -> None:
        self.ctx = ctx
        self.wanted: frozenset[Key] = frozenset((eco, normalize(eco, name)) for eco, name in wanted)
        self._found: dict[Key, list[Installation]] = {}
        self._notices: list[Notice] = []
        self._seen: set[tuple[Key, str, str, str | None, int | None]] = set()
        self._npm = frozenset(name for eco, name in self.wanted if eco == Ecosystem.NPM)
        self._pypi = frozenset(name for eco, name in self.wanted if eco == Ecosystem.PYPI)
        self._npm_scopes = frozenset(name.split("/", 1)[0] for name in self._npm if name.startswith("@"))
        if self.wanted:
            self._build()

    @property
    def notices(self) -> tuple[Notice, ...]:
        return tuple(self._notices)

    def lookup(self, ecosystem: str, name: str) -> tuple[Installation, ...]:
        return tuple(self._found.get((ecosystem, normalize(ecosystem, name)), ()))

    # -- building ----------------------------------------------------------------------

    def _add(self, inst: Installation) -> None:
        key = (inst.ref.ecosystem, normalize(inst.ref.ecosystem, inst.ref.name))
        ident = (key, inst.source, str(inst.path), inst.ref.version, inst.line)
        if ident in self._seen:
            return
        self._seen.add(ident)
        self._found.setdefault(key, []).append(inst)

    def _build(self) -> None:
        for location in LOCATIONS:
            # One unreadable location (permission denied, a vanished mount) must not hide the rest.
            try:
                self._scan_location(location)
            except OSError as exc:
                reason = (exc.strerror or str(exc)).lower()
                where = Path(exc.filename) if isinstance(exc.filename, str) else None
                self._notices.append(Notice(f"cannot search {location.id}: {reason}", where))
        for project in self.ctx.projects:
            try:
                self._scan_lockfiles(project)
            except OSError as exc:
                self._notices.append(
                    Notice(f"cannot search lockfiles: {(exc.strerror or str(exc)).lower()}", project)
                )

    def _scan_location(self, location: Location) -> None:
        if location.shape == Shape.NODE_MODULES and self._npm:
            for root in expand(location, self.ctx):
                self._scan_node_modules(root, location.source)
        elif location.shape == Shape.SITE_PACKAGES and self._pypi:
            for root in expand(location, self.ctx):
                self._scan_site_packages(root, location.source)
        elif location.shape == Shape.NPM_LOGS and self._npm:
            for root in expand(location, self.ctx):
                self._scan_npm_logs(root)

    def _scan_node_modules(self, root: Path, source: str) -> None:
        for entry in _listdir(root):
            if entry.startswith("."):
                continue
            if entry.startswith("@"):
                if entry.lower() not in self._npm_scopes:
                    continue
                for sub in _listdir(root / entry):
                    name = f"{entry}/{sub}"
                    if normalize_npm(name) in self._npm:
                        self._add_node_package(root / entry / sub, source)
            elif normalize_npm(entry) in self._npm:
                self._add_node_package(root / entry, source)

    def _add_node_package(self, package_dir: Path, source: str) -> None:
        manifest = package_dir / "package.json"
        if not manifest.exists():
            return  # an empty or half-removed directory is not an installation
        try:
            name, version = read_package_json(manifest)
        except ReadError as exc:
            self._notices.append(Notice(f"cannot read installed package: {exc.reason}", manifest))
            return
        ref = PackageRef(Ecosystem.NPM, normalize_npm(name), version, version is not None)
        self._add(Installation(ref, source, manifest, when=mtime_utc(package_dir)))

    def _scan_site_packages(self, root: Path, source: str) -> None:
        for entry in _listdir(root):
            parsed = dist_info_name_version(entry)
            if parsed and parsed[0] in self._pypi:
                path = root / entry
                ref = PackageRef(Ecosystem.PYPI, parsed[0], parsed[1], True)
                self._add(Installation(ref, source, path, when=mtime_utc(path)))

    def _scan_npm_logs(self, root: Path) -> None:
        for entry in _listdir(root):
            if not LOG_NAME.match(entry):
                continue
            path = root / entry
            try:
                text = read_text_capped(path, LOG_MAX_BYTES)
            except ReadError as exc:
                self._notices.append(Notice(f"cannot read npm log: {exc.reason}", path))
                continue
            when = log_time(path)
            for hit in scan_log(text, self._npm):
                ref = PackageRef(Ecosystem.NPM, hit.name, hit.version, True)
                self._add(Installation(ref, Source.NPM_LOG, path, when=when, line=hit.line))

    def _scan_lockfiles(self, project: Path) -> None:
        for fmt in LOCKFILE_FORMATS:
            names = self._npm if fmt.ecosystem == Ecosystem.NPM else self._pypi
            if not names:
                continue
            for pattern in fmt.patterns:
                paths = sorted(project.glob(pattern)) if "*" in pattern else [project / pattern]
                for path in paths:
                    if path.is_file():
                        self._read_lockfile(path, fmt.parser, fmt.ecosystem, names)

    def _read_lockfile(self, path: Path, parser: Parser, ecosystem: str, names: frozenset[str]) -> None:
        try:
            text = read_text_capped(path, LOCKFILE_MAX_BYTES)
            entries = parser(text, str(path))
        except ReadError as exc:
            self._notices.append(Notice(f"cannot read lockfile: {exc.reason}", path))
            return
        except LockfileError as exc:
            self._notices.append(Notice(str(exc), path))
            return
        for entry in entries:
            if entry.name in names:
                ref = PackageRef(ecosystem, entry.name, entry.version, True)
                self._add(Installation(ref, Source.LOCKFILE, path, line=entry.line))
