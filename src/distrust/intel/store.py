"""The advisory store: every OSV record distrust knows, indexed for a scan that takes a second.

Two sources are merged:

* the **bundled snapshot** shipped inside the package (``intel/data/*.json``, one OSV record per
  file, each with its public source in ``database_specific.source``), so a fresh install already
  knows postmark-mcp 1.0.16 and the September 2025 npm compromises, offline;
* **imported records** (``distrust intel update``) in an SQLite database under
  ``<data dir>/intel/``. SQLite is the store rather than one JSON file per record because an
  osv.dev ``all.zip`` holds hundreds of thousands of records: one transaction replaces any
  number of them atomically (readers see the old set or the new one, never a mix, which is what
  ``fsutil.atomic_write`` guarantees for single files), and loading is opening a file, however
  many records it holds. Records are indexed by (ecosystem, normalised name) and only the few
  naming the queried package are parsed.

When both sources hold the same id, the copy with the newest ``modified`` wins (an import can
update or withdraw a bundled record). Withdrawn records never match and add no IOCs.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from distrust import paths
from distrust.fsutil import ReadError, read_text_capped
from distrust.intel.osv import (
    IntelError,
    Ioc,
    OsvRecord,
    names_package,
    package_key,
    parse_record,
    record_affects,
)
from distrust.model import Advisory, Notice

__all__ = ["BUNDLED_DIR", "BUNDLED_SOURCE", "AdvisoryStore", "Ioc", "MatchResult", "database_path"]

BUNDLED_DIR = Path(__file__).parent / "data"
BUNDLED_SOURCE = "bundled snapshot"
DATABASE_NAME = "advisories.sqlite3"
SCHEMA_VERSION = "1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    modified TEXT NOT NULL,
    modified_key TEXT NOT NULL,
    withdrawn INTEGER NOT NULL,
    source TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS packages (
    key TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (key, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS iocs (
    value TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (value, kind, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS packages_by_id ON packages (id);
CREATE INDEX IF NOT EXISTS iocs_by_id ON iocs (id);
"""


def database_path(data_dir: Path | None = None) -> Path:
    """Where imported advisories live: ``<data dir>/intel/advisories.sqlite3``."""
    return (data_dir if data_dir is not None else paths.data_dir()) / "intel" / DATABASE_NAME


def modified_key(modified: str) -> str:
    """A string that sorts like the RFC 3339 timestamp it came from (UTC, microseconds).

    Text that is no timestamp sorts before every timestamp, by itself, so a broken ``modified``
    never displaces a good record.
    """
    try:
        when = datetime.fromisoformat(modified.strip())
    except ValueError:
        return "0 " + modified
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return "1 " + when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


@dataclass(frozen=True)
class MatchResult:
    """Advisories affecting one package version, plus what could not be judged and why."""

    advisories: tuple[Advisory, ...]
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class _Bundled:
    record: OsvRecord
    path: Path


@dataclass(frozen=True)
class _Stored:
    modified_key: str
    withdrawn: bool
    source: str


class AdvisoryStore:
    """Look up advisories by package; see the module docstring for where they come from."""

    def __init__(
        self,
        bundled: Iterable[_Bundled] = (),
        database: Path | None = None,
        notices: Iterable[Notice] = (),
    ) -> None:
        self._bundled: dict[str, _Bundled] = {}
        for item in bundled:
            current = self._bundled.get(item.record.id)
            if current is None or modified_key(item.record.modified) > modified_key(current.record.modified):
                self._bundled[item.record.id] = item
        self._bundled_by_package: dict[str, list[str]] = {}
        for item in self._bundled.values():
            for key in dict.fromkeys(package_key(a.ecosystem, a.name) for a in item.record.affected):
                self._bundled_by_package.setdefault(key, []).append(item.record.id)
        self._database = database
        self._db: sqlite3.Connection | None = None
        self._parsed: dict[str, OsvRecord | None] = {}
        self._notices = list(notices)

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, data_dir: Path | None = None) -> AdvisoryStore:
        """The bundled snapshot plus the records imported under ``data_dir`` (default: paths.data_dir()).

        Never raises for bad data: an unreadable bundled file or database becomes a notice.
        """
        bundled: list[_Bundled] = []
        notices: list[Notice] = []
        for path in sorted(BUNDLED_DIR.glob("*.json")):
            try:
                record = parse_record(json.loads(read_text_capped(path)), str(path))
            except (ReadError, IntelError) as exc:
                notices.append(Notice(f"bundled advisory skipped: {exc}", file=path))
                continue
            except json.JSONDecodeError as exc:
                notices.append(Notice(f"bundled advisory is not JSON: {exc.msg}", file=path, line=exc.lineno))
                continue
            bundled.append(_Bundled(record, path))
        database = database_path(data_dir)
        store = cls(bundled, database if database.is_file() else None, notices)
        return store

    @property
    def notices(self) -> tuple[Notice, ...]:
        """Everything the store could not read, so far (grows as lazily read records fail)."""
        return tuple(self._notices)

    def _conn(self) -> sqlite3.Connection | None:
        if self._database is None:
            return None
        if self._db is None:
            try:
                db = sqlite3.connect(f"{self._database.as_uri()}?mode=ro", uri=True, check_same_thread=False)
                version = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            except sqlite3.Error as exc:
                self._notices.append(Notice(f"imported advisories unreadable: {exc}", file=self._database))
                self._database = None
                return None
            if version is None or version[0] != SCHEMA_VERSION:
                self._notices.append(
                    Notice("imported advisories have an unknown format; re-import them", file=self._database)
                )
                db.close()
                self._database = None
                return None
            self._db = db
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _query(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        db = self._conn()
        if db is None:
            return []
        try:
            return list(db.execute(sql, args))
        except sqlite3.Error as exc:
            self._notices.append(Notice(f"imported advisories unreadable: {exc}", file=self._database))
            return []

    def _stored(self, ids: Iterable[str]) -> dict[str, _Stored]:
        wanted = list(dict.fromkeys(ids))
        found: dict[str, _Stored] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for rid, mkey, withdrawn, source in self._query(
                f"SELECT id, modified_key, withdrawn, source FROM records WHERE id IN ({marks})", tuple(chunk)
            ):
                found[str(rid)] = _Stored(str(mkey), bool(withdrawn), str(source))
        return found

    def _winner(self, record_id: str, stored: _Stored | None) -> str | None:
        """Which copy of ``record_id`` counts: "bundled", "imported", or None if withdrawn/absent."""
        bundled = self._bundled.get(record_id)
        if bundled is not None and (
            stored is None or modified_key(bundled.record.modified) > stored.modified_key
        ):
            return None if bundled.record.withdrawn else "bundled"
        if stored is not None:
            return None if stored.withdrawn else "imported"
        return None

    def _imported_record(self, record_id: str) -> OsvRecord | None:
        if record_id in self._parsed:
            return self._parsed[record_id]
        record: OsvRecord | None = None
        rows = self._query("SELECT body FROM records WHERE id = ?", (record_id,))
        if rows:
            origin = f"{self._database}#{record_id}"
            try:
                record = parse_record(json.loads(str(rows[0][0])), origin)
            except (json.JSONDecodeError, IntelError) as exc:
                self._notices.append(
                    Notice(f"imported advisory {record_id} unreadable: {exc}", file=self._database)
                )
        self._parsed[record_id] = record
        return record

    def _candidates(self, ecosystem: str, name: str) -> list[tuple[OsvRecord, str, Path | None]]:
        """Every counting record naming the package: (record, Advisory.source, file for notices)."""
        key = package_key(ecosystem, name)
        ids = list(self._bundled_by_package.get(key, []))
        ids += [str(row[0]) for row in self._query("SELECT id FROM packages WHERE key = ?", (key,))]
        stored = self._stored(ids)
        found: list[tuple[OsvRecord, str, Path | None]] = []
        for record_id in sorted(dict.fromkeys(ids)):
            winner = self._winner(record_id, stored.get(record_id))
            if winner == "bundled":
                item = self._bundled[record_id]
                found.append((item.record, BUNDLED_SOURCE, item.path))
            elif winner == "imported":
                record = self._imported_record(record_id)
                if record is not None:
                    found.append((record, stored[record_id].source, self._database))
        return [c for c in found if names_package(c[0], ecosystem, name)]

    # -- queries ---------------------------------------------------------------------------

    def check(self, ecosystem: str, name: str, version: str) -> MatchResult:
        """Advisories affecting ``name`` at ``version``, and notices for ranges we could not judge."""
        advisories: list[Advisory] = []
        notices: list[Notice] = []
        for record, source, file in self._candidates(ecosystem, name):
            verdict = record_affects(record, ecosystem, name, version)
            if verdict.affected:
                advisories.append(record.to_advisory(source))
            notices.extend(
                Notice(f"could not fully judge {name} {version}: {why}", file=file)
                for why in verdict.unjudged
            )
        return MatchResult(tuple(advisories), tuple(notices))

    def match(self, ecosystem: str, name: str, version: str) -> tuple[Advisory, ...]:
        """Advisories affecting ``name`` at ``version`` (see :meth:`check` for the reasons behind gaps)."""
        return self.check(ecosystem, name, version).advisories

    def advisories_for(self, ecosystem: str, name: str) -> tuple[Advisory, ...]:
        """Every advisory naming the package at any version: "this package has a history"."""
        return tuple(record.to_advisory(source) for record, source, _ in self._candidates(ecosystem, name))

    def record(self, record_id: str) -> OsvRecord | None:
        """The full record that counts for ``record_id``, or None (unknown or withdrawn)."""
        stored = self._stored([record_id]).get(record_id)
        winner = self._winner(record_id, stored)
        if winner == "bundled":
            return self._bundled[record_id].record
        if winner == "imported":
            return self._imported_record(record_id)
        return None

    def iocs(self) -> tuple[Ioc, ...]:
        """Indicators of compromise named by counting advisories, bundled and imported."""
        stored_bundled = self._stored(self._bundled)
        found: dict[Ioc, None] = {}
        for record_id, item in sorted(self._bundled.items()):
            if self._winner(record_id, stored_bundled.get(record_id)) == "bundled":
                found.update(dict.fromkeys(item.record.iocs))
        rows = self._query("SELECT value, kind, id FROM iocs ORDER BY id, kind, value")
        for value, kind, raw_id in rows:
            rid = str(raw_id)
            if rid in self._bundled and self._winner(rid, stored_bundled.get(rid)) != "imported":
                continue
            found[Ioc(str(value), str(kind), rid)] = None
        return tuple(found)

    def __len__(self) -> int:
        """How many distinct, non-withdrawn advisories the store holds."""
        stored_bundled = self._stored(self._bundled)
        count = sum(1 for rid in self._bundled if self._winner(rid, stored_bundled.get(rid)) is not None)
        rows = self._query("SELECT COUNT(*) FROM records WHERE withdrawn = 0")
        imported = int(str(rows[0][0])) if rows else 0
        # Ids held by both sources were counted above by their winner; do not count them twice.
        overlap = sum(1 for rid, s in stored_bundled.items() if not s.withdrawn)
        return count + imported - overlap
