"""mbox files (mboxo/mboxrd, Thunderbird, Gmail Takeout), read one message at a time.

``mailbox.mbox`` builds a table of every message offset before the first one is returned and
keeps it; a 40 GB Takeout archive should not need that. This reader walks the file line by line,
splits on ``From `` lines that follow a blank line (or start the file), and hands each message to
the parser with its attachments cut at :data:`MESSAGE_BYTES_CAP`, so memory stays flat however
large the mailbox is. Gmail Takeout's ``X-Gmail-Labels`` is kept in the record's source, which
tells a "Sent" copy (where Bcc survives) from received mail.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from distrust.hunt import MailRecord
from distrust.hunt.sources._common import MESSAGE_BYTES_CAP, record_from_bytes
from distrust.model import Notice

_MAX_LINE = 64 * 1024


def iter_mbox(path: Path) -> Iterator[MailRecord | Notice]:
    """Every message in an mbox file, as records and notices, in file order."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield Notice(f"cannot open mbox: {exc.strerror or exc}", path)
        return
    with handle:
        chunk: list[bytes] = []
        size = 0
        start_line: int | None = None
        previous_blank = True
        number = 0
        at_line_start = True
        # readline with a limit: a hostile file with one endless line cannot fill memory
        for line in iter(lambda: handle.readline(_MAX_LINE), b""):
            if at_line_start:
                number += 1
            at_line_start = line.endswith(b"\n")
            if line.startswith(b"From ") and previous_blank:
                if start_line is not None:
                    yield from _emit(b"".join(chunk), path, start_line)
                elif chunk and b"".join(chunk).strip():
                    yield Notice("text before the first 'From ' line ignored", path, 1)
                chunk, size, start_line = [], 0, number
                previous_blank = False
                continue
            previous_blank = line in (b"\n", b"\r\n")
            if start_line is None and not chunk and line.strip():
                # not an mbox "From " separator at the top: remember it and report once
                chunk.append(line[:200])
                size = MESSAGE_BYTES_CAP
                continue
            if size < MESSAGE_BYTES_CAP:
                if line.startswith(b">") and line.lstrip(b">").startswith(b"From "):
                    line = line[1:]  # mboxrd quoting
                chunk.append(line)
                size += len(line)
        if start_line is not None:
            yield from _emit(b"".join(chunk), path, start_line)
        elif chunk:
            yield Notice("not an mbox file: no 'From ' separator line found", path, 1)


def _emit(data: bytes, path: Path, line: int) -> Iterator[MailRecord | Notice]:
    record, notices = record_from_bytes(data, path=path, line=line, source=f"{path}:{line}")
    yield from notices
    if record is not None:
        yield record
