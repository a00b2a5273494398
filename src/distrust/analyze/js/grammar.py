"""Tree-sitter grammars, parsers and the one query the analyser runs per file (two if it has errors).

Building a ``Language`` and compiling a query costs milliseconds; parsing typescript.js costs
a second. Both are done once per process (parsers once per thread, since a ``Parser`` holds
mutable state), so that profiling a package with thousands of files pays only for parsing.

All syntax matching that must touch every node runs natively inside tree-sitter's query engine;
Python only sees the few nodes the query captures. A whole-tree walk in Python costs about a
microsecond per node, and typescript.js has millions of nodes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import cache

import tree_sitter
import tree_sitter_javascript
import tree_sitter_typescript

from distrust.analyze.js.tables import QUERY_CONSTRUCTORS, QUERY_FUNCTIONS, QUERY_METHODS

# "js" covers .js/.mjs/.cjs/.jsx: the JavaScript grammar parses JSX.
DIALECTS: tuple[str, ...] = ("js", "ts", "tsx")


class UnknownDialectError(ValueError):
    """The caller asked for a dialect this analyser has no grammar for."""


@cache
def language(dialect: str) -> tree_sitter.Language:
    """The grammar for a dialect; raise :class:`UnknownDialectError` naming the choices."""
    if dialect == "js":
        return tree_sitter.Language(tree_sitter_javascript.language())
    if dialect == "ts":
        return tree_sitter.Language(tree_sitter_typescript.language_typescript())
    if dialect == "tsx":
        return tree_sitter.Language(tree_sitter_typescript.language_tsx())
    choices = ", ".join(DIALECTS)
    raise UnknownDialectError(f"unknown JavaScript dialect {dialect!r} (choose one of: {choices})")


_local = threading.local()


def parser(dialect: str) -> tree_sitter.Parser:
    """A parser for this thread and dialect, created on first use."""
    parsers: dict[str, tree_sitter.Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = {}
        _local.parsers = parsers
    found = parsers.get(dialect)
    if found is None:
        found = tree_sitter.Parser(language(dialect))
        parsers[dialect] = found
    return found


def _any_of(capture: str, names: Iterable[str]) -> str:
    quoted = " ".join(f'"{n}"' for n in sorted(names))
    return f"(#any-of? {capture} {quoted})"


_MAIL_KEY = (
    r"(?i)^[\"']?(to|cc|bcc|from|sender|source|subject|html|text|htmlbody|textbody|reply_?to|"
    r"(to|cc|bcc|replyto)addresses|template(id|alias|model))[\"']?$"
)

# One pattern per thing the engine inspects. Every predicate sits inside its pattern's outer
# parentheses: tree-sitter silently ignores predicates written after an unwrapped pattern.
_COMMON_PATTERNS = f"""
((call_expression function: (identifier) @fname arguments: (_) @args) @call.fn
  {_any_of("@fname", QUERY_FUNCTIONS)})
((call_expression function: (member_expression object: (_) @recv property: (property_identifier) @mname)
   arguments: (_) @args) @call.member
  {_any_of("@mname", QUERY_METHODS)})
((call_expression function: (parenthesized_expression (sequence_expression (number)
   (member_expression object: (_) @recv property: (property_identifier) @mname))) arguments: (_) @args)
   @call.member
  {_any_of("@mname", QUERY_METHODS)})
(call_expression function: (import) arguments: (arguments) @args) @call.import
((new_expression
   constructor: [(identifier) @cname (member_expression property: (property_identifier) @cname)]) @new
  {_any_of("@cname", QUERY_CONSTRUCTORS)})
((member_expression object: (identifier) @_process property: (property_identifier) @_env) @env
  (#eq? @_process "process") (#eq? @_env "env"))
((member_expression object: (identifier) @_window property: (property_identifier) @_eth) @ethereum
  (#any-of? @_window "window" "globalThis") (#eq? @_eth "ethereum"))
(import_statement source: (string) @source) @import
((pair key: [(property_identifier) (string)] @mailkey) @mailpair (#match? @mailkey "{_MAIL_KEY}"))
((shorthand_property_identifier) @mailshort (#match? @mailshort "{_MAIL_KEY}"))
((pair key: [(property_identifier) (string)] @_desc value: (_) @description) @descpair
  (#match? @_desc "^[\\"']?description[\\"']?$"))
(string) @string
(template_string) @template
"""

# Parse errors are looked for only in a tree that has some (``root.has_error`` counts ERROR and
# MISSING nodes): for the usual clean file this saves two patterns checked at every node.
_ERROR_PATTERNS = """
(ERROR) @error
(MISSING) @missing
"""

_TS_PATTERNS = """
(import_statement (import_require_clause (identifier) @binding source: (string) @source)) @import.require
"""


@cache
def query(dialect: str) -> tree_sitter.Query:
    """The compiled analysis query for a dialect (TypeScript adds ``import x = require()``)."""
    source = _COMMON_PATTERNS + (_TS_PATTERNS if dialect in ("ts", "tsx") else "")
    return tree_sitter.Query(language(dialect), source)


@cache
def error_query(dialect: str) -> tree_sitter.Query:
    """The query for a tree's ERROR and MISSING nodes (run when ``has_error`` says there are some)."""
    return tree_sitter.Query(language(dialect), _ERROR_PATTERNS)
