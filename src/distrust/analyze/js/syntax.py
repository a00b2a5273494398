"""Small, bounded readers of tree-sitter nodes: literal values, receiver chains, wrappers.

Every helper here walks a fixed, small number of steps (or an explicit stack with a budget), never
Python recursion: a hostile file can nest expressions thousands deep, and the analyser must not
hit the recursion limit or spend seconds on one expression.
"""

from __future__ import annotations

import re

from tree_sitter import Node

# Expression wrappers that do not change the value: ``(x)``, ``await x``, TypeScript casts.
TRANSPARENT = frozenset({"parenthesized_expression", "await_expression", "as_expression",
                         "satisfies_expression", "non_null_expression", "type_assertion"})
STRING_TYPES = frozenset({"string", "template_string"})
MAX_CHAIN = 16
MAX_CONCAT_PARTS = 64


def text(node: Node | None) -> str:
    """The node's source text, decoded leniently (source files are not always valid UTF-8)."""
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def unwrap(node: Node | None) -> Node | None:
    """Skip value-preserving wrappers, ``(await (x as T))`` → ``x``."""
    steps = 0
    while node is not None and node.type in TRANSPARENT and steps < MAX_CHAIN:
        inner = node.named_children
        node = inner[0] if inner else None
        steps += 1
    return node


def arguments(args: Node | None) -> list[Node]:
    """The argument expressions of a call (comments dropped); a tagged template is one argument."""
    if args is None:
        return []
    if args.type != "arguments":
        return [args]
    return [c for c in args.named_children if c.type != "comment"]


def string_content(node: Node) -> str:
    """The characters between the quotes of a string or template literal, as written."""
    raw = text(node)
    return raw[1:-1] if len(raw) >= 2 else ""


def has_substitution(node: Node) -> bool:
    return any(c.type == "template_substitution" for c in node.named_children)


def literal(node: Node | None) -> str | None:
    """The value of a constant string expression, or None when it is computed at run time.

    Accepts quoted strings, templates without ``${}``, and ``+`` chains of those (the classic way
    to split a URL so a grep misses it).
    """
    node = unwrap(node)
    if node is None:
        return None
    if node.type == "string" or (node.type == "template_string" and not has_substitution(node)):
        return unescape(string_content(node))
    if node.type != "binary_expression":
        return None
    parts: list[str] = []
    stack: list[Node] = [node]
    while stack:
        if len(parts) + len(stack) > MAX_CONCAT_PARTS:
            return None
        cur = unwrap(stack.pop())
        if cur is None:
            return None
        if cur.type == "binary_expression":
            op = cur.child_by_field_name("operator")
            left, right = cur.child_by_field_name("left"), cur.child_by_field_name("right")
            if op is None or op.type != "+" or left is None or right is None:
                return None
            stack.append(right)
            stack.append(left)
        elif cur.type == "string" or (cur.type == "template_string" and not has_substitution(cur)):
            parts.append(unescape(string_content(cur)))
        else:
            return None
    return "".join(parts)


def static_text(node: Node) -> str:
    """A template's literal parts with each ``${…}`` shown as ``${…}``; for descriptions."""
    if node.type != "template_string":
        return literal(node) or ""
    out: list[str] = []
    for child in node.children:
        if child.type == "template_substitution":
            out.append("${…}")
        elif child.type not in ("`",):
            out.append(text(child))
    return unescape("".join(out))


_ESCAPE_RE = re.compile(r"\\(?:x([0-9a-fA-F]{2})|u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|(.))", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0", "\n": ""}


def _escape(match: re.Match[str]) -> str:
    hex2, braced, hex4, other = match.groups()
    code = hex2 or braced or hex4
    if code is not None:
        value = int(code, 16)
        return chr(value) if value <= 0x10FFFF else "\ufffd"
    return _SIMPLE_ESCAPES.get(other, other)


def unescape(raw: str) -> str:
    """Decode JavaScript string escapes (``\\x68ttp`` → ``http``) so hidden literals are seen."""
    if "\\" not in raw:
        return raw
    return _ESCAPE_RE.sub(_escape, raw)


def chain(node: Node | None) -> list[str]:
    """A receiver as dotted parts: ``fs.promises`` → ``["fs", "promises"]``.

    ``require('x').y`` becomes ``["require:x", "y"]`` so the module is known without a binding.
    Anything computed (``a[b]``, ``f().x``) becomes ``"?"`` at that position.
    """
    parts: list[str] = []
    cur = unwrap(node)
    while cur is not None and len(parts) < MAX_CHAIN:
        kind = cur.type
        if kind == "member_expression":
            parts.append(text(cur.child_by_field_name("property")))
            cur = unwrap(cur.child_by_field_name("object"))
            continue
        if kind in ("identifier", "this", "property_identifier"):
            parts.append(text(cur))
        elif kind == "call_expression":
            module = required_module(cur)
            parts.append(f"require:{module}" if module is not None else "?")
        elif kind == "subscript_expression":
            index = literal(cur.child_by_field_name("index"))
            parts.append(index if index is not None else "?")
            cur = unwrap(cur.child_by_field_name("object"))
            continue
        else:
            parts.append("?")
        break
    parts.reverse()
    return parts


def required_module(call: Node) -> str | None:
    """The literal module of ``require('m')`` / ``import('m')``, else None."""
    fn = call.child_by_field_name("function")
    if fn is None or not (fn.type == "import" or (fn.type == "identifier" and text(fn) == "require")):
        return None
    args = arguments(call.child_by_field_name("arguments"))
    return literal(args[0]) if args else None


def line_of(node: Node) -> int:
    return node.start_point.row + 1
