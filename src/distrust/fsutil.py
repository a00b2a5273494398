"""File helpers every stage needs to treat user files with care.

distrust reads files it did not write (client configs, lockfiles, logs) and rewrites a few
(client configs, the lock). Reading must never hang or blow up on a hostile file (a FIFO, a
symlink loop, a 2 GB "config"); writing must never leave a half-written file or lose the
original. These two concerns live here so no stage re-invents them.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_MAX_BYTES = 16 * 1024 * 1024


class ReadError(Exception):
    """A file could not be read; the message names the file and says why, for the user."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def read_bytes_capped(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a regular file of at most ``max_bytes``, or raise :class:`ReadError` saying why not.

    Directories, FIFOs, devices and sockets are refused before opening (opening a FIFO would
    block forever), symlink loops and permission errors become readable reasons.
    """
    try:
        st = path.stat()
    except OSError as exc:
        raise ReadError(path, _os_reason(exc)) from None
    if stat.S_ISDIR(st.st_mode):
        raise ReadError(path, "is a directory, expected a file")
    if not stat.S_ISREG(st.st_mode):
        raise ReadError(path, "is not a regular file")
    if st.st_size > max_bytes:
        raise ReadError(path, f"is {st.st_size} bytes, larger than the {max_bytes}-byte limit")
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise ReadError(path, _os_reason(exc)) from None
    if len(data) > max_bytes:
        raise ReadError(path, f"grew past the {max_bytes}-byte limit while being read")
    return data


def read_text_capped(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Read a UTF-8 text file (a BOM is allowed) with the same guarantees as read_bytes_capped."""
    data = read_bytes_capped(path, max_bytes)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ReadError(path, f"is not valid UTF-8 (line {line}, byte {exc.start})") from None


def _os_reason(exc: OSError) -> str:
    if exc.errno is not None and exc.strerror:
        return exc.strerror.lower()
    return str(exc)


def backup(path: Path, backup_dir: Path | None = None) -> Path:
    """Copy ``path`` to a timestamped backup beside it (or into ``backup_dir``) and return it.

    Backups are never overwritten: a second backup in the same second gets a counter.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target_dir = backup_dir or path.parent
    target_dir.mkdir(parents=True, exist_ok=True)
    base = f"{path.name}.distrust-backup-{stamp}"
    candidate = target_dir / base
    n = 1
    while candidate.exists():
        candidate = target_dir / f"{base}.{n}"
        n += 1
    shutil.copy2(path, candidate)
    return candidate


def atomic_write(path: Path, data: bytes | str, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, never a mix.

    The new content goes to a temporary file in the same directory, is flushed to disk, then
    renamed over the target. The original file's permission bits are kept unless ``mode`` is
    given.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None and path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
