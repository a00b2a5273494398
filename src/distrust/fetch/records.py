"""Records the fetch stage hands to later stages, beyond the shared :mod:`distrust.model`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from distrust.model import Artifact


@dataclass(frozen=True)
class FetchedArtifact(Artifact):
    """An :class:`~distrust.model.Artifact` plus what the Risk Engine must know about gaps.

    ``skipped`` lists archive entries that were not extracted, as ``(path, reason)``: links,
    device nodes, paths escaping the package. A profile reports them as "could not analyse";
    they are often the most interesting part of a malicious package. ``notes`` says where
    the trust in ``integrity`` is weaker than usual (sha1 only, computed locally).
    ``archive`` is the cached original archive (``None`` for a directory), kept so a gateway
    can serve exactly the bytes that were analysed.
    """

    skipped: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    archive: Path | None = None
    archive_sha256: str | None = None
    weak_integrity: bool = False
    from_cache: bool = False


@dataclass(frozen=True)
class Release:
    """One published version, for ``distrust history``: when it appeared and if it was withdrawn.

    ``published`` is ``None`` when the registry does not say (a PyPI release with no files).
    """

    version: str
    published: datetime | None
    yanked: bool = False
