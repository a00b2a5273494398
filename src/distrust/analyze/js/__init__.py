"""JavaScript/TypeScript Risk Engine analyser: ``analyze_js(path, source, dialect=…) -> JsResult``.

The tables of what is detected live in :mod:`distrust.analyze.js.tables`; the tree-sitter
grammars and query in :mod:`distrust.analyze.js.grammar`.
"""

from __future__ import annotations

from distrust.analyze.js.engine import MAX_SOURCE_BYTES, JsResult, analyze_js, shannon_entropy
from distrust.analyze.js.grammar import DIALECTS, UnknownDialectError

__all__ = ["DIALECTS", "MAX_SOURCE_BYTES", "JsResult", "UnknownDialectError", "analyze_js", "shannon_entropy"]
