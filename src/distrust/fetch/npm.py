"""The npm registry: packuments, version lists and the tarball (with its integrity) of a version.

Two shapes of packument exist. The abbreviated one (``Accept:
application/vnd.npm.install-v1+json``) is what npm itself installs from and is much smaller,
so :func:`npm_dist` uses it. It lacks ``time``, ``_npmUser``, ``maintainers`` and
``repository``, which the Risk Engine needs to notice a new publisher or a version published
outside the usual rhythm; :func:`npm_packument` therefore fetches the full document by default.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from distrust.fetch.errors import FetchError, NotFoundError
from distrust.fetch.http import Http, borrowed
from distrust.fetch.records import Release

DEFAULT_NPM_REGISTRY: Final = "https://registry.npmjs.org"
# Where the registry URL comes from, first match wins (after an explicit argument).
NPM_REGISTRY_ENV: Final = ("DISTRUST_NPM_REGISTRY", "npm_config_registry")
ABBREVIATED_ACCEPT: Final = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
FULL_ACCEPT: Final = "application/json"

# Subresource-integrity algorithms npm may list, strongest first; sha1 is the legacy fallback.
SRI_ALGORITHMS: Final = ("sha512", "sha384", "sha256", "sha1")


@dataclass(frozen=True)
class NpmDist:
    """Where a version's tarball is and the hash that vouches for it.

    ``algorithm``/``expected`` is the strongest hash the registry gave; ``integrity`` is its
    display form (the SRI string ``sha512-…``, or ``sha1-…`` built from a legacy ``shasum``).
    """

    name: str
    version: str
    tarball: str
    algorithm: str
    expected: bytes
    integrity: str

    @property
    def weak(self) -> bool:
        return self.algorithm == "sha1"


def npm_registry_url(explicit: str | None = None) -> str:
    """The registry to use: the argument, then ``$DISTRUST_NPM_REGISTRY``, ``$npm_config_registry``."""
    for candidate in (explicit, *(os.environ.get(var) for var in NPM_REGISTRY_ENV)):
        if candidate and candidate.strip():
            return candidate.strip().rstrip("/")
    return DEFAULT_NPM_REGISTRY


def packument_url(name: str, registry: str | None = None) -> str:
    """``/{name}``, with a scoped name's slash encoded as the registry expects (``@scope%2fname``)."""
    return f"{npm_registry_url(registry)}/{name.replace('/', '%2f')}"


def npm_packument(
    name: str, registry: str | None = None, *, full: bool = True, http: Http | None = None
) -> dict[str, Any]:
    """Fetch the packument of ``name``: the full document unless ``full`` is False.

    Raises :class:`NotFoundError` when the registry does not know the package.
    """
    url = packument_url(name, registry)
    accept = FULL_ACCEPT if full else ABBREVIATED_ACCEPT
    with borrowed(http) as client:
        doc = client.get_json(url, accept=accept, not_found=f"no npm package named {name!r}")
    if not isinstance(doc.get("versions"), dict):
        raise FetchError("packument has no 'versions' object", url)
    return doc


def npm_version_list(
    name: str, registry: str | None = None, *, http: Http | None = None
) -> tuple[Release, ...]:
    """Every version still in the registry, oldest publication first (from the ``time`` map).

    Versions the ``time`` map does not date come last, in document order. ``yanked`` marks
    deprecated versions (npm's nearest equivalent of a yank).
    """
    doc = npm_packument(name, registry, full=True, http=http)
    times = doc.get("time") if isinstance(doc.get("time"), dict) else {}
    releases = []
    for version, meta in doc["versions"].items():
        when = _parse_time(times.get(version)) if isinstance(times, dict) else None
        deprecated = isinstance(meta, dict) and bool(meta.get("deprecated"))
        releases.append(Release(version, when, yanked=deprecated))
    dated = sorted(
        (r for r in releases if r.published), key=lambda r: r.published or datetime.min.replace(tzinfo=UTC)
    )
    return (*dated, *(r for r in releases if r.published is None))


def npm_dist(
    name: str, version: str | None, registry: str | None = None, *, http: Http | None = None
) -> NpmDist:
    """Resolve ``version`` (exact, a dist-tag, or ``None`` for ``latest``) to its tarball and hash."""
    url = packument_url(name, registry)
    doc = npm_packument(name, registry, full=False, http=http)
    versions: dict[str, Any] = doc["versions"]
    tags = doc.get("dist-tags") if isinstance(doc.get("dist-tags"), dict) else {}
    wanted = version or "latest"
    if wanted not in versions and isinstance(tags, dict) and isinstance(tags.get(wanted), str):
        wanted = tags[wanted]
    if wanted not in versions:
        latest = tags.get("latest") if isinstance(tags, dict) else None
        hint = f"; latest is {latest}" if isinstance(latest, str) else ""
        raise NotFoundError(
            f"npm package {name!r} has no version or dist-tag {version or 'latest'!r}{hint}", url
        )
    meta = versions[wanted]
    dist = meta.get("dist") if isinstance(meta, dict) else None
    if not isinstance(dist, dict):
        raise FetchError(f"version {wanted} has no 'dist' object", url)
    tarball = dist.get("tarball")
    if not isinstance(tarball, str) or not tarball:
        raise FetchError(f"version {wanted} has no 'dist.tarball' URL", url)
    algorithm, expected, integrity = _pick_hash(dist, url, wanted)
    return NpmDist(name, wanted, tarball, algorithm, expected, integrity)


def _pick_hash(dist: dict[str, Any], url: str, version: str) -> tuple[str, bytes, str]:
    """The strongest hash in ``dist.integrity`` (SRI), else the legacy hex ``dist.shasum``."""
    found: dict[str, tuple[bytes, str]] = {}
    integrity = dist.get("integrity")
    if isinstance(integrity, str):
        for token in integrity.split():
            algorithm, _, b64 = token.partition("-")
            b64 = b64.split("?", 1)[0]  # SRI allows "?options" after the digest
            try:
                found.setdefault(algorithm, (base64.b64decode(b64, validate=True), token))
            except (binascii.Error, ValueError):
                raise FetchError(f"version {version} has a malformed dist.integrity {token!r}", url) from None
    shasum = dist.get("shasum")
    if "sha1" not in found and isinstance(shasum, str):
        try:
            raw = bytes.fromhex(shasum)
        except ValueError:
            raise FetchError(f"version {version} has a malformed dist.shasum {shasum!r}", url) from None
        found["sha1"] = (raw, "sha1-" + base64.b64encode(raw).decode())
    for algorithm in SRI_ALGORITHMS:
        if algorithm in found:
            raw, token = found[algorithm]
            return algorithm, raw, token
    raise FetchError(f"version {version} has neither dist.integrity nor dist.shasum to verify against", url)


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
