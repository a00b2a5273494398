"""Finish a :class:`Launch` with what the disk says: whose package a script or binary belongs to.

``node ~/proj/node_modules/postmark-mcp/dist/index.js`` names no package on the command line,
but the file sits in an installed package whose ``package.json`` says exactly which version
runs. The same holds for a binary symlinked into a global ``node_modules`` and for a console
script in a virtualenv. Nothing here executes or imports what it finds: it reads manifests and
directory names only.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from distrust.fsutil import ReadError, read_text_capped
from distrust.model import Ecosystem, Installation, PackageRef, ServerSpec
from distrust.resolve.command import Launch, LaunchKind
from distrust.resolve.context import ResolveContext
from distrust.resolve.index import mtime_utc, read_package_json
from distrust.resolve.locations import Source
from distrust.resolve.names import dist_info_name_version, normalize_npm, normalize_pypi

MAX_WALK_UP = 64  # deeper than any real install; stops a walk on odd mounts
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|%[A-Za-z_]+%")  # ${workspaceFolder}, %APPDATA%
METADATA_MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Finished:
    """A launch completed from disk: the package, copies its own path proves, and why it is partial."""

    ref: PackageRef | None
    installed: tuple[Installation, ...] = ()
    notes: tuple[str, ...] = ()


def finish(launch: Launch, spec: ServerSpec, ctx: ResolveContext) -> Finished:
    """The package a launch runs, using manifests on disk where the command line is not enough."""
    if launch.kind == LaunchKind.PACKAGE:
        return Finished(launch.ref)
    if launch.kind == LaunchKind.NODE_SCRIPT and launch.target:
        return _node_script(launch.target, launch.cwd or spec.cwd, ctx)
    if launch.kind == LaunchKind.BINARY and launch.target:
        return _binary(launch.target, launch.cwd or spec.cwd, ctx)
    if launch.kind == LaunchKind.PROJECT_BIN and launch.target:
        return _project_bin(launch.target, spec.cwd, ctx)
    if launch.kind == LaunchKind.PYTHON_MODULE and launch.target:
        return _python_module(launch.target, launch.python, launch.cwd or spec.cwd, ctx)
    if launch.kind == LaunchKind.PYTHON_SCRIPT and launch.target:
        path, note = _locate(launch.target, launch.cwd or spec.cwd, ctx)
        shown = str(path) if path else launch.target
        return Finished(PackageRef(Ecosystem.LOCAL, shown), notes=(note,) if note else ())
    return Finished(None)


def _locate(text: str, cwd: str | None, ctx: ResolveContext) -> tuple[Path | None, str | None]:
    """A path from a config made absolute, or None with the reason it cannot be."""
    if _PLACEHOLDER.search(text):
        return None, f"path {text!r} uses a client variable that only the client can expand"
    if text == "~" or text.startswith(("~/", "~\\")):
        return ctx.home / text[2:], None
    path = Path(text)
    if path.is_absolute():
        return path, None
    if cwd and not _PLACEHOLDER.search(cwd):
        base = ctx.home / cwd[2:] if cwd.startswith("~/") else Path(cwd)
        return base / path, None
    return None, f"relative path {text!r} without a working directory: cannot tell which file runs"


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # symlink loop
        return path


def _nearest_package(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` with a package.json that has a name.

    ``dist/package.json`` files holding only ``{"type": "module"}`` are skipped.
    """
    current = start
    for _ in range(MAX_WALK_UP):
        manifest = current / "package.json"
        if manifest.is_file():
            try:
                read_package_json(manifest)
                return current
            except ReadError:
                pass
        if current.parent == current:
            return None
        current = current.parent
    return None


def _in_node_modules(package_dir: Path) -> bool:
    parent = package_dir.parent
    if parent.name.startswith("@"):
        parent = parent.parent
    return parent.name == "node_modules"


def _source_for(package_dir: Path) -> str:
    parts = package_dir.parts
    if "_npx" in parts:
        return Source.NPX_CACHE
    text = package_dir.as_posix()
    if "/lib/node_modules/" in text or "/.volta/" in text or "/install/global/" in text:
        return Source.NPM_GLOBAL
    return Source.NODE_MODULES


def _npm_from_file(path: Path) -> Finished | None:
    """The npm package that owns ``path`` when it sits inside node_modules, else None."""
    real = _real(path)
    package_dir = _nearest_package(real.parent if not real.is_dir() else real)
    if package_dir is None or not _in_node_modules(package_dir):
        return None
    manifest = package_dir / "package.json"
    name, version = read_package_json(manifest)  # readable: _nearest_package checked it
    ref = PackageRef(Ecosystem.NPM, normalize_npm(name), version, version is not None)
    inst = Installation(ref, _source_for(package_dir), manifest, when=mtime_utc(package_dir))
    notes = () if version else (f"{manifest} has no version",)
    return Finished(ref, (inst,), notes)


def _node_script(target: str, cwd: str | None, ctx: ResolveContext) -> Finished:
    path, note = _locate(target, cwd, ctx)
    if path is None:
        return Finished(PackageRef(Ecosystem.LOCAL, target), notes=(note or "",))
    if not path.exists():
        return Finished(PackageRef(Ecosystem.LOCAL, str(path)), notes=(f"script {path} does not exist",))
    found = _npm_from_file(path)
    if found:
        return found
    return Finished(PackageRef(Ecosystem.LOCAL, str(path)))


def _which(name: str, ctx: ResolveContext, cwd: str | None) -> Path | None:
    """Find a program the way the client's shell would, using the configured PATH only."""
    search: list[str] = []
    if cwd:
        base = Path(cwd)
        search += [str(base / ".venv" / "bin"), str(base / "node_modules" / ".bin")]
    path_var = ctx.env.get("PATH")
    if path_var:
        search += path_var.split(os.pathsep)
    if not search:
        return None
    found = shutil.which(name, path=os.pathsep.join(search))
    return Path(found) if found else None


def _binary(target: str, cwd: str | None, ctx: ResolveContext) -> Finished:
    if "/" in target or "\\" in target or target.startswith("~"):
        path, note = _locate(target, cwd, ctx)
        if path is None:
            return Finished(PackageRef(Ecosystem.LOCAL, target), notes=(note or "",))
    else:
        path = _which(target, ctx, cwd)
        if path is None:
            return Finished(
                PackageRef(Ecosystem.LOCAL, target),
                notes=(f"program {target!r} not found on the configured PATH",),
            )
    if not path.exists():
        return Finished(PackageRef(Ecosystem.LOCAL, str(path)), notes=(f"program {path} does not exist",))
    found = _npm_from_file(path)
    if found:
        return found
    venv_found = _venv_console_script(path, target)
    if venv_found:
        return venv_found
    return Finished(PackageRef(Ecosystem.LOCAL, str(path)))


def _project_bin(name: str, cwd: str | None, ctx: ResolveContext) -> Finished:
    dirs = ([Path(cwd)] if cwd else []) + list(ctx.projects)
    for directory in dirs:
        shim = directory / "node_modules" / ".bin" / name
        if shim.exists():
            found = _npm_from_file(shim)
            if found:
                return found
    return Finished(
        PackageRef(Ecosystem.LOCAL, name),
        notes=(f"bin {name!r} not found in a project node_modules/.bin: cannot tell its package",),
    )


# --- Python -------------------------------------------------------------------------------


def _venv_root(path: Path) -> Path | None:
    """The virtualenv a program lives in (``<venv>/bin/x`` with ``<venv>/pyvenv.cfg``)."""
    parent = path.parent
    if parent.name in ("bin", "Scripts") and (parent.parent / "pyvenv.cfg").is_file():
        return parent.parent
    return None


def _site_packages(venv: Path) -> list[Path]:
    found = [*sorted(venv.glob("lib/python*/site-packages")), venv / "Lib" / "site-packages"]
    return [p for p in found if p.is_dir()]


def _dist_infos(site: Path) -> list[tuple[str, str, Path]]:
    out = []
    try:
        names = sorted(os.listdir(site))
    except OSError:
        return []
    for entry in names:
        parsed = dist_info_name_version(entry)
        if parsed:
            out.append((parsed[0], parsed[1], site / entry))
    return out


def _source_for_venv(site: Path) -> str:
    text = site.as_posix()
    if "/uv/tools/" in text:
        return Source.UV_TOOL
    if "/pipx/" in text:
        return Source.PIPX
    if "/uv/" in text and "/archive-v0/" in text:
        return Source.UV_CACHE
    return Source.VENV


def _pypi_finished(name: str, version: str, dist_info: Path, site: Path) -> Finished:
    ref = PackageRef(Ecosystem.PYPI, name, version, True)
    return Finished(ref, (Installation(ref, _source_for_venv(site), dist_info, when=mtime_utc(dist_info)),))


def _console_scripts(dist_info: Path) -> set[str]:
    path = dist_info / "entry_points.txt"
    if not path.is_file():
        return set()
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    try:
        parser.read_string(read_text_capped(path, METADATA_MAX_BYTES))
    except (ReadError, configparser.Error):
        return set()
    if not parser.has_section("console_scripts"):
        return set()
    return {key.lower() for key in parser["console_scripts"]}


def _venv_console_script(path: Path, target: str) -> Finished | None:
    """The dist whose ``console_scripts`` entry point is this venv program (uv tool, pipx)."""
    real = _real(path)
    venv = _venv_root(real) or _venv_root(path)
    if venv is None:
        return None
    exe = re.sub(r"\.exe$", "", real.name, flags=re.IGNORECASE).lower()
    for site in _site_packages(venv):
        for _name, _version, dist_info in _dist_infos(site):
            if exe in _console_scripts(dist_info):
                return _pypi_finished(_name, _version, dist_info, site)
    return None


def _module_owner(site: Path, module: str) -> Finished | None:
    """The dist in ``site`` that provides top-level module ``module``."""
    top = module.split(".", 1)[0]
    dists = _dist_infos(site)
    # Fast path: most dists are named after their module (mcp_server_fetch ↔ mcp-server-fetch).
    for name, version, dist_info in dists:
        if name == normalize_pypi(top):
            return _pypi_finished(name, version, dist_info, site)
    for name, version, dist_info in dists:
        if top in _top_levels(dist_info):
            return _pypi_finished(name, version, dist_info, site)
    return None


def _top_levels(dist_info: Path) -> set[str]:
    top_level = dist_info / "top_level.txt"
    try:
        if top_level.is_file():
            return {
                line.strip()
                for line in read_text_capped(top_level, METADATA_MAX_BYTES).splitlines()
                if line.strip()
            }
        record = dist_info / "RECORD"
        if record.is_file():
            tops = set()
            for line in read_text_capped(record, METADATA_MAX_BYTES).splitlines():
                first = line.split(",", 1)[0].split("/", 1)[0]
                if first and not first.endswith((".dist-info", ".data")) and first != "..":
                    tops.add(first[:-3] if first.endswith(".py") else first)
            return tops
    except ReadError:
        pass
    return set()


def _python_module(module: str, python: str | None, cwd: str | None, ctx: ResolveContext) -> Finished:
    venvs: list[Path] = []
    if python and ("/" in python or "\\" in python or python.startswith("~")):
        path, _ = _locate(python, cwd, ctx)
        if path is not None:
            venv = _venv_root(path)
            if venv:
                venvs.append(venv)
    bases = ([Path(cwd)] if cwd and not _PLACEHOLDER.search(cwd) else []) + list(ctx.projects)
    for base in bases:
        venvs += [base / name for name in (".venv", "venv", "env") if (base / name / "pyvenv.cfg").is_file()]
    sites = [site for venv in venvs for site in _site_packages(venv)]
    sites += [root for root in ctx.system_roots if root.name in ("site-packages", "dist-packages")]
    for site in sites:
        found = _module_owner(site, module)
        if found:
            return found
    return Finished(
        PackageRef(Ecosystem.LOCAL, module),
        notes=(
            f"module {module!r} not found in a virtualenv distrust can see: "
            "it may be project code or come from a system Python",
        ),
    )
