"""mbox files (mboxo/mboxrd, Thunderbird, Gmail Takeout), read one message at a time.

``mailbox.mbox`` builds a table of every message offset before the first one is returned and
keeps it; a 40 GB Takeout archive should not need that. This reader walks the file line by line,
splits on ``From `` lines that follow a blank line (or start the file), and hands each message to
the parser with its attachments cut at :data:`MESSAGE_BYTES_CAP`, so memory stays flat however
large the mailbox is. Gmail Takeout's ``X-Gmail-Labels`` is kept in the record's source, which
tells a "Sent" copy (where Bcc survives) from received mail.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from distrust.hunt import MailRecord
from distrust.hunt.sources._common import MESSAGE_BYTES_CAP, record_from_bytes
from distrust.model import Notice

_BLOCK = 4 * 1024 * 1024
# A message starts at "From " at the top of the file or right after a blank line.
_SEPARATORS = (b"\n\nFrom ", b"\n\r\nFrom ")


class _Found:
    """Where a separator was found: ``start`` (its first newline) and ``end`` (after "From ")."""

    __slots__ = ("_end", "_start")

    def __init__(self, start: int, end: int) -> None:
        self._start, self._end = start, end

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end


class _Scanner:
    """Finds separators in one buffer; remembers where each kind was last seen.

    ``bytes.find`` is many times faster than a regex scan, but a kind that is absent (most
    files use ``\n`` line ends only) would be searched to the end of the buffer for every
    message; caching the next position of each kind keeps the scan linear.
    """

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self._next: dict[bytes, int] = {}

    def find(self, start: int = 0) -> _Found | None:
        best: _Found | None = None
        for sep in _SEPARATORS:
            at = self._next.get(sep, -2)
            if at != -1 and at < start:  # not searched yet, or already passed: look again
                at = self.buf.find(sep, start)
                self._next[sep] = at
            if at >= start and (best is None or at < best.start()):
                best = _Found(at, at + len(sep))
        return best


def _find_separator(buf: bytes, start: int = 0) -> _Found | None:
    return _Scanner(buf).find(start)


_QUOTED_FROM = re.compile(rb"(?m)^>(>*From )")


# Files at least this large are parsed by worker processes (parsing, not reading, is the cost).
PARALLEL_FROM_BYTES = 64 * 1024 * 1024
_BATCH = 1000  # messages per work item: large enough to amortise the process hand-off


def iter_mbox(path: Path, *, workers: int | None = None) -> Iterator[MailRecord | Notice]:
    """Every message in an mbox file, as records and notices, in file order.

    Splitting happens here; parsing, the expensive part, is spread over worker processes for
    large files (``workers`` defaults to the CPU count, capped at 4). Order is preserved, and
    only a few batches are in flight at once, so memory stays flat.
    """
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    count = workers if workers is not None else min(4, os.cpu_count() or 1)
    if count < 2 or size < PARALLEL_FROM_BYTES:
        for item in _raw_messages(path):
            if isinstance(item, Notice):
                yield item
            else:
                yield from _emit(item[0], path, item[1])
        return
    yield from _parallel(path, count)


def _batches(path: Path) -> Iterator[list[tuple[bytes, int]] | Notice]:
    batch: list[tuple[bytes, int]] = []
    for item in _raw_messages(path):
        if isinstance(item, Notice):
            yield item
            continue
        batch.append(item)
        if len(batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _parse_batch(args: tuple[str, list[tuple[bytes, int]]]) -> list[MailRecord | Notice]:
    name, batch = args
    path = Path(name)
    out: list[MailRecord | Notice] = []
    for data, line in batch:
        out.extend(_emit(data, path, line))
    return out


def _parallel(path: Path, workers: int) -> Iterator[MailRecord | Notice]:
    pending: deque[Future[list[MailRecord | Notice]] | Notice] = deque()
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for item in _batches(path):
            if isinstance(item, Notice):
                pending.append(item)
            else:
                pending.append(pool.submit(_parse_batch, (str(path), item)))
            while len(pending) > workers * 2:
                yield from _drain(pending.popleft())
        while pending:
            yield from _drain(pending.popleft())


def _drain(item: Future[list[MailRecord | Notice]] | Notice) -> Iterator[MailRecord | Notice]:
    if isinstance(item, Notice):
        yield item
    else:
        yield from item.result()


def _raw_messages(path: Path) -> Iterator[tuple[bytes, int] | Notice]:
    """The raw bytes (capped, unquoted) and first line of every message, in file order."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield Notice(f"cannot open mbox: {exc.strerror or exc}", path)
        return
    with handle:
        first = handle.read(_BLOCK)
        if not first.startswith(b"From "):
            found = _find_separator(first)
            if found is None:
                if first.strip():
                    yield Notice("not an mbox file: no 'From ' separator line found", path, 1)
                return
            yield Notice("text before the first 'From ' line ignored", path, 1)
            from_at = found.end() - 5  # where "From " begins
            line = 1 + first.count(b"\n", 0, from_at)
            first = first[from_at:]
        else:
            line = 1
        current = bytearray()  # the message being read, capped
        current_line = line
        overflow = False
        buf = first
        while True:
            start = 0
            scanner = _Scanner(buf)
            while True:
                found = scanner.find(start)
                if found is None:
                    break
                end = found.start() + 1  # keep the message's last newline, drop the blank line
                overflow = _append(current, buf[start:end], overflow)
                yield (_unquote(bytes(current)), current_line)
                from_at = found.end() - 5  # the new message begins at its "From " line
                line += buf.count(b"\n", start, from_at)
                current, current_line, overflow = bytearray(), line, False
                start = from_at
            rest = buf[start:]
            more = handle.read(_BLOCK)
            if not more:
                overflow = _append(current, rest, overflow)
                line += rest.count(b"\n")
                if current.strip():
                    yield (_unquote(bytes(current)), current_line)
                return
            # keep a short tail so a separator split across blocks is still found
            keep = min(len(rest), 8)
            overflow = _append(current, rest[: len(rest) - keep], overflow)
            line += rest.count(b"\n", 0, len(rest) - keep)
            buf = rest[len(rest) - keep :] + more


def _append(current: bytearray, data: bytes, overflow: bool) -> bool:
    """Add ``data`` to the message unless it is already at the cap; True once capped."""
    if overflow:
        return True
    room = MESSAGE_BYTES_CAP - len(current)
    if len(data) > room:
        current += data[:room]
        return True
    current += data
    return False


def _unquote(message: bytes) -> bytes:
    """Drop the "From " line and mboxrd's quoting of body lines that begin with From."""
    newline = message.find(b"\n")
    body = message[newline + 1 :] if message.startswith(b"From ") and newline >= 0 else message
    return _QUOTED_FROM.sub(rb"\1", body) if b">From " in body or b">>" in body else body


def _emit(data: bytes, path: Path, line: int) -> Iterator[MailRecord | Notice]:
    record, notices = record_from_bytes(data, path=path, line=line, source=f"{path}:{line}")
    yield from notices
    if record is not None:
        yield record
