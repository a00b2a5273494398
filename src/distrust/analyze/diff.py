"""What changed between two versions: new lines, and capabilities that appeared or vanished.

The point is to make one added line stand out and moved code stay quiet. A line counts as
*new* when its trimmed text appears nowhere in the old version (in any file), so a function
moved to another file, re-indented or reordered is not news, while
``Bcc: 'phan@giftshop.club',`` is. A capability counts as *added* when its (kind, value) pair
does not occur anywhere in the old profile, so renaming a file does not "add" every URL in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from distrust.fsutil import ReadError, read_bytes_capped
from distrust.model import Artifact, Capability, Change, Profile

# Lines this short carry no meaning on their own (braces, "else", "});"): never "new".
_MIN_LINE_CHARS = 4
# Files larger than this are compared as wholes: a changed minified bundle is all "new" lines.
_MAX_DIFF_BYTES = 32 * 1024 * 1024

_TEXT_SUFFIXES = (
    ".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx", ".py", ".pyw", ".json", ".sh",
    ".cfg", ".toml", ".pth", ".txt", ".yml", ".yaml",
)  # fmt: skip


# Up to this many candidate lines, an old file is first searched for each as a substring (fast,
# in C); only files containing one are split into lines. Beyond it, every file is split.
_SUBSTRING_PREFILTER_MAX = 32


def _text(root: Path, rel: str) -> str | None:
    try:
        data = read_bytes_capped(root / rel, _MAX_DIFF_BYTES)
    except ReadError:
        return None
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def _lines(root: Path, rel: str) -> list[str] | None:
    text = _text(root, rel)
    return None if text is None else text.splitlines()


def _is_texty(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return name.endswith(_TEXT_SUFFIXES) or "." not in name


def old_line_set(artifact: Artifact) -> set[str]:
    """Every meaningful trimmed line of the old version, across all its text files."""
    seen: set[str] = set()
    for rel in artifact.files:
        if not _is_texty(rel):
            continue
        lines = _lines(artifact.root, rel)
        if lines is None:
            continue
        seen.update(s for s in (ln.strip() for ln in lines) if len(s) >= _MIN_LINE_CHARS)
    return seen


def new_lines(old: Artifact, new: Artifact, files: Iterable[str] | None = None) -> dict[str, frozenset[int]]:
    """For each file of ``new`` (or only ``files``), the 1-based numbers of lines that are new.

    The definition of a new line. :func:`compute_changes` asks only about the lines added
    capabilities sit on, through :func:`fresh_positions`, which gives the same answer.
    """
    before = old_line_set(old)
    wanted = new.files if files is None else tuple(files)
    result: dict[str, frozenset[int]] = {}
    for rel in wanted:
        lines = _lines(new.root, rel)
        if lines is None:
            continue
        fresh = {
            i
            for i, ln in enumerate(lines, start=1)
            if len(s := ln.strip()) >= _MIN_LINE_CHARS and s not in before
        }
        if fresh:
            result[rel] = frozenset(fresh)
    return result


def _old_lines_among(old: Artifact, texts: set[str]) -> set[str]:
    """Which of ``texts`` (trimmed lines) occur as a trimmed line in an old text file.

    The same answer as ``texts & old_line_set(old)``, without building the set of every old
    line: a diff asks about the few lines its added capabilities sit on.
    """
    found: set[str] = set()
    prefilter = len(texts) <= _SUBSTRING_PREFILTER_MAX
    for rel in old.files:
        if not _is_texty(rel):
            continue
        text = _text(old.root, rel)
        if text is None or (prefilter and not any(t in text for t in texts)):
            continue  # a line equal to t contains t, so a file without t has no such line
        found.update(texts.intersection(map(str.strip, text.splitlines())))
    return found


def fresh_positions(
    old: Artifact, new: Artifact, positions: Iterable[tuple[str, int]]
) -> set[tuple[str, int]]:
    """Which (file, line) positions of ``new`` sit on a new line (as :func:`new_lines` counts)."""
    wanted: dict[str, set[int]] = {}
    for rel, line in positions:
        wanted.setdefault(rel, set()).add(line)
    candidates: dict[tuple[str, int], str] = {}
    for rel, numbers in wanted.items():
        lines = _lines(new.root, rel)
        if lines is None:
            continue
        for number in numbers:
            if 1 <= number <= len(lines) and len(s := lines[number - 1].strip()) >= _MIN_LINE_CHARS:
                candidates[(rel, number)] = s
    if not candidates:
        return set()
    seen_before = _old_lines_among(old, set(candidates.values()))
    return {position for position, s in candidates.items() if s not in seen_before}


def _key(cap: Capability) -> tuple[str, str]:
    return (cap.kind, cap.value)


def compute_changes(old: Profile, new: Profile) -> tuple[Change, ...]:
    """Capabilities added in ``new`` and removed from ``old``, each marked for changed lines.

    Only the lines added capabilities sit on are compared with the old version: an upgrade
    that adds nothing reads no file at all.
    """
    old_keys = {_key(c) for c in old.capabilities}
    new_keys = {_key(c) for c in new.capabilities}
    added = [cap for cap in new.capabilities if _key(cap) not in old_keys]
    fresh = fresh_positions(old.artifact, new.artifact, ((c.file, c.line) for c in added))
    changes: list[Change] = [
        Change("added", cap, in_changed_lines=(cap.file, cap.line) in fresh) for cap in added
    ]
    for cap in old.capabilities:
        if _key(cap) not in new_keys:
            changes.append(Change("removed", cap, in_changed_lines=False))
    return tuple(changes)
