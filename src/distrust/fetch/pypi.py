"""PyPI's JSON API: the files of a release, which one to analyse, and the release history.

A release has several files. The sdist is preferred by default because ``setup.py`` (run by
pip when it builds from source) is where install-time attacks live, and a wheel never
contains it; a pure-Python wheel is the alternative when asked for, or when there is no
sdist. Platform wheels hold compiled code the Risk Engine cannot read, so they come last.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal
from urllib.parse import urljoin

from distrust.fetch.errors import FetchError, NotFoundError
from distrust.fetch.http import Http, borrowed
from distrust.fetch.records import Release

DEFAULT_PYPI_INDEX: Final = "https://pypi.org"
PYPI_INDEX_ENV: Final = "DISTRUST_PYPI_INDEX"

Prefer = Literal["sdist", "wheel"]

# Search order over file kinds for each preference (see the module docstring for why).
FILE_PREFERENCE: Final[dict[str, tuple[str, ...]]] = {
    "sdist": ("sdist", "pure-wheel", "platform-wheel"),
    "wheel": ("pure-wheel", "sdist", "platform-wheel"),
}
SDIST_SUFFIXES: Final = (".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar.xz")


@dataclass(frozen=True)
class PypiFile:
    """One distribution file of a release, with the sha256 PyPI vouches for."""

    name: str
    version: str
    filename: str
    url: str
    sha256: str
    kind: str  # "sdist" | "pure-wheel" | "platform-wheel"
    size: int | None = None
    yanked: bool = False


def pypi_index_url(explicit: str | None = None) -> str:
    """The index to use: the argument, then ``$DISTRUST_PYPI_INDEX``, then pypi.org."""
    for candidate in (explicit, os.environ.get(PYPI_INDEX_ENV)):
        if candidate and candidate.strip():
            return candidate.strip().rstrip("/")
    return DEFAULT_PYPI_INDEX


def canonical_name(name: str) -> str:
    """The PEP 503 form of a project name (``packaging.utils.canonicalize_name``).

    Imported on first use: ``packaging.utils`` pulls in ``packaging.tags`` (~15 ms), which an
    npm inspect never needs.
    """
    from packaging.utils import canonicalize_name

    return canonicalize_name(name)


def pypi_project_json(
    name: str, version: str | None = None, index: str | None = None, *, http: Http | None = None
) -> dict[str, Any]:
    """``/pypi/{name}/json`` (latest release) or ``/pypi/{name}/{version}/json``."""
    project = canonical_name(name)
    base = f"{pypi_index_url(index)}/pypi/{project}"
    url = f"{base}/{version}/json" if version else f"{base}/json"
    what = (
        f"PyPI project {name!r} has no release {version!r}" if version else f"no PyPI project named {name!r}"
    )
    with borrowed(http) as client:
        doc = client.get_json(url, not_found=what)
    if not isinstance(doc.get("info"), dict):
        raise FetchError("answer has no 'info' object", url)
    return doc


def pypi_file(
    name: str,
    version: str | None,
    index: str | None = None,
    *,
    prefer: Prefer = "sdist",
    http: Http | None = None,
) -> PypiFile:
    """Pick the file of ``name==version`` (latest if ``None``) to analyse, by ``prefer``."""
    url = f"{pypi_index_url(index)}/pypi/{canonical_name(name)}"
    with borrowed(http) as client:
        real_name, real_version, files = _release_files(name, version, index, client)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for entry in files:
        if isinstance(entry, dict) and isinstance(entry.get("filename"), str):
            by_kind.setdefault(_kind(entry), []).append(entry)
    for kind in FILE_PREFERENCE[prefer]:
        for entry in by_kind.get(kind, ()):
            return _to_file(entry, kind, real_name, real_version, url)
    names = ", ".join(str(e.get("filename")) for e in files if isinstance(e, dict)) or "none"
    raise FetchError(f"release {real_version} has no sdist or wheel to analyse (files: {names})", url)


def _release_files(
    name: str, version: str | None, index: str | None, http: Http
) -> tuple[str, str, list[Any]]:
    """(project name, version, file entries) of one release.

    The per-version endpoint is asked first. Some mirrors only implement the project
    endpoint, so a 404 there falls back to the project document's ``releases`` map, which
    also tells a missing version (with the latest as a hint) from a missing project.
    """
    url = f"{pypi_index_url(index)}/pypi/{canonical_name(name)}"
    if version is not None:
        try:
            doc = pypi_project_json(name, version, index, http=http)
        except NotFoundError:
            doc = pypi_project_json(name, None, index, http=http)
            return _from_releases(doc, name, version, url)
    else:
        doc = pypi_project_json(name, None, index, http=http)
    info = doc["info"]
    real_name = info.get("name") if isinstance(info.get("name"), str) else name
    real_version = info.get("version") if isinstance(info.get("version"), str) else version
    if not real_version:
        raise FetchError("answer has no info.version", url)
    files = doc.get("urls")
    if not isinstance(files, list):
        raise FetchError(f"release {real_version} has no 'urls' list", url)
    return str(real_name), str(real_version), files


def _from_releases(doc: dict[str, Any], name: str, version: str, url: str) -> tuple[str, str, list[Any]]:
    releases = doc.get("releases")
    info = doc["info"]
    real_name = str(info["name"]) if isinstance(info.get("name"), str) else name
    if isinstance(releases, dict):
        for key in releases:
            if _same_version(str(key), version) and isinstance(releases[key], list):
                return real_name, str(key), releases[key]
    latest = info.get("version")
    hint = f"; latest is {latest}" if isinstance(latest, str) else ""
    raise NotFoundError(f"PyPI project {name!r} has no release {version!r}{hint}", f"{url}/json")


def _same_version(a: str, b: str) -> bool:
    if a == b:
        return True
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return False


def pypi_release_list(
    name: str, index: str | None = None, *, http: Http | None = None
) -> tuple[Release, ...]:
    """Every release, oldest first by the earliest upload of its files.

    Releases without files (so without a date) come last. A release is ``yanked`` when all of
    its files are.
    """
    doc = pypi_project_json(name, None, index, http=http)
    releases = doc.get("releases")
    if not isinstance(releases, dict):
        raise FetchError(
            "answer has no 'releases' object", f"{pypi_index_url(index)}/pypi/{canonical_name(name)}/json"
        )
    out: list[Release] = []
    for version, files in releases.items():
        entries = [f for f in files if isinstance(f, dict)] if isinstance(files, list) else []
        dates = [
            d
            for d in (_parse_time(f.get("upload_time_iso_8601") or f.get("upload_time")) for f in entries)
            if d
        ]
        yanked = bool(entries) and all(bool(f.get("yanked")) for f in entries)
        out.append(Release(str(version), min(dates) if dates else None, yanked=yanked))
    dated = sorted(
        (r for r in out if r.published), key=lambda r: r.published or datetime.min.replace(tzinfo=UTC)
    )
    return (*dated, *(r for r in out if r.published is None))


def _kind(entry: dict[str, Any]) -> str:
    filename = str(entry["filename"]).lower()
    packagetype = entry.get("packagetype")
    if filename.endswith(".whl"):
        return "pure-wheel" if filename.endswith("-none-any.whl") else "platform-wheel"
    if packagetype == "sdist" or filename.endswith(SDIST_SUFFIXES):
        return "sdist" if filename.endswith(SDIST_SUFFIXES) else "unsupported"
    return "unsupported"  # eggs, Windows installers


def _to_file(entry: dict[str, Any], kind: str, name: str, version: str, where: str) -> PypiFile:
    filename = str(entry["filename"])
    file_url = entry.get("url")
    if not isinstance(file_url, str) or not file_url:
        raise FetchError(f"{filename} has no download 'url'", where)
    # Mirrors may answer with URLs relative to the JSON document (``../../packages/…``).
    file_url = urljoin(f"{where}/json", file_url)
    digests = entry.get("digests")
    sha256 = digests.get("sha256") if isinstance(digests, dict) else None
    if (
        not isinstance(sha256, str)
        or len(sha256) != 64
        or not all(c in "0123456789abcdefABCDEF" for c in sha256)
    ):
        raise FetchError(f"{filename} has no valid digests.sha256 to verify against", where)
    size = entry.get("size")
    return PypiFile(
        name=name,
        version=version,
        filename=filename,
        url=file_url,
        sha256=sha256.lower(),
        kind=kind,
        size=size if isinstance(size, int) else None,
        yanked=bool(entry.get("yanked")),
    )


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
