"""Which object literals end up as an email message, and who they address.

postmark-mcp 1.0.16 added ``Bcc: 'phan@giftshop.club'`` to the object literal passed to
``client.sendEmail``. The same line is equally easy to hide one step away (``const msg = {…};
client.sendEmail(msg)``, ``{...params, Bcc: x}``, an SES ``Destination`` nested two levels
down), so recipient fields are credited to a send when the object reaches the call through
nesting, spreads, ``Object.assign`` or a variable in the same file. Objects that look like a
message on their own (several mail keys) count even when the send is out of sight, because the
send may happen in another file.

The data flow is intentionally small: names, not scopes; one file; no calls through helpers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import tree_sitter
from tree_sitter import Node

from distrust.analyze.js.syntax import TRANSPARENT, arguments, literal, text, unwrap
from distrust.analyze.js.tables import (
    EMAIL_RE,
    MAIL_ADDRESS_FIELDS,
    MAIL_CONTENT_FIELDS,
    MAIL_KEYS_FOR_MESSAGE,
    RECIPIENT_FIELDS,
)
from distrust.analyze.kinds import DYNAMIC

# Helpers that merge objects; their arguments reach whoever receives the merged result.
MERGE_FUNCTIONS = frozenset({"Object.assign", "_extends", "__assign", "_objectSpread", "_objectSpread2",
                             "Object.freeze", "structuredClone"})
MAX_FLOW_NODES = 400
MAX_CLIMB = 12
MAX_FIXPOINT_ROUNDS = 6


@dataclass
class MailObject:
    """An object literal with at least one mail-ish key, and where it goes."""

    node: Node
    fields: list[tuple[str, Node, Node | None]] = field(default_factory=list)  # (key lower, key node, value)
    chain: set[int] = field(default_factory=set)  # ids of enclosing literals it is part of
    bound_to: str | None = None  # the variable the outermost literal is assigned to
    sink_call: int | None = None  # id of the call whose argument the outermost literal is


def field_name(key: Node) -> str:
    raw = text(key)
    if key.type == "string":
        raw = raw[1:-1]
    return raw.lower()


def _is_merge_call(node: Node) -> bool:
    return node.type == "call_expression" and text(node.child_by_field_name("function")) in MERGE_FUNCTIONS


def climb(obj: Node, mail: MailObject) -> None:
    """Follow an object literal outwards to the expression that uses it, recording the path."""
    cur = obj
    for _ in range(MAX_CLIMB):
        if cur.type == "object":
            mail.chain.add(cur.id)
        parent = cur.parent
        if parent is None:
            return
        kind = parent.type
        if kind == "pair" and parent.child_by_field_name("value") == cur and parent.parent is not None:
            cur = parent.parent
        elif kind in ("array", "spread_element") or kind in TRANSPARENT:
            cur = parent.parent if kind == "spread_element" and parent.parent is not None else parent
        elif kind == "arguments" and parent.parent is not None and _is_merge_call(parent.parent):
            cur = parent.parent
        else:
            break
    parent = cur.parent
    if parent is None:
        return
    if parent.type == "arguments" and parent.parent is not None:
        mail.sink_call = parent.parent.id
    elif parent.type == "variable_declarator" and parent.child_by_field_name("value") == cur:
        mail.bound_to = text(parent.child_by_field_name("name"))
    elif parent.type == "assignment_expression" and parent.child_by_field_name("right") == cur:
        mail.bound_to = text(parent.child_by_field_name("left"))


def reached(args: list[Node], sent_objects: set[int], sent_names: set[str]) -> None:
    """Record every literal and name whose value flows into these call arguments."""
    stack = list(args)
    seen = 0
    while stack and seen < MAX_FLOW_NODES:
        node = unwrap(stack.pop())
        seen += 1
        if node is None:
            continue
        kind = node.type
        if kind == "object":
            sent_objects.add(node.id)
            stack.extend(c.named_children[0] for c in node.named_children
                         if c.type == "spread_element" and c.named_children)
        elif kind in ("array", "spread_element"):
            stack.extend(node.named_children)
        elif kind in ("identifier", "member_expression"):
            sent_names.add(text(node))
        elif _is_merge_call(node):
            stack.extend(arguments(node.child_by_field_name("arguments")))


def spread_names(obj: Node) -> list[str]:
    return [text(unwrap(c.named_children[0])) for c in obj.named_children
            if c.type == "spread_element" and c.named_children]


# Field values that carry data. A schema describing a message (zod ``{to: z.string()}``, JSON
# Schema ``{to: {type: 'string'}}``) has calls and objects there instead, and sends nothing.
DATA_VALUES = frozenset({"string", "template_string", "identifier", "member_expression",
                         "subscript_expression", "binary_expression", "ternary_expression", "array"})


def _holds_data(value: Node | None) -> bool:
    inner = unwrap(value)
    return value is None or (inner is not None and inner.type in DATA_VALUES)


def looks_like_message(mail: MailObject) -> bool:
    """Several mail keys make a message, but ``{from, to}`` alone is just as often a range."""
    keys = {k for k, _, value in mail.fields if _holds_data(value)}
    mailish = keys & (MAIL_CONTENT_FIELDS | MAIL_ADDRESS_FIELDS)
    if len(mailish) < MAIL_KEYS_FOR_MESSAGE:
        return False
    if keys & MAIL_CONTENT_FIELDS:
        return True
    if {RECIPIENT_FIELDS.get(k) for k in keys} & {"cc", "bcc", "replyto"}:
        return True
    return any(value is not None and "@" in (literal(value) or "") for _, _, value in mail.fields)


ConstLookup = Callable[[str], str | None]


def recipients(mail: MailObject, const_value: ConstLookup) -> list[tuple[str, Node]]:
    """``(field=value, node)`` for each recipient field; one entry per literal address."""
    out: list[tuple[str, Node]] = []
    for key, key_node, value in mail.fields:
        canonical = RECIPIENT_FIELDS.get(key)
        if canonical is None:
            continue
        if value is None:  # shorthand ``{ to }``
            out.append((f"{canonical}={DYNAMIC}", key_node))
            continue
        inner = unwrap(value)
        items = inner.named_children if inner is not None and inner.type == "array" else [value]
        for item in items:
            if item.type == "comment":
                continue
            lit = literal(item)
            if lit is None and unwrap(item) is not None and unwrap(item).type == "identifier":  # type: ignore[union-attr]
                lit = const_value(text(unwrap(item)))
            if lit is None:
                out.append((f"{canonical}={DYNAMIC}", item))
                continue
            addresses = [m.decode("ascii", "replace").lower() for m in EMAIL_RE.findall(lit.encode("utf-8"))]
            if not addresses and lit.strip():
                addresses = [lit.strip()]
            out.extend((f"{canonical}={a}", item) for a in addresses)
    return out


def declared_objects(lang: tree_sitter.Language, root: Node, names: set[str]) -> dict[str, list[Node]]:
    """Object literals assigned to the given names anywhere in the file (one native query)."""
    simple = sorted(n for n in names if re.fullmatch(r"[A-Za-z_$][\w$]*", n))
    if not simple:
        return {}
    quoted = " ".join(f'"{n}"' for n in simple)
    source = (
        f"((variable_declarator name: (identifier) @name value: (object) @obj) (#any-of? @name {quoted}))\n"
        f"((assignment_expression left: (identifier) @name right: (object) @obj) (#any-of? @name {quoted}))"
    )
    found: dict[str, list[Node]] = {}
    for _, caps in tree_sitter.QueryCursor(tree_sitter.Query(lang, source)).matches(root):
        name, obj = caps.get("name"), caps.get("obj")
        if name and obj:
            found.setdefault(text(name[0]), []).append(obj[0])
    return found


def messages(
    mail_objects: list[MailObject],
    send_args: dict[int, list[Node]],
    lang: tree_sitter.Language,
    root: Node,
) -> list[MailObject]:
    """The mail objects that reach a send call or look like a message on their own."""
    sent_objects: set[int] = set()
    sent_names: set[str] = set()
    for args in send_args.values():
        reached(args, sent_objects, sent_names)

    def is_sent(m: MailObject) -> bool:
        return (m.sink_call in send_args or bool(m.chain & sent_objects)
                or (m.bound_to is not None and m.bound_to in sent_names))

    # Names spread or merged into a sent object are sent too; follow them until nothing changes,
    # looking up objects declared under those names when no mail object is bound to them.
    resolved: set[str] = set()
    for _ in range(MAX_FIXPOINT_ROUNDS):
        before = (len(sent_objects), len(sent_names))
        for m in mail_objects:
            if is_sent(m):
                sent_objects |= m.chain
                sent_names.update(spread_names(m.node))
        unresolved = sent_names - resolved - {m.bound_to for m in mail_objects if m.bound_to}
        if unresolved:
            resolved |= unresolved
            for objs in declared_objects(lang, root, unresolved).values():
                reached(objs, sent_objects, sent_names)
        if (len(sent_objects), len(sent_names)) == before:
            break
    return [m for m in mail_objects if is_sent(m) or looks_like_message(m)]
