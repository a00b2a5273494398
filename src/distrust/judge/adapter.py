"""Give a plain advisory store the two answers the judge's remediation needs.

A store that can return full OSV records (``record(id)``) already holds everything needed
for "upgrade to X" and "there is no safe version"; this adapter derives both from the
record's ``affected`` ranges, so the store does not have to grow judge-specific methods.
It is typed structurally against the OSV shape (ranges of introduced/fixed/last_affected/limit
events) rather than importing ``intel``'s classes, so either side can change its internals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from distrust.judge.lookup import IocLike
from distrust.model import Advisory, Ecosystem


class _Event(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def version(self) -> str: ...


class _Range(Protocol):
    @property
    def type(self) -> str: ...

    @property
    def events(self) -> tuple[_Event, ...]: ...


class _Affected(Protocol):
    @property
    def ecosystem(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def ranges(self) -> tuple[_Range, ...]: ...

    @property
    def versions(self) -> tuple[str, ...]: ...


class _Record(Protocol):
    @property
    def affected(self) -> tuple[_Affected, ...]: ...


class RecordStore(Protocol):
    """What an advisory store offers: matching, history, indicators, and full records by id."""

    def match(self, ecosystem: str, name: str, version: str) -> tuple[Advisory, ...]: ...

    def advisories_for(self, ecosystem: str, name: str) -> tuple[Advisory, ...]: ...

    def iocs(self) -> tuple[IocLike, ...]: ...

    def record(self, record_id: str) -> _Record | None: ...


# Range types whose events are package versions (GIT ranges hold commit hashes).
VERSION_RANGE_TYPES: frozenset[str] = frozenset({"SEMVER", "ECOSYSTEM"})
UPPER_BOUND_EVENTS: frozenset[str] = frozenset({"fixed", "last_affected", "limit"})


def _same_package(affected: _Affected, ecosystem: str, name: str) -> bool:
    """OSV scopes ecosystems (``PyPI``, ``Debian:12``); PyPI names compare per PEP 503."""
    if affected.ecosystem.split(":", 1)[0].strip() != ecosystem:
        return False
    if ecosystem == Ecosystem.PYPI:
        return re.sub(r"[-_.]+", "-", affected.name).lower() == re.sub(r"[-_.]+", "-", name).lower()
    return affected.name.strip() == name.strip()


@dataclass(frozen=True)
class StoreLookup:
    """An :class:`~distrust.judge.lookup.AdvisoryLookup` over any :class:`RecordStore`."""

    store: RecordStore

    def match(self, ecosystem: str, name: str, version: str) -> tuple[Advisory, ...]:
        return self.store.match(ecosystem, name, version)

    def advisories_for(self, ecosystem: str, name: str) -> tuple[Advisory, ...]:
        return self.store.advisories_for(ecosystem, name)

    def iocs(self) -> tuple[IocLike, ...]:
        return self.store.iocs()

    def _entries(self, ecosystem: str, name: str, advisory_id: str) -> list[_Affected]:
        record = self.store.record(advisory_id)
        if record is None:
            return []
        return [a for a in record.affected if _same_package(a, ecosystem, name)]

    def fixed_versions(self, ecosystem: str, name: str, advisory_id: str) -> tuple[str, ...]:
        found: list[str] = []
        for entry in self._entries(ecosystem, name, advisory_id):
            for rng in entry.ranges:
                if rng.type.upper() in VERSION_RANGE_TYPES:
                    found.extend(
                        e.version for e in rng.events if e.kind == "fixed" and e.version not in found
                    )
        return tuple(found)

    def affects_all_versions(self, ecosystem: str, name: str, advisory_id: str) -> bool:
        """True only for a range that opens at "0" and never closes: no fix, no last version."""
        for entry in self._entries(ecosystem, name, advisory_id):
            for rng in entry.ranges:
                if rng.type.upper() not in VERSION_RANGE_TYPES:
                    continue
                kinds = {e.kind for e in rng.events}
                opens_at_zero = any(e.kind == "introduced" and e.version == "0" for e in rng.events)
                if opens_at_zero and not kinds & UPPER_BOUND_EVENTS:
                    return True
        return False
