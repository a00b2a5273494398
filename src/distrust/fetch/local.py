"""Local input: a directory analysed in place, and naming what a local tree or archive is.

A directory (a checkout of an MCP server, an unpacked package) is never copied or modified:
the artifact points at it. Its identity is a digest over every file's path and content, so
``diff`` and the lock can tell whether the tree changed. Links are not followed (a link to
``~/.ssh`` must not become "package content"), and tool directories that are not the
package's own code are listed as skipped rather than silently hashed or silently dropped.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from distrust.fetch.errors import FetchError, LimitExceeded
from distrust.fetch.extract import (
    ExtractLimits,
    clean_member_path,
    has_control_pictures,
    skip_reason,
    visible_name,
)
from distrust.fsutil import ReadError, read_text_capped
from distrust.model import Ecosystem, PackageRef

# Directories inside a local tree that are not the package's own code, and why.
LOCAL_DIR_EXCLUDES: Final[dict[str, str]] = {
    ".git": "version-control metadata, not package content",
    ".hg": "version-control metadata, not package content",
    ".svn": "version-control metadata, not package content",
    "node_modules": "installed dependencies; inspect each dependency as a package of its own",
    "__pycache__": "compiled bytecode cache",
}
MANIFEST_MAX_BYTES: Final = 1024 * 1024


class LocalTreeChanged(FetchError):
    """A file changed while the tree was being hashed, so the digest would describe nothing."""


@dataclass(frozen=True)
class TreeDigest:
    """The files of a directory and the ``sha256-tree:`` digest over them."""

    files: tuple[str, ...]
    integrity: str
    skipped: tuple[tuple[str, str], ...]


def digest_tree(root: Path, limits: ExtractLimits | None = None) -> TreeDigest:
    """List and hash the regular files under ``root`` without following any link.

    The digest is sha256 over, for each file in sorted path order, ``path NUL size NUL
    content``: the framing makes (path, content) pairs unambiguous, so no two different
    trees share a digest by shifting bytes between names and contents. The archive caps
    apply, because a directory can be as hostile as an archive.
    """
    limits = limits or ExtractLimits()
    found: list[str] = []
    skipped: list[tuple[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        kept = []
        for name in sorted(dirnames):
            rel = (base / name).relative_to(root).as_posix()
            if name in LOCAL_DIR_EXCLUDES:
                skipped.append((rel + "/", f"excluded: {LOCAL_DIR_EXCLUDES[name]}"))
            elif stat.S_ISLNK(os.lstat(base / name).st_mode):
                skipped.append((rel, skip_reason("symlink", f"-> {os.readlink(base / name)}")))
            else:
                kept.append(name)
        dirnames[:] = kept
        for name in filenames:
            rel = (base / name).relative_to(root).as_posix()
            mode = os.lstat(base / name).st_mode
            clean, problem = clean_member_path(rel)
            if problem is not None or clean != rel:
                # A directory is read in place, so a file can only be analysed under its real
                # name; names with control characters are listed (visibly), not read.
                shown = visible_name(rel.encode("utf-8", "replace").decode("utf-8"))
                why = "control-char" if has_control_pictures(clean or "") else "bad-encoding"
                reason = problem or skip_reason(why)
                skipped.append((shown, reason))
            elif stat.S_ISLNK(mode):
                skipped.append((rel, skip_reason("symlink", f"-> {os.readlink(base / name)}")))
            elif not stat.S_ISREG(mode):
                skipped.append((rel, skip_reason("special")))
            else:
                found.append(rel)
                if len(found) > limits.max_files:
                    raise LimitExceeded(
                        f"directory has more than {limits.max_files} files (cap max_files)",
                        str(root),
                        cap="max_files",
                    )
    found.sort()
    digest = hashlib.sha256()
    total = 0
    for rel in found:
        fd = os.open(root / rel, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > limits.max_file_bytes:
                raise LimitExceeded(
                    f"{rel} is larger than {limits.max_file_bytes} bytes (cap max_file_bytes)",
                    str(root),
                    cap="max_file_bytes",
                )
            total += size
            if total > limits.max_total_bytes:
                raise LimitExceeded(
                    f"directory holds more than {limits.max_total_bytes} bytes (cap max_total_bytes)",
                    str(root),
                    cap="max_total_bytes",
                )
            digest.update(rel.encode("utf-8") + b"\0" + str(size).encode() + b"\0")
            seen = 0
            for chunk in iter(lambda: fh.read(1024 * 1024), b""):
                seen += len(chunk)
                if seen > size:
                    break
                digest.update(chunk)
            if seen != size:
                raise LocalTreeChanged(f"{rel} changed size while being read; try again", str(root))
    return TreeDigest(tuple(found), "sha256-tree:" + digest.hexdigest(), tuple(skipped))


def identify(root: Path, files: tuple[str, ...], fallback_name: str) -> tuple[PackageRef, tuple[str, ...]]:
    """Name a local tree from its own manifest (package.json, PKG-INFO, wheel METADATA, pyproject).

    Only data files are read, never executed. Returns the ref and notes about manifests that
    could not be read; a tree with no readable manifest is ``Ecosystem.LOCAL``.
    """
    notes: list[str] = []
    present = set(files)
    if "package.json" in present:
        ref = _from_package_json(root / "package.json", notes)
        if ref:
            return ref, tuple(notes)
    metadata = ["PKG-INFO"] if "PKG-INFO" in present else []
    metadata += sorted(f for f in files if re.fullmatch(r"[^/]+\.dist-info/METADATA", f))
    for rel in metadata:
        ref = _from_core_metadata(root / rel, notes)
        if ref:
            return ref, tuple(notes)
    if "pyproject.toml" in present:
        ref = _from_pyproject(root / "pyproject.toml", notes)
        if ref:
            return ref, tuple(notes)
    return PackageRef(Ecosystem.LOCAL, fallback_name), tuple(notes)


def _from_package_json(path: Path, notes: list[str]) -> PackageRef | None:
    try:
        doc = json.loads(read_text_capped(path, MANIFEST_MAX_BYTES))
    except (ReadError, ValueError) as exc:
        notes.append(f"package.json could not be read: {exc}")
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        notes.append("package.json has no 'name'")
        return None
    version = doc.get("version") if isinstance(doc.get("version"), str) else None
    return PackageRef(Ecosystem.NPM, doc["name"], version, pinned=version is not None)


def _from_core_metadata(path: Path, notes: list[str]) -> PackageRef | None:
    try:
        import email.parser  # ~8 ms to import; only a local Python project needs it

        headers = email.parser.HeaderParser().parsestr(read_text_capped(path, MANIFEST_MAX_BYTES))
    except ReadError as exc:
        notes.append(f"{path.name} could not be read: {exc}")
        return None
    name, version = headers.get("Name"), headers.get("Version")
    if not name:
        return None
    return PackageRef(
        Ecosystem.PYPI, str(name).strip(), str(version).strip() if version else None, pinned=bool(version)
    )


def _from_pyproject(path: Path, notes: list[str]) -> PackageRef | None:
    try:
        doc = tomllib.loads(read_text_capped(path, MANIFEST_MAX_BYTES))
    except (ReadError, tomllib.TOMLDecodeError) as exc:
        notes.append(f"pyproject.toml could not be read: {exc}")
        return None
    project = doc.get("project")
    if not isinstance(project, dict) or not isinstance(project.get("name"), str):
        return None
    version = project.get("version") if isinstance(project.get("version"), str) else None
    return PackageRef(Ecosystem.PYPI, project["name"], version, pinned=version is not None)
