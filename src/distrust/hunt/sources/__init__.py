"""Mail sources for ``distrust hunt``: everything that can say where sent mail went.

Each source is a generator of :class:`~distrust.hunt.MailRecord` and
:class:`~distrust.model.Notice` items with constant memory, so a hunt over years of mail runs on
a laptop. Problems never stop a hunt: a message that cannot be read becomes a notice naming the
file and line, and the walk goes on.

File formats are recognised by content, not by name (people rename exports), using the table
:data:`FORMATS`; ``fmt`` forces one. The Postmark API source lives in
:mod:`distrust.hunt.sources.postmark`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from distrust.hunt import MailRecord
from distrust.hunt.sources._common import HuntError
from distrust.hunt.sources.csvfile import iter_csv, map_columns
from distrust.hunt.sources.eml import iter_eml
from distrust.hunt.sources.exim import LINE as EXIM_LINE
from distrust.hunt.sources.exim import iter_exim
from distrust.hunt.sources.maildir import is_maildir, iter_maildir
from distrust.hunt.sources.mbox import iter_mbox
from distrust.hunt.sources.postfix import LINE as POSTFIX_LINE
from distrust.hunt.sources.postfix import iter_postfix
from distrust.hunt.sources.postmark_json import iter_postmark_json
from distrust.hunt.sources.sendmail import LINE as SENDMAIL_LINE
from distrust.hunt.sources.sendmail import iter_sendmail
from distrust.model import Notice

__all__ = ["FORMATS", "FileFormat", "HuntError", "detect_format", "iter_records"]


@dataclass(frozen=True)
class FileFormat:
    """One readable format: its name for ``--format``, what it is, and how to read it."""

    name: str
    description: str
    reader: Callable[[Path, int | None], Iterator[MailRecord | Notice]]


FORMATS: dict[str, FileFormat] = {
    f.name: f
    for f in (
        FileFormat("mbox", "mbox file (Thunderbird, Gmail Takeout, mutt)", lambda p, y: iter_mbox(p)),
        FileFormat("maildir", "maildir / Maildir++ folder (cur, new, tmp)", lambda p, y: iter_maildir(p)),
        FileFormat("eml", "a .eml file or a folder tree of them", lambda p, y: iter_eml(p)),
        FileFormat(
            "postmark-json",
            "Postmark messages as JSON: array, {Messages: []} or JSONL",
            lambda p, y: iter_postmark_json(p),
        ),
        FileFormat("csv", "CSV export with To/Cc/Bcc/Recipient columns", lambda p, y: iter_csv(p)),
        FileFormat("postfix", "Postfix mail log", iter_postfix),
        FileFormat("exim", "Exim main log", iter_exim),
        FileFormat("sendmail", "Sendmail mail log", iter_sendmail),
    )
}

_SNIFF_BYTES = 64 * 1024
_HEADER_LINE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*:[ \t]?")
# log formats, most specific first: (format, pattern searched in each sampled line)
_LOG_SIGNATURES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("postfix", POSTFIX_LINE),
    ("exim", EXIM_LINE),
    ("sendmail", SENDMAIL_LINE),
)


def detect_format(path: Path) -> str:
    """The :data:`FORMATS` name that fits ``path``'s content; :class:`HuntError` when none does."""
    if path.is_dir():
        return "maildir" if is_maildir(path) else "eml"
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        raise HuntError(f"{path}: cannot read: {exc.strerror or exc}") from None
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    stripped = text.lstrip()
    if not stripped:
        raise HuntError(f"{path}: empty file, nothing to hunt in")
    if text.startswith("From "):
        return "mbox"
    if stripped[0] in "[{":
        return "postmark-json"
    lines = text.splitlines()[:200]
    for name, pattern in _LOG_SIGNATURES:
        if any(pattern.search(line) for line in lines):
            return name
    if _HEADER_LINE.match(lines[0]):
        return "eml"
    if map_columns(_split_header(lines[0])):
        return "csv"
    raise HuntError(
        f"{path}: could not tell the format (line 1: {lines[0][:60]!r}); "
        f"choose one with --format ({', '.join(FORMATS)})"
    )


def _split_header(line: str) -> list[str]:
    return [cell.strip().strip('"') for cell in re.split(r"[,;\t]", line)]


def iter_records(
    paths: Sequence[Path], fmt: str | None = None, *, year: int | None = None
) -> Iterator[MailRecord | Notice]:
    """Records and notices from every path, in order; ``fmt`` forces a format for all of them.

    ``year`` dates syslog lines, which carry none (default: each file's modification year).
    A path that cannot be read or recognised becomes a notice and the others are still read.
    """
    if fmt is not None and fmt not in FORMATS:
        raise HuntError(f"unknown mail format {fmt!r} (choose one of: {', '.join(FORMATS)})")
    for path in paths:
        if not path.exists():
            yield Notice("no such file or directory", path)
            continue
        try:
            name = fmt or detect_format(path)
        except HuntError as exc:
            yield Notice(str(exc).removeprefix(f"{path}: "), path)
            continue
        yield from FORMATS[name].reader(path, year)
