"""A content-addressed store of extracted archives, and a memo of which version is which archive.

Layout under the cache directory (``paths.cache_dir()`` unless told otherwise)::

    artifacts/<sha256 of archive>/archive        the original bytes, as downloaded
    artifacts/<sha256 of archive>/files/...      the safely extracted tree (0644 / 0755)
    artifacts/<sha256 of archive>/manifest.json  format, stripped prefix, skipped entries,
                                                 and the sha256 of every extracted file
    lookups/<registry id>/<ecosystem>/<name>/<version>.json
                                                 URL, registry hash and archive sha256 of an
                                                 exact version, so re-inspecting needs no network

Why content-addressed: the same bytes are extracted once however they were named, and the
directory name itself is the checksum of what it came from. Why a manifest of file hashes:
analysis results are only as good as the files analysed, and a cache lives in a user-writable
directory; an entry whose files no longer match is discarded and fetched again. Why memoise
lookups: registries delete malicious versions (npm removed postmark-mcp entirely), and the
evidence must stay inspectable offline, pinned to the hash seen the first time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from distrust.fetch.extract import ExtractLimits, extract_archive
from distrust.fsutil import atomic_write

MANIFEST_VERSION: Final = 2  # 2: control-character names are extracted under visible names


@dataclass(frozen=True)
class CacheEntry:
    """One verified entry of the artifact store."""

    path: Path
    archive_sha256: str
    format: str
    files: tuple[str, ...]
    file_sha256: dict[str, str] = field(hash=False)
    skipped: tuple[tuple[str, str], ...]
    stripped_prefix: str | None

    @property
    def root(self) -> Path:
        return self.path / "files"

    @property
    def archive(self) -> Path:
        return self.path / "archive"


_HASH_CHUNK: Final = 256 * 1024


def sha256_file(path: Path | str) -> str:
    """Hex sha256 of a file, read in chunks.

    Plain ``os.read`` on a descriptor: a cache hit hashes every file of the package (1,000+
    for lodash), and a buffered file object plus ``hashlib.file_digest`` cost twice as much
    per small file.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        digest = hashlib.sha256()
        while chunk := os.read(fd, _HASH_CHUNK):
            digest.update(chunk)
        return digest.hexdigest()
    finally:
        os.close(fd)


class ArtifactCache:
    """The store itself; every method is safe to call from concurrent processes."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.artifacts = base / "artifacts"
        self.lookups = base / "lookups"

    def scratch_file(self, suffix: str = "") -> Path:
        """A fresh temporary file on the same file system as the store (so it can be renamed in)."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".download-", suffix=suffix, dir=self.artifacts)
        os.close(fd)
        return Path(name)

    def load(self, archive_sha256: str) -> CacheEntry | None:
        """The entry for ``archive_sha256`` if present and intact; a damaged entry is deleted."""
        path = self.artifacts / archive_sha256
        if not path.is_dir():
            return None
        entry = _read_verified(path, archive_sha256)
        if entry is None:
            shutil.rmtree(path, ignore_errors=True)
        return entry

    def store(
        self, archive: Path, archive_sha256: str, *, limits: ExtractLimits | None = None, move: bool = False
    ) -> CacheEntry:
        """Extract ``archive`` (whose sha256 the caller has already verified) into the store.

        ``move`` hands over a scratch download instead of copying it. If another process
        stored the same archive meanwhile, its entry is used and ours discarded.
        """
        existing = self.load(archive_sha256)
        if existing is not None:
            if move:
                archive.unlink(missing_ok=True)
            return existing
        self.artifacts.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".new-", dir=self.artifacts))
        try:
            result = extract_archive(archive, staging / "files", limits=limits)
            if move:
                os.replace(archive, staging / "archive")
            else:
                shutil.copyfile(archive, staging / "archive")
            os.chmod(staging / "archive", 0o644)
            manifest = {
                "manifest_version": MANIFEST_VERSION,
                "archive_sha256": archive_sha256,
                "format": result.format,
                "stripped_prefix": result.stripped_prefix,
                "files": dict(sorted(result.file_sha256.items())),
                "skipped": [list(s) for s in result.skipped],
            }
            atomic_write(staging / "manifest.json", json.dumps(manifest, indent=1), mode=0o644)
            os.chmod(staging, 0o755)
            target = self.artifacts / archive_sha256
            try:
                os.rename(staging, target)
            except OSError:
                # Another process won the race (the target exists and is not empty).
                raced = self.load(archive_sha256)
                if raced is None:
                    raise
                return raced
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            if move:
                archive.unlink(missing_ok=True)
        entry = _read_verified(target, archive_sha256)
        if entry is None:  # pragma: no cover - only if the disk changed under us
            raise OSError(f"{target}: cache entry failed verification right after being written")
        return entry

    def get_lookup(self, registry: str, ecosystem: str, name: str, version: str) -> dict[str, Any] | None:
        """The memo for an exact version, or None (also when it is unreadable)."""
        path = self._lookup_path(registry, ecosystem, name, version)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) else None

    def put_lookup(
        self, registry: str, ecosystem: str, name: str, version: str, record: dict[str, Any]
    ) -> None:
        atomic_write(
            self._lookup_path(registry, ecosystem, name, version), json.dumps(record, indent=1), mode=0o644
        )

    def _lookup_path(self, registry: str, ecosystem: str, name: str, version: str) -> Path:
        # Names and versions were validated by the spec parser; encoding "/" keeps scopes flat.
        registry_id = hashlib.sha256(registry.encode("utf-8")).hexdigest()[:16]
        safe_name = name.replace("/", "%2f")
        return self.lookups / registry_id / ecosystem / safe_name / f"{version}.json"


def _regular_files(root: str) -> dict[str, str] | None:
    """Every file under ``root`` (posix path relative to it -> full path); None if any entry is
    a link or a special file.

    Types come from the directory entries (``d_type``), not one ``lstat`` per file; the
    ``DirEntry`` methods fall back to ``lstat`` on file systems that do not report types.
    Raises OSError when a directory cannot be listed.
    """
    present: dict[str, str] = {}
    pending = [("", root)]
    while pending:
        rel_dir, directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                if entry.is_dir(follow_symlinks=False):
                    pending.append((rel, entry.path))
                elif entry.is_file(follow_symlinks=False):
                    present[rel] = entry.path
                else:
                    return None
    return present


def _read_verified(path: Path, archive_sha256: str) -> CacheEntry | None:
    """Rebuild the entry from its manifest if every file still hashes as recorded, else None.

    Checked: the archive's own hash (it names the directory), the exact set of files (an
    added file would be analysed as if it came from the package), no links or special files,
    and each file's sha256.
    """
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        recorded: dict[str, str] = manifest["files"]
        if manifest.get("manifest_version") != MANIFEST_VERSION or not isinstance(recorded, dict):
            return None
        if sha256_file(path / "archive") != archive_sha256:
            return None
        present = _regular_files(str(path / "files"))
        if present is None or set(present) != set(recorded):
            return None
        for rel, full in present.items():
            if sha256_file(full) != recorded[rel]:
                return None
        skipped = tuple((str(p), str(r)) for p, r in manifest["skipped"])
        prefix = manifest.get("stripped_prefix")
        return CacheEntry(
            path=path,
            archive_sha256=archive_sha256,
            format=str(manifest["format"]),
            files=tuple(sorted(recorded)),
            file_sha256=dict(recorded),
            skipped=skipped,
            stripped_prefix=prefix if isinstance(prefix, str) else None,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
