"""What the judge needs from the advisory store, and nothing more.

The store itself lives in ``intel/`` and is free to change how it loads, indexes and matches
OSV records; the judge depends only on these two protocols so it can be tested with a tiny
in-memory double and wired to the real store by the CLI.
"""

from __future__ import annotations

from typing import Protocol

from distrust.model import Advisory


class IocLike(Protocol):
    """An indicator of compromise taken from an advisory: a value that legitimate configs never name.

    ``kind`` is one of ``email``, ``domain``, ``account`` or ``url``; it decides how strictly the
    value must stand alone in a config string to count as a match (a domain must not be part
    of a longer domain, an account must be a whole word).
    """

    @property
    def value(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def advisory_id(self) -> str: ...


class AdvisoryLookup(Protocol):
    """Read-only questions the config checks ask about packages.

    ``fixed_versions`` and ``affects_all_versions`` go beyond plain matching because the
    remediation depends on them: "upgrade to 2.3.1" needs the fix, and "there is no safe
    version" must only be said when the advisory really covers every version.
    """

    def match(self, ecosystem: str, name: str, version: str) -> tuple[Advisory, ...]:
        """Advisories whose affected ranges or version lists include ``version``."""
        ...

    def advisories_for(self, ecosystem: str, name: str) -> tuple[Advisory, ...]:
        """Every advisory about the package, whatever versions it affects."""
        ...

    def iocs(self) -> tuple[IocLike, ...]:
        """Every indicator of compromise the store knows, from all advisories."""
        ...

    def fixed_versions(self, ecosystem: str, name: str, advisory_id: str) -> tuple[str, ...]:
        """Versions that fix the advisory for this package (OSV ``fixed`` events); () when none."""
        ...

    def affects_all_versions(self, ecosystem: str, name: str, advisory_id: str) -> bool:
        """True when the advisory covers every version of the package (introduced "0", no upper bound)."""
        ...
