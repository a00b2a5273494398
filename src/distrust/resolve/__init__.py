"""Resolution: which package, and which version of it, a configured MCP server actually runs.

A config says ``npx -y postmark-mcp``; what runs is whichever version npx finds in its cache
or fetches today. This stage turns each :class:`~distrust.model.ServerSpec` into a
:class:`~distrust.model.ResolvedServer`: the package the command names (:mod:`.command`, from
the words alone; :mod:`.ondisk`, from manifests when the words name only a path), plus every
installed copy and every past installation the machine still shows (:mod:`.index`: npx cache,
global prefixes, project node_modules, uv/pipx venvs, lockfiles, npm debug logs).

Usage::

    ctx = ResolveContext(home=Path.home(), projects=(Path.cwd(),), env=os.environ)
    servers = resolve_all(specs, ctx)          # indexes the machine once for all servers
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from distrust.model import Ecosystem, Installation, Notice, PackageRef, ResolvedServer, ServerSpec
from distrust.resolve.command import Launch, LaunchKind, parse_command, safe_url, url_ref
from distrust.resolve.context import ResolveContext
from distrust.resolve.index import InstallIndex
from distrust.resolve.locations import Source
from distrust.resolve.ondisk import Finished, finish

__all__ = [
    "InstallIndex",
    "Launch",
    "LaunchKind",
    "Resolution",
    "ResolveContext",
    "parse_command",
    "parse_spec",
    "resolve",
    "resolve_all",
    "resolve_all_detailed",
]

# Why a resolution is partial, worded for the person reading the report.
NOTES = {
    "floating-with-copies": (
        "spec {spec!r} is not an exact version: the copy that runs is one of the installed "
        "versions found ({versions}) or whatever newer release the registry serves"
    ),
    "floating-no-copies": (
        "spec {spec!r} is not an exact version and no installed copy was found: the next "
        "start runs whatever the registry serves then"
    ),
    "pinned-not-installed": (
        "pinned to {version} but no installed copy was found: it is fetched on the next start"
    ),
    "remote": "remote server: nothing is installed locally, the endpoint's operator decides what runs",
    "nothing": "no package could be identified from the command",
}

_INDEXED = (Ecosystem.NPM, Ecosystem.PYPI)
_PAST_ONLY = (Source.LOCKFILE, Source.NPM_LOG)  # evidence of a past install, not a copy on disk now


@dataclass(frozen=True)
class Resolution:
    """Resolved servers plus what could not be read while looking (shown, never swallowed)."""

    servers: tuple[ResolvedServer, ...]
    notices: tuple[Notice, ...] = ()


def parse_spec(spec: ServerSpec, ctx: ResolveContext) -> Finished:
    """The package one server runs and the copies its own path points at; no index lookups."""
    if spec.url and not spec.command:
        return Finished(url_ref(spec.url), notes=(NOTES["remote"],))
    launch = parse_command(spec.command, spec.args)
    try:
        finished = finish(launch, spec, ctx)
    except OSError as exc:  # e.g. a permission-denied directory on the way to a script
        where = f" {exc.filename}" if exc.filename else ""
        reason = (exc.strerror or str(exc)).lower()
        fallback = launch.ref or (PackageRef(Ecosystem.LOCAL, launch.target) if launch.target else None)
        finished = Finished(fallback, notes=(f"could not inspect{where}: {reason}",))
    return Finished(finished.ref, finished.installed, (*launch.notes, *finished.notes, *_index_notes(spec)))


# Environment keys that point a launcher at another package index: the same name and version
# may then be different code. Values are shown as scheme://host/path only (they can hold tokens).
INDEX_ENV_KEYS = frozenset(
    {
        "npm_config_registry",
        "yarn_npm_registry_server",
        "bun_config_registry",
        "uv_index_url",
        "uv_default_index",
        "uv_extra_index_url",
        "uv_index",
        "pip_index_url",
        "pip_extra_index_url",
    }
)


def _index_notes(spec: ServerSpec) -> list[str]:
    notes = []
    for key, value in spec.env:
        if key.lower() in INDEX_ENV_KEYS:
            notes.append(
                f"package index set by the server's env {key}={safe_url(value)}: "
                "names and versions refer to that index, not the public registry"
            )
    return notes


def resolve(spec: ServerSpec, ctx: ResolveContext) -> ResolvedServer:
    """Resolve one server (indexes only the locations this one package needs)."""
    return resolve_all_detailed((spec,), ctx).servers[0]


def resolve_all(specs: Iterable[ServerSpec], ctx: ResolveContext) -> tuple[ResolvedServer, ...]:
    """Resolve many servers, walking each install location once for all of them."""
    return resolve_all_detailed(specs, ctx).servers


def resolve_all_detailed(specs: Iterable[ServerSpec], ctx: ResolveContext) -> Resolution:
    """Like :func:`resolve_all`, and also the notices for unreadable manifests, lockfiles, logs."""
    specs = tuple(specs)
    parsed = [parse_spec(spec, ctx) for spec in specs]
    wanted = {(p.ref.ecosystem, p.ref.name) for p in parsed if p.ref and p.ref.ecosystem in _INDEXED}
    index = InstallIndex(ctx, wanted)
    servers = tuple(_assemble(spec, p, index) for spec, p in zip(specs, parsed, strict=True))
    return Resolution(servers, index.notices)


def _assemble(spec: ServerSpec, parsed: Finished, index: InstallIndex) -> ResolvedServer:
    ref = parsed.ref
    installed: list[Installation] = list(parsed.installed)
    if ref and ref.ecosystem in _INDEXED:
        seen = {(i.source, str(i.path), i.ref.version, i.line) for i in installed}
        for inst in index.lookup(ref.ecosystem, ref.name):
            if (inst.source, str(inst.path), inst.ref.version, inst.line) not in seen:
                installed.append(inst)
    notes = [n for n in parsed.notes if n]
    notes.extend(_status_notes(ref, installed))
    return ResolvedServer(spec, ref, tuple(installed), tuple(dict.fromkeys(notes)))


def _version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Order versions numerically where they are numbers (1.0.9 < 1.0.16), for readable notes."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"[.+-]", version))


def _status_notes(ref: PackageRef | None, installed: list[Installation]) -> list[str]:
    if ref is None:
        return [NOTES["nothing"]]
    if ref.ecosystem not in _INDEXED:
        return []
    if ref.version and ref.spec is None:
        return []  # read from the package's own manifest on disk: exact, no registry involved
    if ref.version:
        on_disk = [i for i in installed if i.source not in _PAST_ONLY and i.ref.version == ref.version]
        return [] if on_disk else [NOTES["pinned-not-installed"].format(version=ref.version)]
    versions = sorted({i.ref.version for i in installed if i.ref.version}, key=_version_key)
    spec_text = ref.spec or "latest"
    if versions:
        return [NOTES["floating-with-copies"].format(spec=spec_text, versions=", ".join(versions))]
    return [NOTES["floating-no-copies"].format(spec=spec_text)]
