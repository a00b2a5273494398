"""Locate values in a client config by character offset, so a rewrite can touch only those bytes.

``distrust wrap`` changes two or three values per server entry in files people wrote by hand:
VS Code ``settings.json`` full of comments, a Codex ``config.toml`` with notes, a Continue YAML
list. Re-serialising a parsed document would drop the comments and reorder keys, so instead
each syntax is read into a small tree of :class:`Node` records that know where every key and
value starts and ends in the text, and the change is made as a few :class:`Edit` splices.

The readers here only need to be exact about *positions*; the meaning of a document is still
taken from ``distrust.discover.formats`` (the caller parses the text with it first and again
after editing, to prove the edit did what was intended). Constructs whose positions cannot be
trusted (YAML anchors and tags, TOML dotted keys and arrays of tables, block scalars) are
marked so the caller skips that entry with a reason instead of risking the file.
"""

from __future__ import annotations

import json
import json.decoder
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import cast

import yaml

__all__ = [
    "Edit",
    "EditError",
    "Member",
    "Node",
    "Syntax",
    "apply_edits",
    "read_tree",
    "syntax_for",
    "walk",
]


class EditError(ValueError):
    """A span could not be located or edited safely; the message says why, for the user."""


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` with ``replacement`` (``start == end`` inserts)."""

    start: int
    end: int
    replacement: str


@dataclass
class Node:
    """A value in the document and the offsets of its text (``end`` is exclusive).

    ``kind`` is ``map``, ``seq`` or ``scalar``. ``flow`` is true for inline collections
    (JSON objects are always "flow": members are separated by commas). ``exotic`` names a
    construct whose text cannot be edited safely (empty when it can).
    """

    kind: str
    start: int
    end: int
    members: list[Member] = field(default_factory=list)
    items: list[Node] = field(default_factory=list)
    flow: bool = True
    exotic: str = ""

    def member(self, key: str) -> Member | None:
        """The member with ``key``; the last one when repeated, as every parser here keeps."""
        found = None
        for member in self.members:
            if member.key == key:
                found = member
        return found


@dataclass
class Member:
    """``key: value`` inside a map; ``key_start`` is where the key's text (or quote) starts."""

    key: str
    key_start: int
    value: Node


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Splice ``edits`` into ``text``; overlapping edits are a programming error, refused."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    out: list[str] = []
    pos = 0
    for edit in ordered:
        if edit.start < pos or edit.end < edit.start or edit.end > len(text):
            raise EditError(f"edits overlap or fall outside the text at offset {edit.start}")
        out.append(text[pos : edit.start])
        out.append(edit.replacement)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


def line_indent(text: str, pos: int) -> str:
    """The whitespace that starts the line holding ``pos``."""
    line_start = text.rfind("\n", 0, pos) + 1
    match = re.match(r"[ \t]*", text[line_start:pos])
    return match.group() if match else ""


def starts_line(text: str, pos: int) -> bool:
    """True when only whitespace precedes ``pos`` on its line (a block-style member)."""
    line_start = text.rfind("\n", 0, pos) + 1
    return text[line_start:pos].strip() == ""


def newline_of(text: str) -> str:
    """The file's line ending, so inserted lines match the rest (``\\r\\n`` on Windows files)."""
    return "\r\n" if "\r\n" in text else "\n"


# --- how each syntax writes values ------------------------------------------------------------


@dataclass(frozen=True)
class Syntax:
    """How to spell a string, a list of strings and a ``key: value`` member in one syntax."""

    name: str
    key_value: str  # between key and value: ': ' or ' = '
    flow_comma: str  # written between members of a flow collection
    block_comma: str  # written between members of a block collection (JSON keeps its comma)
    ascii_only: bool

    def string(self, value: str) -> str:
        """A double-quoted string: JSON's escapes are valid in YAML and in TOML basic strings."""
        return json.dumps(value, ensure_ascii=self.ascii_only)

    def string_list(self, values: Sequence[str]) -> str:
        return "[" + ", ".join(self.string(v) for v in values) + "]"

    def key(self, name: str) -> str:
        if self.name == "jsonc":
            return self.string(name)
        if re.fullmatch(r"[A-Za-z0-9_-]+", name):
            return name
        return self.string(name)

    def member(self, name: str, value_text: str) -> str:
        return f"{self.key(name)}{self.key_value}{value_text}"

    def separator(self, text: str, holder: Node, after: Member) -> str:
        """What to write between ``after`` and a new member placed right behind it."""
        if holder.flow and not starts_line(text, after.key_start):
            return f"{self.flow_comma} "
        comma = self.flow_comma if holder.flow else self.block_comma
        return comma + newline_of(text) + line_indent(text, after.key_start)


SYNTAXES = {
    "jsonc": Syntax("jsonc", ": ", ",", ",", ascii_only=False),
    "yaml": Syntax("yaml", ": ", ",", "", ascii_only=False),
    "toml": Syntax("toml", " = ", ",", "", ascii_only=True),  # TOML forbids a raw DEL; escape
}


def syntax_for(fmt: str) -> Syntax:
    try:
        return SYNTAXES[fmt]
    except KeyError:
        raise EditError(f"no editor for format {fmt!r}") from None


def read_tree(text: str, fmt: str) -> Node:
    """The positions tree of ``text``; call only on text that ``formats.parse`` accepted."""
    readers: dict[str, Callable[[str], Node]] = {"jsonc": _json_tree, "yaml": _yaml_tree, "toml": _toml_tree}
    try:
        reader = readers[fmt]
    except KeyError:
        raise EditError(f"no editor for format {fmt!r}") from None
    return reader(text)


# --- JSON with comments -----------------------------------------------------------------------

_JSON_SKIP = re.compile(r"(?:[ \t\r\n\ufeff]+|//[^\n]*|/\*.*?\*/)*", re.DOTALL)
# The stdlib's C string decoder, as discover.jsonc uses it; typeshed does not declare it.
_scanstring = cast(Callable[[str, int, bool], tuple[str, int]], vars(json.decoder)["scanstring"])
_JSON_BARE = re.compile(r"-?[0-9][0-9eE.+-]*|true|false|null")
_MAX_DEPTH = 256


class _JsonReader:
    """Positions of a JSONC document (same dialect as ``discover.jsonc``: comments, trailing commas)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, what: str, pos: int) -> EditError:
        line = self.text.count("\n", 0, pos) + 1
        return EditError(f"line {line}: {what}")

    def skip(self, pos: int) -> int:
        match = _JSON_SKIP.match(self.text, pos)
        return match.end() if match else pos

    def string(self, pos: int) -> tuple[str, int]:
        try:
            return _scanstring(self.text, pos + 1, False)
        except json.JSONDecodeError as exc:
            raise self.fail(exc.msg.lower(), exc.pos) from None

    def value(self, pos: int, depth: int) -> Node:
        if depth > _MAX_DEPTH:
            raise self.fail("nested too deeply", pos)
        pos = self.skip(pos)
        ch = self.text[pos : pos + 1]
        if ch == "{":
            return self.obj(pos, depth + 1)
        if ch == "[":
            return self.array(pos, depth + 1)
        if ch == '"':
            _, end = self.string(pos)
            return Node("scalar", pos, end)
        match = _JSON_BARE.match(self.text, pos)
        if not match:
            raise self.fail("expected a value", pos)
        return Node("scalar", pos, match.end())

    def obj(self, start: int, depth: int) -> Node:
        node = Node("map", start, start)
        pos = self.skip(start + 1)
        while not self.text.startswith("}", pos):
            key, after_key = self.string(pos)
            colon = self.skip(after_key)
            if not self.text.startswith(":", colon):
                raise self.fail("expected ':'", colon)
            value = self.value(colon + 1, depth)
            node.members.append(Member(key, pos, value))
            pos = self.skip(value.end)
            if self.text.startswith(",", pos):
                pos = self.skip(pos + 1)
            elif not self.text.startswith("}", pos):
                raise self.fail("expected ',' or '}'", pos)
        node.end = pos + 1
        return node

    def array(self, start: int, depth: int) -> Node:
        node = Node("seq", start, start)
        pos = self.skip(start + 1)
        while not self.text.startswith("]", pos):
            item = self.value(pos, depth)
            node.items.append(item)
            pos = self.skip(item.end)
            if self.text.startswith(",", pos):
                pos = self.skip(pos + 1)
            elif not self.text.startswith("]", pos):
                raise self.fail("expected ',' or ']'", pos)
        node.end = pos + 1
        return node


def _json_tree(text: str) -> Node:
    reader = _JsonReader(text)
    pos = reader.skip(0)
    if pos >= len(text):
        return Node("map", 0, 0)
    return reader.value(pos, 0)


# --- YAML -------------------------------------------------------------------------------------

# Tokens that make text positions lie: an alias edits its anchor, a tag changes the meaning.
_YAML_EXOTIC_TOKENS: dict[type[yaml.Token], str] = {
    yaml.AnchorToken: "a YAML anchor (&)",
    yaml.AliasToken: "a YAML alias (*)",
    yaml.TagToken: "a YAML tag (!)",
}


def _yaml_tree(text: str) -> Node:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        exotic = [
            (token.start_mark.index, label)
            for token in yaml.scan(text, Loader=yaml.SafeLoader)
            for kind, label in _YAML_EXOTIC_TOKENS.items()
            if isinstance(token, kind)
        ]
    except yaml.YAMLError as exc:
        raise EditError(f"cannot locate values in this YAML: {exc}") from None
    if root is None:
        return Node("map", 0, 0, flow=False)
    return _yaml_node(root, exotic)


def _yaml_node(node: yaml.Node, exotic: list[tuple[int, str]]) -> Node:
    start = node.start_mark.index
    if isinstance(node, yaml.ScalarNode):
        out = Node("scalar", start, node.end_mark.index)
        if node.style in ("|", ">"):
            out.exotic = "a YAML block scalar (| or >)"
        return out
    if isinstance(node, yaml.SequenceNode):
        out = Node("seq", start, node.end_mark.index, flow=bool(node.flow_style))
        out.items = [_yaml_node(item, exotic) for item in node.value]
    elif isinstance(node, yaml.MappingNode):
        out = Node("map", start, node.end_mark.index, flow=bool(node.flow_style))
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                out.exotic = "a YAML key that is not a plain string"
                continue
            if key_node.value == "<<":
                out.exotic = "a YAML merge key (<<)"
            out.members.append(
                Member(str(key_node.value), key_node.start_mark.index, _yaml_node(value_node, exotic))
            )
    else:  # pragma: no cover - compose yields only the three node kinds
        raise EditError(f"unexpected YAML node {type(node).__name__}")
    if not out.flow:
        # A block collection's end mark runs on over the comments and blank lines after it;
        # the last child's end is where its own text stops.
        children = [m.value for m in out.members] or out.items
        if children:
            out.end = max(child.end for child in children)
    if not out.exotic:
        for position, label in exotic:
            if out.start <= position < out.end:
                out.exotic = label
                break
    return out


# --- TOML -------------------------------------------------------------------------------------

_TOML_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TOML_BASIC = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_TOML_LITERAL = re.compile(r"'[^'\n]*'")
_TOML_ML_BASIC = re.compile(r'"""(?:[^\\]|\\.)*?"""(?!")', re.DOTALL)
_TOML_ML_LITERAL = re.compile(r"'''.*?'''(?!')", re.DOTALL)
_TOML_SCALAR = re.compile(r"[^\s,\]}#]+(?:[ T][0-9][^\s,\]}#]*)?")  # numbers, booleans, dates
_TOML_GAP = re.compile(r"(?:[ \t\r\n]+|#[^\n]*)*")  # inside arrays: newlines and comments allowed
_TOML_SPACE = re.compile(r"[ \t]*")


class _TomlReader:
    """Positions of a TOML document: tables from headers, key/value lines, inline values.

    tomllib keeps no positions, and client configs use a small part of TOML, so this reader
    covers that part exactly and marks the rest (arrays of tables, dotted keys) as exotic.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.root = Node("map", 0, len(text), flow=False)

    def fail(self, what: str, pos: int) -> EditError:
        line = self.text.count("\n", 0, pos) + 1
        return EditError(f"line {line}: {what}")

    def space(self, pos: int) -> int:
        match = _TOML_SPACE.match(self.text, pos)
        return match.end() if match else pos

    def gap(self, pos: int) -> int:
        match = _TOML_GAP.match(self.text, pos)
        return match.end() if match else pos

    def key_path(self, pos: int) -> tuple[list[str], int]:
        """A dotted key starting at ``pos``: its parts and the offset after it."""
        parts: list[str] = []
        while True:
            pos = self.space(pos)
            basic = _TOML_BASIC.match(self.text, pos)
            literal = _TOML_LITERAL.match(self.text, pos)
            bare = _TOML_BARE_KEY.match(self.text, pos)
            if basic:
                parts.append(cast(str, json.loads(basic.group())))
                pos = basic.end()
            elif literal:
                parts.append(literal.group()[1:-1])
                pos = literal.end()
            elif bare:
                parts.append(bare.group())
                pos = bare.end()
            else:
                raise self.fail("expected a key", pos)
            after = self.space(pos)
            if not self.text.startswith(".", after):
                return parts, pos
            pos = after + 1

    def value(self, pos: int) -> Node:
        text = self.text
        for pattern in (_TOML_ML_BASIC, _TOML_ML_LITERAL, _TOML_BASIC, _TOML_LITERAL):
            match = pattern.match(text, pos)
            if match:
                node = Node("scalar", pos, match.end())
                if pattern in (_TOML_ML_BASIC, _TOML_ML_LITERAL):
                    node.exotic = "a multi-line TOML string"
                return node
        if text.startswith("[", pos):
            node = Node("seq", pos, pos)
            cursor = self.gap(pos + 1)
            while not text.startswith("]", cursor):
                item = self.value(cursor)
                node.items.append(item)
                cursor = self.gap(item.end)
                if text.startswith(",", cursor):
                    cursor = self.gap(cursor + 1)
                elif not text.startswith("]", cursor):
                    raise self.fail("expected ',' or ']'", cursor)
            node.end = cursor + 1
            return node
        if text.startswith("{", pos):
            node = Node("map", pos, pos)
            cursor = self.space(pos + 1)
            while not text.startswith("}", cursor):
                parts, after_key = self.key_path(cursor)
                equals = self.space(after_key)
                if not text.startswith("=", equals):
                    raise self.fail("expected '='", equals)
                item = self.value(self.space(equals + 1))
                self.place(node, parts, cursor, item)
                cursor = self.space(item.end)
                if text.startswith(",", cursor):
                    cursor = self.space(cursor + 1)
                elif not text.startswith("}", cursor):
                    raise self.fail("expected ',' or '}'", cursor)
            node.end = cursor + 1
            return node
        match = _TOML_SCALAR.match(text, pos)
        if not match:
            raise self.fail("expected a value", pos)
        return Node("scalar", pos, match.end())

    def place(self, table: Node, parts: list[str], key_start: int, value: Node) -> None:
        """Put ``value`` at the dotted key ``parts`` below ``table``."""
        for part in parts[:-1]:
            found = table.member(part)
            if found is None or found.value.kind != "map":
                child = Node("map", key_start, value.end, flow=table.flow, exotic="TOML dotted keys")
                table.members.append(Member(part, key_start, child))
                table = child
            else:
                table = found.value
        table.members.append(Member(parts[-1], key_start, value))
        table.end = max(table.end, value.end)

    def table(self, parts: list[str], header_start: int, exotic: str) -> Node:
        node = self.root
        for index, part in enumerate(parts):
            found = node.member(part)
            if found is None or found.value.kind != "map":
                child = Node("map", header_start, header_start, flow=False)
                node.members.append(Member(part, header_start, child))
                found = node.members[-1]
            if index == len(parts) - 1 and exotic:
                found.value.exotic = exotic
            node = found.value
        return node

    def read(self) -> Node:
        text = self.text
        current = self.root
        pos = 0
        while pos < len(text):
            pos = self.gap(pos)
            if pos >= len(text):
                break
            if text.startswith("[", pos):
                array_table = text.startswith("[[", pos)
                parts, after = self.key_path(pos + (2 if array_table else 1))
                close = self.space(after)
                closing = "]]" if array_table else "]"
                if not text.startswith(closing, close):
                    raise self.fail("expected ']' after a table name", close)
                current = self.table(parts, pos, "a TOML array of tables" if array_table else "")
                current.start = pos
                current.end = close + len(closing)
                pos = close + len(closing)
                continue
            parts, after_key = self.key_path(pos)
            equals = self.space(after_key)
            if not text.startswith("=", equals):
                raise self.fail("expected '='", equals)
            value = self.value(self.space(equals + 1))
            self.place(current, parts, pos, value)
            pos = value.end
        return self.root


def _toml_tree(text: str) -> Node:
    return _TomlReader(text).read()


def walk(node: Node, keys: Sequence[str]) -> Iterator[tuple[Node, tuple[str, ...]]]:
    """Nodes at ``keys`` below ``node`` (``*`` matches every key), with the concrete path."""
    found: list[tuple[Node, tuple[str, ...]]] = [(node, ())]
    for key in keys:
        step: list[tuple[Node, tuple[str, ...]]] = []
        for value, where in found:
            if value.kind != "map":
                continue
            if key == "*":
                seen: set[str] = set()
                for member in reversed(value.members):  # a repeated key: the last one counts
                    if member.key not in seen:
                        seen.add(member.key)
                        step.append((member.value, (*where, member.key)))
                step.reverse()
            else:
                named = value.member(key)
                if named is not None:
                    step.append((named.value, (*where, key)))
        found = step
    yield from found
