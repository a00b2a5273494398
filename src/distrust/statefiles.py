"""Per-file state records for the commands that rewrite user files and must undo it exactly.

``wrap``/``unwrap`` and ``respond``/``respond --undo`` both keep, for every config file they
changed, a JSON record (original hash, backup path, what was written) and a backup copy. Both
are owner-only: the backups are copies of configs that hold API tokens. Each command defines
its own record type; this store only files them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from distrust.fsutil import ReadError, atomic_write, backup, read_bytes_capped

_MAX_RECORD = 4 * 1024 * 1024


class StateError(ValueError):
    """A state record is unreadable or malformed; the message names the file."""


class StateRecord(Protocol):
    """What a command keeps about one file it changed."""

    @property
    def target(self) -> Path: ...

    def to_json(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=StateRecord)


class RecordStore(Generic[R]):
    """Records under ``state_dir/files`` (named by a hash of the target path), backups beside."""

    def __init__(self, state_dir: Path, parse: Callable[[Any, Path], R]) -> None:
        self.dir = state_dir
        self.files = state_dir / "files"
        self.backups = state_dir / "backups"
        self._parse = parse

    def record_path(self, target: Path) -> Path:
        digest = hashlib.sha256(os.fsencode(os.path.normcase(str(target)))).hexdigest()[:24]
        return self.files / f"{digest}.json"

    def load(self, target: Path) -> R | None:
        where = self.record_path(target)
        return self._read(where) if where.exists() else None

    def _read(self, where: Path) -> R:
        try:
            data = json.loads(read_bytes_capped(where, _MAX_RECORD))
        except (ReadError, ValueError) as exc:
            raise StateError(f"{where}: state record unreadable: {exc}") from None
        return self._parse(data, where)

    def all(self) -> Iterator[tuple[Path, R | StateError]]:
        if not self.files.is_dir():
            return
        for where in sorted(self.files.glob("*.json")):
            try:
                yield where, self._read(where)
            except StateError as exc:
                yield where, exc

    def save(self, record: R) -> None:
        self._private_dirs()
        text = json.dumps(record.to_json(), indent=2, sort_keys=True) + "\n"
        # Records may hold removed config entries (and so tokens): owner-only, like the backups.
        atomic_write(self.record_path(record.target), text, mode=0o600)

    def delete(self, record: R) -> None:
        self.record_path(record.target).unlink(missing_ok=True)

    def backup(self, target: Path) -> Path:
        self._private_dirs()
        saved = backup(target, self.backups)
        with contextlib.suppress(OSError):
            os.chmod(saved, 0o600)
        return saved

    def _private_dirs(self) -> None:
        for directory in (self.dir, self.files, self.backups):
            directory.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):
                os.chmod(directory, 0o700)
