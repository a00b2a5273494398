"""Regular expressions that compile on first use.

The analysers keep their knowledge in data tables of regexes: credential paths, shell commands,
prompt-injection markers, Python call tokens, the values each rule matches. Python compiles a
regex in pure Python (0.1–3 ms each), so compiling every table at import cost ~40 ms per process,
more than analysing a small package, while one package exercises a fraction of the tables (an
npm package never reaches the Python analyser's). A :class:`LazyRegex` is written where
``re.compile`` was, answers the same methods, and compiles itself the first time one is called.

Patterns run once per file or per string (URL, e-mail and IP finders, prefilters) stay plain
``re.compile``: they are always needed, and a direct call is cheaper on the hot path.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from typing import Any, AnyStr, Generic


class LazyRegex(Generic[AnyStr]):
    """``re.compile(pattern, flags)``, done the first time the pattern is used."""

    __slots__ = ("_compiled", "_flags", "pattern")

    def __init__(self, pattern: AnyStr, flags: int = 0) -> None:
        self.pattern: AnyStr = pattern
        self._flags = flags
        self._compiled: re.Pattern[AnyStr] | None = None
        _CREATED.append(self)

    @property
    def compiled(self) -> re.Pattern[AnyStr]:
        """The compiled pattern (raises ``re.error`` here if the pattern is invalid)."""
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self.pattern, self._flags)
        return compiled

    def search(self, string: AnyStr, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[AnyStr] | None:
        return self.compiled.search(string, pos, endpos)

    def match(self, string: AnyStr, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[AnyStr] | None:
        return self.compiled.match(string, pos, endpos)

    def fullmatch(self, string: AnyStr, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[AnyStr] | None:
        return self.compiled.fullmatch(string, pos, endpos)

    def finditer(self, string: AnyStr, pos: int = 0, endpos: int = sys.maxsize) -> Iterator[re.Match[AnyStr]]:
        return self.compiled.finditer(string, pos, endpos)

    def findall(self, string: AnyStr, pos: int = 0, endpos: int = sys.maxsize) -> list[Any]:
        return self.compiled.findall(string, pos, endpos)

    def sub(
        self, repl: AnyStr | Callable[[re.Match[AnyStr]], AnyStr], string: AnyStr, count: int = 0
    ) -> AnyStr:
        return self.compiled.sub(repl, string, count)

    def __repr__(self) -> str:
        return f"LazyRegex({self.pattern!r})"


_CREATED: list[LazyRegex[Any]] = []


def compile_all() -> int:
    """Compile every LazyRegex created so far; how many there are.

    For a long-lived process that forks per request (``distrust resident``): compiled once
    before forking, a pattern is shared by every child instead of being compiled in each.
    """
    for regex in _CREATED:
        regex.compiled  # noqa: B018  (the property compiles and keeps the pattern)
    return len(_CREATED)
