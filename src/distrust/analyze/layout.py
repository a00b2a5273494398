"""Code laid out to be missed: statements pushed past the right edge of the screen.

A reviewer (or a diff viewer, or GitHub) shows ``from setuptools import setup`` and nothing
else, because the rest of the line is a few hundred spaces and then
``;__import__('builtins').exec(…)``. Real PyPI droppers do exactly this; no formatter or
minifier produces it (minified code has no runs of spaces, formatted code breaks lines), so a
long run of blanks *between* two pieces of code on one line is a signal in itself.
"""

from __future__ import annotations

import re
from typing import Final

from distrust.model import Capability

KIND: Final = "obfuscation.offscreen"
GAP: Final = 100
"""Blanks in a row between two pieces of code on one line; a wide editor shows ~200 columns."""

# Code, a run of blanks, then more code on the same line (not the closing quote of a string
# made of blanks: whitespace-encoded payloads are a different signal).
_OFFSCREEN: Final = re.compile(rb"[^\s][ \t]{%d,}([^\s\"'`#/])" % GAP)
_GAP_OF_SPACES: Final = b" " * GAP
SHOWN_CHARS: Final = 120


def _has_long_blank_run(data: bytes) -> bool:
    """Whether ``data`` has ``GAP`` spaces/tabs in a row: the regex cannot match without one.

    The regex tries its pattern at every byte (~25 ms per MB); this substring search runs at
    memory speed, so the regex only runs on the rare file that has such a run.
    """
    if b"\t" in data:
        data = data.replace(b"\t", b" ")
    return _GAP_OF_SPACES in data


def offscreen_code(path: str, data: bytes) -> list[Capability]:
    """One ``obfuscation.offscreen`` capability for the first line hiding code past the edge."""
    match = _OFFSCREEN.search(data) if _has_long_blank_run(data) else None
    if match is None:
        return []
    line = data.count(b"\n", 0, match.start()) + 1
    end = data.find(b"\n", match.start(1))
    hidden = data[match.start(1) : end if end >= 0 else len(data)].decode("utf-8", "replace")
    gap = match.start(1) - match.start() - 1
    shown = " ".join(hidden.split())[:SHOWN_CHARS]
    return [Capability(KIND, f"{gap} blanks, then: {shown}", path, line, f"…{shown}")]
