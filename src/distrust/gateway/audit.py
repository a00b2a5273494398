"""The audit log: one row per ``tools/call`` the gateway saw, plus events, in SQLite.

After an incident ("did my assistant send mail through postmark-mcp 1.0.16, and to whom?")
the audit log is the record of what every server was asked to do. It must therefore be
complete for every call whose result reached the client, and it must not leak the secrets that
flow through tool arguments.

Durability guarantee
    A call's row is committed before its response is forwarded to the client: the relay waits
    for :meth:`AuditLog.durable` after handing over a completed call. The database runs in WAL
    mode with ``synchronous=NORMAL``: a commit is a ``write()`` to the WAL file, so it survives
    the gateway being killed (SIGKILL, OOM, a crash) at any moment; only an operating-system
    crash or power loss can drop the last commits. ``synchronous="FULL"`` adds an fsync per
    commit for those too, at a cost of milliseconds per batch.

Hot path
    The relay never touches SQLite itself. Rows go through a queue to one writer thread, which
    redacts arguments, writes every queued row in one transaction and commits (group commit:
    100 pipelined calls cost one commit; when nobody waits, the writer lingers a few
    milliseconds so a call's start and end share one commit). Waiting for durability costs the
    relay one thread round trip, not a disk flush. SQLite's automatic WAL checkpoint is off on
    the writer (it fsyncs inside a commit: 4-20 ms spikes every few hundred commits); a separate
    thread checkpoints passively once a second, which never blocks the writer.

Redaction
    Argument values under secret-named keys (``token``, ``password``, ``apiKey``,
    ``authorization``… as :func:`distrust.judge.secrets.is_secret_key` decides) are replaced by
    ``…(N chars)``; token-shaped strings anywhere (``ghp_…``, ``sk-…``, JWTs, bearer tokens) are
    masked with the same table reports use; strings over :data:`MAX_STRING` characters are cut.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import json
import queue
import sqlite3
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from distrust import paths
from distrust.judge.secrets import is_secret_key, redact, scrub

MAX_STRING = 4096
"""Longest argument string kept in full; longer ones are cut (a 5 MB attachment is not evidence)."""
MAX_DEPTH = 32
LINGER = 0.005  # seconds the writer waits for more rows when no one waits for durability
CHECKPOINT_EVERY = 1.0  # seconds between passive WAL checkpoints (only after writes)


@dataclass(frozen=True)
class Decision:
    """What the gateway did with a call: stored as ``id`` in the ``decision`` column."""

    id: str
    meaning: str


DECISIONS: tuple[Decision, ...] = (
    Decision("in-flight", "forwarded; no response yet (the gateway stopped before one arrived)"),
    Decision("allowed", "forwarded to the server and answered"),
    Decision("blocked-pin", "refused: the tool is not approved (changed, added or poisoned)"),
    Decision("blocked-egress", "the server's outgoing traffic for this call was blocked"),
    Decision("server-died", "the server exited while the call was in flight; the client got an error"),
    Decision("cancelled", "the client cancelled the call (notifications/cancelled)"),
    Decision("abandoned", "the client disconnected while the call was in flight"),
    Decision(
        "response-dropped", "the server's response exceeded the line limit and was replaced by an error"
    ),
)
DECISION_IDS = frozenset(d.id for d in DECISIONS)


class AuditError(Exception):
    """The audit database cannot be opened or read; the message names the file."""


@dataclass(frozen=True)
class AuditEntry:
    """One ``tools/call`` as the audit log recorded it (arguments already redacted)."""

    entry_id: str
    session: str
    server: str
    tool: str
    call_id: str  # the JSON-RPC id as canonical JSON text (``7`` or ``"abc"``)
    started: datetime
    ended: datetime | None
    arguments: str  # redacted JSON
    result_bytes: int | None
    is_error: bool | None
    error: str | None  # redacted JSON-RPC error object, when the call failed at protocol level
    latency_ms: float | None
    decision: str
    detail: str | None


@dataclass(frozen=True)
class AuditEvent:
    """Something that is not a call: a pin, a proposal, a server start or exit, a blocked request."""

    ts: datetime
    session: str
    server: str
    kind: str
    call_id: str | None
    detail: str  # JSON


def redact_value(value: Any, depth: int = 0) -> Any:
    """A copy of a JSON value with secrets masked and long strings cut (see module doc)."""
    if depth > MAX_DEPTH:
        return "…[nested too deep]"
    if isinstance(value, str):
        text = scrub(value, ()) if len(value) < 1_000_000 else value[:MAX_STRING]
        if len(text) > MAX_STRING:
            return text[:MAX_STRING] + f"…[truncated, {len(value)} chars]"
        return text
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and is_secret_key(key) and item not in (None, "", True, False):
                out[key] = redact(item if isinstance(item, str) else json.dumps(item))
            else:
                out[key] = redact_value(item, depth + 1)
        return out
    if isinstance(value, list):
        return [redact_value(item, depth + 1) for item in value]
    return value


_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    entry_id     TEXT PRIMARY KEY,
    session      TEXT NOT NULL,
    server       TEXT NOT NULL,
    tool         TEXT NOT NULL,
    call_id      TEXT NOT NULL,
    ts_start     REAL NOT NULL,
    ts_end       REAL,
    arguments    TEXT NOT NULL,
    result_bytes INTEGER,
    is_error     INTEGER,
    error        TEXT,
    latency_ms   REAL,
    decision     TEXT NOT NULL,
    detail       TEXT
);
CREATE INDEX IF NOT EXISTS calls_by_time ON calls (ts_start);
CREATE INDEX IF NOT EXISTS calls_by_server ON calls (server, ts_start);
CREATE TABLE IF NOT EXISTS events (
    id       INTEGER PRIMARY KEY,
    ts       REAL NOT NULL,
    session  TEXT NOT NULL,
    server   TEXT NOT NULL,
    kind     TEXT NOT NULL,
    call_id  TEXT,
    detail   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_time ON events (ts);
"""
SCHEMA_VERSION = 1


def default_path() -> Path:
    """``<data dir>/audit.sqlite3`` (``$DISTRUST_DATA_DIR`` in tests and CI)."""
    return paths.data_dir() / "audit.sqlite3"


def _connect(path: Path, synchronous: str, *, writer: bool = True) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        if writer:
            conn.execute("PRAGMA wal_autocheckpoint=0")
        else:
            return conn
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise AuditError(
                f"{path}: audit log schema {version} is newer than this distrust ({SCHEMA_VERSION})"
            )
        conn.executescript(_SCHEMA)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except sqlite3.DatabaseError as exc:
        raise AuditError(f"{path}: cannot open the audit log ({exc})") from None
    except OSError as exc:
        raise AuditError(f"{path}: cannot create the audit log directory ({exc.strerror or exc})") from None
    return conn


_Op = tuple[str, tuple[Any, ...]] | concurrent.futures.Future[None] | None


class AuditLog:
    """Append-only audit log with a background writer; safe to call from the event loop.

    ``call_started``/``call_finished``/``call_blocked``/``event`` only enqueue and return at
    once. :meth:`durable` returns a future that completes when everything enqueued before it
    is committed. :meth:`close` drains the queue and stops the writer.
    """

    def __init__(self, path: Path | None = None, *, synchronous: str = "NORMAL", session: str | None = None):
        if synchronous.upper() not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
        self.path = path or default_path()
        self.session = session or uuid.uuid4().hex[:16]
        self._conn = _connect(self.path, synchronous.upper())
        self._checkpoint_conn = _connect(self.path, synchronous.upper(), writer=False)
        self._queue: queue.SimpleQueue[_Op] = queue.SimpleQueue()
        self._ids = itertools.count(1)
        self._failed: str | None = None
        self._closed = False
        self._dirty = threading.Event()
        self._stopped = threading.Event()
        self._committed: set[str] = set()  # start rows the writer has committed
        self._inline: sqlite3.Connection | None = None  # the relay loop's own connection
        self._synchronous = synchronous.upper()
        self._thread = threading.Thread(target=self._write_loop, name="distrust-audit", daemon=True)
        self._thread.start()
        self._checkpointer = threading.Thread(target=self._checkpoint_loop, name="distrust-wal", daemon=True)
        self._checkpointer.start()

    # --- producers (any thread) -------------------------------------------------------------

    def call_started(
        self, server: str, tool: str, call_id: str, arguments: Any, *, ts: float | None = None
    ) -> str:
        """Record a forwarded call (decision ``in-flight``); returns the entry id for ``call_finished``."""
        entry_id = f"{self.session}-{next(self._ids)}"
        row = (entry_id, self.session, server, tool, call_id, ts or time.time(), arguments)
        # A lone call is committed inline (latency); under load the writer batches (throughput).
        if self._committed or not self._insert_inline(row):
            self._put("start", row)
        return entry_id

    def _insert_inline(self, row: tuple[Any, ...]) -> bool:
        """Commit a start row on the caller's thread (see :meth:`finish_inline`); False to queue it."""
        if self._closed:
            return False
        entry_id, session, server, tool, call_id, ts, arguments = row
        try:
            if self._inline is None:
                self._inline = _connect(self.path, self._synchronous, writer=False)
            self._inline.execute(
                "INSERT INTO calls (entry_id, session, server, tool, call_id, ts_start, arguments, decision)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'in-flight')",
                (entry_id, session, server, tool, call_id, ts, _dump(arguments)),
            )
        except (sqlite3.Error, AuditError, ValueError, TypeError):
            return False
        self._committed.add(entry_id)
        self._dirty.set()
        return True

    def call_finished(
        self,
        entry_id: str,
        *,
        decision: str = "allowed",
        result_bytes: int | None = None,
        is_error: bool | None = None,
        error: Any = None,
        detail: str | None = None,
        ts: float | None = None,
    ) -> None:
        """Complete a row started by :meth:`call_started`."""
        if decision not in DECISION_IDS:
            raise ValueError(f"unknown audit decision {decision!r}")
        self._put("finish", (entry_id, ts or time.time(), result_bytes, is_error, error, decision, detail))

    def finish_inline(
        self,
        entry_id: str,
        *,
        decision: str = "allowed",
        result_bytes: int | None = None,
        is_error: bool | None = None,
        error: Any = None,
        detail: str | None = None,
    ) -> bool:
        """Commit a call's completion here and now, on the caller's thread; False to queue it.

        The relay must not forward a response before its row is durable. Handing the row to the
        writer thread and waiting for it costs two thread wake-ups per call (most of the relay's
        added latency); once the writer has committed the call's start row, the completion can
        be committed directly on the relay's own connection instead, in order, at no such cost.
        """
        if decision not in DECISION_IDS:
            raise ValueError(f"unknown audit decision {decision!r}")
        if self._closed or entry_id not in self._committed:
            return False
        try:
            if self._inline is None:
                self._inline = _connect(self.path, self._synchronous, writer=False)
            ts_end = time.time()
            self._inline.execute(
                "UPDATE calls SET ts_end = ?, result_bytes = ?, is_error = ?, error = ?, decision = ?,"
                " detail = ?, latency_ms = (? - ts_start) * 1000.0 WHERE entry_id = ?",
                (
                    ts_end,
                    result_bytes,
                    None if is_error is None else int(is_error),
                    None if error is None else _dump(error),
                    decision,
                    detail,
                    ts_end,
                    entry_id,
                ),
            )
        except (sqlite3.Error, AuditError):
            return False
        self._committed.discard(entry_id)
        self._dirty.set()
        return True

    def call_blocked(
        self, server: str, tool: str, call_id: str, arguments: Any, *, decision: str, detail: str
    ) -> str:
        """Record a call the gateway refused without forwarding it."""
        if decision not in DECISION_IDS:
            raise ValueError(f"unknown audit decision {decision!r}")
        entry_id = f"{self.session}-{next(self._ids)}"
        now = time.time()
        self._put(
            "blocked", (entry_id, self.session, server, tool, call_id, now, arguments, decision, detail)
        )
        return entry_id

    def event(self, server: str, kind: str, detail: dict[str, Any], *, call_id: str | None = None) -> None:
        """Record a non-call event (``pinned``, ``surface-proposed``, ``server-exit``…)."""
        self._put("event", (time.time(), self.session, server, kind, call_id, detail))

    def durable(self) -> concurrent.futures.Future[None]:
        """A future that completes once every row enqueued so far is committed."""
        fut: concurrent.futures.Future[None] = concurrent.futures.Future()
        if self._closed:
            fut.set_result(None)
        else:
            self._queue.put(fut)
        return fut

    def close(self) -> None:
        """Commit everything queued and stop the writer thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout=30)
        self._stopped.set()
        self._checkpointer.join(timeout=30)
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._conn.close()
        self._checkpoint_conn.close()
        if self._inline is not None:
            self._inline.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _put(self, kind: str, args: tuple[Any, ...]) -> None:
        if self._closed:
            raise AuditError(f"{self.path}: the audit log is closed")
        self._queue.put((kind, args))

    # --- the writer thread ------------------------------------------------------------------

    def _checkpoint_loop(self) -> None:
        while not self._stopped.wait(CHECKPOINT_EVERY):
            if self._dirty.is_set():
                self._dirty.clear()
                with contextlib.suppress(sqlite3.Error):
                    self._checkpoint_conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _collect(self) -> list[_Op]:
        """Everything queued now; if no one waits for durability, linger briefly for more."""
        first = self._queue.get()
        batch = [first]
        urgent = not isinstance(first, tuple) or first[0] == "start"
        deadline = time.monotonic() + LINGER
        while True:
            try:
                op = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if urgent or remaining <= 0:
                    return batch
                try:
                    op = self._queue.get(timeout=remaining)
                except queue.Empty:
                    return batch
            batch.append(op)
            urgent = urgent or not isinstance(op, tuple) or op[0] == "start"

    def _write_loop(self) -> None:
        stop = False
        while not stop:
            batch = self._collect()
            waiters: list[concurrent.futures.Future[None]] = []
            rows: list[tuple[str, tuple[Any, ...]]] = []
            for op in batch:
                if op is None:
                    stop = True
                elif isinstance(op, concurrent.futures.Future):
                    waiters.append(op)
                else:
                    rows.append(op)
            if rows:
                if self._write(rows):
                    self._committed.update(args[0] for kind, args in rows if kind == "start")
                    self._committed.difference_update(args[0] for kind, args in rows if kind == "finish")
                self._dirty.set()
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def _write(self, rows: list[tuple[str, tuple[Any, ...]]]) -> bool:
        try:
            self._conn.execute("BEGIN")
            for kind, args in rows:
                self._apply(kind, args)
            self._conn.execute("COMMIT")
            return True
        except (sqlite3.Error, ValueError, TypeError) as exc:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            if self._failed is None:
                self._failed = str(exc)
                print(f"distrust: audit log {self.path}: write failed ({exc}); entries lost", file=sys.stderr)
            return False

    def _apply(self, kind: str, args: tuple[Any, ...]) -> None:
        execute = self._conn.execute
        if kind == "start":
            entry_id, session, server, tool, call_id, ts, arguments = args
            execute(
                "INSERT INTO calls (entry_id, session, server, tool, call_id, ts_start, arguments, decision)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'in-flight')",
                (entry_id, session, server, tool, call_id, ts, _dump(arguments)),
            )
        elif kind == "finish":
            entry_id, ts_end, result_bytes, is_error, error, decision, detail = args
            execute(
                "UPDATE calls SET ts_end = ?, result_bytes = ?, is_error = ?, error = ?, decision = ?,"
                " detail = ?, latency_ms = (? - ts_start) * 1000.0 WHERE entry_id = ?",
                (
                    ts_end,
                    result_bytes,
                    None if is_error is None else int(is_error),
                    None if error is None else _dump(error),
                    decision,
                    detail,
                    ts_end,
                    entry_id,
                ),
            )
        elif kind == "blocked":
            entry_id, session, server, tool, call_id, ts, arguments, decision, detail = args
            execute(
                "INSERT INTO calls (entry_id, session, server, tool, call_id, ts_start, ts_end, arguments,"
                " latency_ms, decision, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                (entry_id, session, server, tool, call_id, ts, ts, _dump(arguments), decision, detail),
            )
        elif kind == "event":
            ts, session, server, event_kind, call_id, detail = args
            execute(
                "INSERT INTO events (ts, session, server, kind, call_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
                (ts, session, server, event_kind, call_id, _dump(detail)),
            )

    # --- readers ----------------------------------------------------------------------------


def _dump(value: Any) -> str:
    return json.dumps(redact_value(value), ensure_ascii=False, sort_keys=True, default=str)


def _when(value: datetime | float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def query(
    *,
    server: str | None = None,
    tool: str | None = None,
    since: datetime | float | None = None,
    decision: str | None = None,
    limit: int = 100,
    path: Path | None = None,
) -> list[AuditEntry]:
    """Calls matching every given filter, newest first (``distrust log``)."""
    if decision is not None and decision not in DECISION_IDS:
        choices = ", ".join(sorted(DECISION_IDS))
        raise ValueError(f"unknown decision {decision!r} (choose one of: {choices})")
    db = path or default_path()
    if not db.exists():
        return []
    clauses, params = _filters(server=server, since=since, ts_column="ts_start")
    if tool is not None:
        clauses.append("tool = ?")
        params.append(tool)
    if decision is not None:
        clauses.append("decision = ?")
        params.append(decision)
    sql = (
        "SELECT entry_id, session, server, tool, call_id, ts_start, ts_end, arguments, result_bytes,"
        " is_error, error, latency_ms, decision, detail FROM calls"
        + (" WHERE " + " AND ".join(clauses) if clauses else "")
        + " ORDER BY ts_start DESC, rowid DESC LIMIT ?"
    )
    rows = _read(db, sql, [*params, max(0, limit)])
    return [
        AuditEntry(
            entry_id=r[0],
            session=r[1],
            server=r[2],
            tool=r[3],
            call_id=r[4],
            started=datetime.fromtimestamp(r[5], UTC),
            ended=_dt(r[6]),
            arguments=r[7],
            result_bytes=r[8],
            is_error=None if r[9] is None else bool(r[9]),
            error=r[10],
            latency_ms=r[11],
            decision=r[12],
            detail=r[13],
        )
        for r in rows
    ]


def events(
    *,
    server: str | None = None,
    kind: str | None = None,
    since: datetime | float | None = None,
    limit: int = 100,
    path: Path | None = None,
) -> list[AuditEvent]:
    """Non-call events matching every given filter, newest first."""
    db = path or default_path()
    if not db.exists():
        return []
    clauses, params = _filters(server=server, since=since, ts_column="ts")
    if kind is not None:
        clauses.append("kind = ?")
        params.append(kind)
    sql = (
        "SELECT ts, session, server, kind, call_id, detail FROM events"
        + (" WHERE " + " AND ".join(clauses) if clauses else "")
        + " ORDER BY ts DESC, id DESC LIMIT ?"
    )
    return [
        AuditEvent(datetime.fromtimestamp(r[0], UTC), r[1], r[2], r[3], r[4], r[5])
        for r in _read(db, sql, [*params, max(0, limit)])
    ]


def _filters(
    *, server: str | None, since: datetime | float | None, ts_column: str
) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if server is not None:
        clauses.append("server = ?")
        params.append(server)
    start = _when(since)
    if start is not None:
        clauses.append(f"{ts_column} >= ?")
        params.append(start)
    return clauses, params


def _read(db: Path, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error as exc:
        raise AuditError(f"{db}: cannot open the audit log ({exc})") from None
    try:
        return list(conn.execute(sql, params).fetchall())
    except sqlite3.Error as exc:
        raise AuditError(f"{db}: cannot read the audit log ({exc})") from None
    finally:
        conn.close()
