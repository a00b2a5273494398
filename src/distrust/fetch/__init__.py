"""fetch stage: the exact files of a package version, verified and safely extracted, never run.

Public entry points: :func:`parse_spec`, :func:`fetch` (returns a :class:`FetchedArtifact`,
an :class:`~distrust.model.Artifact` that also lists skipped archive entries),
:func:`npm_packument`, :func:`npm_version_list`, :func:`pypi_release_list`, and
:func:`extract_archive` for callers that already hold an archive.
"""

from distrust.fetch.core import fetch
from distrust.fetch.errors import (
    ArchiveError,
    FetchError,
    IntegrityError,
    LimitExceeded,
    NotFoundError,
    SpecError,
)
from distrust.fetch.extract import ExtractLimits, ExtractResult, extract_archive
from distrust.fetch.http import Http, RetryPolicy
from distrust.fetch.npm import npm_dist, npm_packument, npm_version_list
from distrust.fetch.pypi import pypi_file, pypi_project_json, pypi_release_list
from distrust.fetch.records import FetchedArtifact, Release
from distrust.fetch.spec import ArtifactSpec, parse_spec

__all__ = [
    "ArchiveError",
    "ArtifactSpec",
    "ExtractLimits",
    "ExtractResult",
    "FetchError",
    "FetchedArtifact",
    "Http",
    "IntegrityError",
    "LimitExceeded",
    "NotFoundError",
    "Release",
    "RetryPolicy",
    "SpecError",
    "extract_archive",
    "fetch",
    "npm_dist",
    "npm_packument",
    "npm_version_list",
    "parse_spec",
    "pypi_file",
    "pypi_project_json",
    "pypi_release_list",
]
