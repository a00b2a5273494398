"""relpath answers exactly as PurePosixPath does, for any string a file list could hold."""

from __future__ import annotations

from pathlib import PurePosixPath

from hypothesis import given
from hypothesis import strategies as st

from distrust.analyze import relpath
from distrust.analyze.layout import offscreen_code

# Components built from the characters that matter to path parsing, plus ordinary ones.
_PATHS = st.lists(st.sampled_from(["", ".", "..", "a", "b.js", ".env", "x.", "a.min.js", "README.md", " "]),
                  max_size=6).map("/".join) | st.text(alphabet="/.ab\\", max_size=12)

_EXAMPLES = ["", "/", "//", "///", ".", "./", "a", "a/", "a//b", "./a/./b", "/a/b", "//a/b", "a/.", "a/..",
             ".bashrc", "x.", "a.b.c", "dir/.hidden.js", "pkg/README", "pkg/readme.md"]


def _same(path: str) -> None:
    pure = PurePosixPath(path)
    assert relpath.parts(path) == pure.parts
    assert relpath.name(path) == pure.name
    assert relpath.suffix(pure.name) == pure.suffix
    assert relpath.stem(pure.name) == pure.stem


def test_known_shapes() -> None:
    for path in _EXAMPLES:
        _same(path)


@given(_PATHS)
def test_any_path(path: str) -> None:
    _same(path)


def test_offscreen_prefilter_keeps_tab_and_space_runs() -> None:
    """The substring prefilter in front of the offscreen regex must not hide mixed blank runs."""
    for gap in (" \t" * 60, "\t" * 120, " " * 100):
        found = offscreen_code("x.js", f"ok();{gap}evil()".encode())
        assert found and found[0].value.endswith("evil()")
    assert offscreen_code("x.js", ("ok();" + " " * 99 + "evil()").encode()) == []
