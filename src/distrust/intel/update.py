"""Importing OSV advisories into the store: a file, a directory tree, an osv.dev zip, or a URL.

Accepted inputs, told apart by what they are rather than by their names:

* a JSON file holding one OSV record, a list of records, or an osv.dev API answer
  (``{"vulns": [...]}``);
* a directory, walked recursively for ``*.json`` (the ossf/malicious-packages ``osv/`` layout);
* a zip archive such as osv.dev's ``<ecosystem>/all.zip``, read member by member in memory with
  caps on member size and count (a zip bomb must not fill the disk or the memory);
* an ``http(s)://`` URL to any of these, downloaded with a timeout and a size cap to a temporary
  file first.

Records are deduplicated by id, keeping the newest ``modified`` (within the input and against
what is already stored), then written in one SQLite transaction (see ``store``). Every record
the input offers is counted exactly once in the :class:`ImportReport`: added, updated,
unchanged, or skipped with a reason naming the file (or ``archive!member``) and, for bad JSON,
the line. Input that cannot be read at all raises :class:`IntelError`, never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from distrust import paths
from distrust.fsutil import ReadError, read_bytes_capped
from distrust.intel.osv import IntelError, OsvRecord, package_key, parse_record
from distrust.intel.store import SCHEMA, SCHEMA_VERSION, database_path, modified_key

__all__ = ["ImportReport", "import_advisories"]

MAX_RECORD_BYTES = 16 * 1024 * 1024  # one record file or zip member
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024  # one top-level JSON file given on its own
MAX_ZIP_MEMBERS = 2_000_000
MAX_ZIP_TOTAL_BYTES = 8 * 1024 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 2 * 1024 * 1024 * 1024
HTTP_TIMEOUT = httpx.Timeout(30.0, read=120.0)
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}")
_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"


@dataclass(frozen=True)
class ImportReport:
    """What one import did, record by record."""

    source: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    reasons: tuple[str, ...] = ()  # one line per skipped record, naming where it came from

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged + self.skipped


@dataclass
class _Tally:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Incoming:
    record: OsvRecord
    body: str
    origin: str


# --- reading the input ------------------------------------------------------------------------


def _documents(source: str) -> Iterator[tuple[str, bytes | str]]:
    """Yield (origin, raw JSON bytes) per document, or (origin, reason) for one that cannot be read."""
    if re.match(r"(?i)https?://", source):
        yield from _from_url(source)
        return
    path = Path(source).expanduser()
    if path.is_dir():
        yield from _from_directory(path)
        return
    if not path.exists():
        raise IntelError(f"{source}: no such file or directory")
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise IntelError(f"{source}: cannot read ({exc.strerror or exc})") from None
    if head in (_ZIP_MAGIC, _EMPTY_ZIP_MAGIC):
        yield from _from_zip(path, source)
        return
    try:
        yield source, read_bytes_capped(path, MAX_DOCUMENT_BYTES)
    except ReadError as exc:
        raise IntelError(str(exc)) from None


def _from_directory(root: Path) -> Iterator[tuple[str, bytes | str]]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for filename in sorted(filenames):
            if not filename.endswith(".json"):
                continue
            path = Path(dirpath) / filename
            try:
                yield str(path), read_bytes_capped(path, MAX_RECORD_BYTES)
            except ReadError as exc:
                yield str(path), f"unreadable: {exc.reason}"


def _from_zip(path: Path, label: str) -> Iterator[tuple[str, bytes | str]]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise IntelError(f"{label}: not a readable zip archive ({exc})") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir() and m.filename.endswith(".json")]
        if len(members) > MAX_ZIP_MEMBERS:
            raise IntelError(f"{label}: {len(members)} JSON members, more than the {MAX_ZIP_MEMBERS} limit")
        total = 0
        for member in members:
            origin = f"{label}!{member.filename}"
            if member.file_size > MAX_RECORD_BYTES:
                yield origin, f"member is {member.file_size} bytes, over the {MAX_RECORD_BYTES}-byte limit"
                continue
            try:
                with archive.open(member) as fh:
                    data = fh.read(MAX_RECORD_BYTES + 1)  # headers can lie about the size
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
                yield origin, f"unreadable member: {exc}"
                continue
            if len(data) > MAX_RECORD_BYTES:
                yield origin, f"member expands past the {MAX_RECORD_BYTES}-byte limit"
                continue
            total += len(data)
            if total > MAX_ZIP_TOTAL_BYTES:
                raise IntelError(f"{label}: expands past {MAX_ZIP_TOTAL_BYTES} bytes; refusing the rest")
            yield origin, data


def _from_url(url: str) -> Iterator[tuple[str, bytes | str]]:
    cache = paths.cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix="osv-download-", dir=cache)
    tmp = Path(tmp_name)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            try:
                with httpx.stream("GET", url, timeout=HTTP_TIMEOUT, follow_redirects=True) as response:
                    if response.status_code != 200:
                        raise IntelError(f"{url}: download failed with HTTP {response.status_code}")
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > MAX_DOWNLOAD_BYTES:
                            raise IntelError(
                                f"{url}: larger than the {MAX_DOWNLOAD_BYTES}-byte download limit"
                            )
                        out.write(chunk)
            except httpx.HTTPError as exc:
                raise IntelError(f"{url}: download failed ({type(exc).__name__}: {exc})") from None
        with tmp.open("rb") as fh:
            head = fh.read(4)
        if head in (_ZIP_MAGIC, _EMPTY_ZIP_MAGIC):
            yield from _from_zip(tmp, url)
        else:
            try:
                yield url, read_bytes_capped(tmp, MAX_DOCUMENT_BYTES)
            except ReadError as exc:
                raise IntelError(f"{url}: {exc.reason}") from None
    finally:
        tmp.unlink(missing_ok=True)


def _records_in(origin: str, raw: bytes) -> Iterator[tuple[str, Any | str]]:
    """Yield (origin, record object) per record in one JSON document, or (origin, reason)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        yield origin, f"not UTF-8 (line {line})"
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield origin, f"bad JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        return
    if isinstance(data, dict) and "id" not in data and isinstance(data.get("vulns"), list):
        data = data["vulns"]
    if isinstance(data, list):
        for n, item in enumerate(data):
            yield f"{origin}[{n}]", item
    else:
        yield origin, data


# --- writing ----------------------------------------------------------------------------------


def _open_database(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,))
        db.commit()
    except (OSError, sqlite3.Error) as exc:
        raise IntelError(f"{path}: cannot open the advisory database ({exc})") from None
    return db


def _store(db: sqlite3.Connection, incoming: dict[str, _Incoming], tally: _Tally) -> None:
    existing: dict[str, str] = {}
    ids = list(incoming)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for rid, mkey in db.execute(f"SELECT id, modified_key FROM records WHERE id IN ({marks})", chunk):
            existing[rid] = mkey
    with db:  # one transaction: all of this import, or none of it
        for rid, item in incoming.items():
            new_key = modified_key(item.record.modified)
            old_key = existing.get(rid)
            if old_key is not None and old_key == new_key:
                tally.unchanged += 1
                continue
            if old_key is not None and old_key > new_key:
                tally.reasons.append(
                    f"{item.origin}: {rid} is older than the stored copy; kept the stored one"
                )
                continue
            if old_key is None:
                tally.added += 1
            else:
                tally.updated += 1
            if old_key is not None:  # an update: forget what the old copy indexed
                db.execute("DELETE FROM packages WHERE id = ?", (rid,))
                db.execute("DELETE FROM iocs WHERE id = ?", (rid,))
            db.execute(
                "INSERT OR REPLACE INTO records (id, modified, modified_key, withdrawn, source, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    rid,
                    item.record.modified,
                    new_key,
                    int(bool(item.record.withdrawn)),
                    item.origin,
                    item.body,
                ),
            )
            if item.record.withdrawn:
                continue
            keys = dict.fromkeys(package_key(a.ecosystem, a.name) for a in item.record.affected)
            db.executemany("INSERT OR IGNORE INTO packages (key, id) VALUES (?, ?)", [(k, rid) for k in keys])
            db.executemany(
                "INSERT OR IGNORE INTO iocs (value, kind, id) VALUES (?, ?, ?)",
                [(i.value, i.kind, rid) for i in item.record.iocs],
            )


def import_advisories(source: str, data_dir: Path | None = None) -> ImportReport:
    """Import OSV records from ``source`` into the store under ``data_dir`` (default: paths.data_dir()).

    Raises :class:`IntelError` when the input as a whole cannot be read (missing path, broken
    zip, failed download); individual bad records are skipped and reported instead.
    """
    tally = _Tally()
    incoming: dict[str, _Incoming] = {}
    for origin, raw in _documents(source):
        if isinstance(raw, str):
            tally.reasons.append(f"{origin}: {raw}")
            continue
        for record_origin, data in _records_in(origin, raw):
            if isinstance(data, str):
                tally.reasons.append(f"{record_origin}: {data}")
                continue
            try:
                record = parse_record(data, record_origin)
            except IntelError as exc:
                tally.reasons.append(str(exc))
                continue
            if not _SAFE_ID.fullmatch(record.id):
                tally.reasons.append(
                    f"{record_origin}: id {record.id[:60]!r} has characters an OSV id never has"
                )
                continue
            body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            previous = incoming.get(record.id)
            if previous is not None:
                if modified_key(record.modified) > modified_key(previous.record.modified):
                    tally.reasons.append(
                        f"{previous.origin}: superseded by a newer copy of {record.id} in {record_origin}"
                    )
                    incoming[record.id] = _Incoming(record, body, record_origin)
                else:
                    tally.reasons.append(
                        f"{record_origin}: {record.id} appears again in this import; kept the newer copy"
                    )
                continue
            incoming[record.id] = _Incoming(record, body, record_origin)
    if incoming:
        db = _open_database(database_path(data_dir))
        try:
            _store(db, incoming, tally)
        except sqlite3.Error as exc:
            raise IntelError(f"{database_path(data_dir)}: writing advisories failed ({exc})") from None
        finally:
            db.close()
    return ImportReport(
        source=source,
        added=tally.added,
        updated=tally.updated,
        unchanged=tally.unchanged,
        skipped=len(tally.reasons),
        reasons=tuple(tally.reasons),
    )
