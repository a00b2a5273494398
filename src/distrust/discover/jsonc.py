"""A tolerant reader for JSON with comments (JSONC), the dialect MCP client configs are written in.

VS Code, Zed, Cursor and friends accept ``//`` and ``/* */`` comments and trailing commas, and
users copy snippets between them, so ``json.loads`` rejects real configs. We also need the line
of every object key, so a finding can point at the server entry (``mcp.json:12``); no stdlib or
small third-party parser gives both. Strings are decoded by the stdlib's C ``scanstring``, so
a comment marker inside a string is never mistaken for a comment and escapes follow JSON rules.

Errors carry a 1-based line and column so a notice can say exactly where the file is broken.
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import re
from collections.abc import Callable
from typing import Any, cast

MAX_DEPTH = 256  # deeper nesting is never a real config; refusing it avoids a RecursionError

# Whitespace and comments between tokens. ``.*?`` with DOTALL finds the first ``*/``; an
# unterminated ``/*`` does not match and is reported by the caller.
_SKIP = re.compile(r"(?:[ \t\r\n\ufeff]+|//[^\n]*|/\*.*?\*/)*", re.DOTALL)
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_LITERALS = {"true": True, "false": False, "null": None}

# The stdlib's string decoder (C-accelerated); typeshed does not declare it, hence the cast.
_scanstring = cast(Callable[[str, int, bool], tuple[str, int]], vars(json.decoder)["scanstring"])


class JsoncError(ValueError):
    """The text is not JSON(C); ``line`` and ``column`` (1-based) say where it went wrong."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.reason = message
        self.line = line
        self.column = column


class LinedDict(dict[str, Any]):
    """A JSON/YAML object that remembers the line of each of its keys and of its own start.

    Server names are object keys (``"mcpServers": {"postmark": {...}}``) or list items with a
    ``name`` field, so the line of the key, or the line where the item starts, is the line a
    person should look at.
    """

    __slots__ = ("key_lines", "line")

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}


class _Parser:
    """One pass over the text; positions are string offsets, converted to lines on demand."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def line_col(self, pos: int) -> tuple[int, int]:
        index = bisect.bisect_left(self.newlines, pos)
        line_start = self.newlines[index - 1] + 1 if index else 0
        return index + 1, pos - line_start + 1

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self.newlines, pos) + 1

    def error(self, message: str, pos: int) -> JsoncError:
        line, column = self.line_col(pos)
        return JsoncError(message, line, column)

    def skip(self, pos: int) -> int:
        match = _SKIP.match(self.text, pos)
        end = match.end() if match else pos
        if self.text.startswith("/*", end):
            raise self.error("unterminated /* comment", end)
        return end

    def describe(self, pos: int) -> str:
        if pos >= len(self.text):
            return "end of file"
        return repr(self.text[pos])

    def string(self, pos: int) -> tuple[str, int]:
        """Decode the string whose opening quote is at ``pos``."""
        try:
            # strict=False: accept raw tabs/newlines inside strings, as lenient editors do;
            # a server a client might reject is still worth reporting.
            return _scanstring(self.text, pos + 1, False)
        except json.JSONDecodeError as exc:
            raise self.error(exc.msg.lower(), exc.pos) from None

    def value(self, pos: int, depth: int) -> tuple[Any, int]:
        pos = self.skip(pos)
        ch = self.text[pos : pos + 1]
        if ch == "{":
            return self.obj(pos, depth + 1)
        if ch == "[":
            return self.array(pos, depth + 1)
        if ch == '"':
            return self.string(pos)
        number = _NUMBER.match(self.text, pos)
        if number:
            literal = number.group()
            is_int = not any(c in literal for c in ".eE")
            return (int(literal) if is_int else float(literal)), number.end()
        for word, val in _LITERALS.items():
            if self.text.startswith(word, pos):
                return val, pos + len(word)
        raise self.error(f"expected a value, found {self.describe(pos)}", pos)

    def check_depth(self, pos: int, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise self.error(f"nested more than {MAX_DEPTH} levels deep", pos)

    def obj(self, start: int, depth: int) -> tuple[LinedDict, int]:
        self.check_depth(start, depth)
        result = LinedDict(self.line(start))
        pos = self.skip(start + 1)
        if self.text.startswith("}", pos):
            return result, pos + 1
        while True:
            if not self.text.startswith('"', pos):
                raise self.error(f"expected a quoted key or '}}', found {self.describe(pos)}", pos)
            key_pos = pos
            key, pos = self.string(pos)
            pos = self.skip(pos)
            if not self.text.startswith(":", pos):
                raise self.error(f"expected ':' after key {key!r}, found {self.describe(pos)}", pos)
            item, pos = self.value(pos + 1, depth)
            result[key] = item  # a repeated key replaces the earlier one, as JSON.parse does
            result.key_lines[key] = self.line(key_pos)
            pos = self.skip(pos)
            ch = self.text[pos : pos + 1]
            if ch == "}":
                return result, pos + 1
            if ch != ",":
                raise self.error(f"expected ',' or '}}', found {self.describe(pos)}", pos)
            pos = self.skip(pos + 1)
            if self.text.startswith("}", pos):  # trailing comma
                return result, pos + 1

    def array(self, start: int, depth: int) -> tuple[list[Any], int]:
        self.check_depth(start, depth)
        result: list[Any] = []
        pos = self.skip(start + 1)
        if self.text.startswith("]", pos):
            return result, pos + 1
        while True:
            item, pos = self.value(pos, depth)
            result.append(item)
            pos = self.skip(pos)
            ch = self.text[pos : pos + 1]
            if ch == "]":
                return result, pos + 1
            if ch != ",":
                raise self.error(f"expected ',' or ']', found {self.describe(pos)}", pos)
            pos = self.skip(pos + 1)
            if self.text.startswith("]", pos):  # trailing comma
                return result, pos + 1


def loads(text: str) -> Any:
    """Parse JSONC text. An empty file (or one holding only comments) reads as ``{}``.

    Objects come back as :class:`LinedDict`. Raises :class:`JsoncError` with line and column.
    """
    parser = _Parser(text)
    pos = parser.skip(0)
    if pos >= len(text):
        return LinedDict(1)
    result, pos = parser.value(pos, 0)
    pos = parser.skip(pos)
    if pos < len(text):
        raise parser.error(f"unexpected {parser.describe(pos)} after the end of the document", pos)
    return result
