"""What the user asked to fetch, parsed before anything touches the network or the disk.

``distrust inspect``/``diff``/``history`` take one string per package. The prefixes make the
ecosystem explicit because a bare ``name@1.0`` could be an npm package, a file, or a typo; a
guess here would mean analysing the wrong code. Names are validated against each registry's
rules so they can be pasted into URLs and cache paths without escaping surprises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from distrust.fetch.errors import SpecError

SpecKind = Literal["npm", "pypi", "directory", "archive"]

# File name endings accepted as a local archive (the content is then identified by its
# magic bytes; the suffix only tells a path from a package name).
ARCHIVE_SUFFIXES: Final[tuple[str, ...]] = (".tgz", ".tar.gz", ".tar.bz2", ".tar.xz", ".tar", ".whl", ".zip")

# npm: lower-case URL-safe names, optionally scoped; legacy packages may have capitals.
_NPM_NAME: Final = re.compile(r"^(?:@[A-Za-z0-9][A-Za-z0-9._~-]*/)?[A-Za-z0-9._~-][A-Za-z0-9._~-]*$")
# An exact semver (with prerelease/build) or a dist-tag such as ``latest`` / ``next``.
_NPM_VERSION: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_-]*$")
# PEP 508 project names.
_PYPI_NAME: Final = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
# PEP 440 versions plus the legacy forms old releases still carry on PyPI.
_PYPI_VERSION: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*$")


@dataclass(frozen=True)
class ArtifactSpec:
    """One thing to fetch: a registry package version, a local directory or a local archive.

    ``version`` is ``None`` for "the latest"; for npm it may also be a dist-tag (``latest``,
    ``next``), resolved against the registry at fetch time. ``text`` is what the user typed,
    kept for messages.
    """

    kind: SpecKind
    text: str
    name: str | None = None
    version: str | None = None
    path: Path | None = None

    @property
    def is_registry(self) -> bool:
        return self.kind in ("npm", "pypi")


def parse_spec(text: str) -> ArtifactSpec:
    """Read ``npm:NAME@VERSION``, ``pypi:NAME==VERSION``, a directory, or an archive path.

    Raises :class:`SpecError` with an example of the accepted forms for anything else.
    """
    raw = text.strip()
    if not raw:
        raise SpecError("empty package spec" + _FORMS)
    if raw.startswith("npm:"):
        return _parse_npm(raw, raw[4:])
    if raw.startswith("pypi:"):
        return _parse_pypi(raw, raw[5:])
    path = Path(raw).expanduser()
    if path.is_dir():
        return ArtifactSpec("directory", raw, path=path)
    if raw.lower().endswith(ARCHIVE_SUFFIXES):
        if not path.exists():
            raise SpecError("no such file", raw)
        if not path.is_file():
            raise SpecError("is not a regular file", raw)
        return ArtifactSpec("archive", raw, path=path)
    if path.exists():
        raise SpecError("is a file but not a known archive (" + ", ".join(ARCHIVE_SUFFIXES) + ")", raw)
    hint = ""
    if "==" in raw:
        hint = f" (did you mean pypi:{raw}?)"
    elif re.match(r"^@?[A-Za-z0-9._~/-]+@[^@/]+$", raw):
        hint = f" (did you mean npm:{raw}?)"
    raise SpecError(f"not a package spec, directory or archive{hint}" + _FORMS, raw)


_FORMS: Final = "; use npm:NAME@VERSION, pypi:NAME==VERSION, a directory, or a .tgz/.tar.gz/.whl/.zip file"


def _parse_npm(raw: str, rest: str) -> ArtifactSpec:
    # The scope's "@" is not the version separator: split on the last "@" after position 0.
    at = rest.rfind("@")
    name, version = (rest[:at], rest[at + 1 :]) if at > 0 else (rest, None)
    if not _NPM_NAME.match(name) or len(name) > 214:
        raise SpecError(f"invalid npm package name {name!r}" + _FORMS, raw)
    if version is not None:
        if not version:
            raise SpecError("empty version after '@'", raw)
        if not _NPM_VERSION.match(version):
            raise SpecError(
                f"version {version!r} is not an exact version or dist-tag (ranges such as ^1.0 are not "
                "fetched: say exactly which version to inspect)",
                raw,
            )
    return ArtifactSpec("npm", raw, name=name, version=version)


def _parse_pypi(raw: str, rest: str) -> ArtifactSpec:
    name, sep, version = rest.partition("==")
    name = name.strip()
    if not sep and any(op in rest for op in ("<", ">", "~=", "!=", "@", "=")):
        raise SpecError("only exact versions (NAME==VERSION) can be fetched" + _FORMS, raw)
    if not _PYPI_NAME.match(name):
        raise SpecError(f"invalid PyPI project name {name!r}" + _FORMS, raw)
    if sep:
        version = version.strip()
        if not version:
            raise SpecError("empty version after '=='", raw)
        if not _PYPI_VERSION.match(version):
            raise SpecError(f"invalid PyPI version {version!r} (only exact versions can be fetched)", raw)
        return ArtifactSpec("pypi", raw, name=name, version=version)
    return ArtifactSpec("pypi", raw, name=name)
