"""Which lines of an upgrade are new: the fast per-position check must agree with the definition."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from distrust.analyze.diff import fresh_positions, new_lines
from distrust.model import Artifact, PackageRef

# Few distinct lines, so old and new share many; padding and short lines test the trimming.
_LINE = st.sampled_from(
    ["const a = 1;", "  const a = 1;", "fetch(url)", "})", "x", "", "bcc: 'p@evil.example'", "\tfetch(url)  "]
    + [f"line number {i}" for i in range(40)]
)
_NAME = st.sampled_from(["index.js", "lib/a.js", "README", "data.bin", "setup.py", "notes.md"])
_FILES = st.dictionaries(_NAME, st.lists(_LINE, max_size=12), max_size=5)


def _artifact(root: Path, files: dict[str, list[str]], binary: bool) -> Artifact:
    for rel, lines in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = "\n".join(lines).encode()
        path.write_bytes(b"\0" + data if binary and rel == "data.bin" else data)
    return Artifact(PackageRef("npm", "demo", "1.0.0"), root, tuple(sorted(files)), "i", str(root))


@settings(max_examples=200, deadline=None)
@given(old=_FILES, new=_FILES, binary=st.booleans(), picks=st.lists(st.tuples(_NAME, st.integers(0, 14))))
def test_fresh_positions_agree_with_new_lines(
    old: dict[str, list[str]], new: dict[str, list[str]], binary: bool, picks: list[tuple[str, int]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        old_art = _artifact(Path(tmp) / "old", old, binary)
        new_art = _artifact(Path(tmp) / "new", new, binary)
        everything = [(rel, n) for rel, lines in new.items() for n in range(len(lines) + 2)]
        for positions in (picks, everything):  # few candidates (substring prefilter) and many
            reference = new_lines(old_art, new_art)
            expected = {(rel, n) for rel, n in positions if n in reference.get(rel, frozenset())}
            assert fresh_positions(old_art, new_art, positions) == expected
