"""Maildir and Maildir++ folders: every message file in ``cur/``, ``new/`` and ``tmp/``.

``tmp/`` is read too: a message caught mid-delivery is still evidence of where mail went.
Maildir++ sub-folders (``.Sent/cur``) are found by walking the tree, so pointing the hunt at the
top of a mail store covers the Sent folder, where Bcc headers are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from distrust.hunt import MailRecord
from distrust.hunt.sources._files import read_message_file, walk_files
from distrust.model import Notice

MAILDIR_PARTS = ("cur", "new", "tmp")


def is_maildir(path: Path) -> bool:
    """True when ``path`` (or a Maildir++ sub-folder of it) has the cur/new/tmp layout."""
    if any((path / part).is_dir() for part in MAILDIR_PARTS):
        return True
    try:
        return any(child.name.startswith(".") and (child / "cur").is_dir() for child in path.iterdir())
    except OSError:
        return False


def iter_maildir(root: Path) -> Iterator[MailRecord | Notice]:
    """Every message under a maildir tree, sorted by folder then file name."""
    for item in walk_files(root, lambda p: p.parent.name in MAILDIR_PARTS):
        if isinstance(item, Notice):
            yield item
        else:
            yield from read_message_file(item)
