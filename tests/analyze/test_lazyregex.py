"""Table regexes compile on first use; a typo in one must still fail a test, not a user's run."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from types import ModuleType

import pytest

from distrust.analyze import python, textscan
from distrust.analyze.js import tables
from distrust.analyze.lazyregex import LazyRegex
from distrust.analyze.rules import load_rules


def test_answers_like_the_compiled_pattern() -> None:
    lazy = LazyRegex(r"(\w+)@(\w+)\.com", re.IGNORECASE)
    plain = re.compile(r"(\w+)@(\w+)\.com", re.IGNORECASE)
    text = "Mail A@B.COM or c@d.com, not e@f.org"
    assert lazy.pattern == plain.pattern
    assert lazy.search(text).group(0) == plain.search(text).group(0)  # type: ignore[union-attr]
    assert lazy.match(text) is None and plain.match(text) is None
    assert lazy.fullmatch("x@y.com") is not None
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in plain.finditer(text)]
    assert lazy.findall(text) == plain.findall(text)
    assert lazy.sub("<>", text) == plain.sub("<>", text)
    assert LazyRegex(rb"\d+").findall(b"a1b22") == [b"1", b"22"]


def test_a_bad_pattern_fails_when_first_used() -> None:
    lazy = LazyRegex("(")
    with pytest.raises(re.error):
        lazy.search("x")


def _lazy_regexes(value: object, depth: int = 0) -> Iterator[LazyRegex[str] | LazyRegex[bytes]]:
    if isinstance(value, LazyRegex):
        yield value
    elif depth > 3:
        return
    elif isinstance(value, tuple | list | frozenset | set):
        for item in value:
            yield from _lazy_regexes(item, depth + 1)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _lazy_regexes(item, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _lazy_regexes(getattr(value, f.name), depth + 1)


@pytest.mark.parametrize("module", [textscan, tables, python], ids=lambda m: m.__name__)
def test_every_table_pattern_compiles(module: ModuleType) -> None:
    found = [p for value in vars(module).values() for p in _lazy_regexes(value)]
    assert found, f"no lazily compiled tables found in {module.__name__}"
    for pattern in found:
        assert pattern.compiled.pattern == pattern.pattern


def test_every_shipped_rule_pattern_compiles() -> None:
    patterns = [
        p for rule in load_rules() for p in (rule.value_pattern, rule.value_exclude, rule.file_pattern) if p
    ]
    assert len(patterns) > 10
    for pattern in patterns:
        assert pattern.compiled.flags & re.IGNORECASE
