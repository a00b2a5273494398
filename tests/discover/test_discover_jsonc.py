"""The JSONC reader: comments, trailing commas, key lines, and errors that say where."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from distrust.discover.jsonc import MAX_DEPTH, JsoncError, LinedDict, loads


def test_comments_and_trailing_commas() -> None:
    text = """// leading comment
{
  /* block
     comment */ "a": 1, // after a value
  "b": [true, false, null, -1.5e3,],
  "c": {"d": "e",},
}
"""
    assert loads(text) == {"a": 1, "b": [True, False, None, -1500.0], "c": {"d": "e"}}


def test_comment_markers_inside_strings_are_text() -> None:
    text = r'{"url": "https://example.com//x", "s": "/* not a comment */", "q": "say \"//\""}'
    assert loads(text) == {"url": "https://example.com//x", "s": "/* not a comment */", "q": 'say "//"'}


def test_escapes_and_unicode() -> None:
    assert loads(r'{"k": "\u00e9\n\t\\"}') == {"k": "é\n\t\\"}
    assert loads('{"k": "é ✓"}') == {"k": "é ✓"}


def test_key_lines_and_object_lines() -> None:
    doc = loads('{\n  "servers": {\n\n    "one": {},\n    "two": {}\n  }\n}')
    assert isinstance(doc, LinedDict)
    servers = doc["servers"]
    assert isinstance(servers, LinedDict)
    assert doc.key_lines == {"servers": 2}
    assert servers.key_lines == {"one": 4, "two": 5}
    assert servers.line == 2


def test_empty_document_is_an_empty_object() -> None:
    assert loads("") == {}
    assert loads("  // only a comment\n") == {}


@pytest.mark.parametrize(
    ("text", "line", "column", "reason"),
    [
        ('{"a": 1 "b": 2}', 1, 9, "expected ',' or '}'"),
        ('{\n  "a": [1, 2\n}', 3, 1, "expected ',' or ']'"),
        ("{\n  a: 1\n}", 2, 3, "expected a quoted key"),
        ('{"a": tru}', 1, 7, "expected a value"),
        ('{"a": 1} extra', 1, 10, "after the end"),
        ('{"a": 1 /* open', 1, 9, "unterminated /* comment"),
        ('{"a": "unterminated', 1, 7, "unterminated string"),
        ('{"a" 1}', 1, 6, "expected ':'"),
        ("[,]", 1, 2, "expected a value"),
        ('{"a": 1,,}', 1, 9, "expected a quoted key"),
    ],
)
def test_errors_say_where(text: str, line: int, column: int, reason: str) -> None:
    with pytest.raises(JsoncError) as info:
        loads(text)
    assert (info.value.line, info.value.column) == (line, column)
    assert reason in info.value.reason


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(JsoncError) as info:
        loads("[" * (MAX_DEPTH + 5))
    assert "levels deep" in info.value.reason
    assert loads("[" * 50 + "]" * 50) == json.loads("[" * 50 + "]" * 50)


_json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(_json_values)
def test_agrees_with_the_stdlib_on_plain_json(value: Any) -> None:
    for text in (json.dumps(value), json.dumps(value, indent=2, ensure_ascii=False)):
        assert loads(text) == json.loads(text)


@given(st.text(max_size=60))
def test_never_raises_anything_but_jsonc_error(text: str) -> None:
    with contextlib.suppress(JsoncError):
        loads(text)
