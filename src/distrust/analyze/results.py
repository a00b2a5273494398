"""What ``inspect``, ``diff`` and ``history`` hand to the report formats.

These records sit in ``analyze`` (not ``model``) because only the Risk Engine and its reports
use them; the scan and the gateway need only ``Profile`` and ``Finding``.
"""

from __future__ import annotations

from dataclasses import dataclass

from distrust.analyze.score import Assessment
from distrust.model import Notice, PackageRef, Profile


@dataclass(frozen=True)
class InspectResult:
    """One version judged on its own (code and registry metadata)."""

    profile: Profile
    assessment: Assessment
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class DiffResult:
    """An upgrade judged: ``assessment`` is about what changed; ``new_version`` about NEW alone."""

    old: Profile
    new: Profile
    assessment: Assessment
    new_version: Assessment
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class HistoryStep:
    """One consecutive pair of published versions and what the newer one changed."""

    old: PackageRef
    new: PackageRef
    assessment: Assessment
    published: str | None = None  # ISO time the registry gives for ``new``
    publisher: str | None = None  # account that published ``new``, when the registry says


@dataclass(frozen=True)
class HistoryResult:
    """Every release of a package, oldest first, with where behaviour changed."""

    ecosystem: str
    name: str
    first: InspectResult | None  # the oldest analysed version, judged on its own
    steps: tuple[HistoryStep, ...]
    notices: tuple[Notice, ...] = ()
