"""A tree of ``.eml`` files (exports from Outlook, Apple Mail, Thunderbird) or a single one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from distrust.hunt import MailRecord
from distrust.hunt.sources._files import read_message_file, walk_files
from distrust.model import Notice


def iter_eml(root: Path) -> Iterator[MailRecord | Notice]:
    """Every ``*.eml`` file under ``root`` (any case), or ``root`` itself when it is a file."""
    if not root.is_dir():
        yield from read_message_file(root)
        return
    for item in walk_files(root, lambda p: p.suffix.lower() == ".eml"):
        if isinstance(item, Notice):
            yield item
        else:
            yield from read_message_file(item)
