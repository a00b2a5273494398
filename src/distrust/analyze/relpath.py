"""POSIX paths inside an artifact as plain strings: pathlib's answers without pathlib's cost.

Building a profile asks each file's name, suffix and components several times; a
``PurePosixPath`` costs a few microseconds to build, which adds up over the thousand files of
a package like lodash. These helpers give the same answers as ``PurePosixPath`` (Python 3.11)
for every string, relative or absolute, and take a fast path for the usual clean relative
path (no empty, ``.`` or trailing components).
"""

from __future__ import annotations

from pathlib import PurePosixPath


def parts(path: str) -> tuple[str, ...]:
    """``PurePosixPath(path).parts``: components without empty or ``.`` ones; a root stays first."""
    if path.startswith("/"):
        return PurePosixPath(path).parts  # rare: keep pathlib's handling of "/" and "//"
    return tuple(part for part in path.split("/") if part and part != ".")


def name(path: str) -> str:
    """``PurePosixPath(path).name``: the last component, or "" when there is none."""
    last = path.rpartition("/")[2]
    if last and last != ".":
        return last
    found = parts(path)
    return found[-1] if found and found[-1] != "/" and found[-1] != "//" else ""


def suffix(filename: str) -> str:
    """``PurePosixPath(filename).suffix`` for a bare name: ``.js`` of ``a.min.js``, "" for ``.bashrc``."""
    dot = filename.rfind(".")
    return filename[dot:] if 0 < dot < len(filename) - 1 else ""


def stem(filename: str) -> str:
    """``PurePosixPath(filename).stem`` for a bare name: the name without its last suffix."""
    dot = filename.rfind(".")
    return filename[:dot] if 0 < dot < len(filename) - 1 else filename
