"""The audit log: redaction, filters, durability futures and bad databases."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from distrust.gateway import audit
from distrust.gateway.audit import AuditError, AuditLog, redact_value


def test_redaction_masks_secret_keys_token_shapes_and_cuts_long_strings() -> None:
    value = {
        "to": "ann@example.com",
        "apiKey": "abc123def456",
        "headers": {"Authorization": "Bearer abcdefghijklmnop"},
        "note": "my key is sk-" + "x1Y2" * 8,
        "body": "z" * 10_000,
        "count": 3,
        "nested": [{"password": {"deep": 1}}],
    }
    out = redact_value(value)
    text = json.dumps(out)
    assert "abc123def456" not in text and "abcdefghijklmnop" not in text and "x1Y2x1Y2" not in text
    assert out["to"] == "ann@example.com" and out["count"] == 3
    assert out["apiKey"] == "…(12 chars)"
    assert out["body"].endswith("…[truncated, 10000 chars]") and len(out["body"]) < 4200
    assert out["nested"][0]["password"].startswith("…(")


def test_rows_are_durable_when_the_future_completes(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite3"
    log = AuditLog(db)
    entry = log.call_started("srv", "echo", "1", {"text": "hi"})
    log.call_finished(entry, result_bytes=42, is_error=False)
    log.durable().result(timeout=5)
    # Read with a separate connection while the writer is still open.
    (row,) = audit.query(path=db)
    assert (row.tool, row.decision, row.result_bytes, row.is_error) == ("echo", "allowed", 42, False)
    assert row.latency_ms is not None and row.latency_ms >= 0
    log.close()


def test_query_filters_and_events(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite3"
    with AuditLog(db) as log:
        log.call_blocked("a", "x", "1", {}, decision="blocked-pin", detail="no")
        entry = log.call_started("b", "y", '"s"', None)
        log.call_finished(entry, decision="server-died", detail="signal 9")
        log.event("a", "pinned", {"tools": ["x"]}, call_id="1")
    assert [r.tool for r in audit.query(path=db, server="a")] == ["x"]
    assert [r.tool for r in audit.query(path=db, decision="server-died")] == ["y"]
    assert [r.tool for r in audit.query(path=db, tool="y")] == ["y"]
    assert audit.query(path=db, since=time.time() + 60) == []
    assert len(audit.query(path=db, limit=1)) == 1
    (event,) = audit.events(path=db, kind="pinned")
    assert json.loads(event.detail) == {"tools": ["x"]} and event.call_id == "1"
    with pytest.raises(ValueError, match="choose one of"):
        audit.query(path=db, decision="maybe")


def test_missing_database_reads_as_empty(tmp_path: Path) -> None:
    assert audit.query(path=tmp_path / "none.sqlite3") == []


def test_unusable_database_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"not a database at all" * 100)
    with pytest.raises(AuditError, match=r"bad\.sqlite3"):
        AuditLog(bad)
    with pytest.raises(AuditError, match=r"bad\.sqlite3"):
        audit.query(path=bad)


def test_default_location_is_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISTRUST_DATA_DIR", str(tmp_path / "d"))
    with AuditLog() as log:
        log.event("s", "server-start", {})
    assert (tmp_path / "d" / "audit.sqlite3").exists()
    assert audit.events() and audit.query() == []
