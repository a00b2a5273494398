"""``fetch``: turn a spec into a verified, extracted, read-only :class:`Artifact`, running nothing.

The order of operations is the security argument:

1. resolve the version to a URL and the hash the registry publishes for it;
2. download to a scratch file, hashing while streaming, and refuse any mismatch;
3. only then extract, with :mod:`distrust.fetch.extract`'s caps and path rules;
4. remember the version → (URL, hash, archive) link, so the next fetch of the same version
   uses the cache without any network request, and stays pinned to the hash seen first.

Nothing from the package is imported, required or executed at any step.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distrust import paths
from distrust.fetch.cache import ArtifactCache, CacheEntry, sha256_file
from distrust.fetch.errors import FetchError, IntegrityError, LimitExceeded
from distrust.fetch.extract import ExtractLimits
from distrust.fetch.http import Http, ProgressCallback, borrowed
from distrust.fetch.local import digest_tree, identify
from distrust.fetch.npm import npm_dist, npm_registry_url
from distrust.fetch.pypi import Prefer, canonical_name, pypi_file, pypi_index_url
from distrust.fetch.records import FetchedArtifact
from distrust.fetch.spec import ARCHIVE_SUFFIXES, ArtifactSpec, parse_spec
from distrust.model import Ecosystem, PackageRef

Display = Callable[[str, bytes], str]

WEAK_SHA1_NOTE = (
    "the registry published only a sha1 shasum for this version (no sha512 integrity); "
    "sha1 is a weaker guarantee that the bytes are the ones published"
)
LOCAL_ARCHIVE_NOTE = (
    "local archive: its sha256 was computed here; there is no registry hash to check it against"
)
LOCAL_DIR_NOTE = "local directory analysed in place: its digest was computed here, nothing vouches for it"


def fetch(
    spec: ArtifactSpec | str,
    *,
    npm_registry: str | None = None,
    pypi_index: str | None = None,
    cache_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    prefer: Prefer = "sdist",
    limits: ExtractLimits | None = None,
    http: Http | None = None,
) -> FetchedArtifact:
    """Obtain the exact files of one package version, verified, without executing any of them.

    ``spec`` is an :class:`ArtifactSpec` or text for :func:`parse_spec`. ``prefer`` chooses
    between a PyPI release's sdist and its pure wheel. ``progress(done, total)`` is called
    while downloading. Raises :class:`FetchError` (or a subclass) for every failure.
    """
    parsed = parse_spec(spec) if isinstance(spec, str) else spec
    cache = ArtifactCache(cache_dir or paths.cache_dir())
    limits = limits or ExtractLimits()
    try:
        if parsed.kind == "directory":
            return _fetch_directory(parsed, limits)
        if parsed.kind == "archive":
            return _fetch_archive(parsed, cache, limits)
        with borrowed(http) as client:
            if parsed.kind == "npm":
                return _fetch_npm(parsed, npm_registry_url(npm_registry), cache, client, limits, progress)
            return _fetch_pypi(parsed, pypi_index_url(pypi_index), prefer, cache, client, limits, progress)
    except OSError as exc:
        # Our own disk (cache directory full or unwritable), not the package: say which file.
        where = str(exc.filename) if exc.filename else None
        raise FetchError(f"file system error: {exc.strerror or exc}", where) from None


def _fetch_npm(
    spec: ArtifactSpec,
    registry: str,
    cache: ArtifactCache,
    http: Http,
    limits: ExtractLimits,
    progress: ProgressCallback | None,
) -> FetchedArtifact:
    assert spec.name is not None
    if spec.version:
        memo = cache.get_lookup(registry, Ecosystem.NPM, spec.name, spec.version)
        if memo is not None:
            found = _from_memo(memo, spec, cache, http, limits, progress)
            if found is not None:
                return found
    dist = npm_dist(spec.name, spec.version, registry, http=http)
    entry = _download_verified(
        http, cache, dist.tarball, dist.algorithm, dist.expected, _sri_display, limits, progress
    )
    memo = {
        "ecosystem": Ecosystem.NPM,
        "name": dist.name,
        "version": dist.version,
        "url": dist.tarball,
        "algorithm": dist.algorithm,
        "expected_hex": dist.expected.hex(),
        "integrity": dist.integrity,
        "archive_sha256": entry.archive_sha256,
        "weak": dist.weak,
    }
    cache.put_lookup(registry, Ecosystem.NPM, dist.name, dist.version, memo)
    return _registry_artifact(memo, spec, entry, from_cache=False)


def _fetch_pypi(
    spec: ArtifactSpec,
    index: str,
    prefer: Prefer,
    cache: ArtifactCache,
    http: Http,
    limits: ExtractLimits,
    progress: ProgressCallback | None,
) -> FetchedArtifact:
    assert spec.name is not None
    project = canonical_name(spec.name)
    if spec.version:
        memo = cache.get_lookup(index, Ecosystem.PYPI, project, f"{spec.version}@{prefer}")
        if memo is not None:
            found = _from_memo(memo, spec, cache, http, limits, progress)
            if found is not None:
                return found
    chosen = pypi_file(spec.name, spec.version, index, prefer=prefer, http=http)
    expected = bytes.fromhex(chosen.sha256)
    entry = _download_verified(http, cache, chosen.url, "sha256", expected, _hex_display, limits, progress)
    memo = {
        "ecosystem": Ecosystem.PYPI,
        "name": chosen.name,
        "version": chosen.version,
        "url": chosen.url,
        "algorithm": "sha256",
        "expected_hex": chosen.sha256,
        "integrity": f"sha256:{chosen.sha256}",
        "archive_sha256": entry.archive_sha256,
        "weak": False,
        "filename": chosen.filename,
        "kind": chosen.kind,
    }
    for version in {chosen.version, spec.version or chosen.version}:
        cache.put_lookup(index, Ecosystem.PYPI, project, f"{version}@{prefer}", memo)
    return _registry_artifact(memo, spec, entry, from_cache=False)


def _from_memo(
    memo: dict[str, Any],
    spec: ArtifactSpec,
    cache: ArtifactCache,
    http: Http,
    limits: ExtractLimits,
    progress: ProgressCallback | None,
) -> FetchedArtifact | None:
    """Serve an exact version from the cache; re-download (same URL, same pinned hash) if the
    entry is gone or damaged. ``None`` means the memo itself is unusable: resolve afresh."""
    try:
        url, algorithm = str(memo["url"]), str(memo["algorithm"])
        expected = bytes.fromhex(str(memo["expected_hex"]))
        archive_sha256 = str(memo["archive_sha256"])
        if not all(isinstance(memo.get(key), str) for key in ("ecosystem", "name", "version", "integrity")):
            return None
    except (KeyError, ValueError, TypeError):
        return None
    entry = cache.load(archive_sha256)
    if entry is not None:
        return _registry_artifact(memo, spec, entry, from_cache=True)
    display = HASH_DISPLAY.get(str(memo["ecosystem"]), _hex_display)
    entry = _download_verified(http, cache, url, algorithm, expected, display, limits, progress)
    return _registry_artifact(memo, spec, entry, from_cache=False)


def _download_verified(
    http: Http,
    cache: ArtifactCache,
    url: str,
    algorithm: str,
    expected: bytes,
    display: Display,
    limits: ExtractLimits,
    progress: ProgressCallback | None,
) -> CacheEntry:
    """Download, check the registry's hash, and only then extract into the cache."""
    scratch = cache.scratch_file()
    try:
        algorithms = tuple(dict.fromkeys(("sha256", algorithm)))
        digests = http.download(
            url, scratch, max_bytes=limits.max_total_bytes, algorithms=algorithms, progress=progress
        )
        actual = digests[algorithm]
        if actual != expected:
            raise IntegrityError(
                f"integrity mismatch: expected {display(algorithm, expected)}, "
                f"got {display(algorithm, actual)}; the downloaded file is not the one the registry "
                "published, so it was refused",
                url,
            )
        return cache.store(scratch, digests["sha256"].hex(), limits=limits, move=True)
    finally:
        scratch.unlink(missing_ok=True)


def _sri_display(algorithm: str, raw: bytes) -> str:
    """npm spells hashes as subresource-integrity strings; show mismatches the same way."""
    return f"{algorithm}-{base64.b64encode(raw).decode()}"


def _hex_display(algorithm: str, raw: bytes) -> str:
    """PyPI spells hashes in hex."""
    return f"{algorithm}:{raw.hex()}"


# How each ecosystem writes a hash, so a mismatch message matches what the registry shows.
HASH_DISPLAY: dict[str, Display] = {Ecosystem.NPM: _sri_display, Ecosystem.PYPI: _hex_display}


def _registry_artifact(
    memo: dict[str, Any], spec: ArtifactSpec, entry: CacheEntry, *, from_cache: bool
) -> FetchedArtifact:
    ecosystem = str(memo["ecosystem"])
    version = str(memo["version"])
    weak = bool(memo.get("weak"))
    return FetchedArtifact(
        ref=PackageRef(
            ecosystem, str(memo["name"]), version, pinned=spec.version == version, spec=spec.version
        ),
        root=entry.root,
        files=entry.files,
        integrity=str(memo["integrity"]),
        source=str(memo["url"]),
        skipped=entry.skipped,
        notes=(WEAK_SHA1_NOTE,) if weak else (),
        archive=entry.archive,
        archive_sha256=entry.archive_sha256,
        weak_integrity=weak,
        from_cache=from_cache,
    )


def _fetch_archive(spec: ArtifactSpec, cache: ArtifactCache, limits: ExtractLimits) -> FetchedArtifact:
    assert spec.path is not None
    path = spec.path.resolve()
    size = path.stat().st_size
    if size > limits.max_total_bytes:
        raise LimitExceeded(
            f"archive is {size} bytes, more than {limits.max_total_bytes} (cap max_total_bytes)",
            str(path),
            cap="max_total_bytes",
        )
    digest = sha256_file(path)
    entry = cache.load(digest)
    from_cache = entry is not None
    if entry is None:
        entry = cache.store(path, digest, limits=limits)
    fallback = path.name
    for suffix in ARCHIVE_SUFFIXES:
        if fallback.lower().endswith(suffix):
            fallback = fallback[: -len(suffix)]
            break
    ref, notes = identify(entry.root, entry.files, fallback)
    return FetchedArtifact(
        ref=ref,
        root=entry.root,
        files=entry.files,
        integrity=f"sha256:{digest}",
        source=str(path),
        skipped=entry.skipped,
        notes=(LOCAL_ARCHIVE_NOTE, *notes),
        archive=entry.archive,
        archive_sha256=digest,
        from_cache=from_cache,
    )


def _fetch_directory(spec: ArtifactSpec, limits: ExtractLimits) -> FetchedArtifact:
    assert spec.path is not None
    root = Path(os.path.realpath(spec.path))
    tree = digest_tree(root, limits)
    ref, notes = identify(root, tree.files, root.name)
    return FetchedArtifact(
        ref=ref,
        root=root,
        files=tree.files,
        integrity=tree.integrity,
        source=str(root),
        skipped=tree.skipped,
        notes=(LOCAL_DIR_NOTE, *notes),
    )
