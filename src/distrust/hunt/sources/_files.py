"""Walking directories of one-message-per-file mail (maildir, .eml trees) safely.

Only regular files are opened (a FIFO would block the hunt forever) and symlinks are not
followed (a link to ``/`` must not turn a mailbox walk into a disk walk). Each file is read up
to :data:`MESSAGE_BYTES_CAP`, so a 2 GB attachment costs no more than a short note.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from distrust.hunt import MailRecord
from distrust.hunt.sources._common import MESSAGE_BYTES_CAP, record_from_bytes
from distrust.model import Notice


def walk_files(root: Path, wanted: Callable[[Path], bool]) -> Iterator[Path | Notice]:
    """Regular files under ``root`` (sorted, not following symlinks) for which ``wanted`` is true."""

    def on_error(exc: OSError) -> None:
        errors.append(Notice(f"cannot list directory: {exc.strerror or exc}", Path(exc.filename or root)))

    errors: list[Notice] = []
    for directory, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        yield from errors
        errors.clear()
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(directory, name)
            if not wanted(path):
                continue
            try:
                mode = path.lstat().st_mode
            except OSError as exc:
                yield Notice(f"cannot read: {exc.strerror or exc}", path)
                continue
            if stat.S_ISREG(mode):
                yield path
    yield from errors


def read_message_file(path: Path) -> Iterator[MailRecord | Notice]:
    """The record (and notices) of one message stored alone in a file."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MESSAGE_BYTES_CAP)
    except OSError as exc:
        yield Notice(f"cannot read message: {exc.strerror or exc}", path)
        return
    if not data.strip():
        yield Notice("empty message file skipped", path)
        return
    record, notices = record_from_bytes(data, path=path, line=1, source=str(path))
    yield from notices
    if record is not None:
        yield record
