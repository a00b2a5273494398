"""Why a package could not be obtained, in words a user can act on.

Every failure in the fetch stage is a :class:`FetchError` (or a subclass), never a bare
``OSError`` or an HTTP library's exception: the CLI prints the message and exits, so the
message must name the URL or file and say what went wrong. Subclasses exist so callers can
react differently (a 404 is "no such version", an integrity mismatch is an alarm).
"""

from __future__ import annotations


class FetchError(Exception):
    """A package version could not be fetched, verified or unpacked.

    ``where`` is the URL or path involved (``None`` when there is none, e.g. a bad spec);
    ``reason`` is the human explanation without the location.
    """

    def __init__(self, reason: str, where: str | None = None) -> None:
        super().__init__(f"{where}: {reason}" if where else reason)
        self.reason = reason
        self.where = where


class SpecError(FetchError):
    """The text given as a package spec is not one distrust understands."""


class NotFoundError(FetchError):
    """The registry has no such package, or no such version of it."""


class IntegrityError(FetchError):
    """The downloaded bytes are not the bytes the registry (or cache manifest) vouched for.

    This is the alarm case: a mirror, proxy or cache served something else. It is never
    retried silently.
    """


class ArchiveError(FetchError):
    """An archive is corrupt, truncated, or not an archive at all."""


class LimitExceeded(ArchiveError):
    """An archive tried to go past one of the extraction caps; ``cap`` names which one."""

    def __init__(self, reason: str, where: str | None = None, *, cap: str) -> None:
        super().__init__(reason, where)
        self.cap = cap
